"""With CSRF protection on (as in production), a POST without the token is refused."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def settings() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_post_without_token_gets_400(make, client):
    make.user(email="sam@example.org")
    response = client.post("/login", data={"email": "sam@example.org", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "The form had expired or was sent from another site" in response.get_data(as_text=True)


def test_post_with_token_works_and_logout_needs_token_too(make, client):
    make.user(email="sam@example.org")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "sam@example.org", "password": "correct horse battery", "csrf_token": token}
    )
    assert response.status_code == 302
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200
    token = csrf_token(client.get("/account").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302
