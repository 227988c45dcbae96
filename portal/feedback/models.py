"""Interview feedback on a session (with its earlier versions) and the candidate's rating of the session."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, sql_in, status_check, utcnow
from portal.extensions import db
from portal.feedback.rubric import CRITERIA, READINESS
from portal.interviews.models import Booking
from portal.statuses import FeedbackStatus


def _score_checks() -> tuple[sa.CheckConstraint, ...]:
    return tuple(
        sa.CheckConstraint(f"{c.column} IS NULL OR {c.column} BETWEEN 1 AND 5", name=f"{c.column}_range")
        for c in CRITERIA
    )


class FeedbackContent:
    """The fields a mentor writes; shared by the feedback and its saved earlier versions."""

    score_python: Mapped[int | None]
    score_ml: Mapped[int | None]
    score_data: Mapped[int | None]
    score_system_design: Mapped[int | None]
    score_communication: Mapped[int | None]
    strengths: Mapped[str] = mapped_column(sa.Text, default="")
    improvements: Mapped[str] = mapped_column(sa.Text, default="")
    next_steps: Mapped[str] = mapped_column(sa.Text, default="")
    readiness: Mapped[str | None] = mapped_column(sa.String(10))

    def score(self, key: str) -> int | None:
        return getattr(self, f"score_{key}")

    def content(self) -> dict:
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


CONTENT_FIELDS = (*(c.column for c in CRITERIA), "strengths", "improvements", "next_steps", "readiness")


class SessionFeedback(FeedbackContent, db.Model):
    __tablename__ = "session_feedback"
    __table_args__ = (
        *_score_checks(),
        status_check(FeedbackStatus),
        sa.CheckConstraint(f"readiness IS NULL OR {sql_in('readiness', READINESS)}", name="readiness_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    mentor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=FeedbackStatus.DRAFT)
    version: Mapped[int] = mapped_column(default=1)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    booking: Mapped[Booking] = relationship()
    mentor: Mapped[User | None] = relationship()

    @property
    def is_published(self) -> bool:
        return self.status == FeedbackStatus.PUBLISHED


class FeedbackRevision(FeedbackContent, db.Model):
    """The published text as it was before an edit."""

    __tablename__ = "feedback_revisions"
    __table_args__ = (*_score_checks(), sa.UniqueConstraint("feedback_id", "version"))

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(sa.ForeignKey("session_feedback.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class SessionRating(db.Model):
    """The candidate's rating of a session: one per booking, private to admins."""

    __tablename__ = "session_ratings"
    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
