"""Accounts as a user meets them: register, log in and out, sessions, passwords, invitations."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from portal.auth.models import Invitation, PasswordReset, User
from portal.db import utcnow
from portal.extensions import db
from tests.factories import PASSWORD

NEW_PASSWORD = "a much better passphrase"


def register(client, **overrides):
    data = {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "password": "analytical engine 1843",
        "confirm": "analytical engine 1843",
        "timezone": "Europe/London",
        "privacy": "y",
    }
    data.update(overrides)
    return client.post("/register", data={k: v for k, v in data.items() if v is not None})


def get_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def link_in(body: str, path_prefix: str) -> str:
    match = re.search(rf"http://localhost{re.escape(path_prefix)}[^\s\"<]+", body)
    assert match, f"no {path_prefix} link in email"
    return match.group(0).removeprefix("http://localhost")


# Registration -------------------------------------------------------------------------------


def test_registration_creates_candidate_logs_in_and_sends_welcome(app, client, outbox):
    response = register(client, email="Ada@Example.org")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert get_user(app, "ada@example.org") is None  # not before the address is confirmed
    email = outbox("ada@example.org")[-1]
    assert email.subject == "Confirm your email address to finish creating your account"
    link = link_in(email.body_text, "/register/confirm/")
    assert link in email.body_html
    page = client.get(link).get_data(as_text=True)
    assert "Finish creating your account" in page and "Ada Lovelace" in page
    response = client.post(link)
    assert response.status_code == 302
    user = get_user(app, "ada@example.org")
    assert user is not None and user.role == "candidate" and user.privacy_accepted_at is not None
    assert user.password_hash.startswith("scrypt:")
    home = client.get("/")
    assert "Signed in as" in home.get_data(as_text=True)
    emails = outbox("ada@example.org")
    assert [email.subject for email in emails][1:] == ["Welcome to Career Services"]
    assert '1<span class="visually-hidden"> unread</span>' in home.get_data(as_text=True)
    client.post("/logout")
    assert client.post(link).status_code == 400
    assert (
        client.post("/login", data={"email": "ada@example.org", "password": "analytical engine 1843"}).status_code
        == 302
    )


def test_registration_with_a_taken_address_looks_the_same_as_a_new_one(app, make, client, outbox):
    make.user(email="taken@example.org", name="Sam Taylor")
    taken = register(client, email="TAKEN@example.org")
    new = register(client, email="new@example.org")
    assert taken.status_code == new.status_code == 200
    assert taken.get_data(as_text=True).replace("TAKEN@example.org", "") == new.get_data(as_text=True).replace(
        "new@example.org", ""
    )
    # both addresses get one email: a link for the new one, a note for the owner of the taken one
    (note,) = outbox("taken@example.org")
    assert note.subject == "You already have an account" and note.category == "security"
    assert "http://localhost/login" in note.body_text and "http://localhost/password/forgot" in note.body_text
    assert "/register/confirm/" not in note.body_text
    assert len(outbox("new@example.org")) == 1
    # the account is untouched: its password is still the old one
    assert get_user(app, "taken@example.org").name == "Sam Taylor"
    assert client.post("/login", data={"email": "taken@example.org", "password": PASSWORD}).status_code == 302


def test_two_registration_links_for_one_address_make_one_account(app, client, outbox):
    register(client)
    register(client, password="another long passphrase", confirm="another long passphrase")
    first, second = (link_in(email.body_text, "/register/confirm/") for email in outbox("ada@example.org"))
    assert client.post(second).status_code == 302
    client.post("/logout")
    response = client.post(first)
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_registration_link_expires_after_a_day(app, client, outbox):
    with time_machine.travel(utcnow(), tick=False) as traveller:
        register(client)
        link = link_in(outbox("ada@example.org")[-1].body_text, "/register/confirm/")
        traveller.shift(timedelta(hours=23, minutes=59))
        assert client.get(link).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert client.post(link).status_code == 400
    assert get_user(app, "ada@example.org") is None


def test_registration_refuses_common_and_short_passwords_and_mismatch(client):
    body = register(client, password="password123", confirm="password123").get_data(as_text=True)
    assert "one of the most commonly used passwords" in body
    body = register(client, password="short", confirm="short").get_data(as_text=True)
    assert "at least 8 characters" in body
    body = register(client, password="analytical engine 1843", confirm="different words here").get_data(as_text=True)
    assert "The passwords do not match." in body


def test_registration_accepts_long_passwords_up_to_128_and_refuses_longer(app, client):
    long_password = "x" * 100 + " long passphrase"
    assert len(long_password) <= 128
    assert "Check your email" in register(client, password=long_password, confirm=long_password).get_data(as_text=True)
    too_long = "y" * 129
    body = register(client, email="b@example.org", password=too_long, confirm=too_long).get_data(as_text=True)
    assert "128 characters or fewer" in body
    assert get_user(app, "b@example.org") is None


def test_registration_refuses_overlong_fields_and_missing_consent(app, client):
    body = register(client, name="n" * 121, email=("e" * 250) + "@example.org", privacy=None).get_data(as_text=True)
    assert "Name must be 120 characters or fewer." in body
    assert "Email address must be 254 characters or fewer." in body
    assert "You must agree to the privacy notice" in body
    assert 'aria-invalid="true"' in body and "There is a problem" in body


def test_registration_refuses_unknown_time_zone(client):
    body = register(client, timezone="Mars/Olympus_Mons").get_data(as_text=True)
    assert "Choose a time zone from the list." in body


def test_invalid_email_format_is_explained(client):
    body = register(client, email="not-an-email").get_data(as_text=True)
    assert "Enter an email address in the correct format" in body


# Login and logout ---------------------------------------------------------------------------


def test_login_and_logout(make, client, auth):
    user = make.user(email="sam@example.org", name="Sam Taylor")
    response = auth.login("SAM@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Sam Taylor" in client.get("/account").get_data(as_text=True)
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
    assert user.id


def test_same_message_for_unknown_email_and_wrong_password(make, auth):
    make.user(email="sam@example.org")
    wrong_password = auth.login("sam@example.org", "not the password").get_data(as_text=True)
    unknown = auth.login("nobody@example.org", "not the password").get_data(as_text=True)
    message = "Enter a correct email address and password."
    assert message in wrong_password and message in unknown


def test_deactivated_user_cannot_log_in(make, auth, client):
    make.user(email="gone@example.org", active=False)
    body = auth.login("gone@example.org").get_data(as_text=True)
    assert "deactivated" in body
    assert client.get("/account").status_code == 302


def test_logout_requires_post(make, auth, client):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_login_clears_the_anonymous_session(make, auth, client):
    make.user(email="sam@example.org")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    auth.login("sam@example.org")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].endswith(":1")


def test_session_cookie_copied_before_logout_no_longer_works(app, make, auth, client):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    stolen = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_remember_cookie_copied_before_logout_no_longer_works(app, make, auth, client):
    make.user(email="sam@example.org")
    auth.login("sam@example.org", remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert fresh.get("/account").status_code == 200  # the cookie works while the session is current
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/account").status_code == 302


def test_cookies_are_httponly_and_samesite_lax(make, auth, client):
    make.user(email="sam@example.org")
    response = auth.login("sam@example.org", remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_safe_next_is_followed_and_unsafe_next_ignored(make, auth, client):
    make.user(email="sam@example.org")
    assert auth.login("sam@example.org", next_url="/account").headers["Location"] == "/account"
    auth.logout()
    for unsafe in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = auth.login("sam@example.org", next_url=unsafe)
        assert response.headers["Location"] == "/", unsafe
        auth.logout()


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# Rate limits ---------------------------------------------------------------------------------


def test_login_is_rate_limited_per_account_with_a_page_that_says_when(make, auth):
    make.user(email="sam@example.org")
    statuses = [auth.login("sam@example.org", "wrong password").status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = auth.login("sam@example.org", PASSWORD)
    assert limited.status_code == 429
    body = limited.get_data(as_text=True)
    assert "Too many attempts" in body and re.search(r"Try again in \d+ (seconds|minutes)", body)
    assert "Retry-After" in limited.headers
    # another account from the same address is not blocked by this one's limit
    make.user(email="other@example.org")
    assert auth.login("other@example.org").status_code == 302


def attempt(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_failed_logins_from_one_address_do_not_lock_the_owner_out_elsewhere(app, make, client):
    make.user(email="sam@example.org")
    statuses = [attempt(client, "sam@example.org", "wrong password", "198.51.100.7").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    owner = app.test_client()
    assert attempt(owner, "sam@example.org", PASSWORD, "203.0.113.20").status_code == 302


def test_successful_logins_do_not_count_towards_the_account_limit(make, client, auth):
    make.user(email="sam@example.org")
    for _ in range(7):
        assert auth.login("sam@example.org").status_code == 302
        auth.logout()


def test_an_account_under_attack_slows_new_browsers_down_without_locking_the_owner_out(app, make, client):
    app.config.update(LOGIN_ACCOUNT_FAILURES="3 per hour", LOGIN_ACCOUNT_SLOWDOWN="1 per 10 seconds")
    make.user(email="sam@example.org")
    usual_browser = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        assert attempt(usual_browser, "sam@example.org", PASSWORD, "192.0.2.1").status_code == 302
        for n in range(4):  # from four addresses, so no address reaches its own limit
            assert attempt(client, "sam@example.org", "guess", f"198.51.100.{n}").status_code == 200
        new_browser = app.test_client()
        slowed = attempt(new_browser, "sam@example.org", PASSWORD, "203.0.113.20")
        assert slowed.status_code == 429 and "Retry-After" in slowed.headers
        wait = re.search(r"Wait (\d+) seconds, then try again\.", slowed.get_data(as_text=True))
        assert wait and 10 <= int(wait.group(1)) <= 11
        assert attempt(app.test_client(), "sam@example.org", PASSWORD, "192.0.2.1").status_code == 429
        # the owner's usual browser is never slowed, whatever its address
        assert attempt(usual_browser, "sam@example.org", PASSWORD, "192.0.2.99").status_code == 302
        traveller.shift(timedelta(seconds=int(wait.group(1))))
        assert attempt(new_browser, "sam@example.org", PASSWORD, "203.0.113.20").status_code == 302


def test_the_owner_is_emailed_once_per_window_when_failed_logins_pile_up(app, make, client, outbox):
    app.config.update(LOGIN_ACCOUNT_FAILURES="3 per hour", LOGIN_ACCOUNT_SLOWDOWN="1 per 10 seconds")
    make.user(email="sam@example.org", name="Sam Taylor")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        for n in range(2):
            attempt(client, "sam@example.org", "guess", f"198.51.100.{n}")
            attempt(client, "nobody@example.org", "guess", f"198.51.100.{n}")
        assert outbox() == []
        attempt(client, "sam@example.org", "guess", "198.51.100.2")
        for n in range(3):
            traveller.shift(timedelta(seconds=11))
            attempt(client, "sam@example.org", "guess", f"198.51.100.{n + 3}")
        emails = outbox("sam@example.org")
        assert [email.subject for email in emails] == ["Failed attempts to log in to your account"]
        assert emails[0].category == "security"
        assert "at least 3 times in the last hour" in emails[0].body_text
        assert "http://localhost/password/forgot" in emails[0].body_text
        traveller.shift(timedelta(hours=1, seconds=1))
        for n in range(3):
            attempt(client, "sam@example.org", "guess", f"198.51.100.{n}")
        assert len(outbox("sam@example.org")) == 2
    attempt(client, "nobody@example.org", "guess", "198.51.100.9")
    assert [email.to_address for email in outbox()] == ["sam@example.org"] * 2


def test_login_is_rate_limited_per_ip(app, make, auth):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    statuses = [auth.login(f"user{n}@example.org", "wrong password").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_registration_and_reset_are_rate_limited(app, client):
    app.config["REGISTER_RATE_LIMIT"] = "2 per hour"
    statuses = [
        register(client, email=f"r{n}@example.org", password="short", confirm="short").status_code for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    statuses = [client.post("/password/forgot", data={"email": "x@example.org"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# Password reset --------------------------------------------------------------------------------


def test_reset_form_answers_the_same_for_known_and_unknown_addresses(make, client, outbox):
    make.user(email="sam@example.org")
    known = client.post("/password/forgot", data={"email": "sam@example.org"}).get_data(as_text=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"}).get_data(as_text=True)
    assert known.replace("sam@example.org", "") == unknown.replace("nobody@example.org", "")
    assert len(outbox("sam@example.org")) == 1 and len(outbox("nobody@example.org")) == 1


def test_reset_form_queues_one_email_through_the_outbox_for_every_address(make, client, outbox):
    make.user(email="sam@example.org")
    make.user(email="gone@example.org", active=False)
    for address in ("sam@example.org", "nobody@example.org", "gone@example.org"):
        client.post("/password/forgot", data={"email": address})
    known, unknown, deactivated = (
        outbox(address) for address in ("sam@example.org", "nobody@example.org", "gone@example.org")
    )
    assert [len(known), len(unknown), len(deactivated)] == [1, 1, 1]
    assert {email.category for email in known + unknown + deactivated} == {"security"}
    assert "/password/reset/" in known[0].body_text
    assert "no account uses this address" in unknown[0].body_text and "/password/reset/" not in unknown[0].body_text
    assert "has been deactivated" in deactivated[0].body_text and "/password/reset/" not in deactivated[0].body_text


def test_password_reset_link_works_once_and_ends_sessions(app, make, client, auth, outbox):
    make.user(email="sam@example.org")
    other_device = app.test_client()
    other_device.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    client.post("/password/forgot", data={"email": "sam@example.org"})
    email = outbox("sam@example.org")[-1]
    assert email.category == "security"
    link = link_in(email.body_text, "/password/reset/")
    assert link in email.body_html
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert other_device.get("/account").status_code == 302
    again = client.post(link, data={"password": "yet another passphrase", "confirm": "yet another passphrase"})
    assert again.status_code == 400 and "expired or has already been used" in again.get_data(as_text=True)
    assert auth.login("sam@example.org", PASSWORD).status_code == 200
    assert auth.login("sam@example.org", NEW_PASSWORD).status_code == 302


def test_password_reset_link_expires_after_an_hour(app, make, client, outbox):
    make.user(email="sam@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client.post("/password/forgot", data={"email": "sam@example.org"})
        link = link_in(outbox("sam@example.org")[-1].body_text, "/password/reset/")
        traveller.shift(timedelta(minutes=59))
        assert client.get(link).status_code == 200
        traveller.shift(timedelta(minutes=2))
        response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(PasswordReset.used_at)) is None


def test_using_the_newer_reset_link_ends_the_older_one(make, client, outbox):
    make.user(email="sam@example.org")
    client.post("/password/forgot", data={"email": "sam@example.org"})
    client.post("/password/forgot", data={"email": "sam@example.org"})
    older, newer = (link_in(email.body_text, "/password/reset/") for email in outbox("sam@example.org"))
    assert client.get(older).status_code == 200
    assert client.post(newer, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    response = client.post(older, data={"password": "an attacker's choice", "confirm": "an attacker's choice"})
    assert response.status_code == 400 and "expired or has already been used" in response.get_data(as_text=True)


def test_changing_the_password_ends_reset_links_sent_before(make, client, auth, outbox):
    make.user(email="sam@example.org")
    client.post("/password/forgot", data={"email": "sam@example.org"})
    link = link_in(outbox("sam@example.org")[-1].body_text, "/password/reset/")
    auth.login("sam@example.org")
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    auth.logout()
    assert client.get(link).status_code == 400
    response = client.post(link, data={"password": "an attacker's choice", "confirm": "an attacker's choice"})
    assert response.status_code == 400
    assert auth.login("sam@example.org", NEW_PASSWORD).status_code == 302


def test_reset_with_a_made_up_token_is_refused(client):
    assert client.get("/password/reset/made-up-token").status_code == 400


def test_reset_refuses_a_common_password_and_keeps_the_link(make, client, outbox):
    make.user(email="sam@example.org")
    client.post("/password/forgot", data={"email": "sam@example.org"})
    link = link_in(outbox("sam@example.org")[-1].body_text, "/password/reset/")
    body = client.post(link, data={"password": "iloveyou", "confirm": "iloveyou"}).get_data(as_text=True)
    assert "most commonly used" in body
    assert client.get(link).status_code == 200


# Change password and profile ----------------------------------------------------------------------


def test_change_password_needs_current_one_and_ends_other_sessions(app, make, client, auth):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    other_device = app.test_client()
    other_device.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    before = client.get_cookie("session").value
    wrong = client.post(
        "/account/password",
        data={"current_password": "nope nope nope", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "Your current password is not correct." in wrong.get_data(as_text=True)
    assert other_device.get("/account").status_code == 200
    response = client.post(
        "/account/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session goes on
    assert other_device.get("/account").status_code == 302  # every other one ends
    replay = app.test_client()
    replay.set_cookie("session", before)
    assert replay.get("/account").status_code == 302


def test_profile_changes_name_and_time_zone(app, make, client, auth):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    response = client.post("/account", data={"name": "Samantha Taylor", "timezone": "America/New_York"})
    assert response.status_code == 302
    user = get_user(app, "sam@example.org")
    assert (user.name, user.timezone) == ("Samantha Taylor", "America/New_York")
    body = client.post("/account", data={"name": "", "timezone": "Nowhere/Atlantis"}).get_data(as_text=True)
    assert "Enter your name." in body and "Choose a time zone from the list." in body


# Invitations ----------------------------------------------------------------------------------------


def test_admin_invites_mentor_who_accepts_once(app, make, client, auth, outbox):
    make.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    response = client.post("/admin/invitations/new", data={"name": "Priya Shah", "email": "Priya@Example.org"})
    assert response.status_code == 302
    assert "Priya Shah" in client.get("/admin/users").get_data(as_text=True)
    auth.logout()
    email = outbox("priya@example.org")[-1]
    link = link_in(email.body_text, "/invitation/")
    page = client.get(link).get_data(as_text=True)
    assert "Welcome, Priya Shah" in page and "mentor" in page
    response = client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "timezone": "Europe/Paris"})
    assert response.status_code == 302
    mentor = get_user(app, "priya@example.org")
    assert mentor.role == "mentor" and mentor.timezone == "Europe/Paris"
    client.post("/logout")
    assert client.get(link).status_code == 400


def test_invitation_expires_after_seven_days(app, make, client, auth, outbox):
    make.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    with time_machine.travel(utcnow(), tick=False) as traveller:
        client.post("/admin/invitations/new", data={"name": "Tom Okafor", "email": "tom@example.org"})
        link = link_in(outbox("tom@example.org")[-1].body_text, "/invitation/")
        auth.logout()
        traveller.shift(timedelta(days=6, hours=23))
        assert client.get(link).status_code == 200
        traveller.shift(timedelta(hours=2))
        assert client.get(link).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.accepted_at)) is None


def test_invitation_for_an_existing_account_is_refused(make, client, auth):
    make.user("admin", email="admin@example.org")
    make.user(email="sam@example.org")
    auth.login("admin@example.org")
    response = client.post("/admin/invitations/new", data={"name": "Sam", "email": "sam@example.org"})
    body = response.get_data(as_text=True)
    assert "already has an account" in body


def test_a_new_invitation_withdraws_the_earlier_one(make, client, auth, outbox):
    make.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    client.post("/admin/invitations/new", data={"name": "Tom", "email": "tom@example.org"})
    client.post("/admin/invitations/new", data={"name": "Tom", "email": "tom@example.org"})
    first, second = (link_in(e.body_text, "/invitation/") for e in outbox("tom@example.org"))
    auth.logout()
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200
