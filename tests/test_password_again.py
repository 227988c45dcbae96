"""The forms that ask a signed-in person for their password again (new recovery codes, turning two-factor sign-in off,
changing the password, closing the account): wrong answers are limited per account and address, like failed logins,
and count toward the owner's alert."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.auth.models import RecoveryCode, User
from portal.extensions import db
from portal.security import verify_password
from tests.conftest import pass_second_step
from tests.factories import PASSWORD, current_code

WRONG = "not my password"
NEW_PASSWORD = "a brand new passphrase"
EMAIL = "sam@example.org"


def change_password_data(current: str) -> dict:
    return {"current_password": current, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


# (url, the form with a given password, the field the message goes next to)
FORMS = {
    "recovery codes": ("/account/two-factor/recovery-codes", lambda password: {"password": password}, "password"),
    "turn off": ("/account/two-factor/turn-off", lambda password: {"password": password}, "password"),
    "change password": ("/account/password", change_password_data, "current_password"),
    "close account": ("/account/close", lambda password: {"password": password, "code": current_code()}, "password"),
}


@pytest.fixture
def sam(make):
    """A candidate with two-factor sign-in on (so every form applies to them)."""
    return make.user(email=EMAIL, name="Sam Taylor", second_factor=True)


def signed_in(app, email: str = EMAIL, address: str = "127.0.0.1"):
    """A new browser at `address`, logged in to the account through the real forms."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert pass_second_step(client, response, email).status_code == 302
    return client


def account_as_it_is(app, user_id: int) -> tuple:
    """What the four forms would change: the password, two-factor sign-in, the recovery codes, the closing."""
    with app.app_context():
        user = db.session.get(User, user_id)
        codes = sorted(code.code_digest for code in user_recovery_codes(user_id))
        return user.password_hash, user.totp_secret, user.closed_at, tuple(codes)


def user_recovery_codes(user_id: int) -> list[RecoveryCode]:
    return list(db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == user_id)))


@pytest.mark.parametrize("form", FORMS)
def test_wrong_passwords_given_again_are_limited_with_the_message_next_to_the_field(app, sam, form):
    url, data, field = FORMS[form]
    client = signed_in(app)
    for _ in range(5):
        wrong = client.post(url, data=data(WRONG))
        assert wrong.status_code == 200 and "password is not correct." in wrong.get_data(as_text=True)
    before = account_as_it_is(app, sam.id)
    for password in (WRONG, PASSWORD):  # while limited, even the right password is refused
        limited = client.post(url, data=data(password))
        html = limited.get_data(as_text=True)
        assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
        error = re.search(rf'<div id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
        assert error and re.search(r"too many times\. Wait \d+ seconds, then try again\.", error.group(1))
        assert f'href="#{field}"' in html  # the error summary links to the field
        assert "password is not correct" not in html  # the password was not checked
    assert account_as_it_is(app, sam.id) == before
    assert client.get("/account").status_code == 200  # still signed in


def test_the_forms_share_one_count(app, sam):
    client = signed_in(app)
    for form in ("recovery codes", "turn off", "change password", "close account", "recovery codes"):
        url, data, _ = FORMS[form]
        assert client.post(url, data=data(WRONG)).status_code == 200
    url, data, _ = FORMS["turn off"]
    assert client.post(url, data=data(PASSWORD)).status_code == 429


def test_the_limit_holds_for_one_account_from_one_address_only(app, make, sam):
    make.user(email="jo@example.org", second_factor=True)
    url, data, _ = FORMS["change password"]
    attacker = signed_in(app, address="198.51.100.7")
    for _ in range(5):
        attacker.post(url, data=data(WRONG))
    assert attacker.post(url, data=data(PASSWORD)).status_code == 429
    # Another account from the same address is not limited by it...
    neighbour = signed_in(app, "jo@example.org", address="198.51.100.7")
    assert neighbour.post(url, data=data(WRONG)).status_code == 200
    # ...and the owner, elsewhere, can still change the password (which logs the other browser out).
    owner = signed_in(app, address="203.0.113.20")
    assert owner.post(url, data=data(PASSWORD)).status_code == 302
    with app.app_context():
        assert verify_password(db.session.get(User, sam.id).password_hash, NEW_PASSWORD)
    assert attacker.get("/account").status_code == 302


def test_wrong_passwords_given_again_count_toward_the_owners_alert(app, sam, outbox):
    app.config.update(LOGIN_ACCOUNT_FAILURES="3 per hour")
    client = signed_in(app)
    for form in ("recovery codes", "turn off"):
        url, data, _ = FORMS[form]
        client.post(url, data=data(WRONG))
    assert outbox(EMAIL) == []
    url, data, _ = FORMS["change password"]
    client.post(url, data=data(WRONG))
    emails = outbox(EMAIL)
    assert [email.subject for email in emails] == ["Failed attempts to log in to your account"]
    assert "at least 3 times in the last hour" in emails[0].body_text
    url, data, _ = FORMS["close account"]
    client.post(url, data=data(WRONG))
    assert len(outbox(EMAIL)) == 1  # once per window


def test_a_new_password_refused_for_itself_is_not_a_wrong_password(app, sam, outbox):
    app.config.update(LOGIN_ACCOUNT_FAILURES="3 per hour")
    client = signed_in(app)
    for _ in range(6):
        short = client.post(
            "/account/password", data={"current_password": PASSWORD, "password": "short", "confirm": "short"}
        )
        assert short.status_code == 200 and "at least 8 characters" in short.get_data(as_text=True)
    assert outbox(EMAIL) == []
    url, data, _ = FORMS["change password"]
    assert client.post(url, data=data(PASSWORD)).status_code == 302
