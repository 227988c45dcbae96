"""Reminder emails before each live session, for the candidate and the mentor, each sent exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import Mapped, joinedload, mapped_column

from portal.auth.models import User
from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.interviews.models import Booking, Slot
from portal.mail import OutgoingEmail, queue_email
from portal.timeutil import format_local


class Reminder(db.Model):
    """One reminder for one person about one session at one time; a moved session gets new rows."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("booking_id", "recipient_id", "offset_minutes", "session_starts_at"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'cancelled')", name="status_known"),
        sa.Index("ix_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    offset_minutes: Mapped[int]
    session_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def offsets() -> list[int]:
    """Minutes before the start, from REMINDER_OFFSETS_HOURS (default "24,1")."""
    return sorted(
        {
            int(float(part) * 60)
            for part in str(current_app.config["REMINDER_OFFSETS_HOURS"]).split(",")
            if part.strip()
        },
        reverse=True,
    )


def schedule_reminders(booking: Booking) -> int:
    """Reminders still in the future for the session's candidate and mentor; returns how many."""
    now = utcnow()
    starts_at = booking.slot.starts_at
    created = 0
    for recipient_id in (booking.candidate_id, booking.slot.mentor_id):
        for minutes in offsets():
            due = starts_at - timedelta(minutes=minutes)
            if due > now:
                db.session.add(
                    Reminder(
                        booking_id=booking.id,
                        recipient_id=recipient_id,
                        offset_minutes=minutes,
                        session_starts_at=starts_at,
                        due_at=due,
                    )
                )
                created += 1
    return created


def cancel_reminders(booking: Booking) -> None:
    """No reminder goes out for a cancelled session or for a moved session's old time."""
    db.session.execute(
        sa.update(Reminder)
        .where(Reminder.booking_id == booking.id, Reminder.status == "pending")
        .values(status="cancelled")
    )


def _claim_next_due(now: datetime) -> Reminder | None:
    statement = (
        sa.select(Reminder)
        .where(Reminder.status == "pending", Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return db.session.scalar(statement)


def _reminder_email(reminder: Reminder, booking: Booking, recipient: User) -> OutgoingEmail:
    from portal.interviews.calendar import booking_attachment
    from portal.interviews.services import can_change

    slot = booking.slot
    hours = reminder.offset_minutes / 60
    when_words = f"in {hours:g} hour{'s' if hours != 1 else ''}" if hours < 48 else f"in {hours / 24:g} days"
    is_candidate = recipient.id == booking.candidate_id
    changeable = is_candidate and can_change(booking, recipient)
    return OutgoingEmail(
        subject=f"Reminder: {slot.interview_type.name} {when_words}",
        template="reminder",
        context={
            "booking": booking,
            "slot": slot,
            "recipient": recipient,
            "when_words": when_words,
            "when": format_local(slot.starts_at, recipient.timezone),
            "until": format_local(slot.ends_at, recipient.timezone, with_date=False),
            "other": slot.mentor.name if is_candidate else booking.candidate.name,
            "reschedule_url": url_for("interviews.reschedule", booking_id=booking.id, _external=True)
            if changeable
            else None,
            "cancel_url": url_for("interviews.cancel", booking_id=booking.id, _external=True) if changeable else None,
            "url": url_for("interviews.booking", booking_id=booking.id, _external=True),
        },
        category="reminders",
        attachment=booking_attachment(booking),
    )


def send_due_reminders(limit: int = 500) -> int:
    """Turn due reminders into outbox emails, one transaction each (so each is sent once, even with several
    workers or a worker stopped half-way); returns how many were queued."""
    queued = 0
    started = utcnow()
    for _ in range(limit):
        reminder = _claim_next_due(started)
        if reminder is None:
            break
        booking = db.session.get(
            Booking,
            reminder.booking_id,
            options=[
                joinedload(Booking.slot).joinedload(Slot.mentor),
                joinedload(Booking.slot).joinedload(Slot.interview_type),
                joinedload(Booking.candidate),
            ],
        )
        recipient = db.session.get(User, reminder.recipient_id)
        stale = (
            booking is None
            or booking.status != "booked"
            or booking.slot.starts_at != reminder.session_starts_at
            or booking.slot.starts_at <= utcnow()
            or recipient is None
            or not recipient.active
        )
        if stale:
            reminder.status = "cancelled"
        else:
            queue_email(recipient.email, _reminder_email(reminder, booking, recipient), user_id=recipient.id)
            reminder.status = "sent"
            reminder.sent_at = utcnow()
            queued += 1
        db.session.commit()
    return queued
