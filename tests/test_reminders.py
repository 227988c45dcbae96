"""Reminders: timing with a pinned clock (across a clock change too), exactly once with two workers, recovery."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.extensions import db
from portal.interviews import services
from portal.interviews.models import Reminder
from portal.mail import OutboxEmail, build_message
from portal.notifications.reminders import send_due_reminders
from tests.factories import make_interview_type, make_slot, make_user

START = datetime(2026, 10, 26, 18, 0, tzinfo=UTC)  # Monday 18:00 GMT, the day after the clocks go back
NOW = START - timedelta(days=3)


@pytest.fixture
def people(ctx):
    mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah", timezone="America/New_York")
    candidate = make_user(email="sam@example.org", name="Sam Taylor")
    make_interview_type()
    return {"mentor": mentor, "candidate": candidate}


def book(people, starts_at=START):
    slot = make_slot(people["mentor"], starts_at)
    booking = services.book_slot(people["candidate"], slot.id, "Feature stores")
    db.session.commit()
    return booking


def reminder_emails() -> list[OutboxEmail]:
    return list(
        db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.category == "reminders").order_by(OutboxEmail.id))
    )


def test_reminders_24_hours_and_1_hour_before_for_both_people_in_their_own_zones(people, ctx):
    book(people)
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 4
    ctx.move_to(START - timedelta(hours=24, seconds=1))
    assert send_due_reminders() == 0
    ctx.move_to(START - timedelta(hours=24))  # 18:00 GMT on Sunday: the clocks went back that morning
    assert send_due_reminders() == 2
    emails = {email.to_address: email for email in reminder_emails()}
    assert emails["sam@example.org"].subject == "Reminder: Technical: Python and ML fundamentals in 24 hours"
    assert "Mon 26 Oct 2026, 18:00 GMT" in emails["sam@example.org"].body_text
    assert "Mon 26 Oct 2026, 14:00 EDT" in emails["mentor@example.org"].body_text  # New York changes a week later
    assert "Reschedule:" in emails["sam@example.org"].body_text  # still within the policy
    assert send_due_reminders() == 0
    ctx.move_to(START - timedelta(minutes=59))
    assert send_due_reminders() == 2
    last = reminder_emails()[-1]
    assert "in 1 hour" in last.subject and "Reschedule:" not in last.body_text  # past the cutoff now
    assert len(reminder_emails()) == 4


def test_a_booking_made_less_than_a_day_ahead_gets_only_the_reminders_still_to_come(people, ctx):
    ctx.move_to(START - timedelta(hours=13))
    book(people)
    assert sorted(db.session.scalars(sa.select(Reminder.offset_minutes))) == [60, 60]


def test_a_cancelled_session_gets_no_reminder(people, ctx):
    booking = book(people)
    services.cancel_booking(booking, people["candidate"], "")
    db.session.commit()
    assert set(db.session.scalars(sa.select(Reminder.status))) == {"cancelled"}
    for hours in (24, 1):
        ctx.move_to(START - timedelta(hours=hours))
        assert send_due_reminders() == 0
    assert reminder_emails() == []


def test_moved_session_is_reminded_at_its_new_time(people, ctx):
    booking = book(people)
    target = make_slot(people["mentor"], START + timedelta(days=1))
    services.reschedule_booking(booking, target.id, people["candidate"])
    db.session.commit()
    ctx.move_to(START - timedelta(hours=24))
    assert send_due_reminders() == 0  # the old time's reminders were cancelled
    ctx.move_to(START)
    assert send_due_reminders() == 2
    assert "Tue 27 Oct 2026, 18:00 GMT" in reminder_emails()[0].body_text


def test_reminder_email_parsed_back_has_both_parts_headers_and_calendar(app, people, ctx):
    book(people)
    ctx.move_to(START - timedelta(hours=24))
    send_due_reminders()
    row = next(email for email in reminder_emails() if email.to_address == "sam@example.org")
    message = message_from_bytes(build_message(row, datetime.now(UTC)).as_bytes(), policy=policy.default)
    assert message["Date"] and message["Message-ID"] == row.message_id
    assert message["List-Unsubscribe"].startswith("<http") and message["List-Unsubscribe-Post"]
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "18:00 GMT" in plain and "18:00 GMT" in html and app.config["SITE_ADDRESS"] in html
    attachment = next(part for part in message.iter_attachments() if part.get_filename() == "interview.ics")
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == START


def test_each_reminder_is_sent_once_with_two_workers_at_once(app, people, ctx):
    from portal.interviews.models import BookingPolicy

    db.session.add(
        BookingPolicy(
            id=1, min_notice_hours=12, horizon_days=60, max_upcoming=20, cancel_cutoff_hours=24, max_reschedules=2
        )
    )
    db.session.commit()
    for day in range(12):
        book(people, START + timedelta(hours=2 * day))
    db.session.remove()
    now = START - timedelta(minutes=30)
    ctx.move_to(now)
    with app.app_context():
        due = db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(Reminder.due_at <= now))
    barrier = threading.Barrier(2)
    counts = []

    def worker():
        with app.test_request_context("/"):
            barrier.wait(timeout=10)
            counts.append(send_due_reminders())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        pending = db.session.scalar(
            sa.select(sa.func.count(Reminder.id)).where(Reminder.status == "pending", Reminder.due_at <= now)
        )
        sent = db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(Reminder.status == "sent"))
        emails = db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.category == "reminders"))
    assert sum(counts) == sent == emails == due == 26 and pending == 0


def test_a_worker_stopped_half_way_loses_and_repeats_nothing(app, people, ctx, monkeypatch):
    book(people)
    ctx.move_to(START - timedelta(minutes=30))  # all four reminders are due
    import portal.notifications.reminders as reminders

    original = reminders.queue_email
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("worker stopped")
        return original(*args, **kwargs)

    monkeypatch.setattr(reminders, "queue_email", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        send_due_reminders()
    db.session.rollback()
    monkeypatch.setattr(reminders, "queue_email", original)
    assert len(reminder_emails()) == 1
    send_due_reminders()
    assert len(reminder_emails()) == 4
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(Reminder.status == "sent")) == 4


def test_worker_command_sends_reminders(app, people, ctx):
    book(people)
    db.session.remove()
    ctx.move_to(START - timedelta(minutes=30))
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "reminders queued: 4" in result.output, result.output


def test_two_worker_processes_at_once_send_each_reminder_and_email_exactly_once(app, database_uri, tmp_path):
    """Two real `flask worker --once` processes share the database: nothing is sent twice or left behind."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org")
        make_interview_type()
        reminders = []
        for n in range(15):
            candidate = make_user(email=f"c{n}@example.org")
            slot = make_slot(mentor, now + timedelta(days=2, hours=n))
            from tests.factories import make_booking

            booking = make_booking(slot, candidate)
            for recipient in (candidate.id, mentor.id):
                reminders.append(
                    Reminder(
                        booking_id=booking.id,
                        recipient_id=recipient,
                        offset_minutes=24 * 60,
                        session_starts_at=slot.starts_at,
                        due_at=now - timedelta(minutes=1),
                    )
                )
        db.session.add_all(reminders)
        db.session.commit()
        db.engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": database_uri,
        "SECRET_KEY": "w" * 40,
        "MAIL_BACKEND": "console",
        "UPLOAD_DIR": str(tmp_path),
        "PUBLIC_URL": "http://portal.test",
        "FLASK_APP": "wsgi.py",
        "PORTAL_ENV": "development",
    }
    root = Path(__file__).resolve().parent.parent
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "worker", "--once"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    with app.app_context():
        statuses = db.session.scalars(sa.select(Reminder.status)).all()
        emails = db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.category == "reminders")).all()
        assert statuses == ["sent"] * 30
        assert len(emails) == 30 and len({(e.to_address, e.subject, e.body_text) for e in emails}) == 30
        assert all(e.status == "sent" and e.attempts == 1 for e in emails)
    printed = sum(output.count("----- email to") for output, _ in outputs)
    assert printed == 30  # each email went out once, from one of the two workers
