"""Demo live sessions for `flask seed-demo`: two to come (one full, with a waitlist) and one past with its recording."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.live.models import LiveRegistration, LiveSession
from portal.live.reminders import schedule_live_reminders
from portal.statuses import LiveKind, MeetingMode, SeatStatus


def _session(admin: User, days: int, **values) -> LiveSession:
    starts_at = datetime.combine(utcnow().date() + timedelta(days=days), time(17, 30), UTC)
    session = LiveSession(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), created_by_id=admin.id, **values)
    db.session.add(session)
    return session


def _seat(session: LiveSession, candidate: User, status: str, attended: bool | None = None) -> None:
    registration = LiveRegistration(
        session=session,
        candidate=candidate,
        status=status,
        uid=LiveRegistration.new_uid(),
        attended=attended,
        waitlisted_at=utcnow() if status == SeatStatus.WAITLISTED else None,
    )
    db.session.add(registration)
    db.session.flush()
    if status == SeatStatus.REGISTERED and session.starts_at > utcnow():
        schedule_live_reminders(registration)


def seed_live(admin: User, candidates: list[User]) -> int:
    """The demo sessions, once; returns how many were created."""
    if db.session.scalar(sa.select(sa.func.count(LiveSession.id))) or not candidates:
        return 0
    talk = _session(
        admin,
        6,
        kind=LiveKind.TALK,
        title="From notebook to production: shipping models at a bank",
        speakers="Priya Shah (ML engineering lead)",
        description="How a model goes from an experiment to a monitored service, and what the interviews ask about it.",
        capacity=40,
        meeting_mode=MeetingMode.VIDEO,
    )
    qa = _session(
        admin,
        9,
        kind=LiveKind.EMPLOYER_QA,
        title="Employer Q&A: hiring junior ML engineers",
        speakers="Two hiring managers from partner employers",
        description="Bring your questions about applications, take-home tasks and first-year work.",
        capacity=1,
        meeting_mode=MeetingMode.IN_PERSON,
        place="Room 2.14, Career Services, London",
    )
    past = _session(
        admin,
        -7,
        kind=LiveKind.PANEL,
        title="Panel: what an ML engineer does all day",
        speakers="Three alumni now working as ML engineers",
        capacity=30,
        meeting_mode=MeetingMode.VIDEO,
        recording_url="https://video.example.com/ml-engineer-panel",
        slides_url="https://slides.example.com/ml-engineer-panel",
    )
    db.session.flush()
    _seat(talk, candidates[0], SeatStatus.REGISTERED)
    _seat(qa, candidates[-1], SeatStatus.REGISTERED)
    if len(candidates) > 1:
        _seat(qa, candidates[0], SeatStatus.WAITLISTED)
    for index, candidate in enumerate(candidates):
        _seat(past, candidate, SeatStatus.REGISTERED, attended=index % 3 != 2)
    return 3
