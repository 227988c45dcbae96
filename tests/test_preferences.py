"""Email preferences, unsubscribe links, and the admin's email delivery page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.mail import OutboxEmail
from portal.notifications.models import Notification, NotificationPreference
from tests.conftest import logged_in as as_user
from tests.factories import make_slot, make_user


@pytest.fixture
def people(app):
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org")
        make_user(email="sam@example.org", name="Sam Taylor")
        make_user("admin", email="admin@example.org")
        slot_id = make_slot(mentor, datetime.now(UTC) + timedelta(days=3)).id
    return {"slot": slot_id}


def emails(app, address):
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == address)))


def test_a_category_turned_off_sends_no_email_but_keeps_the_notice(app, people, outbox):
    client = as_user(app, "sam@example.org")
    page = client.get("/account/emails").get_data(as_text=True)
    assert page.count('type="checkbox"') == 4 and "security emails" in page
    client.post("/account/emails", data={"reminders": "y", "feedback": "y", "waitlist": "y"})  # booking off
    client.post(f"/interviews/slots/{people['slot']}/book", data={"focus_note": ""})
    assert emails(app, "sam@example.org") == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) >= 1
    assert emails(app, "mentor@example.org")  # the mentor still gets theirs
    client.post("/password/forgot", data={"email": "sam@example.org"})
    assert [e.category for e in emails(app, "sam@example.org")] == ["security"]  # always sent


def test_unsubscribe_link_works_without_logging_in(app, people):
    as_user(app, "sam@example.org").post(f"/interviews/slots/{people['slot']}/book", data={"focus_note": ""})
    email = emails(app, "sam@example.org")[-1]
    link = re.search(r"http://localhost(/email/unsubscribe/\S+)", email.body_text).group(1)
    assert email.list_unsubscribe.endswith(link)
    assert "Stop emails like this one" in email.body_html
    visitor = app.test_client()
    page = visitor.get(link).get_data(as_text=True)
    assert "Booking changes" in page and "Stop these emails" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(NotificationPreference.id))) == 0  # GET changes nothing
    done = visitor.post(link)
    assert done.status_code == 200 and "You have unsubscribed" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(NotificationPreference.email_enabled)) is False
    assert visitor.get("/email/unsubscribe/forged-token").status_code == 404


def test_security_emails_have_no_unsubscribe(app, people):
    app.test_client().post("/password/forgot", data={"email": "sam@example.org"})
    email = emails(app, "sam@example.org")[-1]
    assert email.list_unsubscribe is None and "unsubscribe" not in email.body_text


def test_admin_lists_emails_and_retries_a_failed_one(app, people):
    with app.app_context():
        from portal.mail import OutgoingEmail, queue_email

        with app.test_request_context():
            row = queue_email(
                "x@example.org",
                OutgoingEmail("Hello", "welcome", {"user": {"name": "X", "timezone": "UTC"}, "home_url": "/"}),
            )
            row.status, row.attempts, row.last_error = "failed", 8, "SMTPServerDisconnected: gone"
            db.session.commit()
            row_id = row.id
    admin = as_user(app, "admin@example.org")
    page = admin.get("/admin/mail?status=failed").get_data(as_text=True)
    assert "SMTPServerDisconnected: gone" in page and "Failed (1)" in page
    admin.post(f"/admin/mail/{row_id}/retry")
    with app.app_context():
        row = db.session.get(OutboxEmail, row_id)
        assert (row.status, row.attempts) == ("queued", 0)
    assert as_user(app, "sam@example.org").get("/admin/mail").status_code == 403


def test_the_zone_list_is_built_once_per_zone_and_marks_the_chosen_one(app):
    """The ~600 options of the zone list cost about 9 ms a page when built anew; they are built once per zone."""
    from portal.forms import _zone_options
    from portal.interviews.forms import TimezoneSwitchForm

    with app.test_request_context():
        _zone_options.cache_clear()
        for _ in range(3):
            html = str(TimezoneSwitchForm(formdata=None, timezone="Asia/Tokyo").timezone())
        assert _zone_options.cache_info().misses == 1 and _zone_options.cache_info().hits == 2
    assert html.count(" selected") == 1 and '<option value="Asia/Tokyo" selected>Asia/Tokyo</option>' in html
    assert '<option value="America/New_York">America/New York</option>' in html
