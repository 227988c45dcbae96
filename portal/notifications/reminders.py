"""Sending the reminders that are due (mock interviews and live sessions): the worker's job."""

from __future__ import annotations

from datetime import datetime

from portal.db import utcnow
from portal.extensions import db
from portal.interviews.reminders import claim_next_due, subject_of
from portal.live.messages import live_reminder_email
from portal.live.reminders import claim_next_due_live, live_subject_of
from portal.mail import queue_email
from portal.notifications.messages import reminder_email
from portal.statuses import ReminderStatus


def send_due_reminders(limit: int = 500) -> int:
    """Turn due reminders into outbox emails, one transaction each (so each is queued once, even with several
    workers or a worker stopped half-way); returns how many were queued."""
    queued = 0
    started = utcnow()
    for _ in range(limit):
        reminder = claim_next_due(started)
        if reminder is None:
            break
        booking, recipient = subject_of(reminder)
        if booking is None:
            reminder.status = ReminderStatus.CANCELLED
        else:
            queue_email(recipient.email, reminder_email(reminder, booking, recipient), user_id=recipient.id)
            reminder.status = ReminderStatus.SENT
            reminder.sent_at = utcnow()
            queued += 1
        db.session.commit()
    return queued + send_due_live_reminders(limit, started)


def send_due_live_reminders(limit: int, started: datetime) -> int:
    """The same for live sessions: each due reminder becomes one outbox email to the seat's holder, in its own
    transaction; returns how many were queued."""
    queued = 0
    for _ in range(limit):
        reminder = claim_next_due_live(started)
        if reminder is None:
            break
        registration = live_subject_of(reminder)
        if registration is None:
            reminder.status = ReminderStatus.CANCELLED
        else:
            candidate = registration.candidate
            queue_email(candidate.email, live_reminder_email(reminder, registration), user_id=candidate.id)
            reminder.status = ReminderStatus.SENT
            reminder.sent_at = utcnow()
            queued += 1
        db.session.commit()
    return queued
