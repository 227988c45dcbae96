"""Waitlist rules: join and leave, offer a freed slot to the first in line with an exclusive hold, book or decline
it; an expired hold goes to the next person. The hold is a booking in status "held", so the partial unique index on
live bookings keeps everyone else off the slot while it is offered."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal import events
from portal.auth.models import User
from portal.db import lock, utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.interviews.models import Booking, InterviewType, Slot
from portal.interviews.services import check_booking_rules, get_policy, phone_for
from portal.statuses import IN_LINE, BookingStatus, EntryStatus, SlotStatus
from portal.timeutil import to_local
from portal.waitlist.models import WaitlistEntry

OFFER_ENDED = "This offer has ended. You can join the waitlist again."


def join(candidate: User, type_id: int, mentor_id: int | None, first: date | None, last: date | None) -> WaitlistEntry:
    if not candidate.is_candidate:
        raise DomainError("Only candidates can join the waitlist.")
    interview_type = db.session.get(InterviewType, type_id) if type_id else None
    if interview_type is None or not interview_type.active:
        raise DomainError("Choose an interview type.", field="interview_type")
    if mentor_id:
        mentor = db.session.get(User, mentor_id)
        if mentor is None or not mentor.is_mentor or not mentor.active:
            raise DomainError("Choose a mentor from the list, or any mentor.", field="mentor")
    if first and last and last < first:
        raise DomainError("The last date must be on or after the first date.", field="last_date")
    today = to_local(utcnow(), candidate.timezone).date()
    if last and last < today:
        raise DomainError("The last date is in the past.", field="last_date")
    entry = WaitlistEntry(
        candidate_id=candidate.id,
        interview_type_id=type_id,
        mentor_id=mentor_id or None,
        first_date=first,
        last_date=last,
    )
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError("You are already on the waitlist for this interview type.", field="interview_type") from error
    return entry


def position(entry: WaitlistEntry) -> int | None:
    """1 for the first in line for this interview type; None when not waiting."""
    if entry.status not in IN_LINE:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count(WaitlistEntry.id)).where(
            WaitlistEntry.interview_type_id == entry.interview_type_id,
            WaitlistEntry.status.in_(IN_LINE),
            sa.or_(
                WaitlistEntry.created_at < entry.created_at,
                sa.and_(WaitlistEntry.created_at == entry.created_at, WaitlistEntry.id < entry.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def _active_hold_for_entry(entry: WaitlistEntry) -> Booking | None:
    return db.session.scalar(
        sa.select(Booking).where(Booking.waitlist_entry_id == entry.id, Booking.status == BookingStatus.HELD)
    )


def leave(entry: WaitlistEntry, candidate: User) -> None:
    if entry.candidate_id != candidate.id:
        raise NotFound("No such waitlist entry.")
    lock(entry)
    if entry.status not in IN_LINE:
        raise DomainError("You are no longer on this waitlist.")
    hold = _active_hold_for_entry(entry)
    entry.status = EntryStatus.LEFT
    if hold is not None:
        lock(hold)
        hold.lapse(utcnow())
        events.hold_ended.send(hold, entry=entry, why="left")
        events.slot_freed.send(hold.slot)


def _matches(entry: WaitlistEntry, slot: Slot) -> bool:
    if entry.interview_type_id != slot.interview_type_id:
        return False
    if entry.mentor_id and entry.mentor_id != slot.mentor_id:
        return False
    local_day = to_local(slot.starts_at, entry.candidate.timezone).date()
    too_early = entry.first_date is not None and local_day < entry.first_date
    too_late = entry.last_date is not None and local_day > entry.last_date
    return not (too_early or too_late)


def offer_slot(slot: Slot) -> Booking | None:
    """Offer an open, free, bookable slot to the first matching candidate in line; returns the hold, if any."""
    if slot.status != SlotStatus.OPEN:
        return None
    now = utcnow()
    policy = get_policy()
    candidates = db.session.scalars(
        sa.select(WaitlistEntry)
        .options(joinedload(WaitlistEntry.candidate))
        .where(WaitlistEntry.interview_type_id == slot.interview_type_id, WaitlistEntry.status == EntryStatus.WAITING)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    for entry in candidates:
        if not _matches(entry, slot):
            continue
        # The entry is read again under its lock: a person leaving (closing, deactivation, leaving the line) takes
        # that lock too, so a place given up a moment ago is never offered a slot.
        lock(entry)
        if entry.status != EntryStatus.WAITING or not entry.candidate.active:
            continue
        try:
            check_booking_rules(entry.candidate, slot, policy, now)
        except DomainError:
            continue
        minutes = int(current_app.config["WAITLIST_HOLD_MINUTES"])
        hold = slot.hold(entry.candidate_id, entry.id, now + timedelta(minutes=minutes))
        db.session.add(hold)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except sa.exc.IntegrityError:
            return None  # someone booked it a moment ago
        entry.status = EntryStatus.OFFERED
        events.hold_offered.send(hold, entry=entry, minutes=minutes)
        return hold
    return None


def offer_slots(slots: list[Slot]) -> int:
    return sum(1 for slot in slots if offer_slot(slot) is not None)


def load_hold(booking_id: int, candidate: User) -> Booking:
    hold = db.session.get(
        Booking,
        booking_id,
        options=[
            joinedload(Booking.slot).joinedload(Slot.mentor),
            joinedload(Booking.slot).joinedload(Slot.interview_type),
        ],
    )
    if hold is None or hold.candidate_id != candidate.id or hold.waitlist_entry_id is None:
        raise NotFound("No such offer.")
    return hold


def accept(hold: Booking, candidate: User, focus_note: str, phone: str | None = None) -> Booking:
    """Book a held slot: the booking rules still apply (a phone session needs the `phone` number to call)."""
    lock(candidate)
    lock(hold)
    now = utcnow()
    if not hold.hold_is_active(now):
        raise DomainError(OFFER_ENDED)
    check_booking_rules(candidate, hold.slot, get_policy(), now, own_hold=hold)
    hold.accept_hold((focus_note or "").strip()[:1000], now, phone_for(hold.slot, phone))
    entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id)
    entry.status = EntryStatus.BOOKED
    db.session.flush()
    events.booking_made.send(hold, by=candidate, from_waitlist=True)
    return hold


def decline(hold: Booking) -> None:
    lock(hold)
    if not hold.hold_is_active(utcnow()):
        raise DomainError("This offer has already ended.")
    hold.lapse(utcnow())
    entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id)
    entry.status = EntryStatus.DECLINED
    db.session.flush()
    events.hold_ended.send(hold, entry=entry, why="declined")
    events.slot_freed.send(hold.slot)


def expire_holds(limit: int = 200) -> int:
    """End holds past their time and offer each slot to the next in line (one transaction each)."""
    expired = 0
    for _ in range(limit):
        statement = (
            sa.select(Booking)
            .where(Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= utcnow())
            .order_by(Booking.hold_expires_at)
            .limit(1)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        hold = db.session.scalar(statement)
        if hold is None:
            break
        hold.lapse(utcnow())
        entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id) if hold.waitlist_entry_id else None
        if entry is not None and entry.status == EntryStatus.OFFERED:
            entry.status = EntryStatus.EXPIRED
        db.session.flush()
        events.hold_ended.send(hold, entry=entry, why="expired")
        events.slot_freed.send(hold.slot)
        db.session.commit()
        expired += 1
    return expired


def back_in_line(hold: Booking) -> None:
    """A hold ended because its slot was withdrawn: the candidate goes back to waiting, at their old place."""
    entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id) if hold.waitlist_entry_id else None
    if entry is not None and entry.status == EntryStatus.OFFERED:
        entry.status = EntryStatus.WAITING


def entries_for(candidate: User) -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            sa.select(WaitlistEntry)
            .options(joinedload(WaitlistEntry.interview_type), joinedload(WaitlistEntry.mentor))
            .where(WaitlistEntry.candidate_id == candidate.id)
            .order_by(WaitlistEntry.created_at.desc())
        )
    )


def active_holds(candidate: User) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .options(
                joinedload(Booking.slot).joinedload(Slot.interview_type),
                joinedload(Booking.slot).joinedload(Slot.mentor),
            )
            .where(
                Booking.candidate_id == candidate.id,
                Booking.status == BookingStatus.HELD,
                Booking.hold_expires_at > utcnow(),
            )
        )
    )


def waiting_by_type() -> list[tuple[InterviewType, list[WaitlistEntry]]]:
    entries = db.session.scalars(
        sa.select(WaitlistEntry)
        .options(
            joinedload(WaitlistEntry.candidate),
            joinedload(WaitlistEntry.mentor),
            joinedload(WaitlistEntry.interview_type),
        )
        .where(WaitlistEntry.status.in_(IN_LINE))
        .order_by(WaitlistEntry.interview_type_id, WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    grouped: dict[int, tuple[InterviewType, list[WaitlistEntry]]] = {}
    for entry in entries:
        grouped.setdefault(entry.interview_type_id, (entry.interview_type, []))[1].append(entry)
    return list(grouped.values())
