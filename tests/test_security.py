"""Security baseline: headers, error pages, authorization matrix, production configuration."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.auth.models import Invitation, PasswordReset
from portal.config import ConfigError
from portal.cvs.models import CVDocument
from portal.db import utcnow
from portal.extensions import db
from portal.security import new_token
from tests.conftest import pass_second_step
from tests.factories import PASSWORD

# (url, roles allowed); every other signed-in role gets 403, anonymous goes to login.
PROTECTED_URLS = [
    ("/account", {"candidate", "mentor", "admin"}),
    ("/account/password", {"candidate", "mentor", "admin"}),
    ("/notifications/", {"candidate", "mentor", "admin"}),
    ("/admin/users", {"admin"}),
    ("/admin/users?role=mentor", {"admin"}),
    ("/admin/invitations/new", {"admin"}),
    ("/interviews/slots", {"candidate", "mentor", "admin"}),
    ("/interviews/bookings", {"candidate"}),
    ("/mentor/availability", {"mentor"}),
    ("/mentor/availability/slot", {"mentor", "admin"}),
    ("/mentor/availability/series", {"mentor", "admin"}),
    ("/mentor/schedule", {"mentor"}),
    ("/admin/schedule/", {"admin"}),
    ("/admin/schedule/bookings", {"admin"}),
    ("/admin/schedule/bulk-cancel", {"admin"}),
    ("/cvs/", {"candidate"}),
    ("/reviews/queue", {"mentor"}),
    ("/reviews/all", {"admin"}),
    ("/insights/mine", {"mentor", "admin"}),
    ("/insights/new", {"mentor", "admin"}),
    ("/insights/saved", {"candidate"}),
    ("/insights/interests", {"candidate"}),
]
# Admins open the mentor pages without choosing a mentor: they are sent on to the admin schedule.
REDIRECTS_FOR = {
    ("/mentor/availability", "admin"): "/admin/schedule/",
    ("/mentor/schedule", "admin"): "/admin/schedule/bookings",
}
ROLES = ["anonymous", "candidate", "mentor", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_every_protected_url_with_every_role(make, client, auth, role):
    if role != "anonymous":
        make.user(role, email=f"{role}@example.org")
        assert auth.login(f"{role}@example.org").status_code == 302
    for url, allowed in PROTECTED_URLS:
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login?next="), url
        elif (url, role) in REDIRECTS_FOR:
            assert response.status_code == 302 and response.headers["Location"] == REDIRECTS_FOR[(url, role)]
        elif role in allowed:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
            assert "You do not have access to this page" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["candidate", "mentor"])
def test_state_changing_admin_posts_are_forbidden_to_other_roles(make, client, auth, outbox, role):
    make.user(role, email=f"{role}@example.org")
    auth.login(f"{role}@example.org")
    response = client.post("/admin/invitations/new", data={"name": "X", "email": "x@example.org"})
    assert response.status_code == 403
    assert outbox("x@example.org") == []


def test_another_users_notification_answers_404(app, make, client, auth):
    from portal.extensions import db
    from portal.notifications.services import notify

    owner = make.user(email="owner@example.org")
    make.user(email="other@example.org")
    with app.app_context():
        notification = notify(db.session.merge(owner), "Private message")
        db.session.commit()
        notification_id = notification.id
    auth.login("other@example.org")
    assert client.post(f"/notifications/{notification_id}/read").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404


def test_security_headers_on_every_response(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_hsts_when_served_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_behind_login_are_not_cached(make, client, auth):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    assert client.get("/account").headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"


def _anonymous(url: str, bad: dict):
    def open_page(app, make):
        return app.test_client(), url, bad

    return open_page


def _signed_in(url: str, bad: dict, **user):
    def open_page(app, make):
        person = make.user(**user)
        client = app.test_client()
        assert (
            pass_second_step(
                client, client.post("/login", data={"email": person.email, "password": PASSWORD}), person.email
            ).status_code
            == 302
        )
        return client, url, bad

    return open_page


def _login_code(app, make):
    mentor = make.user("mentor")
    client = app.test_client()
    assert client.post("/login", data={"email": mentor.email, "password": PASSWORD}).status_code == 302
    return client, "/login/code", {"code": "000000"}


def _with_token(path: str, model, columns):
    """A page reached through an emailed link (`path` + its token): the link's row is made here, `columns(admin)`."""

    def open_page(app, make):
        admin = make.user("admin")
        token, digest = new_token()
        with app.app_context():
            db.session.add(model(token_digest=digest, expires_at=utcnow() + timedelta(hours=1), **columns(admin)))
            db.session.commit()
        return app.test_client(), path + token, {"password": "short", "confirm": "short", "timezone": "Europe/London"}

    return open_page


# Every page whose form carries a password or a security code (endpoint: how to open it and a POST it refuses).
PASSWORD_AND_CODE_PAGES = {
    "auth.login": _anonymous("/login", {"email": "nobody@example.org", "password": "wrong password"}),
    "auth.login_code": _login_code,
    "auth.register": _anonymous(
        "/register", {"email": "new@example.org", "name": "New", "password": "short", "confirm": "short"}
    ),
    "auth.accept_invitation": _with_token(
        "/invitation/",
        Invitation,
        lambda admin: {"email": "invited@example.org", "name": "Invited", "invited_by_id": admin.id},
    ),
    "auth.reset_password": _with_token("/password/reset/", PasswordReset, lambda admin: {"user_id": admin.id}),
    "auth.change_password": _signed_in(
        "/account/password", {"current_password": "wrong password", "password": "x" * 12, "confirm": "x" * 12}
    ),
    "auth.second_factor_setup": _signed_in("/account/two-factor/setup", {"code": "000000"}),
    "auth.recovery_codes": _signed_in(
        "/account/two-factor/recovery-codes", {"password": "wrong password"}, second_factor=True
    ),
    "auth.turn_off_second_factor": _signed_in(
        "/account/two-factor/turn-off", {"password": "wrong password"}, second_factor=True
    ),
    "account_closing.close": _signed_in("/account/close", {"password": "wrong password"}),
}


@pytest.mark.parametrize("endpoint", PASSWORD_AND_CODE_PAGES)
def test_pages_with_a_password_or_a_code_are_never_cached(app, make, endpoint):
    client, url, bad = PASSWORD_AND_CODE_PAGES[endpoint](app, make)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and ('type="password"' in html or 'autocomplete="one-time-code"' in html)
    assert page.headers["Cache-Control"] == "no-store"
    refused = client.post(url, data=bad)
    assert refused.status_code == 200 and "There is a problem" in refused.get_data(as_text=True)
    assert refused.headers["Cache-Control"] == "no-store"


def test_every_view_marked_no_store_is_tested(app):
    marked = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "no_store", False)}
    assert marked == set(PASSWORD_AND_CODE_PAGES)


def test_pages_contain_no_inline_script(make, client, auth):
    import re

    for path in ("/", "/guide", "/faq", "/login", "/register"):
        html = client.get(path).get_data(as_text=True)
        for attributes in re.findall(r"<script([^>]*)>", html):
            assert "src=" in attributes or "application/ld+json" in attributes, path
        assert not re.search(r"\son[a-z]+=", html), path


@pytest.mark.parametrize(
    "status, title",
    [(404, "Page not found"), (405, "This action is not allowed here")],
)
def test_error_pages_use_the_site_layout(client, status, title):
    response = client.get("/no-such-page") if status == 404 else client.get("/logout")
    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert title in body and "Skip to main content" in body


def test_unexpected_error_gives_500_page_without_traceback(app):
    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/explode")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong on our side" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_oversized_request_gets_friendly_413(client):
    response = client.post("/login", data={"email": "x@example.org", "password": "x" * (7 * 1024 * 1024)})
    assert response.status_code == 413
    assert "The file is too large" in response.get_data(as_text=True)


def test_production_config_refuses_missing_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})


def production_settings(monkeypatch) -> None:
    """What a production configuration needs besides the setting a test is about (see README, Running in production)."""
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("PUBLIC_URL", "https://careers.example.org")
    monkeypatch.setenv("WEB_CONCURRENCY", "1")  # the memory rate-limit store is allowed with one web process
    for name in ("RATELIMIT_STORAGE_URI", "RATELIMIT_ENABLED", "TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)


def test_production_config_refuses_debug(monkeypatch, tmp_path):
    production_settings(monkeypatch)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="Debug"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})


def test_production_config_uses_secure_cookies(monkeypatch, tmp_path):
    production_settings(monkeypatch)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def test_development_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    from portal.config import settings_from_env

    first = settings_from_env(tmp_path)["SECRET_KEY"]
    second = settings_from_env(tmp_path)["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_proxy_fix_trusts_configured_hops_only(monkeypatch, tmp_path):
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("PROXY_FIX_X_PROTO", "1")
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", "SECRET_KEY": "k" * 40}
    )
    seen = {}

    @app.route("/whoami")
    def whoami():
        from flask import request

        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return "ok"

    app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.7", "secure": True}


def test_database_url_uses_psycopg_driver():
    from portal.config import normalise_database_url

    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


OBJECT_URLS = [
    ("get", "/interviews/slots/{slot}/book"),
    ("get", "/interviews/bookings/{booking}"),
    ("get", "/interviews/bookings/{booking}/calendar.ics"),
    ("get", "/interviews/bookings/{booking}/cancel"),
    ("get", "/interviews/bookings/{booking}/reschedule"),
    ("post", "/interviews/bookings/{booking}/cancel"),
    ("post", "/interviews/bookings/{booking}/reschedule"),
    ("get", "/mentor/slots/{slot}/cancel"),
    ("post", "/mentor/slots/{slot}/remove"),
    ("post", "/mentor/bookings/{booking}/outcome"),
    ("get", "/admin/schedule/slots/{slot}/edit"),
]
# Who may open each object URL: 'owner' is the booking's candidate, 'mentor' the slot's mentor.
OBJECT_ACCESS = {
    "/interviews/slots/{slot}/book": {
        "owner": 200,
        "other_candidate": 200,
        "mentor": 403,
        "other_mentor": 403,
        "admin": 403,
    },
    "/interviews/bookings/{booking}": {
        "owner": 200,
        "other_candidate": 404,
        "mentor": 200,
        "other_mentor": 404,
        "admin": 200,
    },
    "/interviews/bookings/{booking}/calendar.ics": {
        "owner": 200,
        "other_candidate": 404,
        "mentor": 200,
        "other_mentor": 404,
        "admin": 200,
    },
    "/interviews/bookings/{booking}/cancel": {
        "owner": 200,
        "other_candidate": 404,
        "mentor": 404,
        "other_mentor": 404,
        "admin": 200,
    },
    "/interviews/bookings/{booking}/reschedule": {
        "owner": 200,
        "other_candidate": 404,
        "mentor": 404,
        "other_mentor": 404,
        "admin": 200,
    },
    "/mentor/slots/{slot}/cancel": {
        "owner": 403,
        "other_candidate": 403,
        "mentor": 200,
        "other_mentor": 404,
        "admin": 200,
    },
    "/mentor/slots/{slot}/remove": {
        "owner": 403,
        "other_candidate": 403,
        "mentor": 302,
        "other_mentor": 404,
        "admin": 302,
    },
    "/mentor/bookings/{booking}/outcome": {
        "owner": 403,
        "other_candidate": 403,
        "mentor": 302,
        "other_mentor": 404,
        "admin": 302,
    },
    "/admin/schedule/slots/{slot}/edit": {
        "owner": 403,
        "other_candidate": 403,
        "mentor": 403,
        "other_mentor": 403,
        "admin": 200,
    },
}
POST_DATA = {
    "/interviews/bookings/{booking}/cancel": {"reason": ""},
    "/interviews/bookings/{booking}/reschedule": {"slot_id": "0"},
    "/mentor/bookings/{booking}/outcome": {"outcome": "completed"},
}
POST_STATUS = {
    ("/interviews/bookings/{booking}/cancel", "owner"): 302,
    ("/interviews/bookings/{booking}/cancel", "admin"): 302,
    ("/interviews/bookings/{booking}/reschedule", "owner"): 200,
    ("/interviews/bookings/{booking}/reschedule", "admin"): 200,
}


@pytest.mark.parametrize("who", ["anonymous", "owner", "other_candidate", "mentor", "other_mentor", "admin"])
def test_every_booking_and_slot_url_with_every_relation(app, client, auth, who):
    from datetime import UTC, datetime, timedelta

    from tests.factories import make_booking, make_slot, make_user

    with app.app_context():
        users = {
            "owner": make_user(email="owner@example.org"),
            "other_candidate": make_user(email="other_candidate@example.org"),
            "mentor": make_user("mentor", email="mentor@example.org"),
            "other_mentor": make_user("mentor", email="other_mentor@example.org"),
            "admin": make_user("admin", email="admin@example.org"),
        }
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        booked = make_slot(users["mentor"], start)
        booking = make_booking(booked, users["owner"])
        free = make_slot(users["mentor"], start + timedelta(days=1))
        ids = {"booking": booking.id, "booked_slot": booked.id, "free_slot": free.id}
    if who != "anonymous":
        auth.login(f"{who}@example.org")
    # Each row runs against fresh objects where a POST could change them.
    for method, template in OBJECT_URLS:
        slot_id = ids["free_slot"] if template.endswith("/remove") or "/book" in template else ids["booked_slot"]
        url = template.format(slot=slot_id, booking=ids["booking"])
        response = client.get(url) if method == "get" else client.post(url, data=POST_DATA.get(template, {}))
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
            continue
        expected = (
            POST_STATUS.get((template, who), OBJECT_ACCESS[template][who])
            if method == "post"
            else OBJECT_ACCESS[template][who]
        )
        assert response.status_code == expected, (method, url, who, response.status_code)


@pytest.mark.parametrize("who", ["anonymous", "owner", "other_candidate", "mentor", "other_mentor", "admin"])
def test_every_cv_and_review_url_with_every_relation(app, client, auth, who):
    """The owner's CV is under review by 'mentor'; 'other_mentor' has no link to it."""
    import io

    from portal.cvs.models import CVReview
    from tests.cv_samples import GOOD_CV_LINES, pdf_with_text
    from tests.factories import make_user

    with app.app_context():
        for role, email in (
            ("candidate", "owner"),
            ("candidate", "other_candidate"),
            ("mentor", "mentor"),
            ("mentor", "other_mentor"),
            ("admin", "admin"),
        ):
            make_user(role, email=f"{email}@example.org")
    owner = app.test_client()
    owner.post("/login", data={"email": "owner@example.org", "password": "correct horse battery"})
    owner.post(
        "/cvs/",
        data={"name": "CV", "file": (io.BytesIO(pdf_with_text(GOOD_CV_LINES)), "cv.pdf")},
        content_type="multipart/form-data",
    )
    with app.app_context():
        document_id = db.session.scalar(sa.select(CVDocument.id))
    review_id = int(
        owner.post(f"/cvs/{document_id}", data={"target_role": "MLE"}).headers["Location"].rsplit("/", 1)[1]
    )
    reviewer = app.test_client()
    pass_second_step(
        reviewer,
        reviewer.post("/login", data={"email": "mentor@example.org", "password": "correct horse battery"}),
        "mentor@example.org",
    )
    assert reviewer.post(f"/reviews/{review_id}/claim").status_code == 302
    if who != "anonymous":
        auth.login(f"{who}@example.org")
    expected = {
        # url: {who: status}
        f"/cvs/{document_id}": {"owner": 200, "other_candidate": 404, "mentor": 403, "other_mentor": 403, "admin": 403},
        f"/cvs/{document_id}/download": {
            "owner": 200,
            "other_candidate": 404,
            "mentor": 200,
            "other_mentor": 404,
            "admin": 200,
        },
        f"/reviews/{review_id}": {
            "owner": 200,
            "other_candidate": 404,
            "mentor": 200,
            "other_mentor": 404,
            "admin": 200,
        },
    }
    for url, statuses in expected.items():
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        else:
            assert response.status_code == statuses[who], (url, who, response.status_code)
    posts = {
        f"/cvs/{document_id}/delete": {
            "owner": 302,
            "other_candidate": 404,
            "mentor": 403,
            "other_mentor": 403,
            "admin": 403,
        },
        f"/cvs/{document_id}/current": {
            "owner": 302,
            "other_candidate": 404,
            "mentor": 403,
            "other_mentor": 403,
            "admin": 403,
        },
        f"/reviews/{review_id}/withdraw": {
            "owner": 302,
            "other_candidate": 404,
            "mentor": 403,
            "other_mentor": 403,
            "admin": 403,
        },
        f"/reviews/{review_id}/release": {
            "owner": 403,
            "other_candidate": 403,
            "mentor": 302,
            "other_mentor": 404,
            "admin": 302,
        },
        f"/reviews/{review_id}/assign": {
            "owner": 403,
            "other_candidate": 403,
            "mentor": 403,
            "other_mentor": 403,
            "admin": 302,
        },
    }
    for url, statuses in posts.items():
        response = client.post(url, data={"mentor": "0"})
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        else:
            assert response.status_code == statuses[who], (url, who, response.status_code)
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        # nobody outside the review could change it; the owner's withdraw is refused while it is claimed
        assert review.status in ("claimed", "requested")
