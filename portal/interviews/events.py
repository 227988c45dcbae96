"""Reminders follow the bookings: scheduled when a session is booked, moved with it, withdrawn with it."""

from __future__ import annotations

from portal import events
from portal.interviews.reminders import cancel_reminders, schedule_reminders


def _booked(booking, **_) -> None:
    schedule_reminders(booking)


def _moved(booking, **_) -> None:
    cancel_reminders(booking)
    schedule_reminders(booking)


def _cancelled(booking, **_) -> None:
    cancel_reminders(booking)


def connect() -> None:
    events.booking_made.connect(_booked)
    events.booking_moved.connect(_moved)
    events.booking_cancelled.connect(_cancelled)
