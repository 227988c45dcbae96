"""Live industry sessions (talks, panels, employer Q&As), the seats candidates hold at them, their waitlists, and the
reminders before each one."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, status_check, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.statuses import (
    LIVE_KIND_LABELS,
    SEAT_STATUS_LABELS,
    LiveKind,
    LiveSessionStatus,
    MeetingMode,
    ReminderStatus,
    SeatStatus,
)

MAX_CAPACITY = 10_000


class SeatRefused(DomainError):
    """A registration is not in a state that allows this change."""


def new_live_room() -> str:
    """The name of a live session's own video room on MEETING_BASE_URL: unguessable, made once."""
    return f"live-session-{secrets.token_urlsafe(16)}"


class LiveSession(db.Model):
    __tablename__ = "live_sessions"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint(f"capacity BETWEEN 1 AND {MAX_CAPACITY}", name="capacity_range"),
        status_check(LiveSessionStatus),
        status_check(LiveKind, column="kind", name="kind_known"),
        status_check(MeetingMode, column="meeting_mode", name="meeting_mode_known"),
        sa.Index("ix_live_sessions_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    speakers: Mapped[str] = mapped_column(sa.String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int]
    # How it happens: a video call (its own link, else a room made for it), a phone line to dial, or a place.
    meeting_mode: Mapped[str] = mapped_column(sa.String(10))
    meeting_url: Mapped[str | None] = mapped_column(sa.String(500))
    meeting_room: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_live_room)
    dial_in: Mapped[str | None] = mapped_column(sa.String(30))
    place: Mapped[str | None] = mapped_column(sa.String(300))
    # Added after the session, shown only to those registered.
    recording_url: Mapped[str | None] = mapped_column(sa.String(500))
    slides_url: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(10), default=LiveSessionStatus.SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every change; edit forms carry the version they were read at (a stale edit is refused).
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return LIVE_KIND_LABELS[self.kind]

    @property
    def is_scheduled(self) -> bool:
        return self.status == LiveSessionStatus.SCHEDULED

    def has_started(self, now: datetime) -> bool:
        return self.starts_at <= now

    def has_ended(self, now: datetime) -> bool:
        return self.ends_at <= now

    def cancel(self, reason: str | None, now: datetime) -> None:
        """Call the session off (its registrations are told separately)."""
        if not self.is_scheduled:
            raise SeatRefused("This session has already been cancelled.")
        if self.has_ended(now):
            raise SeatRefused("This session is over, so it cannot be cancelled.")
        self.status = LiveSessionStatus.CANCELLED
        self.cancel_reason = reason or None
        self.cancelled_at = now


class LiveRegistration(db.Model):
    """One candidate's place at one session: a seat, or a place on its waitlist (in `queued_at` order)."""

    __tablename__ = "live_registrations"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "candidate_id"),
        status_check(SeatStatus),
        sa.Index("ix_live_registrations_session_status", "session_id", "status", "queued_at"),
        sa.Index("ix_live_registrations_candidate_status", "candidate_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("live_sessions.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(12))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # the place in line
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when (if ever) the session was full
    attended: Mapped[bool | None] = mapped_column()  # None until an admin marks attendance
    uid: Mapped[str] = mapped_column(sa.String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[LiveSession] = relationship()
    candidate: Mapped[User] = relationship()

    @staticmethod
    def new_uid() -> str:
        """The iCalendar UID of a registration: stable for its whole life."""
        return f"live-{uuid.uuid4()}@career-portal"

    @property
    def status_label(self) -> str:
        return SEAT_STATUS_LABELS[self.status]

    @property
    def has_seat(self) -> bool:
        return self.status == SeatStatus.REGISTERED

    @property
    def is_waiting(self) -> bool:
        return self.status == SeatStatus.WAITLISTED

    @property
    def is_active(self) -> bool:
        return self.status in (SeatStatus.REGISTERED, SeatStatus.WAITLISTED)

    def take_seat(self, now: datetime) -> None:
        """A seat, straight away or from the waitlist."""
        if self.status == SeatStatus.REGISTERED:
            raise SeatRefused("You already have a seat at this session.")
        self.status = SeatStatus.REGISTERED
        self.sequence += 1

    def wait_for_seat(self, now: datetime) -> None:
        """The session is full: the end of its waitlist."""
        if self.is_active:
            raise SeatRefused("You are already registered for this session.")
        self.status = SeatStatus.WAITLISTED
        self.queued_at = now
        self.waitlisted_at = self.waitlisted_at or now

    def cancel(self, now: datetime) -> None:
        if not self.is_active:
            raise SeatRefused("This registration is already cancelled.")
        self.status = SeatStatus.CANCELLED
        self.cancelled_at = now
        self.sequence += 1


class LiveReminder(db.Model):
    """One reminder to one registered candidate about one session at one time, so that each goes out once (sent by
    the same worker job as the interview reminders)."""

    __tablename__ = "live_reminders"
    __table_args__ = (
        sa.UniqueConstraint("registration_id", "offset_minutes", "session_starts_at"),
        status_check(ReminderStatus),
        sa.Index("ix_live_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("live_registrations.id", ondelete="CASCADE"), index=True)
    offset_minutes: Mapped[int]
    session_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReminderStatus.PENDING)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
