"""Reminders before each live session, for the candidate and the mentor: one row per person, time and session, so
that each goes out once. Scheduled and withdrawn as bookings change (see portal.interviews.events); sent by the
worker (portal.notifications.reminders)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.db import claim_next, utcnow
from portal.extensions import db
from portal.interviews.models import Booking, Reminder, Slot
from portal.statuses import BookingStatus, ReminderStatus


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
        .where(Reminder.booking_id == booking.id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )


def claim_next_due(now: datetime) -> Reminder | None:
    """The next reminder due, locked so that another worker skips it (PostgreSQL; SQLite runs one writer)."""
    return claim_next(
        db.session,
        Reminder,
        Reminder.status == ReminderStatus.PENDING,
        Reminder.due_at <= now,
        order_by=(Reminder.due_at, Reminder.id),
    )


def subject_of(reminder: Reminder) -> tuple[Booking | None, User | None]:
    """The session a reminder is about (with its slot, mentor, type and candidate) and its recipient, or None for
    either when the reminder no longer applies (cancelled, moved, started, or the recipient deactivated)."""
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
        or booking.status != BookingStatus.BOOKED
        or booking.slot.starts_at != reminder.session_starts_at
        or booking.slot.starts_at <= utcnow()
        or recipient is None
        or not recipient.active
    )
    return (None, None) if stale else (booking, recipient)
