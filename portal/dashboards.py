"""What each person's home page shows once they sign in: their workspace, gathered from every part of the portal.

Each function returns plain data for one role, in a few queries whatever the size of the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from portal.auth.models import User
from portal.cvs.models import CVDocument, CVReview
from portal.extensions import db
from portal.feedback import services as feedback_services
from portal.feedback.models import SessionFeedback
from portal.feedback.rubric import CRITERIA_BY_KEY, Criterion
from portal.interviews.meeting import mentor_links
from portal.interviews.models import Booking, InterviewType, Slot
from portal.mail import OutboxEmail
from portal.statuses import (
    IN_LINE,
    SESSION,
    BookingStatus,
    EmailStatus,
    ReviewStatus,
)
from portal.timeutil import to_local
from portal.waitlist.models import WaitlistEntry

UNCLAIMED_TOO_LONG = timedelta(days=3)
FEEDBACK_OVERDUE = timedelta(hours=48)
SHOWN = 5  # items of each list on a dashboard; each has a link to its full page


@dataclass
class NextStep:
    text: str
    endpoint: str
    label: str
    values: dict = field(default_factory=dict)


@dataclass
class CandidateHome:
    next_session: Booking | None
    upcoming: int
    holds: list[Booking]
    current_cv: CVDocument | None
    latest_review: CVReview | None
    latest_feedback: SessionFeedback | None
    top_improvement: str | None
    weakest: Criterion | None
    weakest_average: float | None
    practise_type: InterviewType | None
    steps: list[NextStep]
    meeting_links: dict[int, str | None]  # the next session's mentor's own meeting link, looked up once


def _first_line(text: str) -> str | None:
    for line in (text or "").splitlines():
        line = line.strip(" -*•\t")
        if line:
            return line
    return None


def candidate_home(candidate: User, now: datetime) -> CandidateHome:
    """The next session, offers waiting, the CV and its review, the latest feedback and what to practise next."""
    upcoming = (
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.slot)
            .options(
                contains_eager(Booking.slot).joinedload(Slot.mentor),
                contains_eager(Booking.slot).joinedload(Slot.interview_type),
            )
            .where(
                Booking.candidate_id == candidate.id,
                Booking.status.in_((BookingStatus.BOOKED, BookingStatus.HELD)),
                Slot.ends_at > now,
            )
            .order_by(Slot.starts_at)
            .limit(25)
        )
        .unique()
        .all()
    )
    sessions = [booking for booking in upcoming if booking.status == BookingStatus.BOOKED]
    holds = [booking for booking in upcoming if booking.hold_is_active(now)]
    current_cv = db.session.scalar(
        sa.select(CVDocument).where(CVDocument.candidate_id == candidate.id, CVDocument.is_current.is_(True))
    )
    latest_review = db.session.scalar(
        sa.select(CVReview)
        .where(CVReview.candidate_id == candidate.id)
        .order_by(CVReview.created_at.desc(), CVReview.id.desc())
        .limit(1)
    )
    feedback = feedback_services.published_feedback(candidate)
    latest = feedback[-1] if feedback else None
    series = {
        key: [(item.booking.slot.starts_at, item.score(key)) for item in feedback if item.score(key) is not None]
        for key in CRITERIA_BY_KEY
    }
    lowest = feedback_services.lowest_recent(series)
    weakest = CRITERIA_BY_KEY[lowest[0][0]] if lowest else None
    practise_type = None
    if weakest is not None:
        practise_type = db.session.scalar(
            sa.select(InterviewType)
            .where(InterviewType.active.is_(True), sa.func.lower(InterviewType.name).contains(weakest.practised_in))
            .order_by(InterviewType.name)
            .limit(1)
        )
    steps = _candidate_steps(bool(sessions), holds, current_cv, latest_review, latest)
    return CandidateHome(
        next_session=sessions[0] if sessions else None,
        meeting_links=mentor_links({sessions[0].slot.mentor_id}) if sessions else {},
        upcoming=len(sessions),
        holds=holds,
        current_cv=current_cv,
        latest_review=latest_review,
        latest_feedback=latest,
        top_improvement=_first_line(latest.improvements) if latest else None,
        weakest=weakest,
        weakest_average=lowest[0][1] if lowest else None,
        practise_type=practise_type,
        steps=steps,
    )


def _candidate_steps(booked, holds, current_cv, latest_review, latest_feedback) -> list[NextStep]:
    """What to do next, most useful first: it changes with what the candidate has done."""
    steps = []
    for hold in holds:
        steps.append(
            NextStep(
                f"A {hold.slot.interview_type.name} slot is held for you.",
                "waitlist.offer",
                "See the offer",
                {"booking_id": hold.id},
            )
        )
    if current_cv is None:
        steps.append(
            NextStep(
                "Upload your CV: you get an instant check, and a mentor can review it.", "cvs.index", "Upload a CV"
            )
        )
    elif latest_review is None or (
        latest_review.cv_document_id != current_cv.id
        and latest_review.status not in (ReviewStatus.REQUESTED, ReviewStatus.CLAIMED)
    ):
        steps.append(
            NextStep(
                "Ask a mentor to review your current CV.",
                "cvs.detail",
                "Ask for a review",
                {"document_id": current_cv.id},
            )
        )
    if not booked:
        steps.append(NextStep("Book a mock interview with a mentor.", "interviews.slots", "See open sessions"))
    if latest_feedback is not None:
        steps.append(NextStep("Follow your scores over time.", "feedback.progress", "See your progress"))
    steps.append(NextStep("Read what a machine learning engineer actually does.", "pages.guide", "Read the guide"))
    return steps


@dataclass
class AgendaDay:
    day: date
    sessions: list[Booking]


@dataclass
class MentorHome:
    agenda: list[AgendaDay]
    today: date
    queue_waiting: int
    queue_oldest: list[CVReview]
    reviewing: int
    feedback_due: int
    feedback_oldest: list[Booking]
    meeting_links: dict[int, str | None]  # the mentor's own meeting link, looked up once for the whole agenda


def mentor_home(mentor: User, now: datetime) -> MentorHome:
    """Today's and this week's sessions by day, CV reviews waiting, feedback still to write (overdue first)."""
    zone_name = mentor.timezone
    today = to_local(now, zone_name).date()
    week = (
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.slot)
            .options(contains_eager(Booking.slot).joinedload(Slot.interview_type), joinedload(Booking.candidate))
            .where(
                Slot.mentor_id == mentor.id,
                Booking.status == BookingStatus.BOOKED,
                Slot.ends_at > now,
                Slot.starts_at < now + timedelta(days=7),
            )
            .order_by(Slot.starts_at)
            .limit(50)
        )
        .unique()
        .all()
    )
    agenda = [
        AgendaDay(day, list(sessions))
        for day, sessions in groupby(week, key=lambda booking: to_local(booking.slot.starts_at, zone_name).date())
    ]
    waiting = sa.select(CVReview).where(CVReview.status == ReviewStatus.REQUESTED)
    queue_waiting = db.session.scalar(sa.select(sa.func.count()).select_from(waiting.subquery()))
    queue_oldest = db.session.scalars(
        waiting.options(joinedload(CVReview.candidate)).order_by(CVReview.created_at, CVReview.id).limit(3)
    ).all()
    reviewing = db.session.scalar(
        sa.select(sa.func.count(CVReview.id)).where(
            CVReview.reviewer_id == mentor.id, CVReview.status == ReviewStatus.CLAIMED
        )
    )
    due = feedback_services.awaiting_feedback_query(mentor.id)
    feedback_due = db.session.scalar(sa.select(sa.func.count()).select_from(due.order_by(None).subquery()))
    feedback_oldest = db.session.scalars(due.limit(SHOWN)).unique().all()
    return MentorHome(
        agenda,
        today,
        queue_waiting or 0,
        list(queue_oldest),
        reviewing or 0,
        feedback_due or 0,
        list(feedback_oldest),
        mentor_links({mentor.id}) if week else {},
    )


@dataclass
class AdminHome:
    today_sessions: list[Booking]
    today_count: int
    unclaimed_count: int
    unclaimed_oldest: list[CVReview]
    overdue_count: int
    overdue_oldest: list[Booking]
    failed_emails: int
    demand: list[tuple[str, int]]


def admin_home(admin: User, now: datetime) -> AdminHome:
    """Today across all mentors, reviews nobody has claimed for three days, sessions still without feedback after
    48 hours, failed emails, and who is waiting for which interview type."""
    zone_name = admin.timezone
    local_today = to_local(now, zone_name)
    day_start = local_today.replace(hour=0, minute=0, second=0, microsecond=0)
    today = (
        sa.select(Booking)
        .join(Booking.slot)
        .where(
            Booking.status.in_(SESSION),
            Slot.starts_at >= day_start,
            Slot.starts_at < day_start + timedelta(days=1),
        )
    )
    today_count = db.session.scalar(sa.select(sa.func.count()).select_from(today.subquery()))
    today_sessions = (
        db.session.scalars(
            today.options(
                contains_eager(Booking.slot).joinedload(Slot.mentor),
                contains_eager(Booking.slot).joinedload(Slot.interview_type),
                joinedload(Booking.candidate),
            )
            .order_by(Slot.starts_at)
            .limit(SHOWN * 2)
        )
        .unique()
        .all()
    )
    unclaimed = sa.select(CVReview).where(
        CVReview.status == ReviewStatus.REQUESTED, CVReview.created_at < now - UNCLAIMED_TOO_LONG
    )
    unclaimed_count = db.session.scalar(sa.select(sa.func.count()).select_from(unclaimed.subquery()))
    unclaimed_oldest = db.session.scalars(
        unclaimed.options(joinedload(CVReview.candidate)).order_by(CVReview.created_at).limit(SHOWN)
    ).all()
    overdue = feedback_services.awaiting_feedback_query(older_than=FEEDBACK_OVERDUE)
    overdue_count = db.session.scalar(sa.select(sa.func.count()).select_from(overdue.order_by(None).subquery()))
    overdue_oldest = db.session.scalars(overdue.limit(SHOWN)).unique().all()
    failed_emails = db.session.scalar(
        sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.status == EmailStatus.FAILED)
    )
    demand = db.session.execute(
        sa.select(InterviewType.name, sa.func.count(WaitlistEntry.id))
        .join(WaitlistEntry, WaitlistEntry.interview_type_id == InterviewType.id)
        .where(WaitlistEntry.status.in_(IN_LINE))
        .group_by(InterviewType.id, InterviewType.name)
        .order_by(sa.func.count(WaitlistEntry.id).desc(), InterviewType.name)
    ).all()
    return AdminHome(
        list(today_sessions),
        today_count or 0,
        unclaimed_count or 0,
        list(unclaimed_oldest),
        overdue_count or 0,
        list(overdue_oldest),
        failed_emails or 0,
        [(name, int(count)) for name, count in demand],
    )
