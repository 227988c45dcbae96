"""Two-factor sign-in (TOTP with recovery codes): enrolment, the login's second step, and who may change what."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta

import pyotp
import sqlalchemy as sa
import time_machine

from portal.audit.models import AuditEvent
from portal.auth.models import RecoveryCode, User
from portal.auth.services import store_second_factor
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import logged_in
from tests.factories import PASSWORD, TOTP_SECRET, current_code

SETUP = "/account/two-factor/setup"


def enrolment_secret(page: str) -> str:
    match = re.search(r'<code class="secret-key" id="secret-key">([A-Z2-7 ]+)</code>', page)
    assert match, "no secret on the page"
    return match.group(1).replace(" ", "")


def password_step(client, email: str, next_url: str | None = None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": PASSWORD})


def code_at(offset_steps: int, secret: str = TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def codes_for(app, email: str) -> list[str]:
    """Turn two-factor sign-in on for this user (TOTP_SECRET) and return the recovery codes."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        codes = store_second_factor(user, TOTP_SECRET)
        db.session.commit()
        return codes


# Staff must set it up --------------------------------------------------------------------------------------


def test_staff_without_a_second_factor_can_only_set_one_up_or_log_out(app, make, client):
    for role in ("mentor", "admin"):
        make.user(role, email=f"{role}@example.org", second_factor=False)
        response = password_step(client, f"{role}@example.org")
        assert response.status_code == 302
        for url in ("/", "/account", "/admin/", "/mentor/schedule", "/notifications/", "/guide"):
            response = client.get(url)
            assert response.status_code == 302 and response.headers["Location"] == SETUP, (role, url)
        posted = client.post("/account", data={"name": "Someone Else", "timezone": "Europe/London"})
        assert posted.status_code == 302 and posted.headers["Location"] == SETUP
        page = client.get(SETUP).get_data(as_text=True)
        assert "Your role needs two-factor sign-in" in page
        assert client.post("/logout").status_code == 302
        assert client.get("/account").headers["Location"].startswith("/login")
    with app.app_context():
        assert db.session.scalar(sa.select(User.name).where(User.email == "admin@example.org")) != "Someone Else"


def test_candidates_are_not_made_to_set_it_up(make, client, auth):
    make.user(email="sam@example.org")
    assert auth.login("sam@example.org").headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    assert "Set up two-factor sign-in" in client.get("/account").get_data(as_text=True)


# Enrolment -------------------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_and_the_first_valid_code_turns_it_on(app, make, client, caplog):
    caplog.set_level(logging.DEBUG)
    make.user("mentor", email="priya@example.org", second_factor=False)
    password_step(client, "priya@example.org")
    page = client.get(SETUP).get_data(as_text=True)
    secret = enrolment_secret(page)
    assert len(secret) == 32
    assert re.search(r'<svg role="img"[^>]*class="qr-code"><title>QR code for your authenticator app</title>', page)
    assert "<script>" not in page
    assert enrolment_secret(client.get(SETUP).get_data(as_text=True)) == secret  # a reload shows the same one
    wrong = client.post(SETUP, data={"code": "000000" if code_at(0, secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and "Enter the 6-digit code your authenticator app shows now" in wrong.get_data(
        as_text=True
    )
    done = client.post(SETUP, data={"code": code_at(0, secret)})
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "Two-factor sign-in is on." in body
    codes = re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code></li>", body)
    assert len(set(codes)) == 10
    # The secret and the codes are never shown or stored in the clear again, nor logged.
    assert client.get(SETUP).headers["Location"] == "/account"
    account = client.get("/account").get_data(as_text=True)
    assert secret not in account and secret[:4] + " " not in account and codes[0] not in account
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "priya@example.org"))
        assert user.has_second_factor and secret not in user.totp_secret and user.totp_last_step is not None
        digests = db.session.scalars(sa.select(RecoveryCode.code_digest).where(RecoveryCode.user_id == user.id)).all()
        assert len(digests) == 10 and not set(codes) & set(digests)
    assert secret not in caplog.text and codes[0] not in caplog.text
    assert client.get("/mentor/schedule").status_code == 200


def test_the_code_that_confirmed_enrolment_cannot_log_in_again(app, make, client):
    make.user(email="sam@example.org")
    client.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    secret = enrolment_secret(client.get(SETUP).get_data(as_text=True))
    code = code_at(0, secret)
    with time_machine.travel(time.time(), tick=False):
        assert client.post(SETUP, data={"code": code}).status_code == 200
        client.post("/logout")
        password_step(client, "sam@example.org")
        again = client.post("/login/code", data={"code": code})
        assert "This code has already been used" in again.get_data(as_text=True)
        assert client.post("/login/code", data={"code": code_at(1, secret)}).status_code == 302


# The login's second step -------------------------------------------------------------------------------------


def test_login_asks_for_a_code_after_the_password_and_follows_next(make, client):
    make.user("admin", email="admin@example.org")
    response = password_step(client, "admin@example.org", next_url="/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code?next=/admin/users"
    assert client.get("/admin/users").headers["Location"].startswith("/login?next=")  # not logged in yet
    page = client.get("/login/code?next=/admin/users").get_data(as_text=True)
    assert "Enter your security code" in page and 'autocomplete="one-time-code"' in page
    wrong = client.post("/login/code?next=/admin/users", data={"code": "12345x"})
    assert wrong.status_code == 200 and "or one of your recovery codes" in wrong.get_data(as_text=True)
    response = client.post("/login/code?next=/admin/users", data={"code": current_code()})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert client.get("/admin/users").status_code == 200


def test_a_code_works_once_within_its_window(app, make):
    make.user("mentor", email="priya@example.org")
    with time_machine.travel(time.time(), tick=False):
        first = app.test_client()
        password_step(first, "priya@example.org")
        code = current_code()
        assert first.post("/login/code", data={"code": code}).status_code == 302
        thief = app.test_client()
        password_step(thief, "priya@example.org")
        replay = thief.post("/login/code", data={"code": code})
        assert replay.status_code == 200 and "already been used" in replay.get_data(as_text=True)
        older = thief.post("/login/code", data={"code": code_at(-1)})
        assert older.status_code == 200  # an earlier step is refused too, once a later one was used
        assert thief.post("/login/code", data={"code": code_at(1)}).status_code == 302


def test_a_recovery_code_works_once(app, make):
    make.user(email="sam@example.org")
    codes = codes_for(app, "sam@example.org")
    client = app.test_client()
    password_step(client, "sam@example.org")
    response = client.post("/login/code", data={"code": codes[3].upper().replace("-", " ")}, follow_redirects=True)
    assert "You used a recovery code: 9 left." in response.get_data(as_text=True)
    client.post("/logout")
    password_step(client, "sam@example.org")
    again = client.post("/login/code", data={"code": codes[3]})
    assert again.status_code == 200 and "or one of your recovery codes" in again.get_data(as_text=True)
    assert client.post("/login/code", data={"code": codes[4]}).status_code == 302


def test_the_second_step_has_its_own_rate_limit(app, make, client):
    app.config["LOGIN_CODE_RATE_LIMIT"] = "3 per minute"
    make.user("mentor", email="priya@example.org")
    password_step(client, "priya@example.org")
    statuses = [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert client.post("/login/code", data={"code": current_code()}).status_code == 429


def test_the_second_step_must_follow_the_password_within_five_minutes(make, client):
    make.user("mentor", email="priya@example.org")
    assert client.get("/login/code").headers["Location"] == "/login"
    with time_machine.travel(utcnow(), tick=False) as traveller:
        password_step(client, "priya@example.org")
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = client.post("/login/code", data={"code": current_code()})
        assert response.status_code == 302 and response.headers["Location"] == "/login"
        assert client.get("/account").status_code == 302


def test_a_password_change_ends_a_login_waiting_for_its_code(app, make, client):
    make.user("mentor", email="priya@example.org")
    password_step(client, "priya@example.org")
    owner = logged_in(app, "priya@example.org")
    new = "a brand new passphrase"
    owner.post("/account/password", data={"current_password": PASSWORD, "password": new, "confirm": new})
    assert client.post("/login/code", data={"code": code_at(1)}).headers["Location"] == "/login"


# Changing it ------------------------------------------------------------------------------------------------


def test_candidates_may_turn_it_off_with_their_password(app, make, client, auth):
    make.user(email="sam@example.org")
    codes_for(app, "sam@example.org")
    auth.login("sam@example.org")
    assert "Turn off two-factor sign-in" in client.get("/account").get_data(as_text=True)
    wrong = client.post("/account/two-factor/turn-off", data={"password": "not my password"})
    assert "Your password is not correct." in wrong.get_data(as_text=True)
    assert client.post("/account/two-factor/turn-off", data={"password": PASSWORD}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.totp_secret).where(User.email == "sam@example.org")) is None
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
    auth.logout()
    assert auth.login("sam@example.org").headers["Location"] == "/"


def test_staff_cannot_turn_it_off(app, make, client, auth):
    make.user("mentor", email="priya@example.org")
    auth.login("priya@example.org")
    assert "Turn off two-factor sign-in" not in client.get("/account").get_data(as_text=True)
    response = client.post("/account/two-factor/turn-off", data={"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    with app.app_context():
        assert db.session.scalar(sa.select(User.totp_secret).where(User.email == "priya@example.org")) is not None


def test_new_recovery_codes_need_the_password_and_replace_the_old_ones(app, make, client, auth):
    make.user("mentor", email="priya@example.org")
    old = codes_for(app, "priya@example.org")
    auth.login("priya@example.org")
    assert "10 recovery codes left" in client.get("/account").get_data(as_text=True)
    wrong = client.post("/account/two-factor/recovery-codes", data={"password": "not my password"})
    assert "Your password is not correct." in wrong.get_data(as_text=True)
    body = client.post("/account/two-factor/recovery-codes", data={"password": PASSWORD}).get_data(as_text=True)
    new = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", body)
    assert len(new) == 10 and not set(new) & set(old)
    auth.logout()
    password_step(client, "priya@example.org")
    assert client.post("/login/code", data={"code": old[0]}).status_code == 200
    assert client.post("/login/code", data={"code": new[0]}).status_code == 302


def test_an_admin_resets_someones_second_factor_with_an_audit_entry_and_an_email(app, make, outbox):
    make.user("admin", email="admin@example.org", name="Alex Morgan")
    mentor = make.user("mentor", email="priya@example.org", name="Priya Shah")
    mentor_client = logged_in(app, "priya@example.org")
    admin = logged_in(app, "admin@example.org")
    page = admin.get(f"/admin/users/{mentor.id}").get_data(as_text=True)
    assert "Reset two-factor sign-in" in page
    response = admin.post(f"/admin/users/{mentor.id}/second-factor/reset", follow_redirects=True)
    assert "Two-factor sign-in of Priya Shah is reset" in response.get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.second_factor_reset"))
        assert event.actor_name == "Alex Morgan" and event.target_id == str(mentor.id)
        assert event.before == {"second_factor": True} and event.after == {"second_factor": False}
    (email,) = outbox("priya@example.org")
    assert email.subject == "Your two-factor sign-in was reset" and email.category == "security"
    assert "Alex Morgan" in email.body_text and "set up two-factor sign-in again" in email.body_text
    assert mentor_client.get("/mentor/schedule").status_code == 302  # logged out everywhere
    again = app.test_client()
    assert password_step(again, "priya@example.org").headers["Location"] == "/"
    assert again.get("/mentor/schedule").headers["Location"] == SETUP


def test_only_an_admin_resets_a_second_factor_and_not_their_own(app, make):
    admin = make.user("admin", email="admin@example.org")
    mentor = make.user("mentor", email="priya@example.org")
    other = make.user("mentor", email="tom@example.org")
    as_mentor = logged_in(app, "tom@example.org")
    assert as_mentor.post(f"/admin/users/{mentor.id}/second-factor/reset").status_code == 403
    as_admin = logged_in(app, "admin@example.org")
    assert "Reset two-factor sign-in" not in as_admin.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert as_admin.post(f"/admin/users/{admin.id}/second-factor/reset").status_code == 403
    with app.app_context():
        secrets = db.session.scalars(sa.select(User.totp_secret).where(User.id.in_([admin.id, mentor.id, other.id])))
        assert all(secrets)
