"""CV versions and mentor reviews of them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, sql_in, status_check, utcnow
from portal.extensions import db
from portal.statuses import REVIEW_STATUS_LABELS, ReviewStatus

_OPEN_SQL = sql_in("status", (ReviewStatus.REQUESTED, ReviewStatus.CLAIMED))

VERDICTS = {"approved": "Approved", "changes_suggested": "Changes suggested", "changes_required": "Changes required"}
SECTIONS = (
    ("comment_summary", "Summary"),
    ("comment_experience", "Experience and impact"),
    ("comment_skills", "Skills"),
    ("comment_projects", "Projects and portfolio"),
    ("comment_presentation", "Presentation"),
)


class CVDocument(db.Model):
    """One uploaded version of a candidate's CV; the file itself lives in storage under `storage_key`."""

    __tablename__ = "cv_documents"
    __table_args__ = (
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
        # At most one current version per candidate.
        sa.Index(
            "uq_cv_documents_current",
            "candidate_id",
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    media_type: Mapped[str] = mapped_column(sa.String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    page_count: Mapped[int | None]
    word_count: Mapped[int] = mapped_column(default=0)
    # Loaded only where it is read (the instant check, the diff): lists of versions never need it.
    extracted_text: Mapped[str] = mapped_column(sa.Text, default="", deferred=True)
    links: Mapped[str] = mapped_column(sa.Text, default="")  # web addresses behind hyperlinks, one a line
    is_current: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the retention policy removed the stored file and its extracted text; the version and its reviews stay.
    file_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidate: Mapped[User] = relationship()

    @property
    def file_removed(self) -> bool:
        return self.file_removed_at is not None

    @property
    def extension(self) -> str:
        return "pdf" if self.media_type == "application/pdf" else "docx"

    @property
    def kind_label(self) -> str:
        return "PDF" if self.extension == "pdf" else "Word"


class CVReview(db.Model):
    """A candidate's request for a mentor to review one CV version, and the mentor's structured feedback."""

    __tablename__ = "cv_reviews"
    __table_args__ = (
        status_check(ReviewStatus),
        sa.CheckConstraint(f"verdict IS NULL OR {sql_in('verdict', VERDICTS)}", name="verdict_known"),
        sa.CheckConstraint(
            f"{sql_in('status', (ReviewStatus.REQUESTED, ReviewStatus.WITHDRAWN))} OR reviewer_id IS NOT NULL",
            name="claimed_has_reviewer",
        ),
        # One open request per CV version.
        sa.Index(
            "uq_cv_reviews_open_document",
            "cv_document_id",
            unique=True,
            sqlite_where=sa.text(_OPEN_SQL),
            postgresql_where=sa.text(_OPEN_SQL),
        ),
        sa.Index("ix_cv_reviews_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cv_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cv_documents.id", ondelete="SET NULL"))
    document_name: Mapped[str] = mapped_column(sa.String(120))
    previous_review_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cv_reviews.id", ondelete="SET NULL"))
    target_role: Mapped[str] = mapped_column(sa.String(200))
    questions: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(12), default=ReviewStatus.REQUESTED)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verdict: Mapped[str | None] = mapped_column(sa.String(20))
    comment_summary: Mapped[str] = mapped_column(sa.Text, default="")
    comment_experience: Mapped[str] = mapped_column(sa.Text, default="")
    comment_skills: Mapped[str] = mapped_column(sa.Text, default="")
    comment_projects: Mapped[str] = mapped_column(sa.Text, default="")
    comment_presentation: Mapped[str] = mapped_column(sa.Text, default="")
    strengths: Mapped[str] = mapped_column(sa.Text, default="")
    improvement_1: Mapped[str] = mapped_column(sa.String(500), default="")
    improvement_2: Mapped[str] = mapped_column(sa.String(500), default="")
    improvement_3: Mapped[str] = mapped_column(sa.String(500), default="")
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    document: Mapped[CVDocument | None] = relationship()
    previous_review: Mapped[CVReview | None] = relationship(remote_side=[id])

    @property
    def status_label(self) -> str:
        return REVIEW_STATUS_LABELS[self.status]

    @property
    def verdict_label(self) -> str:
        return VERDICTS.get(self.verdict or "", "")

    @property
    def improvements(self) -> list[str]:
        return [text for text in (self.improvement_1, self.improvement_2, self.improvement_3) if text]
