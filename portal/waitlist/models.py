"""The waitlist: candidates waiting for a slot of a type (optionally a mentor and dates)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, sql_in, status_check, utcnow
from portal.extensions import db
from portal.interviews.models import InterviewType
from portal.statuses import ENTRY_STATUS_LABELS, EntryStatus

_IN_LINE_SQL = sql_in("status", (EntryStatus.WAITING, EntryStatus.OFFERED))


class WaitlistEntry(db.Model):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        status_check(EntryStatus),
        # One place in line per candidate and interview type.
        sa.Index(
            "uq_waitlist_entries_open",
            "candidate_id",
            "interview_type_id",
            unique=True,
            sqlite_where=sa.text(_IN_LINE_SQL),
            postgresql_where=sa.text(_IN_LINE_SQL),
        ),
        sa.Index("ix_waitlist_entries_type_status", "interview_type_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    interview_type_id: Mapped[int] = mapped_column(sa.ForeignKey("interview_types.id", ondelete="CASCADE"))
    mentor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    first_date: Mapped[date | None] = mapped_column(sa.Date)
    last_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), default=EntryStatus.WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    mentor: Mapped[User | None] = relationship(foreign_keys=[mentor_id])
    interview_type: Mapped[InterviewType] = relationship()

    @property
    def status_label(self) -> str:
        return ENTRY_STATUS_LABELS[self.status]
