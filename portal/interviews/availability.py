"""Mentor availability: one-off slots and weekly series in the mentor's local time, never overlapping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal import events, rules
from portal.auth.models import User
from portal.db import lock, utcnow
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.interviews import services
from portal.interviews.meeting import slot_meeting
from portal.interviews.models import Booking, InterviewType, Slot, SlotSeries
from portal.statuses import BookingStatus, SlotStatus
from portal.timeutil import format_local, zone

MAX_SERIES_SLOTS = 200


class SlotClash(DomainError):
    """A new slot overlaps one of the mentor's open slots."""


@dataclass(frozen=True)
class PlannedSlot:
    starts_at: datetime  # UTC
    ends_at: datetime
    note: str | None = None  # said when a local time was ambiguous


def _gap_words(day: date, at: time, zone_name: str) -> str:
    return (
        f"{at:%H:%M} on {day:%A} {day.day} {day:%B %Y} does not exist in {zone_name}: the clocks go forward that night"
    )


def local_to_utc(day: date, at: time, zone_name: str, field: str | None = None) -> tuple[datetime, str | None]:
    """A local wall time as a UTC instant; refuses a time the clocks skip, resolves a repeated one to the first."""
    tz: ZoneInfo = zone(zone_name)
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ClockGap(f"{_gap_words(day, at, zone_name)}. Choose another time.", field=field)
    note = None
    if first.utcoffset() != second.utcoffset():
        note = (
            f"{at:%H:%M} on {day:%A} {day.day} {day:%B %Y} happens twice in {zone_name} (the clocks go back); "
            f"we used the first one, {first.tzname()}."
        )
    return first.astimezone(UTC), note


class ClockGap(DomainError):
    """A local time the clocks skip (spring forward)."""


class PlannedSeries(list):
    """The slots a weekly series would create, and a note for each time it skips because the clocks skip it."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[str] = []


def _active_type(type_id: int | None) -> InterviewType:
    interview_type = db.session.get(InterviewType, type_id) if type_id else None
    if interview_type is None or not interview_type.active:
        raise DomainError("Choose an interview type from the list.", field="interview_type")
    return interview_type


def mentor_for(user: User, mentor_id: int | None) -> User:
    """Whose schedule `user` may edit: their own, or (admins) any mentor's."""
    if mentor_id is None or mentor_id == user.id:
        if not user.is_mentor:
            raise PermissionDenied("Only mentors publish availability. Choose a mentor.")
        return user
    if not user.is_admin:
        raise PermissionDenied("You can only change your own availability.")
    mentor = db.session.get(User, mentor_id)
    if mentor is None or not mentor.is_mentor or not mentor.active:
        raise NotFound("No such mentor.")
    return mentor


def plan_single(mentor: User, type_id: int, day: date, at: time) -> tuple[InterviewType, list[PlannedSlot]]:
    interview_type = _active_type(type_id)
    starts_at, note = local_to_utc(day, at, mentor.timezone, field="start_time")
    if starts_at <= utcnow():
        raise DomainError("That time has already passed. Choose a time in the future.", field="day")
    return interview_type, [PlannedSlot(starts_at, starts_at + interview_type.duration, note)]


def plan_series(
    mentor: User,
    type_id: int,
    weekdays: set[int],
    window_start: time,
    window_end: time,
    first_date: date,
    last_date: date,
    buffer_minutes: int,
) -> tuple[InterviewType, PlannedSeries]:
    """The slots a weekly series would create: local wall times kept across clock changes, all in the future.

    A time the clocks skip on one date (spring forward) is left out with a note; a series with nothing but such
    times is refused.
    """
    interview_type = _active_type(type_id)
    if not weekdays:
        raise DomainError("Choose at least one weekday.", field="weekdays")
    if last_date < first_date:
        raise DomainError("The last date must be on or after the first date.", field="last_date")
    today = utcnow().astimezone(zone(mentor.timezone)).date()
    if first_date < today:
        raise DomainError("The first date is in the past. Choose today or a later date.", field="first_date")
    if window_end <= window_start:
        raise DomainError("The end of the window must be after its start.", field="window_end")
    window = datetime.combine(first_date, window_end) - datetime.combine(first_date, window_start)
    if window < interview_type.duration:
        raise DomainError(
            f"The window is shorter than one {interview_type.duration_minutes}-minute session.", field="window_end"
        )
    if not 0 <= buffer_minutes <= 240:
        raise DomainError("The buffer must be between 0 and 240 minutes.", field="buffer_minutes")
    if (last_date - first_date).days > 366:
        raise DomainError("A series can cover at most one year.", field="last_date")

    step = interview_type.duration + timedelta(minutes=buffer_minutes)
    planned = PlannedSeries()
    now = utcnow()
    day = first_date
    while day <= last_date:
        if day.isoweekday() in weekdays:
            wall = datetime.combine(day, window_start)
            window_close = datetime.combine(day, window_end)
            while wall + interview_type.duration <= window_close:
                try:
                    starts_at, note = local_to_utc(day, wall.time(), mentor.timezone, field="window_start")
                except ClockGap:
                    planned.skipped.append(f"{_gap_words(day, wall.time(), mentor.timezone)}, so that slot is skipped.")
                    wall += step
                    continue
                if starts_at > now:
                    planned.append(PlannedSlot(starts_at, starts_at + interview_type.duration, note))
                if len(planned) > MAX_SERIES_SLOTS:
                    raise DomainError(
                        f"This series would create more than {MAX_SERIES_SLOTS} slots. "
                        "Shorten the date range or choose fewer weekdays.",
                        field="last_date",
                    )
                wall += step
        day += timedelta(days=1)
    if not planned and planned.skipped:
        raise DomainError(
            f"{planned.skipped[0].removesuffix(', so that slot is skipped.')}. Choose another time.",
            field="window_start",
        )
    if not planned:
        raise DomainError("These settings create no future slots. Check the weekdays and dates.", field="weekdays")
    return interview_type, planned


def find_clash(mentor_id: int, planned: list[PlannedSlot], ignore_slot_id: int | None = None) -> Slot | None:
    """The first open slot of the mentor that overlaps a planned one (one query)."""
    found = clashes(mentor_id, planned, ignore_slot_id)
    return min(found.values(), key=lambda slot: slot.starts_at) if found else None


def clashes(mentor_id: int, planned: list[PlannedSlot], ignore_slot_id: int | None = None) -> dict[int, Slot]:
    """For each planned slot (by its index) that overlaps one of the mentor's open slots, that slot (one query)."""
    if not planned:
        return {}
    earliest = min(p.starts_at for p in planned)
    latest = max(p.ends_at for p in planned)
    statement = (
        sa.select(Slot)
        .where(
            Slot.mentor_id == mentor_id,
            Slot.status == SlotStatus.OPEN,
            Slot.starts_at < latest,
            Slot.ends_at > earliest,
        )
        .order_by(Slot.starts_at)
    )
    if ignore_slot_id is not None:
        statement = statement.where(Slot.id != ignore_slot_id)
    existing = db.session.scalars(statement.options(joinedload(Slot.interview_type))).all()
    found: dict[int, Slot] = {}
    for index, p in enumerate(planned):
        for slot in existing:
            if slot.starts_at < p.ends_at and p.starts_at < slot.ends_at:
                found[index] = slot
                break
    return found


def _clash_message(slot: Slot, viewer_zone: str) -> str:
    return (
        f"This clashes with an existing slot on {format_local(slot.starts_at, viewer_zone)} "
        f"({slot.interview_type.name}). Nothing was created."
    )


def publish_slots(
    mentor: User,
    interview_type: InterviewType,
    planned: list[PlannedSlot],
    created_by: User,
    series: SlotSeries | None = None,
    meeting_mode: str | None = None,
    place: str | None = None,
) -> list[Slot]:
    """Create every planned slot or none: a clash with an open slot raises SlotClash. `meeting_mode` and `place`
    override the interview type's way of meeting (None: as the type says)."""
    meeting_mode, place = slot_meeting(interview_type, meeting_mode, place)
    clash = find_clash(mentor.id, planned)
    if clash is not None:
        raise SlotClash(_clash_message(clash, created_by.timezone))
    slots = [
        Slot(
            mentor_id=mentor.id,
            interview_type_id=interview_type.id,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            series=series,
            meeting_mode=meeting_mode,
            place=place,
            created_by_id=created_by.id,
        )
        for p in planned
    ]
    try:
        with db.session.begin_nested():
            if series is not None:
                db.session.add(series)
            db.session.add_all(slots)
            db.session.flush()
    except sa.exc.IntegrityError as error:  # another request published an overlapping slot meanwhile
        raise SlotClash("Another slot was published for these times a moment ago. Nothing was created.") from error
    events.slots_published.send(slots, mentor=mentor, by=created_by)
    return slots


def new_series(
    mentor: User,
    interview_type: InterviewType,
    weekdays: set[int],
    window_start: time,
    window_end: time,
    first_date: date,
    last_date: date,
    buffer_minutes: int,
    created_by: User,
) -> SlotSeries:
    return SlotSeries(
        mentor_id=mentor.id,
        interview_type_id=interview_type.id,
        timezone=mentor.timezone,
        weekdays=",".join(str(d) for d in sorted(weekdays)),
        window_start=window_start,
        window_end=window_end,
        first_date=first_date,
        last_date=last_date,
        buffer_minutes=buffer_minutes,
        created_by_id=created_by.id,
    )


def live_booking(slot: Slot) -> Booking | None:
    """The slot's booked session, if any (not a waitlist hold)."""
    return db.session.scalars(
        sa.select(Booking).where(Booking.slot_id == slot.id, Booking.status == BookingStatus.BOOKED).limit(1)
    ).first()


def load_slot_for_change(slot_id: int, user: User) -> Slot:
    """A slot its mentor (or an admin) may change; anyone else gets NotFound."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or not rules.can_manage_slot(user, slot):
        raise NotFound("No such slot.")
    return slot


def _end_holds(slot: Slot, now: datetime) -> None:
    """A slot that is withdrawn or moved takes its waitlist offer with it (the candidate goes back in line)."""
    for hold in db.session.scalars(
        sa.select(Booking).where(Booking.slot_id == slot.id, Booking.status == BookingStatus.HELD)
    ):
        lock(hold)
        if hold.status == BookingStatus.HELD:
            hold.lapse(now)
            events.hold_ended.send(hold, why="withdrawn")


def remove_slot(slot: Slot, by: User, within: str | None = None) -> None:
    """Withdraw an open slot nobody has booked. `within` names a larger action with its own audit entry."""
    lock(slot)
    if slot.status != SlotStatus.OPEN:
        raise DomainError("This slot has already been removed.")
    if live_booking(slot) is not None:
        raise DomainError("This slot is booked: cancel it with a reason instead, so the candidate is told.")
    now = utcnow()
    _end_holds(slot, now)
    slot.withdraw(None, now)
    events.slot_withdrawn.send(slot, by=by, reason=None, booking=None, within=within)


def cancel_slot(slot: Slot, reason: str, by: User, within: str | None = None) -> Booking | None:
    """Cancel a slot; its booking (if any) is cancelled and the candidate told why. Returns that booking.

    `within` names a larger action that records its own audit entry.
    """
    reason = (reason or "").strip()
    lock(slot)
    if slot.status != SlotStatus.OPEN:
        raise DomainError("This slot has already been cancelled.")
    booking = live_booking(slot)
    if booking is not None:
        lock(booking)
    if booking is not None and not reason:
        raise DomainError("Give a reason: the candidate will read it.", field="reason")
    now = utcnow()
    _end_holds(slot, now)
    slot.withdraw(reason, now)
    if booking is not None:
        booking.cancel(by, reason, now, late=False)
    events.slot_withdrawn.send(slot, by=by, reason=reason, booking=booking, within=within)
    if booking is not None:
        events.booking_cancelled.send(booking, by=by, overridden=False, slot_withdrawn=True, within=within)
    return booking


def edit_slot(
    slot: Slot,
    type_id: int,
    day: date,
    at: time,
    by: User,
    version: int | None = None,
    meeting_mode: str | None = None,
    place: str | None = None,
) -> Slot:
    """Move an unbooked open slot or change its type or way of meeting (admins and its mentor); `version` is the one
    the form was read at, and a slot changed since is not touched. `meeting_mode` None follows the type."""
    lock(slot)
    if version is not None and slot.version != version:
        raise Conflict("This slot was changed by someone else since you opened it.")
    if slot.status != SlotStatus.OPEN:
        raise DomainError("A cancelled slot cannot be edited.")
    holder = services.slot_holder(slot)
    if holder is not None and holder.status == BookingStatus.HELD:
        raise DomainError("This slot is offered to someone on the waitlist right now. Try again once the offer ends.")
    if holder is not None:
        raise DomainError("A booked slot cannot be moved: cancel it with a reason or ask the candidate to reschedule.")
    interview_type, planned = plan_single(slot.mentor, type_id, day, at)
    meeting_mode, place = slot_meeting(interview_type, meeting_mode, place)
    clash = find_clash(slot.mentor_id, planned, ignore_slot_id=slot.id)
    if clash is not None:
        raise SlotClash(_clash_message(clash, by.timezone))
    before = slot.move(interview_type, planned[0].starts_at, planned[0].ends_at, meeting_mode=meeting_mode, place=place)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise SlotClash("Another slot was published for this time a moment ago.") from error
    events.slot_changed.send(slot, by=by, before=before)
    return slot


def bulk_cancel(mentor: User, first_day: date, last_day: date, reason: str, by: User) -> tuple[int, int]:
    """Cancel every open slot of a mentor between two local dates; returns (slots, bookings) cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason: every affected candidate will read it.", field="reason")
    if last_day < first_day:
        raise DomainError("The last date must be on or after the first date.", field="last_day")
    tz = zone(by.timezone)
    start = datetime.combine(first_day, time.min, tz).astimezone(UTC)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tz).astimezone(UTC)
    slots = db.session.scalars(
        sa.select(Slot)
        .where(
            Slot.mentor_id == mentor.id,
            Slot.status == SlotStatus.OPEN,
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Slot.starts_at > utcnow(),
        )
        .order_by(Slot.starts_at)
    ).all()
    bookings = sum(1 for slot in slots if cancel_slot(slot, reason, by) is not None)
    return len(slots), bookings
