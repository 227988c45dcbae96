"""Demo feedback for `flask seed-demo`: published rubric feedback on past sessions, improving over time."""

from __future__ import annotations

import sqlalchemy as sa

from portal.db import utcnow
from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from portal.interviews.models import Booking, Slot
from portal.statuses import BookingStatus, FeedbackStatus

NOTES = (
    (
        "Clear explanations of the basics.",
        "Struggled to structure the system design answer.",
        "- Sketch a pipeline end to end\n- Practise SQL window functions",
    ),
    (
        "Much better structure; good questions back to the interviewer.",
        "Monitoring and drift were thin.",
        "- Read about data drift detection\n- Time your answers",
    ),
    ("Confident and concise; solid trade-offs.", "Could quantify impact more.", "- Prepare two stories with numbers"),
)


def seed_feedback() -> int:
    """Published feedback on every completed demo session without any, scores rising over time (once)."""
    bookings = db.session.scalars(
        sa.select(Booking)
        .join(Booking.slot)
        .where(
            Booking.status == BookingStatus.COMPLETED,
            Slot.starts_at < utcnow(),
            ~sa.exists().where(SessionFeedback.booking_id == Booking.id),
        )
        .order_by(Slot.starts_at)
    ).all()
    seen: dict[int, int] = {}
    for booking in bookings:
        step = seen.get(booking.candidate_id, 0)
        seen[booking.candidate_id] = step + 1
        base = min(2 + step // 2, 4)
        strengths, improvements, next_steps = NOTES[min(step, len(NOTES) - 1)]
        db.session.add(
            SessionFeedback(
                booking_id=booking.id,
                mentor_id=booking.slot.mentor_id,
                status=FeedbackStatus.PUBLISHED,
                published_at=booking.slot.ends_at,
                score_python=min(base + 1, 5),
                score_ml=base,
                score_data=base if step % 2 else None,
                score_system_design=max(base - 1, 1) + step // 3,
                score_communication=min(base + step % 2, 5),
                strengths=strengths,
                improvements=improvements,
                next_steps=next_steps,
                readiness=("not_yet", "nearly", "nearly", "ready")[min(step, 3)],
            )
        )
        if step % 2 == 0:
            db.session.add(
                SessionRating(
                    booking_id=booking.id,
                    candidate_id=booking.candidate_id,
                    score=4 + step % 2,
                    comment="Very practical session.",
                )
            )
    db.session.flush()
    return len(bookings)
