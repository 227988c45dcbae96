"""Data exports: a zip of everything the portal holds about one person, built by the worker, kept for a few days."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, sql_in, status_check, utcnow
from portal.extensions import db


class ExportStatus(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


EXPORT_STATUS_LABELS = {
    ExportStatus.QUEUED: "Being prepared",
    ExportStatus.BUILDING: "Being prepared",
    ExportStatus.READY: "Ready to download",
    ExportStatus.FAILED: "Could not be prepared",
}
IN_PROGRESS = (ExportStatus.QUEUED, ExportStatus.BUILDING)
_IN_PROGRESS_SQL = sql_in("status", IN_PROGRESS)


class DataExport(db.Model):
    """One request for a copy of a person's data: by the person themself, or by an admin who sends it on to them.

    The zip is stored under `storage_key`, chosen when the export is requested, so building it again (a worker that
    was stopped halfway) replaces the same file instead of leaving a second one behind.
    """

    __tablename__ = "data_exports"
    __table_args__ = (
        status_check(ExportStatus),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # At most one export of a person being prepared at a time: the database settles two requests at once.
        sa.Index(
            "uq_data_exports_in_progress",
            "subject_id",
            unique=True,
            sqlite_where=sa.text(_IN_PROGRESS_SQL),
            postgresql_where=sa.text(_IN_PROGRESS_SQL),
        ),
        sa.Index("ix_data_exports_status_created", "status", "created_at"),
        sa.Index("ix_data_exports_subject_created", "subject_id", "created_at"),
        sa.Index("ix_data_exports_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=ExportStatus.QUEUED)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker's lease while building
    storage_key: Mapped[str] = mapped_column(sa.String(128), unique=True)  # chosen by request_export
    size_bytes: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last download

    subject: Mapped[User] = relationship(foreign_keys=[subject_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])

    @property
    def status_label(self) -> str:
        return EXPORT_STATUS_LABELS[self.status]

    @property
    def is_self_service(self) -> bool:
        return self.requested_by_id == self.subject_id

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    def is_downloadable(self, now: datetime) -> bool:
        return self.status == ExportStatus.READY and self.expires_at is not None and self.expires_at > now

    def can_download(self, user) -> bool:
        """Only whoever asked for it: the person for their own export; for an export an admin ran, that admin (while
        still an admin), who sends it on to the person."""
        if user is None or not user.is_authenticated or self.requested_by_id != user.id:
            return False
        return self.is_self_service or user.is_admin

    @property
    def download_name(self) -> str:
        stamp = (self.ready_at or self.created_at).strftime("%Y-%m-%d")
        return f"career-portal-data-{stamp}.zip"


HOW_ACCEPTED = ("registration", "invitation", "acknowledged")


class PrivacyNoticeVersion(db.Model):
    """A version of the privacy notice that people are asked to acknowledge."""

    __tablename__ = "privacy_notice_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(40), unique=True)
    summary: Mapped[str] = mapped_column(sa.String(300))
    page_revision_id: Mapped[int | None] = mapped_column(sa.ForeignKey("page_revisions.id", ondelete="SET NULL"))
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    published_by: Mapped[User | None] = relationship()


class PrivacyConsent(db.Model):
    """One acceptance of one version of the notice: at registration, on accepting an invitation, or acknowledged
    later."""

    __tablename__ = "privacy_consents"
    __table_args__ = (sa.CheckConstraint(sql_in("how", HOW_ACCEPTED), name="how_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notice_version: Mapped[str] = mapped_column(sa.String(40))
    how: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
