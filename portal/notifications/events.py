"""Every notice and email is a reaction to something that happened (see portal.events)."""

from __future__ import annotations

from portal import events
from portal.notifications import messages


def _registration_started(registration, token: str, hours: int, **_) -> None:
    messages.confirm_registration(registration, token, hours)


def _registration_for_existing_account(user, **_) -> None:
    messages.registration_for_existing_account(user)


def _password_reset_without_account(address: str, deactivated: bool, **_) -> None:
    messages.password_reset_without_account(address, deactivated)


def _account_registered(user, **_) -> None:
    messages.welcome(user)


def _password_reset_requested(user, token: str, hours: int, **_) -> None:
    messages.password_reset(user, token, hours)


def _invitation_sent(invitation, token: str, days: int, by, **_) -> None:
    messages.invitation(invitation, token, days, by)


def _login_failures_piled_up(user, attempts: int, seconds: int, **_) -> None:
    messages.login_failures(user, attempts, seconds)


def _second_factor_reset(user, by, **_) -> None:
    messages.second_factor_reset(user, by)


def _booking_made(booking, from_waitlist: bool = False, **_) -> None:
    messages.booking_made(booking, from_waitlist)


def _booking_moved(booking, old_slot, **_) -> None:
    messages.booking_moved(booking, old_slot)


def _booking_cancelled(booking, by, slot_withdrawn: bool = False, **_) -> None:
    if slot_withdrawn:
        messages.session_withdrawn(booking, by, booking.cancel_reason or "")
    else:
        messages.booking_cancelled(booking, by)


def _meeting_changed(sender, bookings, **_) -> None:
    for booking in bookings:
        messages.meeting_changed(booking)


def _hold_offered(hold, minutes: int, **_) -> None:
    messages.hold_offered(hold, minutes)


def _hold_ended(hold, why: str, **_) -> None:
    if why == "expired":
        messages.hold_expired(hold)


def _feedback_published(feedback, booking, mentor, edited: bool, **_) -> None:
    messages.feedback_published(feedback, booking, mentor, edited)


def _review_assigned(review, mentor, by, **_) -> None:
    messages.review_assigned(review, mentor, by)


def _review_published(review, by, **_) -> None:
    messages.review_published(review, by)


def connect() -> None:
    events.registration_started.connect(_registration_started)
    events.registration_for_existing_account.connect(_registration_for_existing_account)
    events.password_reset_without_account.connect(_password_reset_without_account)
    events.account_registered.connect(_account_registered)
    events.password_reset_requested.connect(_password_reset_requested)
    events.invitation_sent.connect(_invitation_sent)
    events.login_failures_piled_up.connect(_login_failures_piled_up)
    events.second_factor_reset.connect(_second_factor_reset)
    events.booking_made.connect(_booking_made)
    events.booking_moved.connect(_booking_moved)
    events.booking_cancelled.connect(_booking_cancelled)
    events.meeting_changed.connect(_meeting_changed)
    events.hold_offered.connect(_hold_offered)
    events.hold_ended.connect(_hold_ended)
    events.feedback_published.connect(_feedback_published)
    events.review_assigned.connect(_review_assigned)
    events.review_published.connect(_review_published)
