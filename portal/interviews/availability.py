"""Mentor availability: one-off slots and weekly series in the mentor's local time, never overlapping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import url_for

from portal.admin.audit import record_if_admin_for_other
from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.interviews.models import Booking, InterviewType, Slot, SlotSeries
from portal.interviews.reminders import cancel_reminders
from portal.timeutil import format_local, zone

MAX_SERIES_SLOTS = 200
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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
    if not planned:
        return None
    earliest = min(p.starts_at for p in planned)
    latest = max(p.ends_at for p in planned)
    statement = (
        sa.select(Slot)
        .where(Slot.mentor_id == mentor_id, Slot.status == "open", Slot.starts_at < latest, Slot.ends_at > earliest)
        .order_by(Slot.starts_at)
    )
    if ignore_slot_id is not None:
        statement = statement.where(Slot.id != ignore_slot_id)
    existing = db.session.scalars(statement).all()
    for slot in existing:
        for p in planned:
            if slot.starts_at < p.ends_at and p.starts_at < slot.ends_at:
                return slot
    return None


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
) -> list[Slot]:
    """Create every planned slot or none: a clash with an open slot raises SlotClash."""
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
    from portal.waitlist.services import offer_slots

    offer_slots(slots)
    record_if_admin_for_other(
        created_by,
        mentor.id,
        "slot.created",
        "slot",
        slots[0].id if len(slots) == 1 else None,
        f"{len(slots)} slot(s) published for {mentor.name}",
        None,
        {
            "mentor_id": mentor.id,
            "slot_ids": [slot.id for slot in slots],
            "starts_at": [slot.starts_at for slot in slots],
        },
    )
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
    return db.session.scalar(sa.select(Booking).where(Booking.slot_id == slot.id, Booking.status == "booked"))


def load_slot_for_change(slot_id: int, user: User) -> Slot:
    """A slot its mentor (or an admin) may change; anyone else gets NotFound."""
    slot = db.session.get(Slot, slot_id)
    if slot is None or not slot.can_manage(user):
        raise NotFound("No such slot.")
    return slot


def remove_slot(slot: Slot, by: User) -> None:
    """Withdraw an open slot nobody has booked."""
    if slot.status != "open":
        raise DomainError("This slot has already been removed.")
    if live_booking(slot) is not None:
        raise DomainError("This slot is booked: cancel it with a reason instead, so the candidate is told.")
    from portal.waitlist.services import lapse_holds_on

    lapse_holds_on(slot)
    slot.status = "cancelled"
    slot.cancelled_at = utcnow()
    record_if_admin_for_other(
        by,
        slot.mentor_id,
        "slot.cancelled",
        "slot",
        slot.id,
        f"Unbooked slot of {slot.mentor.name} removed",
        {"status": "open"},
        {"status": "cancelled"},
    )


def cancel_slot(slot: Slot, reason: str, by: User) -> Booking | None:
    """Cancel a slot; its booking (if any) is cancelled and the candidate told why. Returns that booking."""
    from portal.interviews.services import notify_booking_change

    reason = (reason or "").strip()
    if slot.status != "open":
        raise DomainError("This slot has already been cancelled.")
    booking = live_booking(slot)
    if booking is not None and not reason:
        raise DomainError("Give a reason: the candidate will read it.", field="reason")
    from portal.waitlist.services import lapse_holds_on

    lapse_holds_on(slot)
    now = utcnow()
    slot.status = "cancelled"
    slot.cancel_reason = reason or None
    slot.cancelled_at = now
    record_if_admin_for_other(
        by,
        slot.mentor_id,
        "slot.cancelled",
        "slot",
        slot.id,
        f"Slot of {slot.mentor.name} cancelled" + (" with its booking" if booking else ""),
        {"status": "open"},
        {"status": "cancelled", "reason": reason, "booking_id": booking.id if booking else None},
    )
    if booking is not None:
        booking.status = "cancelled"
        booking.cancel_reason = reason
        booking.cancelled_at = now
        booking.cancelled_by_id = by.id
        booking.sequence += 1
        cancel_reminders(booking)
        when = format_local(slot.starts_at, booking.candidate.timezone)
        who = "the mentor" if by.id == slot.mentor_id else "the career services team"
        notify_booking_change(
            booking,
            booking.candidate,
            f"Session cancelled by {who}: {slot.interview_type.name}, {when}",
            f"Your {slot.interview_type.name} session on {when} was cancelled by {who}: {reason}",
            url_for("interviews.slots", type=slot.interview_type_id),
        )
    return booking


def edit_slot(slot: Slot, type_id: int, day: date, at: time, by: User) -> Slot:
    """Move an unbooked open slot or change its type (admins and its mentor)."""
    if slot.status != "open":
        raise DomainError("A cancelled slot cannot be edited.")
    if live_booking(slot) is not None:
        raise DomainError("A booked slot cannot be moved: cancel it with a reason or ask the candidate to reschedule.")
    interview_type, planned = plan_single(slot.mentor, type_id, day, at)
    clash = find_clash(slot.mentor_id, planned, ignore_slot_id=slot.id)
    if clash is not None:
        raise SlotClash(_clash_message(clash, by.timezone))
    before = {"interview_type_id": slot.interview_type_id, "starts_at": slot.starts_at}
    slot.interview_type_id = interview_type.id
    slot.starts_at, slot.ends_at = planned[0].starts_at, planned[0].ends_at
    record_if_admin_for_other(
        by,
        slot.mentor_id,
        "slot.changed",
        "slot",
        slot.id,
        f"Slot of {slot.mentor.name} changed",
        before,
        {"interview_type_id": slot.interview_type_id, "starts_at": slot.starts_at},
    )
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise SlotClash("Another slot was published for this time a moment ago.") from error
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
            Slot.status == "open",
            Slot.starts_at >= start,
            Slot.starts_at < end,
            Slot.starts_at > utcnow(),
        )
        .order_by(Slot.starts_at)
    ).all()
    bookings = sum(1 for slot in slots if cancel_slot(slot, reason, by) is not None)
    return len(slots), bookings
