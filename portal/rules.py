"""Who may do what, and why not: every booking, session and review rule, written once.

Services enforce these (raising the refusal as a message), views and templates ask the same questions to decide
which buttons to show. Each `*_refusal` function returns None when the action is allowed, else the sentence to show
the person; the `can_*` functions are the yes/no form. Arguments are plain objects with the attributes the models
have, plus the booking policy and the current instant: nothing here reads the database, a request or the clock
(only the configured contact address, for the sentences that name it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from portal.statuses import (
    OPEN_REVIEW,
    OUTCOMES,
    SESSION,
    TAKES_FEEDBACK,
    BookingStatus,
    MeetingMode,
    ReviewStatus,
    Role,
    SlotStatus,
)
from portal.timeutil import format_local


def contact() -> str:
    """The address people are told to write to (CONTACT_EMAIL)."""
    return current_app.config["CONTACT_EMAIL"]


def _signed_in(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated)


def is_admin(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.ADMIN


# Accounts -----------------------------------------------------------------------------------------------------

STAFF = frozenset({Role.ADMIN, Role.MENTOR})


def second_factor_required(user: Any) -> bool:
    """Admins and mentors log in with a second factor; candidates may choose to."""
    return _signed_in(user) and user.role in STAFF


def must_set_up_second_factor(user: Any) -> bool:
    """Signed in without the second factor their role needs: nothing but setting it up (or logging out) until done."""
    return second_factor_required(user) and not user.has_second_factor


def can_turn_off_second_factor(user: Any) -> bool:
    return _signed_in(user) and user.has_second_factor and not second_factor_required(user)


def can_reset_second_factor(actor: Any, user: Any) -> bool:
    """An admin may reset someone else's second factor (a lost phone); their own they manage from their account."""
    return is_admin(actor) and actor.id != user.id and user.has_second_factor


# Seeing things ------------------------------------------------------------------------------------------------


def can_view_booking(user: Any, booking: Any) -> bool:
    """The candidate, the session's mentor and admins."""
    return _signed_in(user) and (
        user.role == Role.ADMIN or user.id == booking.candidate_id or user.id == booking.slot.mentor_id
    )


def can_manage_slot(user: Any, slot: Any) -> bool:
    """Its mentor and admins may change or withdraw it."""
    return _signed_in(user) and (user.role == Role.ADMIN or user.id == slot.mentor_id)


def can_change_for(user: Any, booking: Any) -> bool:
    """Who may cancel or reschedule a booking at all (when the rules allow): its candidate and admins."""
    return _signed_in(user) and (user.role == Role.ADMIN or user.id == booking.candidate_id)


def can_view_review(user: Any, review: Any) -> bool:
    """The candidate, the reviewer, any mentor while it waits in the queue, and admins."""
    if not _signed_in(user):
        return False
    return (
        user.role == Role.ADMIN
        or user.id == review.candidate_id
        or user.id == review.reviewer_id
        or (user.role == Role.MENTOR and review.status == ReviewStatus.REQUESTED)
    )


def can_view_notification(user: Any, notification: Any) -> bool:
    return _signed_in(user) and user.id == notification.user_id


# Booking ------------------------------------------------------------------------------------------------------


def booking_refusal(candidate: Any, slot: Any, policy: Any, now: datetime) -> str | None:
    """Why `candidate` cannot book `slot` (or move a booking to it), or None. Whether somebody else holds the slot
    is the database's to say, and the candidate's other bookings are `limit_refusal`'s."""
    if candidate.role != Role.CANDIDATE:
        return "Only candidates can book mock interviews. Mentors and admins cannot book as candidates."
    if not candidate.active:  # read under the person's lock, which closing and deactivating hold too
        return "This account is closed, so it cannot book sessions."
    if slot.mentor_id == candidate.id or slot.mentor.role != Role.MENTOR:
        return "This slot is no longer offered. Choose another one."
    if slot.status != SlotStatus.OPEN:
        return "This slot has been cancelled. Choose another one."
    if slot.starts_at <= now:
        return "This slot is in the past. Choose a future one."
    if slot.starts_at < now + timedelta(hours=policy.min_notice_hours):
        return f"Sessions must be booked at least {policy.min_notice_hours} hours ahead."
    if slot.starts_at > now + timedelta(days=policy.horizon_days):
        return f"Sessions can be booked at most {policy.horizon_days} days ahead."
    if not slot.mentor.active or not slot.interview_type.active:
        return "This slot is no longer offered. Choose another one."
    return None


def at_booking_limit(upcoming: int, policy: Any) -> bool:
    """A candidate holding `upcoming` booked sessions still to start can book no other."""
    return upcoming >= policy.max_upcoming


def limit_refusal(candidate: Any, slot: Any, policy: Any, others: list[Any], moving: bool) -> str | None:
    """A new booking must fit the candidate's limit of upcoming sessions and overlap none of them. `others` are the
    slots of the candidate's other upcoming bookings (not the one being moved)."""
    if not moving and at_booking_limit(len(others), policy):
        return (
            f"You already have {len(others)} upcoming sessions, the most you can hold at once "
            f"({policy.max_upcoming}). Cancel one, or wait until one has taken place."
        )
    for other in others:
        if other.starts_at < slot.ends_at and slot.starts_at < other.ends_at:
            return (
                f"This overlaps another session you have booked at {format_local(other.starts_at, candidate.timezone)}."
            )
    return None


# Changing a booking ---------------------------------------------------------------------------------------------


def cutoff_passed(booking: Any, policy: Any, now: datetime) -> bool:
    return within_cutoff(booking.slot, policy, now)


def within_cutoff(slot: Any, policy: Any, now: datetime) -> bool:
    """The slot starts too soon for a booking of it to be cancelled or moved online."""
    return now > slot.starts_at - timedelta(hours=policy.cancel_cutoff_hours)


def change_refusal(
    user: Any,
    booking: Any,
    policy: Any,
    now: datetime,
    action: str = "cancelled",
    override: bool = False,
    cutoff_waived: bool = False,
) -> str | None:
    """Why `user` cannot cancel (or reschedule, `action`) the booking now, or None. Candidates until the policy's
    cutoff (unless `cutoff_waived`: the whole account is leaving); admins any time before the start, past the
    cutoff only when they say they override it."""
    if booking.status != BookingStatus.BOOKED:
        label = booking.status_label.lower()
        return f"This session is {label}, so it cannot be {action}."
    if booking.slot.starts_at <= now:
        return f"This session has already started, so it cannot be {action}."
    if cutoff_passed(booking, policy, now) and not cutoff_waived and not (override and is_admin(user)):
        return (
            f"Sessions can be {action} online until {policy.cancel_cutoff_hours} hours before they start. "
            f"Contact your mentor, {booking.slot.mentor.name}, or the career services team at {contact()}."
        )
    return None


def reschedule_refusal(user: Any, booking: Any, policy: Any, now: datetime, override: bool = False) -> str | None:
    """Rescheduling: the change rules, and at most `max_reschedules` moves (admins may override)."""
    refusal = change_refusal(user, booking, policy, now, "rescheduled", override)
    if refusal is None and booking.reschedule_count >= policy.max_reschedules and not (override and is_admin(user)):
        return (
            f"This session has been rescheduled {booking.reschedule_count} times, the most allowed. "
            "Cancel it and book a new one, or contact the career services team."
        )
    return refusal


def move_refusal(booking: Any, new_slot: Any) -> str | None:
    """A booking moves only to another slot of the same interview type."""
    if new_slot.id == booking.slot_id:
        return "Choose a different slot from the one you have."
    if new_slot.interview_type_id != booking.slot.interview_type_id:
        return f"Choose another {booking.slot.interview_type.name} slot: a booking keeps its interview type."
    return None


def can_change(user: Any, booking: Any, policy: Any, now: datetime) -> bool:
    """Whether the booking's candidate may still cancel or reschedule it online (admins always may before it
    starts)."""
    if not can_change_for(user, booking):
        return False
    return change_refusal(user, booking, policy, now, override=is_admin(user)) is None


def can_reschedule(user: Any, booking: Any, policy: Any, now: datetime) -> bool:
    if not can_change_for(user, booking):
        return False
    return reschedule_refusal(user, booking, policy, now, override=is_admin(user)) is None


# Where a session happens ----------------------------------------------------------------------------------------

# "Join now" shows from this long before the start until the end.
JOIN_EARLY = timedelta(minutes=15)


def can_see_meeting(user: Any, booking: Any) -> bool:
    """The meeting link, phone number or room of a booked session: its candidate, its mentor and admins."""
    return can_view_booking(user, booking) and booking.status == BookingStatus.BOOKED


def join_window_open(booking: Any, now: datetime) -> bool:
    """A booked session can be joined from 15 minutes before its start until its end."""
    slot = booking.slot
    return booking.status == BookingStatus.BOOKED and slot.starts_at - JOIN_EARLY <= now < slot.ends_at


def can_join(user: Any, booking: Any, now: datetime) -> bool:
    """Whether `user` gets the "Join now" button: someone who may see the link of a video session, in its window."""
    return (
        can_see_meeting(user, booking)
        and booking.slot.effective_mode == MeetingMode.VIDEO
        and join_window_open(booking, now)
    )


def can_give_phone(user: Any, booking: Any, now: datetime) -> bool:
    """The candidate of a booked phone session may give or change the number to call until the session ends."""
    return (
        _signed_in(user)
        and user.id == booking.candidate_id
        and booking.status == BookingStatus.BOOKED
        and booking.slot.effective_mode == MeetingMode.PHONE
        and booking.slot.ends_at > now
    )


# After the session ----------------------------------------------------------------------------------------------


def outcome_refusal(booking: Any, outcome: str, now: datetime) -> str | None:
    if outcome not in OUTCOMES:
        return "Choose completed or no-show."
    if booking.status not in SESSION:
        return "This session was cancelled."
    if booking.slot.starts_at > now:
        return "You can record the outcome once the session has started."
    return None


def feedback_refusal(booking: Any, now: datetime) -> str | None:
    """Why the session's mentor cannot write feedback on it now, or None."""
    if booking.status not in TAKES_FEEDBACK:
        if booking.status == BookingStatus.NO_SHOW:
            return "The candidate did not attend this session, so it takes no feedback."
        return "This session was cancelled or the candidate did not attend, so it takes no feedback."
    if booking.slot.starts_at > now:
        return "You can write feedback once the session has started."
    return None


def rating_refusal(booking: Any, feedback_published: bool, already_rated: bool, now: datetime) -> str | None:
    """The candidate rates a session once, when its feedback is published or it is over."""
    if booking.status not in TAKES_FEEDBACK:
        return "Only a session that took place can be rated."
    if already_rated:
        return "You have already rated this session. Thank you!"
    if not feedback_published and booking.slot.ends_at > now:
        return "You can rate the session once it is over."
    return None


def can_rate(user: Any, booking: Any, feedback_published: bool, already_rated: bool, now: datetime) -> bool:
    return (
        _signed_in(user)
        and user.id == booking.candidate_id
        and rating_refusal(booking, feedback_published, already_rated, now) is None
    )


# CV reviews -------------------------------------------------------------------------------------------------------


def review_is_open(review: Any) -> bool:
    return review.status in OPEN_REVIEW
