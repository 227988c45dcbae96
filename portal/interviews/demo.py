"""Demo interviews for `flask seed-demo`: default types, weekly slots, past and upcoming bookings."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.interviews.availability import new_series, plan_series, publish_slots
from portal.interviews.models import Booking, BookingPolicy, InterviewType, MeetingLink, Slot
from portal.statuses import BookingStatus, MeetingMode

DEFAULT_INTERVIEW_TYPES = (
    (
        "Technical: Python and ML fundamentals",
        60,
        "Coding in Python, data structures, core machine learning concepts and evaluation.",
    ),
    (
        "ML system design and production",
        60,
        "Designing pipelines, model serving APIs, monitoring and deployment for a realistic product.",
    ),
    (
        "Behavioural and career story",
        45,
        "Your motivation, past projects and how you work with others, told with clear examples.",
    ),
)

# How each standard type meets in the demo, and what to have ready: all three ways of meeting appear.
DEMO_MEETING = {
    "Technical: Python and ML fundamentals": (
        MeetingMode.VIDEO,
        "",
        "A laptop with Python 3 and an editor you know well, a quiet room and headphones. Have one project you can "
        "walk through: the data, the model, how you evaluated it.",
    ),
    "ML system design and production": (
        MeetingMode.VIDEO,
        "",
        "Pen and paper or a whiteboard tool. Think of a product you use that relies on ML: you may be asked how you "
        "would build, serve and monitor it.",
    ),
    "Behavioural and career story": (
        MeetingMode.IN_PERSON,
        "Career Services, room 2.14, 10 Example Street, London EC1A 1AA (reception on the ground floor)",
        "Two or three stories from your projects or past jobs, each with the situation, what you did and the result. "
        "Arrive ten minutes early.",
    ),
}
DEMO_MEETING_LINK = "https://video.example.org/priya-shah"  # the first mentor's own room; the second has none
DEMO_PHONES = ("+44 20 7946 0958", "+44 161 496 0321", "+44 117 496 0777")

FOCUS_NOTES = (
    "Explaining the bias-variance trade-off with an example from my churn project.",
    "Designing a feature pipeline and model API for fraud detection, including monitoring for drift.",
    "Telling my career-change story from data analyst to ML engineer in under two minutes.",
)


def ensure_default_types() -> list[InterviewType]:
    """The three standard interview types and the policy row (the first migration adds them too)."""
    existing = {t.name: t for t in db.session.scalars(sa.select(InterviewType))}
    for name, minutes, description in DEFAULT_INTERVIEW_TYPES:
        if name not in existing:
            existing[name] = InterviewType(name=name, duration_minutes=minutes, description=description)
            db.session.add(existing[name])
    if db.session.get(BookingPolicy, 1) is None:
        db.session.add(BookingPolicy.with_defaults())
    db.session.flush()
    return [existing[name] for name, _, _ in DEFAULT_INTERVIEW_TYPES]


def _booking(slot: Slot, candidate: User, status: str, note: str, phone: str | None = None) -> Booking:
    return Booking(
        slot=slot,
        candidate=candidate,
        status=status,
        focus_note=note,
        phone=phone,
        uid=Booking.new_uid(),
        outcome_at=slot.ends_at if status != BookingStatus.BOOKED else None,
    )


def _demo_meeting(types: list[InterviewType], mentors: list[User]) -> None:
    """The standard types meet as DEMO_MEETING says (unless an admin already chose), the first mentor has a link."""
    for interview_type in types:
        mode, place, preparation = DEMO_MEETING.get(interview_type.name, (None, "", ""))
        if mode is not None and not interview_type.preparation:
            interview_type.meeting_mode, interview_type.place, interview_type.preparation = mode, place, preparation
    if mentors and db.session.get(MeetingLink, mentors[0].id) is None:
        db.session.add(MeetingLink(mentor_id=mentors[0].id, url=DEMO_MEETING_LINK))


def seed_interviews(mentors: list[User], candidates: list[User]) -> int:
    """Slots for the next three weeks and a few sessions, once; returns the number of slots created."""
    types = ensure_default_types()
    if db.session.scalar(sa.select(sa.func.count(Slot.id))):
        return 0
    _demo_meeting(types, mentors)
    created = 0
    today = utcnow().date()
    for index, mentor in enumerate(mentors):
        interview_type = types[index % len(types)]
        weekdays = {1, 3, 5} if index % 2 == 0 else {2, 4, 6}
        values = (weekdays, time(18, 0), time(20, 30), today, today + timedelta(days=21), 15)
        interview_type, planned = plan_series(mentor, interview_type.id, *values)
        # The second mentor's evening series are phone calls: a slot's own way of meeting overrides its type's.
        phone = MeetingMode.PHONE if index % 2 == 1 else None
        slots = publish_slots(
            mentor, interview_type, planned, mentor, new_series(mentor, interview_type, *values, mentor), phone
        )
        created += len(slots)
        # Past sessions, one a week: the first candidate every week (alternating mentors), others in between.
        for weeks_ago in (1, 2, 3, 4):
            start = datetime.combine(today - timedelta(weeks=weeks_ago), time(10 + index, 0), UTC)
            past = Slot(
                mentor_id=mentor.id,
                interview_type_id=types[weeks_ago % 3].id,
                starts_at=start,
                ends_at=start + types[weeks_ago % 3].duration,
                created_by_id=mentor.id,
            )
            db.session.add(past)
            first = weeks_ago % 2 == index % 2
            candidate = candidates[0] if first else candidates[1 + (weeks_ago + index) % (len(candidates) - 1)]
            status = BookingStatus.NO_SHOW if (not first and weeks_ago == 4) else BookingStatus.COMPLETED
            db.session.add(_booking(past, candidate, status, FOCUS_NOTES[weeks_ago % 3]))
            created += 1
        # Upcoming bookings on the second and third open slot.
        for offset, candidate in ((2, candidates[0]), (4, candidates[1 % len(candidates)])):
            if offset < len(slots):
                number = DEMO_PHONES[candidates.index(candidate) % len(DEMO_PHONES)] if phone else None
                db.session.add(
                    _booking(slots[offset], candidate, BookingStatus.BOOKED, FOCUS_NOTES[(offset + index) % 3], number)
                )
    created += _seed_in_person(mentors[0], types[2], candidates[-1], today) if mentors and candidates else 0
    created += _seed_awaiting_feedback(mentors[0], types[0], candidates[-1], today) if mentors and candidates else 0
    db.session.flush()
    return created


def _seed_awaiting_feedback(mentor: User, interview_type: InterviewType, candidate: User, today) -> int:
    """A session two days ago whose outcome and feedback the mentor has not written yet (booked, not completed,
    so the demo feedback leaves it alone)."""
    start = datetime.combine(today - timedelta(days=2), time(16, 0), UTC)
    slot = Slot(
        mentor_id=mentor.id,
        interview_type_id=interview_type.id,
        starts_at=start,
        ends_at=start + interview_type.duration,
        created_by_id=mentor.id,
    )
    db.session.add(slot)
    db.session.add(_booking(slot, candidate, BookingStatus.BOOKED, FOCUS_NOTES[0]))
    return 1


def _seed_in_person(mentor: User, interview_type: InterviewType, candidate: User, today) -> int:
    """Saturday-morning sessions in person with the first mentor, the first of them booked."""
    values = ({6}, time(10, 0), time(11, 30), today + timedelta(days=1), today + timedelta(days=21), 15)
    interview_type, planned = plan_series(mentor, interview_type.id, *values)
    slots = publish_slots(mentor, interview_type, planned, mentor, new_series(mentor, interview_type, *values, mentor))
    if slots:
        db.session.add(_booking(slots[0], candidate, BookingStatus.BOOKED, FOCUS_NOTES[2]))
    return len(slots)
