"""Interview feedback: write, publish and edit with history; ratings; the mentor's to-do list; progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from portal import events, rules
from portal.audit.services import record
from portal.auth.models import User
from portal.cvs.models import CVReview
from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.feedback.models import CONTENT_FIELDS, FeedbackRevision, SessionFeedback, SessionRating
from portal.feedback.rubric import CRITERIA, READINESS
from portal.interviews.models import Booking, Slot
from portal.links import public_path
from portal.statuses import TAKES_FEEDBACK, BookingStatus, FeedbackStatus, ReviewStatus

OVERDUE_AFTER = timedelta(hours=48)


class FeedbackRefused(DomainError):
    pass


def load_session(booking_id: int, user: User) -> tuple[Booking, SessionFeedback | None]:
    """A booking its candidate, its mentor or an admin may open, with its feedback; NotFound for anyone else."""
    booking = db.session.get(
        Booking,
        booking_id,
        options=[
            joinedload(Booking.slot).joinedload(Slot.mentor),
            joinedload(Booking.slot).joinedload(Slot.interview_type),
            joinedload(Booking.candidate),
        ],
    )
    if booking is None or not rules.can_view_booking(user, booking):
        raise NotFound("No such session.")
    feedback = db.session.scalar(sa.select(SessionFeedback).where(SessionFeedback.booking_id == booking.id))
    if user.id == booking.candidate_id and not user.is_admin and (feedback is None or not feedback.is_published):
        feedback = None  # drafts are the mentor's own
    return booking, feedback


NO_LONGER_MENTOR = (
    "Only mentors write session feedback, and your account is no longer a mentor's. "
    "The career services team can see which of your sessions still need feedback."
)


def check_can_write(booking: Booking, mentor: User) -> None:
    if mentor.id != booking.slot.mentor_id:
        raise NotFound("No such session.")
    if not mentor.is_mentor:
        raise FeedbackRefused(NO_LONGER_MENTOR)
    refusal = rules.feedback_refusal(booking, utcnow())
    if refusal:
        raise FeedbackRefused(refusal)


def save_feedback(booking: Booking, mentor: User, values: dict, publish: bool) -> SessionFeedback:
    """Save a draft, or publish (the booking then counts as completed); editing a published one keeps its history."""
    check_can_write(booking, mentor)
    feedback = db.session.scalar(sa.select(SessionFeedback).where(SessionFeedback.booking_id == booking.id))
    if feedback is None:
        feedback = SessionFeedback(booking_id=booking.id, mentor_id=mentor.id)
        db.session.add(feedback)
    was_published = feedback.is_published
    if was_published:
        # Keep the text the candidate has seen before it changes.
        db.session.add(
            FeedbackRevision(
                feedback_id=feedback.id,
                version=feedback.version,
                published_at=feedback.edited_at or feedback.published_at,
                replaced_by_id=mentor.id,
                **feedback.content(),
            )
        )
    for name in CONTENT_FIELDS:
        value = values.get(name)
        if name.startswith("score_"):
            if value is not None and not (isinstance(value, int) and 1 <= value <= 5):
                raise DomainError("Scores go from 1 to 5.", field=name)
        elif name == "readiness":
            if value and value not in READINESS:
                raise DomainError("Choose how ready the candidate is.", field="readiness")
            value = value or None
        else:
            value = (value or "").strip()
        setattr(feedback, name, value)
    if publish or was_published:
        if all(feedback.score(c.key) is None for c in CRITERIA):
            raise DomainError("Score at least one criterion before publishing.", field=CRITERIA[0].column)
        if not feedback.readiness:
            raise DomainError("Choose how ready the candidate is before publishing.", field="readiness")
    now = utcnow()
    if was_published:
        feedback.version += 1
        feedback.edited_at = now
    elif publish:
        feedback.status = FeedbackStatus.PUBLISHED
        feedback.published_at = now
        if booking.status != BookingStatus.COMPLETED:
            booking.complete(booking.outcome_at or now)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError("This feedback was changed by someone else a moment ago. Reload and try again.") from error
    if publish or was_published:
        events.feedback_published.send(feedback, booking=booking, mentor=mentor, edited=was_published)
    return feedback


def note_unwritten_feedback(mentor: User, by: User, why: str) -> list[int]:
    """Audit which of `mentor`'s past sessions still await their feedback when they stop being a mentor.

    Their drafts stay with the sessions (they are the only record of what was seen, and are theirs again if the
    role comes back); the entry tells admins which candidates still wait, to follow up. Returns the booking ids.
    """
    waiting = [booking.id for booking in db.session.scalars(awaiting_feedback_query(mentor.id)).unique()]
    if waiting:
        record(
            by,
            "feedback.left_unwritten",
            "user",
            mentor.id,
            f"{mentor.name} {why}; {len(waiting)} session(s) still await their feedback",
            None,
            {"booking_ids": waiting},
        )
    return waiting


def revisions(feedback: SessionFeedback) -> list[FeedbackRevision]:
    return list(
        db.session.scalars(
            sa.select(FeedbackRevision)
            .where(FeedbackRevision.feedback_id == feedback.id)
            .order_by(FeedbackRevision.version.desc())
        )
    )


def rate_session(booking: Booking, candidate: User, score: int, comment: str) -> SessionRating:
    """The candidate rates a session once, when its feedback is published or it is over."""
    if candidate.id != booking.candidate_id:
        raise NotFound("No such session.")
    published = db.session.scalar(
        sa.select(SessionFeedback.id).where(
            SessionFeedback.booking_id == booking.id, SessionFeedback.status == FeedbackStatus.PUBLISHED
        )
    )
    refusal = rules.rating_refusal(booking, published is not None, already_rated=False, now=utcnow())
    if refusal:
        raise FeedbackRefused(refusal)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise DomainError("Choose a rating from 1 to 5.", field="score")
    rating = SessionRating(
        booking_id=booking.id, candidate_id=candidate.id, score=score, comment=(comment or "").strip()[:2000]
    )
    try:
        with db.session.begin_nested():
            db.session.add(rating)
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise FeedbackRefused("You have already rated this session. Thank you!") from error
    return rating


def rating_for(booking: Booking) -> SessionRating | None:
    return db.session.scalar(sa.select(SessionRating).where(SessionRating.booking_id == booking.id))


def awaiting_feedback_query(mentor_id: int | None = None, older_than: timedelta | None = None) -> sa.Select:
    """Sessions that have started, took place, and have no published feedback; oldest first."""
    cutoff = utcnow() - (older_than or timedelta())
    published = sa.exists().where(
        SessionFeedback.booking_id == Booking.id, SessionFeedback.status == FeedbackStatus.PUBLISHED
    )
    statement = (
        sa.select(Booking)
        .join(Booking.slot)
        .options(
            contains_eager(Booking.slot).joinedload(Slot.interview_type),
            contains_eager(Booking.slot).joinedload(Slot.mentor),
            joinedload(Booking.candidate),
        )
        .where(Booking.status.in_(TAKES_FEEDBACK), Slot.starts_at <= cutoff, ~published)
        .order_by(Slot.starts_at, Booking.id)
    )
    if mentor_id is not None:
        statement = statement.where(Slot.mentor_id == mentor_id)
    return statement


def draft_booking_ids(booking_ids: list[int]) -> set[int]:
    if not booking_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(SessionFeedback.booking_id).where(
                SessionFeedback.booking_id.in_(booking_ids), SessionFeedback.status == FeedbackStatus.DRAFT
            )
        )
    )


# Progress ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "interview" or "cv"
    title: str
    summary: str
    link: str


def published_feedback(candidate: User) -> list[SessionFeedback]:
    """The candidate's published interview feedback, oldest first, with session, type and mentor (one query)."""
    return list(
        db.session.scalars(
            sa.select(SessionFeedback)
            .join(SessionFeedback.booking)
            .join(Booking.slot)
            .options(
                contains_eager(SessionFeedback.booking).contains_eager(Booking.slot).joinedload(Slot.interview_type),
                contains_eager(SessionFeedback.booking).contains_eager(Booking.slot).joinedload(Slot.mentor),
            )
            .where(Booking.candidate_id == candidate.id, SessionFeedback.status == FeedbackStatus.PUBLISHED)
            .order_by(Slot.starts_at, SessionFeedback.id)
        ).unique()
    )


def progress(candidate: User) -> dict:
    """Everything the progress page shows: timeline, chart series, latest readiness, what to practise next."""
    feedback = published_feedback(candidate)
    reviews = db.session.scalars(
        sa.select(CVReview)
        .options(joinedload(CVReview.reviewer))
        .where(CVReview.candidate_id == candidate.id, CVReview.status == ReviewStatus.COMPLETED)
        .order_by(CVReview.completed_at)
    ).all()
    timeline = [
        TimelineEntry(
            item.booking.slot.starts_at,
            "interview",
            f"{item.booking.slot.interview_type.name} with {item.booking.slot.mentor.name}",
            READINESS.get(item.readiness or "", ""),
            public_path("feedback.session", booking_id=item.booking_id),
        )
        for item in feedback
    ]
    timeline += [
        TimelineEntry(
            review.completed_at or review.updated_at,
            "cv",
            f"CV review: {review.document_name}",
            review.verdict_label,
            public_path("reviews.review", review_id=review.id),
        )
        for review in reviews
    ]
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    series = {
        c.key: [(item.booking.slot.starts_at, item.score(c.key)) for item in feedback if item.score(c.key) is not None]
        for c in CRITERIA
    }
    latest = feedback[-1] if feedback else None
    focus = lowest_recent(series)
    return {"feedback": feedback, "timeline": timeline, "series": series, "latest": latest, "focus": focus}


def lowest_recent(series: dict[str, list[tuple[datetime, int]]], recent: int = 3) -> list[tuple[str, float]]:
    """The three criteria with the lowest average over their last `recent` scores."""
    averages = [
        (key, sum(score for _, score in points[-recent:]) / len(points[-recent:]))
        for key, points in series.items()
        if points
    ]
    return sorted(averages, key=lambda pair: (pair[1], pair[0]))[:3]


# Admin overview -------------------------------------------------------------------------------------------


def _sessions_between(statement: sa.Select, start: datetime | None, end: datetime | None) -> sa.Select:
    if start is not None:
        statement = statement.where(Slot.starts_at >= start)
    if end is not None:
        statement = statement.where(Slot.starts_at < end)
    return statement


def mentor_ratings(start: datetime | None = None, end: datetime | None = None) -> list[tuple[str, float, int]]:
    """(mentor name, average rating, number of ratings) for sessions in a range (default: all), best first."""
    statement = (
        sa.select(User.name, sa.func.avg(SessionRating.score), sa.func.count(SessionRating.id))
        .join(Booking, Booking.id == SessionRating.booking_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(User, User.id == Slot.mentor_id)
        .group_by(User.id, User.name)
        .order_by(sa.func.avg(SessionRating.score).desc(), User.name)
    )
    rows = db.session.execute(_sessions_between(statement, start, end))
    return [(name, float(average), int(count)) for name, average, count in rows]


def criterion_averages(
    start: datetime | None = None, end: datetime | None = None
) -> list[tuple[str, float | None, int]]:
    """(criterion, average score, number of scores) over published feedback on sessions in a range (one query)."""
    columns = []
    for criterion in CRITERIA:
        column = getattr(SessionFeedback, criterion.column)
        columns += [sa.func.avg(column), sa.func.count(column)]
    statement = (
        sa.select(*columns)
        .select_from(SessionFeedback)
        .join(Booking, Booking.id == SessionFeedback.booking_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(SessionFeedback.status == FeedbackStatus.PUBLISHED)
    )
    row = db.session.execute(_sessions_between(statement, start, end)).one()
    return [
        (criterion.name, float(row[2 * i]) if row[2 * i] is not None else None, int(row[2 * i + 1]))
        for i, criterion in enumerate(CRITERIA)
    ]
