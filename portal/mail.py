"""Transactional outbox: emails are rows written with the change that causes them; a worker delivers them."""

from __future__ import annotations

import email.errors
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Protocol

import click
import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import Mapped, mapped_column

from portal.auth.models import ERASED_EMAIL_DOMAIN
from portal.db import UTCDateTime, claim_next, status_check, utcnow
from portal.extensions import db
from portal.notifications.preferences import CATEGORIES, email_wanted, unsubscribe_url
from portal.statuses import EmailStatus
from portal.text import describe_characters, forbidden_characters, one_line, safe_filename

STATUSES = tuple(status.value for status in EmailStatus)
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
SUBJECT_MAX_LENGTH = 200  # the column's size


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        status_check(EmailStatus),
        sa.Index("ix_outbox_emails_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_emails_sent", "status", "sent_at"),  # the retention run goes by age
        sa.Index("ix_outbox_emails_failed", "status", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.String(40), default="general")
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=EmailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    attachment_filename: Mapped[str | None] = mapped_column(sa.String(120))
    attachment_content_type: Mapped[str | None] = mapped_column(sa.String(100))
    attachment_text: Mapped[str | None] = mapped_column(sa.Text)
    list_unsubscribe: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it was marked failed for good


@dataclass
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    text: str


@dataclass
class OutgoingEmail:
    """What to send: a subject and the name of a template pair under templates/email/."""

    subject: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    category: str = "general"
    attachment: Attachment | None = None


def queue_email(to_address: str, email: OutgoingEmail, user_id: int | None = None) -> OutboxEmail | None:
    """Render both parts and add the row to the caller's transaction (flushes, never commits). The subject and the
    attachment's filename are cleaned here, the one place header values come from: names people typed cannot add a
    header line or turn text around.

    Returns None, and writes nothing, when the user has turned this category of email off or the address is an
    erased account's placeholder.
    """
    if to_address.endswith("@" + ERASED_EMAIL_DOMAIN) or not email_wanted(user_id, email.category):
        return None
    unsubscribe = unsubscribe_url(user_id, email.category) if user_id and email.category in CATEGORIES else None
    subject = one_line(email.subject)[:SUBJECT_MAX_LENGTH]
    context = {"subject": subject, "unsubscribe_url": unsubscribe, **email.context}
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].partition("@")[2] or "localhost"
    body_text = render_template(f"email/{email.template}.txt", **context)
    if unsubscribe:
        body_text += f"\n\nStop emails like this one: {unsubscribe}\n"
    row = OutboxEmail(
        to_address=to_address,
        subject=subject,
        body_text=body_text,
        list_unsubscribe=unsubscribe,
        body_html=render_template(f"email/{email.template}.html", **context),
        category=email.category,
        message_id=make_msgid(domain=domain),
        user_id=user_id,
        next_attempt_at=utcnow(),
    )
    if email.attachment is not None:
        row.attachment_filename = safe_filename(email.attachment.filename, default="attachment")
        row.attachment_content_type = email.attachment.content_type
        row.attachment_text = email.attachment.text
    db.session.add(row)
    db.session.flush()
    return row


class UnsafeHeader(ValueError):
    """A header value holds a control or bidi character: the row was not written by queue_email."""


def _checked_headers(row: OutboxEmail) -> None:
    values = {
        "To": row.to_address,
        "Subject": row.subject,
        "Message-ID": row.message_id,
        "List-Unsubscribe": row.list_unsubscribe or "",
        "attachment filename": row.attachment_filename or "",
        "attachment type": row.attachment_content_type or "",
    }
    for name, value in values.items():
        found = forbidden_characters(value)
        if found:
            raise UnsafeHeader(f"the {name} holds control characters ({describe_characters(found)})")


def build_message(row: OutboxEmail, sent_at: datetime) -> EmailMessage:
    """The MIME message for an outbox row: plain text with an HTML alternative.

    Raises UnsafeHeader (a ValueError) when a header value holds a control or bidi character, and ValueError or
    email.errors.MessageError for anything else the email library refuses: the row can never be sent as it is.
    """
    _checked_headers(row)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = row.message_id
    if row.list_unsubscribe:
        message["List-Unsubscribe"] = f"<{row.list_unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    if row.attachment_text is not None and row.attachment_filename:
        maintype, _, rest = (row.attachment_content_type or "application/octet-stream").partition("/")
        subtype, *parameters = [part.strip() for part in rest.split(";")]
        params = dict(part.split("=", 1) for part in parameters if "=" in part)
        message.add_attachment(
            row.attachment_text.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=row.attachment_filename,
            params=params,
        )
    return message


class MailBackend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class ConsoleBackend:
    """Development backend: prints each message."""

    def send(self, message: EmailMessage) -> None:
        text = message.get_body(preferencelist=("plain",))
        click.echo(
            f"----- email to {message['To']} -----\nSubject: {message['Subject']}\n\n"
            f"{text.get_content() if text else ''}\n----- end of email -----"
        )


class SMTPBackend:
    """Delivers through an SMTP server with a timeout (STARTTLS, SSL and login when configured)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.timeout = float(config["SMTP_TIMEOUT"])
        self.username = config.get("SMTP_USERNAME")
        self.password = config.get("SMTP_PASSWORD")
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.ssl = bool(config.get("SMTP_SSL"))

    def send(self, message: EmailMessage) -> None:
        smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def mail_backend() -> MailBackend:
    name = current_app.config["MAIL_BACKEND"]
    if name == "smtp":
        return SMTPBackend(current_app.config)
    if name == "console":
        return ConsoleBackend()
    raise ValueError(f"Unknown MAIL_BACKEND {name!r}: use 'console' or 'smtp'")


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def retry_now(row: OutboxEmail) -> None:
    """Put a failed (or waiting) email back at the front of the queue with a fresh set of attempts."""
    if row.status == EmailStatus.SENT:
        raise ValueError("This email has already been sent.")
    row.status = EmailStatus.QUEUED
    row.failed_at = None
    row.attempts = 0
    row.next_attempt_at = utcnow()


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def _claim_next_due(now: datetime) -> OutboxEmail | None:
    return claim_next(
        db.session,
        OutboxEmail,
        OutboxEmail.status == EmailStatus.QUEUED,
        OutboxEmail.next_attempt_at <= now,
        order_by=(OutboxEmail.next_attempt_at, OutboxEmail.id),
    )


def is_permanent(error: Exception) -> bool:
    """Whether sending this row again can never work: the message cannot be built, the server cannot carry it, or the
    server refused its recipients or its content with a 5xx reply. Refusals of the connection, the login or the sender
    are not: they come from the configuration or the server, not the row, and every row waits until they are fixed."""
    if isinstance(error, ValueError | email.errors.MessageError | smtplib.SMTPNotSupportedError):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(500 <= code < 600 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def deliver_due(limit: int = 100, backend: MailBackend | None = None) -> DeliveryReport:
    """Send the due rows, one transaction each. A transient failure is retried later and marked failed after
    MAIL_MAX_ATTEMPTS; a permanent one (see is_permanent) is marked failed at once. Either way the reason is kept in
    `last_error` and the other rows go on: one row never stops the worker."""
    backend = backend or mail_backend()
    max_attempts = int(current_app.config["MAIL_MAX_ATTEMPTS"])
    report = DeliveryReport()
    started = utcnow()
    while report.handled < limit:
        row = _claim_next_due(started)
        if row is None:
            break
        now = utcnow()
        try:
            backend.send(build_message(row, now))
        except Exception as error:  # noqa: BLE001 - whatever one row does, the worker goes on to the next
            row.attempts += 1
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            permanent = is_permanent(error)
            if permanent or row.attempts >= max_attempts:
                row.status = EmailStatus.FAILED
                row.failed_at = now
                report.failed += 1
                current_app.logger.error(
                    "email %s failed for good%s: %s", row.id, " (cannot be sent)" if permanent else "", row.last_error
                )
            else:
                row.next_attempt_at = now + retry_delay(row.attempts)
                report.retried += 1
                current_app.logger.warning("email %s not sent, retrying later: %s", row.id, row.last_error)
        else:
            row.attempts += 1
            row.status = EmailStatus.SENT
            row.sent_at = now
            row.last_error = None
            report.sent += 1
        db.session.commit()
    return report
