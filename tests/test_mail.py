"""The outbox and its worker, delivering to a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.db import utcnow
from portal.extensions import db
from portal.mail import OutboxEmail, OutgoingEmail, SMTPBackend, deliver_due, queue_email, retry_delay
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
        "SERVER_NAME": "portal.test",
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
