"""The outbox and its worker, delivering to a real SMTP server on loopback."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.db import utcnow
from portal.extensions import db
from portal.mail import (
    Attachment,
    OutboxEmail,
    OutgoingEmail,
    SMTPBackend,
    deliver_due,
    is_permanent,
    queue_email,
    retry_delay,
)
from tests.mailserver import SMTPServer, free_port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(smtp_port) -> dict:
    return {
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_port,
        "SMTP_TIMEOUT": 2,
        "MAIL_MAX_ATTEMPTS": 4,
    }


@pytest.fixture
def smtp_server(smtp_port):
    server = SMTPServer(smtp_port).start()
    yield server
    server.stop()


def queue_reset_email(app, to="sam@example.org") -> int:
    with app.app_context():
        row = queue_email(
            to,
            OutgoingEmail(
                "Reset your password",
                "password_reset",
                {"user": {"name": "Sam"}, "reset_url": "http://portal.test/x", "hours": 1},
                category="security",
            ),
        )
        db.session.commit()
        return row.id


def outbox_row(app, row_id: int) -> OutboxEmail:
    with app.app_context():
        row = db.session.get(OutboxEmail, row_id)
        db.session.expunge(row)
        return row


def test_worker_delivers_both_parts_with_headers(app, smtp_server):
    row_id = queue_reset_email(app)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "1 sent" in result.output
    message = smtp_server.wait_for(1)[0]
    assert message["To"] == "sam@example.org"
    assert message["Subject"] == "Reset your password"
    assert message["From"] == app.config["MAIL_FROM"]
    assert message["Date"] and message["Message-ID"] == outbox_row(app, row_id).message_id
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "http://portal.test/x" in plain and "http://portal.test/x" in html
    assert app.config["SITE_ADDRESS"] in plain and app.config["SITE_ADDRESS"] in html
    sent = outbox_row(app, row_id)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1


def test_each_email_is_sent_once(app, smtp_server):
    queue_reset_email(app)
    with app.app_context():
        assert deliver_due().sent == 1
        assert deliver_due().sent == 0
    assert len(smtp_server.wait_for(1)) == 1


def test_a_worker_stopped_after_the_server_took_an_email_sends_it_again_with_the_same_message_id(app, smtp_server):
    """At least once, never lost: the one window for a second copy is a worker dying between the server's "250 OK"
    and the commit that records it, and the copy carries the same Message-ID."""
    row_id = queue_reset_email(app)

    class DiesAfterSending(SMTPBackend):
        def send(self, message) -> None:
            super().send(message)
            raise KeyboardInterrupt("worker stopped")

    with app.app_context(), pytest.raises(KeyboardInterrupt):
        deliver_due(backend=DiesAfterSending(app.config))
    assert outbox_row(app, row_id).status == "queued"
    with app.app_context():
        db.session.remove()
        assert deliver_due().sent == 1
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert outbox_row(app, row_id).status == "sent"


def test_nothing_is_lost_while_the_smtp_server_is_down_for_an_hour(app, smtp_port):
    row_id = queue_reset_email(app)
    with time_machine.travel(utcnow(), tick=True) as traveller:
        with app.app_context():
            report = deliver_due()
        assert (report.sent, report.retried) == (0, 1)
        row = outbox_row(app, row_id)
        assert row.status == "queued" and row.attempts == 1 and "Connection" in row.last_error
        # Not due again until the back-off has passed.
        with app.app_context():
            assert deliver_due().handled == 0
        traveller.shift(timedelta(minutes=1, seconds=5))
        with app.app_context():
            assert deliver_due().retried == 1
        traveller.shift(timedelta(hours=1))
        server = SMTPServer(smtp_port).start()
        try:
            with app.app_context():
                assert deliver_due().sent == 1
            assert server.wait_for(1)[0]["Subject"] == "Reset your password"
        finally:
            server.stop()
    row = outbox_row(app, row_id)
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None


def test_an_email_that_keeps_failing_is_marked_failed_and_kept(app):
    row_id = queue_reset_email(app)
    with time_machine.travel(utcnow(), tick=True) as traveller:
        for _ in range(4):
            with app.app_context():
                deliver_due()
            traveller.shift(timedelta(hours=2))
    row = outbox_row(app, row_id)
    assert row.status == "failed" and row.attempts == 4 and row.last_error
    with app.app_context():
        assert deliver_due().handled == 0


def test_back_off_doubles_and_is_capped():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(20) == timedelta(hours=1)


def test_email_is_written_in_the_callers_transaction(app):
    with app.app_context():
        queue_email(
            "x@example.org",
            OutgoingEmail("Welcome", "welcome", {"user": {"name": "X", "timezone": "UTC"}, "home_url": "/"}),
        )
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) == 0


def test_console_backend_prints_the_message(app, capsys):
    app.config["MAIL_BACKEND"] = "console"
    queue_reset_email(app)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "Subject: Reset your password" in result.output and "1 sent" in result.output


def poisoned_row(app, subject: str = "Hello\r\nBcc: spy@example.org") -> int:
    """A row written around queue_email (as an older release or a hand-made insert could), due before the others."""
    with app.app_context():
        row = OutboxEmail(
            to_address="eve@example.org",
            subject=subject,
            body_text="Hello",
            message_id="<poisoned@example.org>",
            next_attempt_at=utcnow() - timedelta(minutes=5),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_row_that_cannot_be_built_is_marked_failed_and_the_ten_after_it_are_sent(app, smtp_server):
    bad_id = poisoned_row(app)
    good_ids = [queue_reset_email(app, to=f"person{n}@example.org") for n in range(10)]
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "10 sent, 0 to retry, 1 failed" in result.output
    messages = smtp_server.wait_for(10)
    assert sorted(m["To"] for m in messages) == sorted(f"person{n}@example.org" for n in range(10))
    assert not any(m["Bcc"] for m in messages)
    bad = outbox_row(app, bad_id)
    assert bad.status == "failed" and bad.attempts == 1
    assert "Subject" in bad.last_error and "U+000D, U+000A" in bad.last_error
    assert all(outbox_row(app, row_id).status == "sent" for row_id in good_ids)


def test_a_row_with_a_bidi_subject_fails_rather_than_reaching_an_inbox(app, smtp_server):
    bad_id = poisoned_row(app, subject="Invoice \u202egpj.exe")
    with app.app_context():
        report = deliver_due()
    assert (report.sent, report.failed) == (0, 1)
    assert "U+202E" in outbox_row(app, bad_id).last_error


def test_the_reason_a_row_failed_is_on_the_admin_email_page(app, smtp_server):
    from tests.conftest import logged_in
    from tests.factories import make_user

    with app.app_context():
        make_user("admin", email="admin@example.org")
        db.session.commit()
    poisoned_row(app)
    with app.app_context():
        deliver_due()
    page = logged_in(app, "admin@example.org").get("/admin/mail?status=failed").get_data(as_text=True)
    assert "Failed (1)" in page and "UnsafeHeader: the Subject holds control characters (U+000D, U+000A)" in page


def test_subject_and_attachment_name_are_cleaned_when_the_email_is_queued(app, smtp_server):
    with app.app_context():
        row = queue_email(
            "sam@example.org",
            OutgoingEmail(
                "Booked with Eve\r\nBcc: spy@example.org\u202e\x00",
                "password_reset",
                {"user": {"name": "Sam"}, "reset_url": "http://portal.test/x", "hours": 1},
                attachment=Attachment("../inv\u202eite\r\n.ics", "text/calendar; method=REQUEST", "BEGIN:VCALENDAR"),
            ),
        )
        db.session.commit()
        assert row.subject == "Booked with Eve Bcc: spy@example.org"
        assert row.attachment_filename == "invite.ics"
        assert deliver_due().sent == 1
    message = smtp_server.wait_for(1)[0]
    assert message["Subject"] == "Booked with Eve Bcc: spy@example.org" and message["Bcc"] is None
    assert [part.get_filename() for part in message.iter_attachments()] == ["invite.ics"]


def test_a_recipient_the_server_refuses_for_good_is_failed_at_once_and_the_rest_are_sent(app, smtp_server):
    smtp_server.inbox.refuse["gone@example.org"] = "550 5.1.1 No such user"
    refused_id = queue_reset_email(app, to="gone@example.org")
    sent_id = queue_reset_email(app, to="sam@example.org")
    with app.app_context():
        report = deliver_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 1)
    refused = outbox_row(app, refused_id)
    assert refused.status == "failed" and refused.attempts == 1
    assert "SMTPRecipientsRefused" in refused.last_error and "No such user" in refused.last_error
    assert outbox_row(app, sent_id).status == "sent"


def test_a_recipient_refused_for_now_is_retried_later(app, smtp_server):
    smtp_server.inbox.refuse["busy@example.org"] = "451 4.3.0 Try again later"
    row_id = queue_reset_email(app, to="busy@example.org")
    with app.app_context():
        report = deliver_due()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = outbox_row(app, row_id)
    assert row.status == "queued" and row.attempts == 1 and "Try again later" in row.last_error


def test_a_message_the_server_rejects_for_good_is_failed_at_once(app, smtp_server):
    smtp_server.inbox.refuse_data["spam@example.org"] = "554 5.7.1 Message rejected as spam"
    rejected_id = queue_reset_email(app, to="spam@example.org")
    with app.app_context():
        report = deliver_due()
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    rejected = outbox_row(app, rejected_id)
    assert rejected.status == "failed" and "SMTPDataError" in rejected.last_error and "spam" in rejected.last_error


@pytest.mark.parametrize(
    "error, permanent",
    [
        (ValueError("Header values may not contain linefeed or carriage return characters"), True),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"No such user")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.org": (550, b"No"), "b@example.org": (452, b"Full")}), False),
        (smtplib.SMTPDataError(552, b"Too big"), True),
        (smtplib.SMTPDataError(451, b"Try later"), False),
        (smtplib.SMTPAuthenticationError(535, b"Bad login"), False),
        (smtplib.SMTPSenderRefused(550, b"Not allowed to send as", "careers@example.org"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
        (TimeoutError(), False),
    ],
)
def test_only_failures_of_the_row_itself_are_permanent(error, permanent):
    assert is_permanent(error) is permanent
