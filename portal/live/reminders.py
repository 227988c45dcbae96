"""Reminders before a live session to each person holding a seat: one row per seat, time and start, so that each
goes out once. Scheduled and withdrawn as seats change (portal.live.services); sent by the worker alongside the
interview reminders (portal.notifications.reminders)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.db import claim_next, utcnow
from portal.extensions import db
from portal.interviews.reminders import offsets
from portal.live.models import LiveRegistration, LiveReminder
from portal.statuses import ReminderStatus


def schedule_live_reminders(registration: LiveRegistration) -> int:
    """Reminders still in the future for a seat (24 h and 1 h before by default); returns how many. A seat taken
    again for the same time gets its withdrawn reminders back, so that each still goes out at most once."""
    now = utcnow()
    starts_at = registration.session.starts_at
    earlier = {
        row.offset_minutes: row
        for row in db.session.scalars(
            sa.select(LiveReminder).where(
                LiveReminder.registration_id == registration.id, LiveReminder.session_starts_at == starts_at
            )
        )
    }
    created = 0
    for minutes in offsets():
        due = starts_at - timedelta(minutes=minutes)
        if minutes in earlier:
            if earlier[minutes].status == ReminderStatus.CANCELLED and due > now:
                earlier[minutes].status = ReminderStatus.PENDING
                created += 1
        elif due > now:
            db.session.add(
                LiveReminder(
                    registration_id=registration.id,
                    offset_minutes=minutes,
                    session_starts_at=starts_at,
                    due_at=due,
                )
            )
            created += 1
    return created


def cancel_live_reminders(registration: LiveRegistration) -> None:
    """No reminder goes out for a seat given up, a cancelled session, or a moved session's old time."""
    db.session.execute(
        sa.update(LiveReminder)
        .where(LiveReminder.registration_id == registration.id, LiveReminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )


def claim_next_due_live(now: datetime) -> LiveReminder | None:
    """The next live-session reminder due, locked so that another worker skips it (PostgreSQL)."""
    return claim_next(
        db.session,
        LiveReminder,
        LiveReminder.status == ReminderStatus.PENDING,
        LiveReminder.due_at <= now,
        order_by=(LiveReminder.due_at, LiveReminder.id),
    )


def live_subject_of(reminder: LiveReminder) -> LiveRegistration | None:
    """The seat a reminder is about, or None when it no longer applies (seat given up, session cancelled, moved or
    started, or the candidate deactivated)."""
    registration = db.session.get(
        LiveRegistration,
        reminder.registration_id,
        options=[joinedload(LiveRegistration.session), joinedload(LiveRegistration.candidate)],
    )
    if (
        registration is None
        or not registration.has_seat
        or not registration.session.is_scheduled
        or registration.session.starts_at != reminder.session_starts_at
        or registration.session.starts_at <= utcnow()
        or not registration.candidate.active
    ):
        return None
    return registration
