"""Bookings: browse, book, cancel, reschedule, record outcomes. The database settles every race."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import aliased, contains_eager, joinedload

from portal import events, rules
from portal.auth.models import User
from portal.cvs.models import CVDocument
from portal.db import lock, utcnow
from portal.errors import Conflict, DomainError, NotFound
from portal.extensions import db
from portal.interviews.meeting import clean_phone
from portal.interviews.models import Booking, BookingPolicy, InterviewType, Slot
from portal.pagination import Page, page_number, paginate
from portal.statuses import LIVE, OUTCOMES, SESSION, BookingStatus, MeetingMode, SlotStatus
from portal.timeutil import zone


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
    return db.session.get(BookingPolicy, 1) or BookingPolicy.with_defaults()


# Queries ------------------------------------------------------------------------------------------


def _live_booking_exists():
    return sa.exists().where(Booking.slot_id == Slot.id, Booking.status.in_(LIVE))


def _bookable(
    statement: sa.Select,
    policy: BookingPolicy,
    now: datetime,
    type_id: int | None = None,
    mentor_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> sa.Select:
    earliest = now + timedelta(hours=policy.min_notice_hours)
    latest = now + timedelta(days=policy.horizon_days)
    statement = (
        statement.join(Slot.mentor)
        .join(Slot.interview_type)
        .where(
            Slot.status == SlotStatus.OPEN,
            Slot.starts_at >= max(earliest, start or earliest),
            Slot.starts_at <= min(latest, end or latest),
            ~_live_booking_exists(),
            User.active_mentor_clause(),
            InterviewType.active.is_(True),
        )
        .order_by(Slot.starts_at, Slot.id)
    )
    if type_id:
        statement = statement.where(Slot.interview_type_id == type_id)
    if mentor_id:
        statement = statement.where(Slot.mentor_id == mentor_id)
    return statement


def bookable_slots_query(policy: BookingPolicy, now: datetime, **filters) -> sa.Select:
    """Open slots nobody holds, inside the notice/horizon window, soonest first, as plain rows (id, starts_at,
    ends_at, type_name, mentor_name): what a list of them shows.

    `filters`: type_id, mentor_id, start, end.
    """
    statement = sa.select(
        Slot.id,
        Slot.starts_at,
        Slot.ends_at,
        InterviewType.name.label("type_name"),
        User.name.label("mentor_name"),
    ).select_from(Slot)
    return _bookable(statement, policy, now, **filters)


def open_slots_per_day(
    policy: BookingPolicy, now: datetime, days: list[date], zone_name: str, **filters
) -> dict[date, int]:
    """How many bookable slots each local day holds (one query; each day a bucket from local midnight to the next,
    clock changes and all)."""
    if not days:
        return {}
    tz = zone(zone_name)
    edges = [datetime.combine(day, time.min, tz).astimezone(UTC) for day in [*days, days[-1] + timedelta(days=1)]]
    bucket = sa.case(*((Slot.starts_at < edge, index) for index, edge in enumerate(edges[1:])))
    statement = _bookable(
        sa.select(bucket, sa.func.count(Slot.id)).select_from(Slot),
        policy,
        now,
        start=edges[0],
        end=edges[-1],
        **filters,
    )
    rows = db.session.execute(statement.order_by(None).group_by(bucket))
    return {days[index]: int(count) for index, count in rows if index is not None}


def next_available(policy: BookingPolicy, now: datetime, by: str, **filters) -> dict[int, datetime]:
    """The start of the soonest bookable slot for each interview type (`by="type"`) or mentor (`by="mentor"`)."""
    key = Slot.interview_type_id if by == "type" else Slot.mentor_id
    statement = _bookable(sa.select(key, sa.func.min(Slot.starts_at)).select_from(Slot), policy, now, **filters)
    return {key_id: first for key_id, first in db.session.execute(statement.order_by(None).group_by(key))}


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
        db.session.scalars(sa.select(Booking.slot_id).where(Booking.slot_id.in_(slot_ids), Booking.status.in_(LIVE)))
    )


def candidate_reliability(candidate_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(no-shows, late cancellations) for each candidate (one query)."""
    if not candidate_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Booking.candidate_id,
            sa.func.sum(sa.case((Booking.status == BookingStatus.NO_SHOW, 1), else_=0)),
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
        return statement.where(Booking.status == BookingStatus.BOOKED, Slot.starts_at > now).order_by(Slot.starts_at)
    return statement.where(sa.or_(Booking.status != BookingStatus.BOOKED, Slot.starts_at <= now)).order_by(
        Slot.starts_at.desc()
    )


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
        .where(Slot.mentor_id == mentor_id, Booking.status.in_(SESSION))
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
    if booking is None or not rules.can_view_booking(user, booking):
        raise NotFound("No such booking.")
    return booking


# Changes ------------------------------------------------------------------------------------------
# Each one locks the rows it changes (see portal.db.lock), checks its rules on what it then reads, makes the change
# on the model, and sends the event others react to.


def _bookable_slot(slot_id: int) -> Slot:
    """The slot, locked: booking, withdrawing and editing it happen one at a time."""
    slot = db.session.get(Slot, slot_id, options=[joinedload(Slot.mentor), joinedload(Slot.interview_type)])
    if slot is None:
        raise NotFound("No such slot.")
    lock(slot)
    return slot


def _upcoming_slots_of(candidate: User, now: datetime, leaving_out: Booking | None) -> list[Slot]:
    """The slots of the candidate's other upcoming bookings."""
    statement = (
        sa.select(Slot)
        .join(Booking, Booking.slot_id == Slot.id)
        .where(Booking.candidate_id == candidate.id, Booking.status == BookingStatus.BOOKED, Slot.starts_at > now)
    )
    if leaving_out is not None:
        statement = statement.where(Booking.id != leaving_out.id)
    return list(db.session.scalars(statement))


def sessions_at_the_limit(candidate: User, policy: BookingPolicy, now: datetime) -> list[Booking]:
    """The candidate's booked sessions still to start when they hold as many as the policy allows, so that a new
    booking cannot succeed (the same count as limit_refusal's); an empty list while they may book."""
    upcoming = candidate_bookings_query(candidate, True, now).limit(policy.max_upcoming)
    bookings = db.session.scalars(upcoming).unique().all()
    return list(bookings) if rules.at_booking_limit(len(bookings), policy) else []


def slot_holder(slot: Slot, leaving_out: Booking | None = None) -> Booking | None:
    """The live booking (or waitlist hold) on a slot, other than `leaving_out`."""
    statement = sa.select(Booking).where(Booking.slot_id == slot.id, Booking.status.in_(LIVE))
    if leaving_out is not None:
        statement = statement.where(Booking.id != leaving_out.id)
    return db.session.scalars(statement.limit(1)).first()


def check_booking_rules(
    candidate: User,
    slot: Slot,
    policy: BookingPolicy,
    now: datetime,
    moving: Booking | None = None,
    own_hold: Booking | None = None,
) -> None:
    """Every rule a new booking (or a move to `slot`) must meet; raises PolicyViolation or SlotTaken.

    `moving` is a booking being moved (it does not count against the limit); `own_hold` is the candidate's waitlist
    hold on this slot, which is about to become the booking.
    """
    refusal = rules.booking_refusal(candidate, slot, policy, now) or rules.limit_refusal(
        candidate, slot, policy, _upcoming_slots_of(candidate, now, moving or own_hold), moving is not None
    )
    if refusal:
        raise PolicyViolation(refusal)
    if slot_holder(slot, leaving_out=own_hold or moving) is not None:
        raise SlotTaken(SLOT_TAKEN_MESSAGE, slot)


def _flush_or_taken(slot: Slot) -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise SlotTaken(SLOT_TAKEN_MESSAGE, slot) from error


def _own_cv_id(candidate: User, cv_document_id: int | None) -> int | None:
    if not cv_document_id:
        return None
    document = db.session.get(CVDocument, cv_document_id)
    if document is None or document.candidate_id != candidate.id:
        raise DomainError("Choose one of your own CV versions.", field="cv_document")
    return document.id


def phone_for(slot: Slot, phone: str | None) -> str | None:
    """The number to call, checked, for a phone session (which needs one); None for any other kind."""
    if slot.effective_mode != MeetingMode.PHONE:
        return None
    return clean_phone(phone, required=True)


def book_slot(
    candidate: User,
    slot_id: int,
    focus_note: str,
    cv_document_id: int | None = None,
    version: int | None = None,
    phone: str | None = None,
) -> Booking:
    """Book a slot for a candidate: one booking per slot, the candidate's limits and the policy hold whatever
    else happens at the same moment. `version` is the slot's as the candidate saw it: a slot changed since (moved,
    say) is not booked. A phone session needs the `phone` number the mentor is to call."""
    lock(candidate)  # one booking change of a candidate at a time: limits and overlaps cannot race
    slot = _bookable_slot(slot_id)
    if version is not None and slot.version != version:
        raise Conflict("This slot was changed (its time or type) since you opened the page.")
    now = utcnow()
    check_booking_rules(candidate, slot, get_policy(), now)
    booking = slot.book(
        candidate, (focus_note or "").strip()[:1000], _own_cv_id(candidate, cv_document_id), phone_for(slot, phone)
    )
    db.session.add(booking)
    _flush_or_taken(slot)
    events.booking_made.send(booking, by=candidate, from_waitlist=False)
    return booking


def _changeable(booking: Booking, by: User) -> BookingPolicy:
    """Lock the booking and make sure `by` may change it at all; returns the policy in force."""
    if not rules.can_change_for(by, booking):
        raise NotFound("No such booking.")
    lock(booking)
    return get_policy()


def cancel_booking(
    booking: Booking, by: User, reason: str = "", override: bool = False, within: str | None = None
) -> None:
    """Cancel a booking (candidates until the cutoff; admins any time before the start, a late one is recorded as
    such). `within` names a larger action on the whole account that records its own audit entry (a deactivation,
    an account being closed): the cutoff does not hold it (the lateness is still recorded)."""
    policy = _changeable(booking, by)
    now = utcnow()
    refusal = rules.change_refusal(by, booking, policy, now, "cancelled", override, cutoff_waived=within is not None)
    if refusal:
        raise PolicyViolation(refusal)
    late = rules.cutoff_passed(booking, policy, now)
    booking.cancel(by, reason, now, late)
    db.session.flush()
    events.booking_cancelled.send(booking, by=by, overridden=late and by.is_admin, slot_withdrawn=False, within=within)
    events.slot_freed.send(booking.slot)


def reschedule_booking(
    booking: Booking, new_slot_id: int, by: User, override: bool = False, version: int | None = None
) -> Booking:
    """Move a booking to another open slot of its interview type in one step; if that slot is taken meanwhile, or
    the booking changed since `version` was read, nothing changes."""
    policy = _changeable(booking, by)
    if version is not None and booking.version != version:
        raise Conflict("This booking changed since you opened this page.")
    now = utcnow()
    refusal = rules.reschedule_refusal(by, booking, policy, now, override)
    if refusal:
        raise PolicyViolation(refusal)
    overridden = by.is_admin and (
        booking.reschedule_count >= policy.max_reschedules or rules.cutoff_passed(booking, policy, now)
    )
    candidate = booking.candidate
    lock(candidate)
    new_slot = _bookable_slot(new_slot_id)
    refusal = rules.move_refusal(booking, new_slot)
    if refusal:
        raise PolicyViolation(refusal)
    check_booking_rules(candidate, new_slot, policy, now, moving=booking)
    old_slot = booking.reschedule_to(new_slot)
    _flush_or_taken(new_slot)
    events.booking_moved.send(booking, by=by, old_slot=old_slot, overridden=overridden)
    events.slot_freed.send(old_slot)
    return booking


def record_outcome(booking: Booking, by: User, outcome: str) -> None:
    """The session's mentor (or an admin) marks it completed or no-show, only after it started."""
    if not (by.is_admin or by.id == booking.slot.mentor_id):
        raise NotFound("No such booking.")
    lock(booking)
    now = utcnow()
    refusal = rules.outcome_refusal(booking, outcome, now)
    if refusal:
        raise DomainError(refusal) if outcome not in OUTCOMES else PolicyViolation(refusal)
    booking.record_outcome(outcome, now)
    events.outcome_recorded.send(booking, by=by)
