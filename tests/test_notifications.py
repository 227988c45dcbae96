"""In-app notifications: the bell, the list, mark as read."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.mail import OutboxEmail, OutgoingEmail
from portal.notifications.services import notify


def add_notifications(app, user, count: int, link: str | None = None, email: bool = False) -> None:
    with app.app_context():
        owner = db.session.merge(user)
        for number in range(count):
            notify(
                owner,
                f"Message {number}",
                link,
                email=OutgoingEmail("Hello", "welcome", {"home_url": "http://localhost/"}) if email else None,
            )
        db.session.commit()


def unread_badge(html: str) -> int | None:
    match = re.search(r'(\d+)<span class="visually-hidden"> unread</span>', html)
    return int(match.group(1)) if match else None


def test_notify_writes_notice_and_email_in_one_transaction(app, make):
    user = make.user(email="sam@example.org")
    add_notifications(app, user, 1, link="/account", email=True)
    with app.app_context():
        email = db.session.scalar(sa.select(OutboxEmail))
        assert email.to_address == "sam@example.org" and email.user_id == user.id
        notify(db.session.merge(user), "Rolled back", email=OutgoingEmail("x", "welcome", {"home_url": "/"}))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) == 1


def test_bell_shows_unread_count_and_list_is_newest_first(app, make, client, auth):
    user = make.user(email="sam@example.org")
    add_notifications(app, user, 3)
    auth.login("sam@example.org")
    html = client.get("/notifications/").get_data(as_text=True)
    assert unread_badge(html) == 3
    assert html.index("Message 2") < html.index("Message 1") < html.index("Message 0")


def test_list_is_paginated(app, make, client, auth):
    user = make.user(email="sam@example.org")
    add_notifications(app, user, 25)
    auth.login("sam@example.org")
    first = client.get("/notifications/").get_data(as_text=True)
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "Message 24" in first and "Message 4" not in first.replace("Message 4<", "")
    assert "Message 0" in second and "Message 24" not in second
    assert 'aria-label="Notification pages"' in first


def test_mark_one_read_follows_its_link(app, make, client, auth):
    user = make.user(email="sam@example.org")
    add_notifications(app, user, 1, link="/account")
    add_notifications(app, user, 1)
    auth.login("sam@example.org")
    with app.app_context():
        linked_id = db.session.scalar(sa.text("SELECT id FROM notifications WHERE link = '/account'"))
    response = client.post(f"/notifications/{linked_id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert unread_badge(client.get("/notifications/").get_data(as_text=True)) == 1


def test_mark_all_read(app, make, client, auth):
    user = make.user(email="sam@example.org")
    add_notifications(app, user, 4)
    auth.login("sam@example.org")
    response = client.post("/notifications/read-all", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Marked 4 notifications as read." in html
    assert unread_badge(html) is None


def test_empty_state(make, client, auth):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    assert "You have no notifications yet." in client.get("/notifications/").get_data(as_text=True)
