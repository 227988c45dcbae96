"""Live sessions: admins and editor mentors create, edit and cancel them; candidates take a seat or a place on the
waitlist, and give it up; the first in line gets a freed seat. Every change of seats reads the session under a row
lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the write transaction), so seats are counted by one request at a time
and never oversold. Services flush; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.auth.models import User
from portal.db import lock, utcnow
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.interviews.availability import local_to_utc
from portal.live import messages
from portal.live.meeting import clean_material_link, clean_meeting, meeting_of
from portal.live.models import MAX_CAPACITY, LiveRegistration, LiveSession
from portal.live.reminders import cancel_live_reminders, schedule_live_reminders
from portal.statuses import LiveKind, LiveSessionStatus, SeatStatus

MAX_LENGTH_HOURS = 12


@dataclass(frozen=True)
class SessionDraft:
    """What an admin typed for a session, before it is checked."""

    kind: str
    title: str
    description: str
    speakers: str
    day: date
    start_time: time
    end_time: time
    capacity: int
    meeting_mode: str
    meeting_url: str | None = None
    dial_in: str | None = None
    place: str | None = None


# Who may do what ------------------------------------------------------------------------------------------------


def can_manage(user: User) -> bool:
    """Admins and editor mentors create, edit and cancel live sessions, mark attendance and add recordings; a plain
    mentor does not."""
    return bool(user.is_authenticated and user.may_publish_articles)


def can_see_materials(user: User, registration: LiveRegistration | None) -> bool:
    """The recording and slides are for those who held a seat (and those who run sessions)."""
    return can_manage(user) or (registration is not None and registration.has_seat)


# Reading --------------------------------------------------------------------------------------------------------


def get_session(session_id: int) -> LiveSession:
    session = db.session.get(LiveSession, session_id)
    if session is None:
        raise NotFound("No such live session.")
    return session


def seats_taken(session_ids: list[int]) -> dict[int, int]:
    """Seats held per session, for many sessions in one query."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        sa.select(LiveRegistration.session_id, sa.func.count(LiveRegistration.id))
        .where(LiveRegistration.session_id.in_(session_ids), LiveRegistration.status == SeatStatus.REGISTERED)
        .group_by(LiveRegistration.session_id)
    )
    return {session_id: int(count) for session_id, count in rows}


def waitlist_length(session: LiveSession) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(LiveRegistration.id)).where(
                LiveRegistration.session_id == session.id, LiveRegistration.status == SeatStatus.WAITLISTED
            )
        )
        or 0
    )


def seats_left(session: LiveSession) -> int:
    return max(session.capacity - seats_taken([session.id]).get(session.id, 0), 0)


def upcoming_query() -> sa.Select:
    """Scheduled sessions not yet over, soonest first."""
    return (
        sa.select(LiveSession)
        .where(LiveSession.status == LiveSessionStatus.SCHEDULED, LiveSession.ends_at > utcnow())
        .order_by(LiveSession.starts_at, LiveSession.id)
    )


def registration_of(session: LiveSession, user: User) -> LiveRegistration | None:
    if not user.is_authenticated:
        return None
    return db.session.scalar(
        sa.select(LiveRegistration).where(
            LiveRegistration.session_id == session.id, LiveRegistration.candidate_id == user.id
        )
    )


def waitlist_position(registration: LiveRegistration) -> int | None:
    """1 for the first in line; None when not waiting."""
    if not registration.is_waiting:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count(LiveRegistration.id)).where(
            LiveRegistration.session_id == registration.session_id,
            LiveRegistration.status == SeatStatus.WAITLISTED,
            sa.or_(
                LiveRegistration.queued_at < registration.queued_at,
                sa.and_(LiveRegistration.queued_at == registration.queued_at, LiveRegistration.id < registration.id),
            ),
        )
    )
    return int(ahead or 0) + 1


def my_registrations_query(user: User) -> sa.Select:
    """A candidate's seats and waitlist places, the sessions still to come first."""
    return (
        sa.select(LiveRegistration)
        .join(LiveRegistration.session)
        .options(joinedload(LiveRegistration.session))
        .where(LiveRegistration.candidate_id == user.id, LiveRegistration.status != SeatStatus.CANCELLED)
        .order_by((LiveSession.ends_at <= utcnow()), LiveSession.starts_at.desc())
    )


def attendees(session: LiveSession) -> list[LiveRegistration]:
    """Everyone holding a seat, by name."""
    return list(
        db.session.scalars(
            sa.select(LiveRegistration)
            .join(LiveRegistration.candidate)
            .options(joinedload(LiveRegistration.candidate))
            .where(LiveRegistration.session_id == session.id, LiveRegistration.status == SeatStatus.REGISTERED)
            .order_by(User.name, LiveRegistration.id)
        )
    )


# Creating and changing sessions -----------------------------------------------------------------------------------


def _checked(draft: SessionDraft, zone_name: str) -> tuple[dict, list[str]]:
    """The draft's values as stored (times in UTC from the creator's zone, the way of meeting checked), and a note
    for each local time the clocks repeat (the first is used). Raises DomainError naming the field, for a time the
    clocks skip too."""
    if draft.kind not in {kind.value for kind in LiveKind}:
        raise DomainError("Choose the kind of session.", field="kind")
    if not 1 <= draft.capacity <= MAX_CAPACITY:
        raise DomainError(f"Enter a number of seats from 1 to {MAX_CAPACITY:,}.", field="capacity")
    starts_at, start_note = local_to_utc(draft.day, draft.start_time, zone_name, field="start_time")
    if draft.end_time == draft.start_time:
        raise DomainError("The session must end after it starts.", field="end_time")
    # An end earlier in the day than the start is the next morning (a session past midnight).
    end_day = draft.day if draft.end_time > draft.start_time else draft.day + timedelta(days=1)
    ends_at, end_note = local_to_utc(end_day, draft.end_time, zone_name, field="end_time")
    if ends_at - starts_at > timedelta(hours=MAX_LENGTH_HOURS):
        raise DomainError(f"A session lasts at most {MAX_LENGTH_HOURS} hours.", field="end_time")
    if ends_at <= starts_at:
        raise DomainError("The session must end after it starts.", field="end_time")
    return {
        "kind": draft.kind,
        "title": draft.title.strip(),
        "description": draft.description.replace("\r\n", "\n").strip(),
        "speakers": draft.speakers.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": draft.capacity,
        **clean_meeting(draft.meeting_mode, draft.meeting_url, draft.dial_in, draft.place),
    }, [note for note in (start_note, end_note) if note]


def _summary(session: LiveSession) -> dict:
    return {
        "title": session.title,
        "kind": session.kind,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "capacity": session.capacity,
        "meeting_mode": session.meeting_mode,
    }


def create_session(by: User, draft: SessionDraft) -> tuple[LiveSession, list[str]]:
    """A new live session, entered in the creator's time zone; audit-logged. Returns it with the notes on times the
    clocks repeat."""
    if not can_manage(by):
        raise PermissionDenied("Only admins and editor mentors create live sessions.")
    values, notes = _checked(draft, by.timezone)
    if values["starts_at"] <= utcnow():
        raise DomainError("Choose a start in the future.", field="day")
    session = LiveSession(**values, created_by_id=by.id)
    db.session.add(session)
    db.session.flush()
    record(
        by,
        "live_session.created",
        "live_session",
        session.id,
        f"Created live session “{session.title}”",
        after=_summary(session),
    )
    return session, notes


def edit_session(session: LiveSession, by: User, draft: SessionDraft, version: int) -> list[str]:
    """Change a scheduled session that has not started. More seats go to the first in line; fewer than those already
    held is refused. A new time reschedules the reminders; a new time or new joining details are sent to everyone
    holding a seat, with the calendar update."""
    if not can_manage(by):
        raise PermissionDenied("Only admins and editor mentors edit live sessions.")
    lock(session)
    if session.version != version:
        raise Conflict("Someone changed this session while you were editing it. Check it and try again.")
    now = utcnow()
    if not session.is_scheduled or session.has_started(now):
        raise DomainError("Only a scheduled session that has not started can be edited.")
    values, notes = _checked(draft, by.timezone)
    taken = seats_taken([session.id]).get(session.id, 0)
    if values["capacity"] < taken:
        raise DomainError(f"{taken} people already hold seats: keep at least {taken} seats.", field="capacity")
    if values["starts_at"] != session.starts_at and values["starts_at"] <= now:
        raise DomainError("Choose a start in the future.", field="day")
    before = _summary(session)
    moved = values["starts_at"] != session.starts_at or values["ends_at"] != session.ends_at
    meeting_before = meeting_of(session)
    for name, value in values.items():
        setattr(session, name, value)
    db.session.flush()
    if moved or meeting_of(session) != meeting_before:
        for registration in attendees(session):
            registration.sequence += 1
            if moved:
                cancel_live_reminders(registration)
                db.session.flush()
                schedule_live_reminders(registration)
            messages.session_changed(registration)
    promote_waitlisted(session)
    record(
        by,
        "live_session.edited",
        "live_session",
        session.id,
        f"Edited live session “{session.title}”",
        before=before,
        after=_summary(session),
    )
    return notes


def cancel_session(session: LiveSession, by: User, reason: str | None) -> int:
    """Call a session off: everyone registered or waiting is told (and their reminders withdrawn); audit-logged.
    Returns how many people were told."""
    if not can_manage(by):
        raise PermissionDenied("Only admins and editor mentors cancel live sessions.")
    lock(session)
    now = utcnow()
    session.cancel((reason or "").strip() or None, now)
    affected = list(
        db.session.scalars(
            sa.select(LiveRegistration)
            .options(joinedload(LiveRegistration.candidate))
            .where(
                LiveRegistration.session_id == session.id,
                LiveRegistration.status.in_((SeatStatus.REGISTERED, SeatStatus.WAITLISTED)),
            )
            .order_by(LiveRegistration.id)
        )
    )
    for registration in affected:
        had_seat = registration.has_seat
        registration.cancel(now)
        cancel_live_reminders(registration)
        messages.session_cancelled(registration, session.cancel_reason, had_seat)
    record(
        by,
        "live_session.cancelled",
        "live_session",
        session.id,
        f"Cancelled live session “{session.title}”",
        after={"reason": session.cancel_reason, "people_told": len(affected)},
    )
    return len(affected)


# Seats --------------------------------------------------------------------------------------------------------


def register(session: LiveSession, candidate: User) -> LiveRegistration:
    """A seat for the candidate, or the end of the waitlist when every seat is taken. The person is locked first
    (the lock order: person, then session), so that an account closing at the same moment is seen; then the session
    row, so concurrent registrations count seats one at a time."""
    if not candidate.is_candidate:
        raise PermissionDenied("Only candidates register for live sessions.")
    lock(candidate)
    if not candidate.active:
        raise DomainError("This account is closed, so it cannot register for sessions.")
    lock(session)
    now = utcnow()
    if not session.is_scheduled:
        raise DomainError("This session has been cancelled.")
    if session.has_started(now):
        raise DomainError("This session has already started, so registration is closed.")
    registration = registration_of(session, candidate)
    if registration is not None and registration.is_active:
        raise DomainError("You are already registered for this session.")
    if registration is None:
        registration = LiveRegistration(
            session=session, candidate=candidate, status=SeatStatus.CANCELLED, uid=LiveRegistration.new_uid()
        )
        db.session.add(registration)
    if seats_taken([session.id]).get(session.id, 0) < session.capacity and not _anyone_waiting(session):
        registration.take_seat(now)
        db.session.flush()
        schedule_live_reminders(registration)
        messages.seat_taken(registration)
    else:
        registration.wait_for_seat(now)
        db.session.flush()
        messages.waitlist_joined(registration, waitlist_position(registration))
    return registration


def _anyone_waiting(session: LiveSession) -> bool:
    return (
        db.session.scalar(
            sa.select(LiveRegistration.id)
            .where(LiveRegistration.session_id == session.id, LiveRegistration.status == SeatStatus.WAITLISTED)
            .limit(1)
        )
        is not None
    )


def promote_waitlisted(session: LiveSession) -> list[LiveRegistration]:
    """Give free seats to the first in line, in order, and tell them. The caller holds the session's lock."""
    free = session.capacity - seats_taken([session.id]).get(session.id, 0)
    if free <= 0 or not session.is_scheduled or session.has_started(utcnow()):
        return []
    waiting = list(
        db.session.scalars(
            sa.select(LiveRegistration)
            .options(joinedload(LiveRegistration.candidate))
            .where(LiveRegistration.session_id == session.id, LiveRegistration.status == SeatStatus.WAITLISTED)
            .order_by(LiveRegistration.queued_at, LiveRegistration.id)
            .limit(free)
        )
    )
    now = utcnow()
    for registration in waiting:
        registration.take_seat(now)
        db.session.flush()
        schedule_live_reminders(registration)
        messages.promoted(registration)
    return waiting


def cancel_registration(registration: LiveRegistration, by: User) -> list[LiveRegistration]:
    """The candidate gives up their seat or waitlist place, until the session starts; a freed seat goes to the first
    in line. Returns who was promoted."""
    if by.id != registration.candidate_id:
        raise NotFound("No such registration.")
    session = registration.session
    lock(session)
    db.session.refresh(registration)
    now = utcnow()
    if session.has_started(now):
        raise DomainError("This session has started, so the registration can no longer be cancelled.")
    had_seat = registration.has_seat
    registration.cancel(now)
    cancel_live_reminders(registration)
    db.session.flush()
    messages.registration_cancelled(registration, had_seat)
    return promote_waitlisted(session) if had_seat else []


# After the session ------------------------------------------------------------------------------------------------


def mark_attendance(session: LiveSession, by: User, present_ids: set[int]) -> int:
    """Record who came (everyone holding a seat is marked present or absent), once the session has started;
    audit-logged. Returns how many were present."""
    if not can_manage(by):
        raise PermissionDenied("Only admins and editor mentors mark attendance.")
    if not session.is_scheduled or not session.has_started(utcnow()):
        raise DomainError("Attendance can be marked once the session has started.")
    present = 0
    for registration in attendees(session):
        registration.attended = registration.candidate_id in present_ids
        present += registration.attended
    db.session.flush()
    record(
        by,
        "live_session.attendance",
        "live_session",
        session.id,
        f"Marked attendance for “{session.title}”: {present} present",
        after={"present": present},
    )
    return present


def save_materials(session: LiveSession, by: User, recording_url: str | None, slides_url: str | None) -> None:
    """The recording and slides links, https only, once the session has started; audit-logged."""
    if not can_manage(by):
        raise PermissionDenied("Only admins and editor mentors add recordings and slides.")
    if not session.has_started(utcnow()):
        raise DomainError("Recordings and slides can be added once the session has started.")
    recording = clean_material_link(recording_url, "recording_url")
    slides = clean_material_link(slides_url, "slides_url")
    before = {"recording_url": session.recording_url, "slides_url": session.slides_url}
    session.recording_url, session.slides_url = recording, slides
    db.session.flush()
    record(
        by,
        "live_session.materials",
        "live_session",
        session.id,
        f"Updated the recording and slides of “{session.title}”",
        before=before,
        after={"recording_url": recording, "slides_url": slides},
    )
