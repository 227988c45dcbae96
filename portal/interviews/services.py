"""Booking rules: browse, book, cancel, reschedule, outcomes. The database settles every race."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, url_for
from sqlalchemy.orm import aliased, contains_eager, joinedload

from portal.admin.audit import record
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.interviews.models import (
    LIVE_BOOKING_STATUSES,
    SESSION_STATUSES,
    Booking,
    BookingPolicy,
    InterviewType,
    Slot,
)
from portal.interviews.reminders import cancel_reminders, schedule_reminders
from portal.mail import OutgoingEmail
from portal.notifications.services import notify
from portal.pagination import Page, page_number, paginate
from portal.timeutil import format_local, zone

POLICY_DEFAULTS = {
    "min_notice_hours": 12,
    "horizon_days": 60,
    "max_upcoming": 2,
    "cancel_cutoff_hours": 24,
    "max_reschedules": 2,
}


class PolicyViolation(DomainError):
    pass


class SlotTaken(DomainError):
    """Somebody else holds this slot; `slot` is the one that was asked for."""

    def __init__(self, message: str, slot: Slot | None = None) -> None:
        super().__init__(message)
        self.slot = slot


SLOT_TAKEN_MESSAGE = "Someone booked this slot a moment ago."


def get_policy() -> BookingPolicy:
    """The policy in force (the defaults until an admin saves one)."""
    return db.session.get(BookingPolicy, 1) or BookingPolicy(id=1, **POLICY_DEFAULTS)


# Queries ------------------------------------------------------------------------------------------


def _live_booking_exists():
    return sa.exists().where(Booking.slot_id == Slot.id, Booking.status.in_(LIVE_BOOKING_STATUSES))


def _bookable(
    statement: sa.Select,
    policy: BookingPolicy,
    now: datetime,
    type_id: int | None = None,
    mentor_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    exclude_mentor_id: int | None = None,
) -> sa.Select:
    earliest = now + timedelta(hours=policy.min_notice_hours)
    latest = now + timedelta(days=policy.horizon_days)
    statement = (
        statement.join(Slot.mentor)
        .join(Slot.interview_type)
        .where(
            Slot.status == "open",
            Slot.starts_at >= max(earliest, start or earliest),
            Slot.starts_at <= min(latest, end or latest),
            ~_live_booking_exists(),
            User.active.is_(True),
            User.role == "mentor",
            InterviewType.active.is_(True),
        )
        .order_by(Slot.starts_at, Slot.id)
    )
    if type_id:
        statement = statement.where(Slot.interview_type_id == type_id)
    if mentor_id:
        statement = statement.where(Slot.mentor_id == mentor_id)
    if exclude_mentor_id:
        statement = statement.where(Slot.mentor_id != exclude_mentor_id)
    return statement


def bookable_slots_query(policy: BookingPolicy, now: datetime, **filters) -> sa.Select:
    """Open slots nobody holds, inside the notice/horizon window, soonest first, as plain rows (id, starts_at,
    ends_at, type_name, mentor_name): what a list of them shows.

    `filters`: type_id, mentor_id, start, end, exclude_mentor_id.
    """
    statement = sa.select(
        Slot.id,
        Slot.starts_at,
        Slot.ends_at,
        InterviewType.name.label("type_name"),
        User.name.label("mentor_name"),
    ).select_from(Slot)
    return _bookable(statement, policy, now, **filters)


def local_day_bounds(first: date | None, last: date | None, zone_name: str) -> tuple[datetime | None, datetime | None]:
    """UTC instants bounding whole local days."""
    tz = zone(zone_name)
    start = datetime.combine(first, time.min, tz).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC) if last else None
    return start, end


def nearest_alternatives(slot: Slot, limit: int = 5) -> list[sa.Row]:
    """Bookable slots of the same type closest in time to `slot`, as rows (see bookable_slots_query)."""
    statement = bookable_slots_query(get_policy(), utcnow(), type_id=slot.interview_type_id).where(Slot.id != slot.id)
    distance = sa.func.abs(sa.extract("epoch", Slot.starts_at) - sa.extract("epoch", sa.literal(slot.starts_at)))
    if db.session.get_bind().dialect.name == "sqlite":
        distance = sa.func.abs(
            sa.func.julianday(Slot.starts_at) - sa.func.julianday(slot.starts_at.astimezone(UTC).replace(tzinfo=None))
        )
    return list(db.session.execute(statement.order_by(None).order_by(distance, Slot.id).limit(limit)))


def booked_slot_ids(slot_ids: list[int]) -> set[int]:
    """Which of these slots hold a live booking (one query)."""
    if not slot_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Booking.slot_id).where(Booking.slot_id.in_(slot_ids), Booking.status.in_(LIVE_BOOKING_STATUSES))
        )
    )


def candidate_reliability(candidate_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(no-shows, late cancellations) for each candidate (one query)."""
    if not candidate_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Booking.candidate_id,
            sa.func.sum(sa.case((Booking.status == "no_show", 1), else_=0)),
            sa.func.sum(sa.case((Booking.late_cancellation.is_(True), 1), else_=0)),
        )
        .where(Booking.candidate_id.in_(set(candidate_ids)))
        .group_by(Booking.candidate_id)
    )
    return {candidate_id: (int(no_shows or 0), int(late or 0)) for candidate_id, no_shows, late in rows}


def candidate_bookings_query(candidate: User, upcoming: bool, now: datetime) -> sa.Select:
    statement = (
        sa.select(Booking)
        .join(Booking.slot)
        .options(
            contains_eager(Booking.slot).joinedload(Slot.mentor),
            contains_eager(Booking.slot).joinedload(Slot.interview_type),
            joinedload(Booking.cv_document),
        )
        .where(Booking.candidate_id == candidate.id)
    )
    if upcoming:
        return statement.where(Booking.status == "booked", Slot.starts_at > now).order_by(Slot.starts_at)
    return statement.where(sa.or_(Booking.status != "booked", Slot.starts_at <= now)).order_by(Slot.starts_at.desc())


def mentor_sessions_query(mentor_id: int, upcoming: bool, now: datetime) -> sa.Select:
    """A mentor's booked sessions (upcoming soonest first, past latest first) with candidate and type loaded."""
    statement = (
        sa.select(Booking)
        .join(Booking.slot)
        .options(
            contains_eager(Booking.slot).joinedload(Slot.interview_type),
            joinedload(Booking.candidate),
            joinedload(Booking.cv_document),
        )
        .where(Slot.mentor_id == mentor_id, Booking.status.in_(SESSION_STATUSES))
    )
    if upcoming:
        return statement.where(Slot.starts_at > now).order_by(Slot.starts_at)
    return statement.where(Slot.starts_at <= now).order_by(Slot.starts_at.desc())


def bookings_by_session_time(
    slot_conditions: list, booking_conditions: list, per_page: int, by_candidate: bool = False
) -> Page:
    """Bookings matching the conditions, latest session first, with candidate, mentor and type loaded.

    A page holds the bookings of `per_page` sessions. Unless the list is one candidate's (few rows, found through
    their index), the sessions are read in time order from the slots' index and their bookings looked up, so the
    database never sorts every booking to show the newest fifty.
    """
    number = page_number()
    mentor = aliased(User)
    loaded = (
        sa.select(Booking)
        .join(Booking.slot)
        .join(Booking.candidate)
        .join(Slot.mentor.of_type(mentor))
        .join(Slot.interview_type)
        .options(
            contains_eager(Booking.candidate),
            contains_eager(Booking.slot).contains_eager(Slot.mentor.of_type(mentor)),
            contains_eager(Booking.slot).contains_eager(Slot.interview_type),
        )
        .where(*slot_conditions, *booking_conditions)
        .order_by(Slot.starts_at.desc(), Slot.id.desc(), Booking.id.desc())
    )
    if by_candidate:
        return paginate(loaded, per_page)
    has_booking = sa.exists().where(Booking.slot_id == Slot.id, *booking_conditions)
    slot_ids = db.session.scalars(
        sa.select(Slot.id)
        .where(has_booking, *slot_conditions)
        .order_by(Slot.starts_at.desc(), Slot.id.desc())
        .limit(per_page + 1)
        .offset((number - 1) * per_page)
    ).all()
    if number > 1 and not slot_ids:
        abort(404)
    items = (
        db.session.scalars(loaded.where(Booking.slot_id.in_(slot_ids[:per_page]))).unique().all() if slot_ids else []
    )
    return Page(list(items), number, per_page, len(slot_ids) > per_page)


def load_booking(booking_id: int, user: User) -> Booking:
    """A booking the user may see (candidate, its mentor, admins); NotFound for anyone else."""
    booking = db.session.get(
        Booking,
        booking_id,
        options=[
            joinedload(Booking.slot).joinedload(Slot.interview_type),
            joinedload(Booking.slot).joinedload(Slot.mentor),
            joinedload(Booking.candidate),
            joinedload(Booking.cv_document),
        ],
    )
    if booking is None or not booking.can_view(user):
        raise NotFound("No such booking.")
    return booking


# Rules --------------------------------------------------------------------------------------------


def _lock_candidate(candidate: User) -> None:
    """Serialise one candidate's bookings so that limits and overlaps cannot race (SQLite: BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(User.id).where(User.id == candidate.id).with_for_update())


def check_booking_rules(
    candidate: User,
    slot: Slot,
    policy: BookingPolicy,
    now: datetime,
    moving: Booking | None = None,
    ignore: Booking | None = None,
) -> None:
    """Every rule a new booking (or a move to `slot`) must meet; raises PolicyViolation or SlotTaken.

    `moving` is a booking being moved (it does not count against the limit); `ignore` is the candidate's own
    waitlist hold on this slot, which is about to become the booking.
    """
    ignore = ignore or moving
    if not candidate.is_candidate:
        raise PolicyViolation("Only candidates can book mock interviews. Mentors and admins cannot book as candidates.")
    if slot.mentor_id == candidate.id or not slot.mentor.is_mentor:
        raise PolicyViolation("This slot is no longer offered. Choose another one.")
    if slot.status != "open":
        raise PolicyViolation("This slot has been cancelled. Choose another one.")
    if slot.starts_at <= now:
        raise PolicyViolation("This slot is in the past. Choose a future one.")
    if slot.starts_at < now + timedelta(hours=policy.min_notice_hours):
        raise PolicyViolation(f"Sessions must be booked at least {policy.min_notice_hours} hours ahead.")
    if slot.starts_at > now + timedelta(days=policy.horizon_days):
        raise PolicyViolation(f"Sessions can be booked at most {policy.horizon_days} days ahead.")
    if not slot.mentor.active or not slot.interview_type.active:
        raise PolicyViolation("This slot is no longer offered. Choose another one.")
    others = db.session.scalars(
        sa.select(Booking)
        .join(Booking.slot)
        .options(contains_eager(Booking.slot))
        .where(Booking.candidate_id == candidate.id, Booking.status == "booked", Slot.starts_at > now)
    ).all()
    others = [b for b in others if ignore is None or b.id != ignore.id]
    if moving is None and len(others) >= policy.max_upcoming:
        raise PolicyViolation(
            f"You already have {len(others)} upcoming sessions, the most you can hold at once "
            f"({policy.max_upcoming}). Cancel one, or wait until one has taken place."
        )
    for other in others:
        if other.slot.starts_at < slot.ends_at and slot.starts_at < other.slot.ends_at:
            raise PolicyViolation(
                "This overlaps another session you have booked at "
                f"{format_local(other.slot.starts_at, candidate.timezone)}."
            )
    taken = db.session.scalar(
        sa.select(Booking.id).where(
            Booking.slot_id == slot.id,
            Booking.status.in_(LIVE_BOOKING_STATUSES),
            Booking.id != (ignore.id if ignore is not None else -1),
        )
    )
    if taken is not None:
        raise SlotTaken(SLOT_TAKEN_MESSAGE, slot)


def _bookable_slot(slot_id: int) -> Slot:
    slot = db.session.get(Slot, slot_id, options=[joinedload(Slot.mentor), joinedload(Slot.interview_type)])
    if slot is None:
        raise NotFound("No such slot.")
    return slot


def _flush_or_taken(slot: Slot) -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise SlotTaken(SLOT_TAKEN_MESSAGE, slot) from error


def _own_cv_id(candidate: User, cv_document_id: int | None) -> int | None:
    from portal.cvs.models import CVDocument

    if not cv_document_id:
        return None
    document = db.session.get(CVDocument, cv_document_id)
    if document is None or document.candidate_id != candidate.id:
        raise DomainError("Choose one of your own CV versions.", field="cv_document")
    return document.id


def book_slot(candidate: User, slot_id: int, focus_note: str, cv_document_id: int | None = None) -> Booking:
    """Book a slot for a candidate. The partial unique index decides between two at once (SlotTaken)."""
    _lock_candidate(candidate)
    slot = _bookable_slot(slot_id)
    now = utcnow()
    check_booking_rules(candidate, slot, get_policy(), now)
    booking = Booking(
        slot=slot,
        candidate=candidate,
        focus_note=(focus_note or "").strip()[:1000],
        cv_document_id=_own_cv_id(candidate, cv_document_id),
        uid=f"booking-{uuid.uuid4()}@career-portal",
    )
    db.session.add(booking)
    _flush_or_taken(slot)
    schedule_reminders(booking)
    when = format_local(slot.starts_at, candidate.timezone)
    notify_booking_change(
        booking,
        candidate,
        f"Booking confirmed: {slot.interview_type.name}, {when}",
        f"Booked: {slot.interview_type.name} with {slot.mentor.name}, {when}.",
        url_for("interviews.booking", booking_id=booking.id),
    )
    mentor_when = format_local(slot.starts_at, slot.mentor.timezone)
    notify_booking_change(
        booking,
        slot.mentor,
        f"New booking: {candidate.name}, {mentor_when}",
        f"New booking: {candidate.name}, {slot.interview_type.name}, {mentor_when}.",
        url_for("mentor.schedule"),
    )
    return booking


def _offer_freed(slot: Slot) -> None:
    """A freed slot goes to the first matching candidate on the waitlist."""
    from portal.waitlist.services import offer_slot

    offer_slot(slot)


def cutoff_passed(booking: Booking, policy: BookingPolicy, now: datetime) -> bool:
    return now > booking.slot.starts_at - timedelta(hours=policy.cancel_cutoff_hours)


def can_change(booking: Booking, user: User, now: datetime | None = None, policy: BookingPolicy | None = None) -> bool:
    """Whether the candidate may still cancel or reschedule it themselves (admins always may)."""
    now = now or utcnow()
    if booking.status != "booked" or booking.slot.starts_at <= now:
        return False
    return user.is_admin or not cutoff_passed(booking, policy or get_policy(), now)


def _check_changeable(booking: Booking, by: User, override: bool, action: str) -> BookingPolicy:
    policy = get_policy()
    now = utcnow()
    if by.id != booking.candidate_id and not by.is_admin:
        raise NotFound("No such booking.")
    if booking.status != "booked":
        raise PolicyViolation(f"This session is {booking.status_label.lower()}, so it cannot be {action}.")
    if booking.slot.starts_at <= now:
        raise PolicyViolation(f"This session has already started, so it cannot be {action}.")
    if cutoff_passed(booking, policy, now) and not (override and by.is_admin):
        raise PolicyViolation(
            f"Sessions can be {action} online until {policy.cancel_cutoff_hours} hours before they start. "
            f"Contact your mentor, {booking.slot.mentor.name}, or the career services team at careers@example.org."
        )
    return policy


def cancel_booking(booking: Booking, by: User, reason: str = "", override: bool = False, audit: bool = True) -> None:
    """Cancel a booking (candidate until the cutoff; admins any time, a late one is recorded as such)."""
    policy = _check_changeable(booking, by, override, "cancelled")
    now = utcnow()
    if audit and by.is_admin:
        record(
            by,
            "booking.cancelled",
            "booking",
            booking.id,
            f"Booking of {booking.candidate.name} on {booking.slot.starts_at:%Y-%m-%d %H:%M} UTC cancelled"
            + (" past the cutoff (rule overridden)" if cutoff_passed(booking, policy, now) else ""),
            {"status": booking.status},
            {"status": "cancelled", "reason": reason, "override": cutoff_passed(booking, policy, now)},
        )
    booking.status = "cancelled"
    booking.cancel_reason = (reason or "").strip()[:1000] or None
    booking.cancelled_at = now
    booking.cancelled_by_id = by.id
    booking.late_cancellation = cutoff_passed(booking, policy, now)
    booking.sequence += 1
    cancel_reminders(booking)
    slot = booking.slot
    candidate = booking.candidate
    db.session.flush()
    _offer_freed(slot)
    when = format_local(slot.starts_at, candidate.timezone)
    notify_booking_change(
        booking,
        candidate,
        f"Booking cancelled: {slot.interview_type.name}, {when}",
        f"Cancelled: {slot.interview_type.name} on {when}.",
        url_for("interviews.my_bookings"),
    )
    mentor_when = format_local(slot.starts_at, slot.mentor.timezone)
    notify_booking_change(
        booking,
        slot.mentor,
        f"Session cancelled: {candidate.name}, {mentor_when}",
        f"{candidate.name} cancelled the {slot.interview_type.name} session on {mentor_when}."
        + (f" Reason: {booking.cancel_reason}" if booking.cancel_reason else ""),
        url_for("mentor.schedule"),
    )


def reschedule_booking(booking: Booking, new_slot_id: int, by: User, override: bool = False) -> Booking:
    """Move a booking to another open slot in one step; if that slot is taken meanwhile nothing changes."""
    policy = _check_changeable(booking, by, override, "rescheduled")
    if booking.reschedule_count >= policy.max_reschedules and not (override and by.is_admin):
        raise PolicyViolation(
            f"This session has been rescheduled {booking.reschedule_count} times, the most allowed. "
            "Cancel it and book a new one, or contact the career services team."
        )
    overridden = by.is_admin and (
        booking.reschedule_count >= policy.max_reschedules or cutoff_passed(booking, policy, utcnow())
    )
    candidate = booking.candidate
    _lock_candidate(candidate)
    new_slot = _bookable_slot(new_slot_id)
    if new_slot.id == booking.slot_id:
        raise PolicyViolation("Choose a different slot from the one you have.")
    check_booking_rules(candidate, new_slot, policy, utcnow(), moving=booking)
    old_slot = booking.slot
    booking.slot = new_slot
    booking.reschedule_count += 1
    booking.sequence += 1
    _flush_or_taken(new_slot)
    cancel_reminders(booking)
    schedule_reminders(booking)
    _offer_freed(old_slot)
    if by.is_admin:
        record(
            by,
            "booking.rescheduled",
            "booking",
            booking.id,
            f"Booking of {candidate.name} moved" + (" (rule overridden)" if overridden else ""),
            {"slot_id": old_slot.id, "starts_at": old_slot.starts_at},
            {"slot_id": new_slot.id, "starts_at": new_slot.starts_at, "override": overridden},
        )
    when = format_local(new_slot.starts_at, candidate.timezone)
    notify_booking_change(
        booking,
        candidate,
        f"Booking moved: {new_slot.interview_type.name}, now {when}",
        f"Rescheduled: {new_slot.interview_type.name} with {new_slot.mentor.name}, now {when}.",
        url_for("interviews.booking", booking_id=booking.id),
    )
    for mentor in {old_slot.mentor, new_slot.mentor}:
        old_when = format_local(old_slot.starts_at, mentor.timezone)
        new_when = format_local(new_slot.starts_at, mentor.timezone)
        notify_booking_change(
            booking,
            mentor,
            f"Session moved: {candidate.name}, now {new_when}",
            f"{candidate.name} moved a {new_slot.interview_type.name} session from {old_when} to {new_when}.",
            url_for("mentor.schedule"),
        )
    return booking


def record_outcome(booking: Booking, by: User, outcome: str) -> None:
    """The session's mentor (or an admin) marks it completed or no-show, only after it started."""
    if not (by.is_admin or by.id == booking.slot.mentor_id):
        raise NotFound("No such booking.")
    if outcome not in ("completed", "no_show"):
        raise DomainError("Choose completed or no-show.")
    if booking.status not in SESSION_STATUSES:
        raise PolicyViolation("This session was cancelled.")
    if booking.slot.starts_at > utcnow():
        raise PolicyViolation("You can record the outcome once the session has started.")
    booking.status = outcome
    booking.outcome_at = utcnow()


# Notifications --------------------------------------------------------------------------------------


def notify_booking_change(booking: Booking, recipient: User, subject: str, message: str, link: str) -> None:
    """In-app notice and email (with the .ics) about a booking, for its candidate or a mentor."""
    from portal.interviews.calendar import booking_attachment

    slot = booking.slot
    notify(
        recipient,
        message,
        link,
        email=OutgoingEmail(
            subject=subject,
            template="booking_update",
            context={
                "booking": booking,
                "slot": slot,
                "recipient": recipient,
                "message": message,
                "when": format_local(slot.starts_at, recipient.timezone),
                "until": format_local(slot.ends_at, recipient.timezone, with_date=False),
                "url": url_for(
                    "interviews.my_bookings" if recipient.id == booking.candidate_id else "mentor.schedule",
                    _external=True,
                ),
            },
            category="booking",
            attachment=booking_attachment(booking),
        ),
    )
