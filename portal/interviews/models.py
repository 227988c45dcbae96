"""Mock interviews: interview types, mentor slots (one-off or weekly series), bookings, booking policy."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, utcnow
from portal.extensions import db

SLOT_STATUSES = ("open", "cancelled")
BOOKING_STATUSES = ("booked", "cancelled", "completed", "no_show", "held", "lapsed")
# A session that happened or will happen.
SESSION_STATUSES = ("booked", "completed", "no_show")
# A booking in one of these statuses holds its slot, a waitlist offer ("held") included: at most one per slot
# (partial unique index), so nobody can book a slot while it is offered to someone.
LIVE_BOOKING_STATUSES = (*SESSION_STATUSES, "held")
BOOKING_STATUS_LABELS = {
    "booked": "Booked",
    "cancelled": "Cancelled",
    "completed": "Completed",
    "no_show": "No-show",
    "held": "Offered to you",
    "lapsed": "Offer ended",
}
_LIVE_SQL = "status IN ('booked', 'completed', 'no_show', 'held')"


class InterviewType(db.Model):
    __tablename__ = "interview_types"
    __table_args__ = (sa.CheckConstraint("duration_minutes BETWEEN 15 AND 240", name="duration_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    duration_minutes: Mapped[int]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class SlotSeries(db.Model):
    """A weekly pattern a mentor published: the slots it made point back to it."""

    __tablename__ = "slot_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    interview_type_id: Mapped[int] = mapped_column(sa.ForeignKey("interview_types.id"))
    timezone: Mapped[str] = mapped_column(sa.String(64))
    weekdays: Mapped[str] = mapped_column(sa.String(20))  # ISO weekday numbers, "1,3,5"
    window_start: Mapped[time] = mapped_column(sa.Time)
    window_end: Mapped[time] = mapped_column(sa.Time)
    first_date: Mapped[date] = mapped_column(sa.Date)
    last_date: Mapped[date] = mapped_column(sa.Date)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Slot(db.Model):
    __tablename__ = "slots"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("status IN ('open', 'cancelled')", name="status_known"),
        sa.Index("ix_slots_mentor_starts", "mentor_id", "starts_at"),
        sa.Index("ix_slots_status_starts", "status", "starts_at"),
        sa.Index("ix_slots_starts_at", "starts_at"),
        # No two open slots of one mentor overlap. SQLite: checked inside a BEGIN IMMEDIATE transaction.
        postgresql.ExcludeConstraint(
            ("mentor_id", "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at")), "&&"),
            where=sa.text("status = 'open'"),
            using="gist",
            name="ex_slots_mentor_no_overlap",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    interview_type_id: Mapped[int] = mapped_column(sa.ForeignKey("interview_types.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("slot_series.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default="open")
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])
    interview_type: Mapped[InterviewType] = relationship()
    series: Mapped[SlotSeries | None] = relationship()

    def can_manage(self, user: User) -> bool:
        """Its mentor and admins may change it."""
        return user.is_authenticated and (user.is_admin or user.id == self.mentor_id)


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'completed', 'no_show', 'held', 'lapsed')", name="status_known"
        ),
        sa.CheckConstraint("reschedule_count >= 0", name="reschedule_count_not_negative"),
        # At most one live booking per slot: the database settles every race.
        sa.Index(
            "uq_bookings_live_slot",
            "slot_id",
            unique=True,
            sqlite_where=sa.text(_LIVE_SQL),
            postgresql_where=sa.text(_LIVE_SQL),
        ),
        # The partial index above cannot serve lookups by slot whose status list is a bound parameter (SQLite's
        # planner cannot prove the partial condition), so every "is this slot taken?" query uses this one.
        sa.Index("ix_bookings_slot_status", "slot_id", "status"),
        sa.Index("ix_bookings_candidate_status", "candidate_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(sa.ForeignKey("slots.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(10), default="booked")
    focus_note: Mapped[str] = mapped_column(sa.Text, default="")
    cv_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cv_documents.id", ondelete="SET NULL"))
    uid: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    reschedule_count: Mapped[int] = mapped_column(default=0)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    late_cancellation: Mapped[bool] = mapped_column(default=False)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waitlist_entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("waitlist_entries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    slot: Mapped[Slot] = relationship()
    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    cv_document: Mapped["CVDocument | None"] = relationship()  # noqa: UP037, F821 - defined in portal.cvs.models

    @property
    def status_label(self) -> str:
        return BOOKING_STATUS_LABELS[self.status]

    @property
    def is_live(self) -> bool:
        return self.status in SESSION_STATUSES

    def can_view(self, user: User) -> bool:
        """The candidate, the slot's mentor and admins."""
        return user.is_authenticated and (
            user.is_admin or user.id == self.candidate_id or user.id == self.slot.mentor_id
        )


class BookingPolicy(db.Model):
    """The booking rules in force: one row, edited by admins; changes apply to new actions only."""

    __tablename__ = "booking_policy"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("min_notice_hours >= 0", name="min_notice_not_negative"),
        sa.CheckConstraint("horizon_days >= 1", name="horizon_positive"),
        sa.CheckConstraint("max_upcoming >= 1", name="max_upcoming_positive"),
        sa.CheckConstraint("cancel_cutoff_hours >= 0", name="cutoff_not_negative"),
        sa.CheckConstraint("max_reschedules >= 0", name="max_reschedules_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    min_notice_hours: Mapped[int] = mapped_column(default=12)
    horizon_days: Mapped[int] = mapped_column(default=60)
    max_upcoming: Mapped[int] = mapped_column(default=2)
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=24)
    max_reschedules: Mapped[int] = mapped_column(default=2)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
