"""Reports for a date range, and CSV exports streamed row by row."""

from __future__ import annotations

import csv
import io
import statistics
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from portal.auth.models import User
from portal.cvs.models import CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from portal.feedback.rubric import CRITERIA
from portal.feedback.services import criterion_averages, mentor_ratings
from portal.interviews.models import Booking, InterviewType, Slot
from portal.statuses import SESSION, BookingStatus, FeedbackStatus, ReviewStatus, SlotStatus
from portal.timeutil import to_local, zone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Waitlist offers (held, lapsed) are not bookings: reports count what candidates booked.
BOOKED = (*SESSION, BookingStatus.CANCELLED)


def neutralise(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def bookings_per_week(start: datetime, end: datetime, zone_name: str) -> list[tuple[date, int]]:
    """Bookings whose session falls in each week (from Monday, in the viewer's zone) of the range; empty weeks
    included. The database counts them, one bucket per week (weeks begin at local midnight, clock changes and all).
    """
    mondays = []
    monday = week_start(to_local(start, zone_name).date())
    while monday < to_local(end, zone_name).date():
        mondays.append(monday)
        monday += timedelta(days=7)
    if not mondays:
        return []
    tz = zone(zone_name)
    week_ends = [datetime.combine(monday + timedelta(days=7), time.min, tz).astimezone(UTC) for monday in mondays]
    bucket = sa.case(*((Slot.starts_at < week_end, index) for index, week_end in enumerate(week_ends)))
    rows = db.session.execute(
        sa.select(bucket, sa.func.count(Booking.id))
        .join(Booking, Booking.slot_id == Slot.id)
        .where(Slot.starts_at >= start, Slot.starts_at < end, Booking.status.in_(BOOKED))
        .group_by(bucket)
    )
    counts = {index: int(count) for index, count in rows if index is not None}
    return [(monday, counts.get(index, 0)) for index, monday in enumerate(mondays)]


def utilisation(start: datetime, end: datetime) -> list[tuple[str, int, int]]:
    """(mentor, booked slots, offered slots) for open slots in the range."""
    live = sa.exists().where(Booking.slot_id == Slot.id, Booking.status.in_(SESSION))
    rows = db.session.execute(
        sa.select(User.name, sa.func.count(Slot.id).filter(live), sa.func.count(Slot.id))
        .join(Slot, Slot.mentor_id == User.id)
        .where(Slot.starts_at >= start, Slot.starts_at < end, Slot.status == SlotStatus.OPEN)
        .group_by(User.id, User.name)
        .order_by(User.name)
    )
    return [(name, int(booked), int(offered)) for name, booked, offered in rows]


def outcome_rates(start: datetime, end: datetime) -> dict[str, float | int | None]:
    """Of the sessions in the range that have taken place: completed and no-show shares; of every booking made
    for the range: the share cancelled late."""
    row = db.session.execute(
        sa.select(
            sa.func.count(Booking.id).filter(Booking.status == BookingStatus.COMPLETED),
            sa.func.count(Booking.id).filter(Booking.status == BookingStatus.NO_SHOW),
            sa.func.count(Booking.id).filter(Booking.status.in_(SESSION), Slot.starts_at <= utcnow()),
            sa.func.count(Booking.id).filter(Booking.late_cancellation.is_(True)),
            sa.func.count(Booking.id),
        )
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Slot.starts_at >= start, Slot.starts_at < end, Booking.status.in_(BOOKED))
    ).one()
    completed, no_show, held, late, total = (int(value) for value in row)
    return {
        "completed": completed,
        "no_show": no_show,
        "held": held,
        "late": late,
        "total": total,
        "completion_rate": completed / held if held else None,
        "no_show_rate": no_show / held if held else None,
        "late_cancel_rate": late / total if total else None,
    }


def median_review_turnaround(start: datetime, end: datetime) -> float | None:
    """Median hours from request to published feedback, for reviews completed in the range."""
    rows = db.session.execute(
        sa.select(CVReview.created_at, CVReview.completed_at).where(
            CVReview.status == ReviewStatus.COMPLETED, CVReview.completed_at >= start, CVReview.completed_at < end
        )
    )
    hours = [(done - asked).total_seconds() / 3600 for asked, done in rows if done and asked]
    return statistics.median(hours) if hours else None


FIGURES_KEPT = 32
LONGEST_RANGE = timedelta(days=731)
FIGURES_MAX_AGE = timedelta(minutes=10)


def data_version() -> tuple:
    """Changes whenever a row the reports read is added or changed (one query, each part an index lookup)."""
    parts = [
        sa.select(sa.func.max(model.updated_at)).scalar_subquery()
        for model in (Booking, Slot, SessionFeedback, CVReview, User)
    ]
    parts.append(sa.select(sa.func.max(SessionRating.id)).scalar_subquery())
    return tuple(db.session.execute(sa.select(*parts)).one())


@dataclass
class Figures:
    computed_at: datetime
    data: dict


_figures_lock = threading.Lock()


def figures(start: datetime, end: datetime, zone_name: str) -> Figures:
    """The dashboard for a range, worked out again only when the data changed (or after FIGURES_MAX_AGE, which
    also catches rows deleted and sessions that started meanwhile); kept per process, most recent ranges first."""
    store: OrderedDict = current_app.extensions.setdefault("report_figures", OrderedDict())
    key = (start, end, zone_name, data_version())
    now = utcnow()
    with _figures_lock:
        kept = store.get(key)
        if kept is not None and timedelta(0) <= now - kept.computed_at < FIGURES_MAX_AGE:
            store.move_to_end(key)
            return kept
    result = Figures(now, dashboard(start, end, zone_name))
    with _figures_lock:
        store[key] = result
        while len(store) > FIGURES_KEPT:
            store.popitem(last=False)
    return result


def dashboard(start: datetime, end: datetime, zone_name: str) -> dict:
    return {
        "weeks": bookings_per_week(start, end, zone_name),
        "utilisation": utilisation(start, end),
        "rates": outcome_rates(start, end),
        "turnaround": median_review_turnaround(start, end),
        "rubric": criterion_averages(start, end),
        "ratings": mentor_ratings(start, end),
    }


# CSV exports ----------------------------------------------------------------------------------------------


def _bookings_rows(start: datetime, end: datetime):
    mentor = aliased(User)
    candidate = aliased(User)
    header = (
        "booking_id",
        "session_start_utc",
        "session_end_utc",
        "interview_type",
        "mentor",
        "candidate",
        "candidate_email",
        "status",
        "late_cancellation",
        "reschedules",
        "focus_note",
        "booked_at_utc",
        "cancelled_at_utc",
        "cancel_reason",
    )
    statement = (
        sa.select(
            Booking.id,
            Slot.starts_at,
            Slot.ends_at,
            InterviewType.name,
            mentor.name,
            candidate.name,
            candidate.email,
            Booking.status,
            Booking.late_cancellation,
            Booking.reschedule_count,
            Booking.focus_note,
            Booking.created_at,
            Booking.cancelled_at,
            Booking.cancel_reason,
        )
        .join(Slot, Slot.id == Booking.slot_id)
        .join(InterviewType, InterviewType.id == Slot.interview_type_id)
        .join(mentor, mentor.id == Slot.mentor_id)
        .join(candidate, candidate.id == Booking.candidate_id)
        .where(Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at, Booking.id)
    )
    return header, statement


def _reviews_rows(start: datetime, end: datetime):
    reviewer = aliased(User)
    candidate = aliased(User)
    header = (
        "review_id",
        "candidate",
        "candidate_email",
        "document",
        "target_role",
        "status",
        "verdict",
        "reviewer",
        "requested_at_utc",
        "claimed_at_utc",
        "completed_at_utc",
    )
    statement = (
        sa.select(
            CVReview.id,
            candidate.name,
            candidate.email,
            CVReview.document_name,
            CVReview.target_role,
            CVReview.status,
            CVReview.verdict,
            reviewer.name,
            CVReview.created_at,
            CVReview.claimed_at,
            CVReview.completed_at,
        )
        .join(candidate, candidate.id == CVReview.candidate_id)
        .outerjoin(reviewer, reviewer.id == CVReview.reviewer_id)
        .where(CVReview.created_at >= start, CVReview.created_at < end)
        .order_by(CVReview.created_at, CVReview.id)
    )
    return header, statement


def _feedback_rows(start: datetime, end: datetime):
    mentor = aliased(User)
    candidate = aliased(User)
    scores = [getattr(SessionFeedback, c.column) for c in CRITERIA]
    header = (
        "feedback_id",
        "booking_id",
        "session_start_utc",
        "interview_type",
        "mentor",
        "candidate",
        *(c.column for c in CRITERIA),
        "readiness",
        "published_at_utc",
        "edited_at_utc",
    )
    statement = (
        sa.select(
            SessionFeedback.id,
            Booking.id,
            Slot.starts_at,
            InterviewType.name,
            mentor.name,
            candidate.name,
            *scores,
            SessionFeedback.readiness,
            SessionFeedback.published_at,
            SessionFeedback.edited_at,
        )
        .join(Booking, Booking.id == SessionFeedback.booking_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(InterviewType, InterviewType.id == Slot.interview_type_id)
        .join(mentor, mentor.id == Slot.mentor_id)
        .join(candidate, candidate.id == Booking.candidate_id)
        .where(SessionFeedback.status == FeedbackStatus.PUBLISHED, Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at, SessionFeedback.id)
    )
    return header, statement


EXPORTS = {"bookings": _bookings_rows, "cv-reviews": _reviews_rows, "feedback": _feedback_rows}


def stream_csv(kind: str, start: datetime, end: datetime, batch: int = 1000) -> Iterator[str]:
    """The export as CSV text in chunks: the database cursor is read `batch` rows at a time."""
    header, statement = EXPORTS[kind](start, end)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield buffer.getvalue()
    result = db.session.execute(statement.execution_options(yield_per=batch))
    for rows in result.partitions():
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([neutralise(value) for value in row] for row in rows)
        yield buffer.getvalue()
    result.close()
