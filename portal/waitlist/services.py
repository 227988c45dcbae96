"""Waitlist rules: join and leave, offer a freed slot to the first in line with an exclusive hold, book or
decline it; an expired hold goes to the next person. The hold is a booking in status "held", so the partial
unique index on live bookings keeps everyone else off the slot while it is offered."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.interviews.models import Booking, InterviewType, Slot
from portal.mail import OutgoingEmail
from portal.notifications.services import notify
from portal.timeutil import format_local, to_local
from portal.waitlist.models import WaitlistEntry


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
    if entry.status not in ("waiting", "offered"):
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count(WaitlistEntry.id)).where(
            WaitlistEntry.interview_type_id == entry.interview_type_id,
            WaitlistEntry.status.in_(("waiting", "offered")),
            sa.or_(
                WaitlistEntry.created_at < entry.created_at,
                sa.and_(WaitlistEntry.created_at == entry.created_at, WaitlistEntry.id < entry.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def leave(entry: WaitlistEntry, candidate: User) -> None:
    if entry.candidate_id != candidate.id:
        raise NotFound("No such waitlist entry.")
    if entry.status not in ("waiting", "offered"):
        raise DomainError("You are no longer on this waitlist.")
    hold = _active_hold_for_entry(entry)
    entry.status = "left"
    if hold is not None:
        _lapse(hold)
        offer_slot(hold.slot)


def _active_hold_for_entry(entry: WaitlistEntry) -> Booking | None:
    return db.session.scalar(sa.select(Booking).where(Booking.waitlist_entry_id == entry.id, Booking.status == "held"))


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
    from portal.interviews.services import check_booking_rules, get_policy

    if slot.status != "open":
        return None
    now = utcnow()
    policy = get_policy()
    candidates = db.session.scalars(
        sa.select(WaitlistEntry)
        .options(joinedload(WaitlistEntry.candidate))
        .where(WaitlistEntry.interview_type_id == slot.interview_type_id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    for entry in candidates:
        if not _matches(entry, slot) or not entry.candidate.active:
            continue
        try:
            check_booking_rules(entry.candidate, slot, policy, now)
        except DomainError:
            continue
        minutes = int(current_app.config["WAITLIST_HOLD_MINUTES"])
        hold = Booking(
            slot_id=slot.id,
            candidate_id=entry.candidate_id,
            status="held",
            hold_expires_at=now + timedelta(minutes=minutes),
            waitlist_entry_id=entry.id,
            uid=f"booking-{uuid.uuid4()}@career-portal",
        )
        db.session.add(hold)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except sa.exc.IntegrityError:
            return None  # someone booked it a moment ago
        entry.status = "offered"
        when = format_local(slot.starts_at, entry.candidate.timezone)
        until = format_local(hold.hold_expires_at, entry.candidate.timezone, with_date=False)
        link = url_for("waitlist.offer", booking_id=hold.id)
        notify(
            entry.candidate,
            f"A slot opened: {slot.interview_type.name} with {slot.mentor.name}, {when}. "
            f"It is held for you until {until}.",
            link,
            email=OutgoingEmail(
                f"A slot is held for you until {until}: {slot.interview_type.name}",
                "waitlist_offer",
                {
                    "slot": slot,
                    "when": when,
                    "until": until,
                    "minutes": minutes,
                    "url": url_for("waitlist.offer", booking_id=hold.id, _external=True),
                },
                category="waitlist",
            ),
        )
        return hold
    return None


def offer_slots(slots: list[Slot]) -> int:
    return sum(1 for slot in slots if offer_slot(slot) is not None)


def _lapse(hold: Booking) -> None:
    hold.status = "lapsed"
    hold.hold_expires_at = hold.hold_expires_at or utcnow()


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


def hold_is_active(hold: Booking, now: datetime | None = None) -> bool:
    return hold.status == "held" and hold.hold_expires_at is not None and hold.hold_expires_at > (now or utcnow())


def accept(hold: Booking, candidate: User, focus_note: str) -> Booking:
    """Book a held slot: the booking rules still apply."""
    from portal.interviews.reminders import schedule_reminders
    from portal.interviews.services import check_booking_rules, get_policy, notify_booking_change

    if not hold_is_active(hold):
        raise DomainError("This offer has ended. You can join the waitlist again.")
    check_booking_rules(candidate, hold.slot, get_policy(), utcnow(), ignore=hold)
    result = db.session.execute(
        sa.update(Booking)
        .where(Booking.id == hold.id, Booking.status == "held", Booking.hold_expires_at > utcnow())
        .values(status="booked", focus_note=(focus_note or "").strip()[:1000], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError("This offer has ended. You can join the waitlist again.")
    db.session.refresh(hold)
    entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id)
    entry.status = "booked"
    schedule_reminders(hold)
    slot = hold.slot
    when = format_local(slot.starts_at, candidate.timezone)
    notify_booking_change(
        hold,
        candidate,
        f"Booking confirmed: {slot.interview_type.name}, {when}",
        f"Booked from the waitlist: {slot.interview_type.name} with {slot.mentor.name}, {when}.",
        url_for("interviews.booking", booking_id=hold.id),
    )
    notify_booking_change(
        hold,
        slot.mentor,
        f"New booking: {candidate.name}",
        f"New booking: {candidate.name}, {slot.interview_type.name}, "
        f"{format_local(slot.starts_at, slot.mentor.timezone)}.",
        url_for("mentor.schedule"),
    )
    return hold


def decline(hold: Booking, candidate: User) -> None:
    if not hold_is_active(hold):
        raise DomainError("This offer has already ended.")
    _lapse(hold)
    db.session.get(WaitlistEntry, hold.waitlist_entry_id).status = "declined"
    db.session.flush()
    offer_slot(hold.slot)


def expire_holds(limit: int = 200) -> int:
    """End holds past their time and offer each slot to the next in line (one transaction each)."""
    expired = 0
    for _ in range(limit):
        statement = (
            sa.select(Booking)
            .where(Booking.status == "held", Booking.hold_expires_at <= utcnow())
            .order_by(Booking.hold_expires_at)
            .limit(1)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        hold = db.session.scalar(statement)
        if hold is None:
            break
        _lapse(hold)
        entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id) if hold.waitlist_entry_id else None
        if entry is not None and entry.status == "offered":
            entry.status = "expired"
            notify(
                entry.candidate,
                f"Your hold on the {hold.slot.interview_type.name} slot ended, so it was offered "
                "to the next person. Join the waitlist again whenever you like.",
                url_for("waitlist.index"),
            )
        db.session.flush()
        offer_slot(hold.slot)
        db.session.commit()
        expired += 1
    return expired


def lapse_holds_on(slot: Slot) -> None:
    """A slot that is withdrawn takes its waitlist offer with it; the candidate goes back in line."""
    for hold in db.session.scalars(sa.select(Booking).where(Booking.slot_id == slot.id, Booking.status == "held")):
        _lapse(hold)
        entry = db.session.get(WaitlistEntry, hold.waitlist_entry_id) if hold.waitlist_entry_id else None
        if entry is not None and entry.status == "offered":
            entry.status = "waiting"


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
            .where(Booking.candidate_id == candidate.id, Booking.status == "held", Booking.hold_expires_at > utcnow())
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
        .where(WaitlistEntry.status.in_(("waiting", "offered")))
        .order_by(WaitlistEntry.interview_type_id, WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    grouped: dict[int, tuple[InterviewType, list[WaitlistEntry]]] = {}
    for entry in entries:
        grouped.setdefault(entry.interview_type_id, (entry.interview_type, []))[1].append(entry)
    return list(grouped.values())
