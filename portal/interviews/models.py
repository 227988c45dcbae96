"""Mock interviews: interview types, mentor slots (one-off or weekly series), bookings, booking policy."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, sql_in, status_check, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.statuses import (
    BOOKING_STATUS_LABELS,
    LIVE,
    OUTCOMES,
    SESSION,
    BookingStatus,
    MeetingMode,
    ReminderStatus,
    SlotStatus,
)

_LIVE_SQL = sql_in("status", sorted(LIVE, key=list(BookingStatus).index))


class TransitionRefused(DomainError):
    """A booking or slot is not in a state that allows this change (someone changed it a moment ago)."""


def new_meeting_room() -> str:
    """The name of a booking's own video room: unguessable, made once, kept when the session moves."""
    return f"mock-interview-{secrets.token_urlsafe(16)}"


class InterviewType(db.Model):
    __tablename__ = "interview_types"
    __table_args__ = (
        sa.CheckConstraint("duration_minutes BETWEEN 15 AND 240", name="duration_range"),
        status_check(MeetingMode, column="meeting_mode", name="meeting_mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    duration_minutes: Mapped[int]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    # How its sessions happen unless a slot says otherwise; `place` is where, for sessions in person.
    meeting_mode: Mapped[str] = mapped_column(sa.String(10), default=MeetingMode.VIDEO, server_default="video")
    place: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    preparation: Mapped[str] = mapped_column(sa.Text, default="", server_default="")  # what to have ready
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
        status_check(SlotStatus),
        sa.Index("ix_slots_mentor_starts", "mentor_id", "starts_at"),
        sa.Index("ix_slots_status_starts", "status", "starts_at"),
        sa.Index("ix_slots_starts_at", "starts_at"),
        status_check(MeetingMode, column="meeting_mode", name="meeting_mode_known"),
        # No two open slots of one mentor overlap. SQLite: checked inside a BEGIN IMMEDIATE transaction.
        postgresql.ExcludeConstraint(
            ("mentor_id", "="),
            (sa.func.tstzrange(sa.column("starts_at"), sa.column("ends_at")), "&&"),
            where=sa.text(f"status = '{SlotStatus.OPEN}'"),
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
    status: Mapped[str] = mapped_column(sa.String(10), default=SlotStatus.OPEN)
    # None: as its interview type says. `place` overrides the type's place for a session in person.
    meeting_mode: Mapped[str | None] = mapped_column(sa.String(10))
    place: Mapped[str | None] = mapped_column(sa.String(300))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    # Bumped by every change; an UPDATE that finds another version changes nothing (optimistic locking), and edit
    # forms carry the version they were read at.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])
    interview_type: Mapped[InterviewType] = relationship()
    series: Mapped[SlotSeries | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status == SlotStatus.OPEN

    @property
    def effective_mode(self) -> str:
        """How this session happens: the slot's own choice, else its interview type's."""
        return self.meeting_mode or self.interview_type.meeting_mode

    @property
    def effective_place(self) -> str:
        """Where a session in person happens: the slot's own place, else its interview type's."""
        return self.place or self.interview_type.place

    def _require_open(self, message: str) -> None:
        if self.status != SlotStatus.OPEN:
            raise TransitionRefused(message)

    def book(self, candidate: User, focus_note: str, cv_document_id: int | None, phone: str | None = None) -> Booking:
        """A new booking of this open slot (the partial unique index refuses a second live one)."""
        self._require_open("This slot has been cancelled. Choose another one.")
        return Booking(
            slot=self,
            candidate=candidate,
            status=BookingStatus.BOOKED,
            focus_note=focus_note,
            phone=phone,
            cv_document_id=cv_document_id,
            uid=Booking.new_uid(),
        )

    def hold(self, candidate_id: int, entry_id: int, until: datetime) -> Booking:
        """Keep this open slot for one candidate from the waitlist until `until`."""
        self._require_open("This slot has been withdrawn.")
        return Booking(
            slot_id=self.id,
            candidate_id=candidate_id,
            status=BookingStatus.HELD,
            hold_expires_at=until,
            waitlist_entry_id=entry_id,
            uid=Booking.new_uid(),
        )

    def withdraw(self, reason: str | None, now: datetime) -> None:
        """Stop offering this slot (its booking, if any, is cancelled separately)."""
        self._require_open("This slot has already been cancelled.")
        self.status = SlotStatus.CANCELLED
        self.cancel_reason = reason or None
        self.cancelled_at = now

    def move(
        self,
        interview_type: InterviewType,
        starts_at: datetime,
        ends_at: datetime,
        *,
        meeting_mode: str | None,
        place: str | None,
    ) -> dict:
        """Change an open slot's type, time and way of meeting; returns the values before."""
        self._require_open("A cancelled slot cannot be edited.")
        before = {
            "interview_type_id": self.interview_type_id,
            "starts_at": self.starts_at,
            "meeting_mode": self.meeting_mode,
            "place": self.place,
        }
        self.interview_type_id = interview_type.id
        self.interview_type = interview_type
        self.starts_at, self.ends_at = starts_at, ends_at
        self.meeting_mode, self.place = meeting_mode, place
        return before


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        status_check(BookingStatus),
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
    status: Mapped[str] = mapped_column(sa.String(10), default=BookingStatus.BOOKED)
    focus_note: Mapped[str] = mapped_column(sa.Text, default="")
    phone: Mapped[str | None] = mapped_column(sa.String(30))  # the number the mentor calls, for a phone session
    meeting_room: Mapped[str] = mapped_column(sa.String(64), unique=True, index=True, default=new_meeting_room)
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
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    slot: Mapped[Slot] = relationship()
    candidate: Mapped[User] = relationship(foreign_keys=[candidate_id])
    cv_document: Mapped["CVDocument | None"] = relationship()  # noqa: UP037, F821 - defined in portal.cvs.models

    __mapper_args__ = {"version_id_col": version}

    @staticmethod
    def new_uid() -> str:
        """The iCalendar UID of a booking: stable for its whole life, whatever happens to it."""
        return f"booking-{uuid.uuid4()}@career-portal"

    @property
    def status_label(self) -> str:
        return BOOKING_STATUS_LABELS[self.status]

    @property
    def is_live(self) -> bool:
        """Holds its slot (a waitlist offer included)."""
        return self.status in LIVE

    @property
    def is_session(self) -> bool:
        """A session that took place or will."""
        return self.status in SESSION

    def cancel(self, by: User, reason: str | None, now: datetime, late: bool) -> None:
        if self.status != BookingStatus.BOOKED:
            raise TransitionRefused(f"This session is {self.status_label.lower()}, so it cannot be cancelled.")
        self.status = BookingStatus.CANCELLED
        self.cancel_reason = (reason or "").strip()[:1000] or None
        self.cancelled_at = now
        self.cancelled_by_id = by.id
        self.late_cancellation = late
        self.sequence += 1

    def reschedule_to(self, slot: Slot) -> Slot:
        """Move to another open slot; returns the slot it leaves."""
        if self.status != BookingStatus.BOOKED:
            raise TransitionRefused(f"This session is {self.status_label.lower()}, so it cannot be rescheduled.")
        slot._require_open("This slot has been cancelled. Choose another one.")
        old = self.slot
        self.slot = slot
        self.reschedule_count += 1
        self.sequence += 1
        return old

    def record_outcome(self, outcome: str, now: datetime) -> None:
        """Completed or no-show, once the session has started."""
        if outcome not in OUTCOMES or self.status not in SESSION:
            raise TransitionRefused("This session was cancelled.")
        self.status = outcome
        self.outcome_at = now

    def complete(self, now: datetime) -> None:
        self.record_outcome(BookingStatus.COMPLETED, now)

    def mark_no_show(self, now: datetime) -> None:
        self.record_outcome(BookingStatus.NO_SHOW, now)

    def hold_is_active(self, now: datetime) -> bool:
        return self.status == BookingStatus.HELD and self.hold_expires_at is not None and self.hold_expires_at > now

    def accept_hold(self, focus_note: str, now: datetime, phone: str | None = None) -> None:
        """A waitlist offer taken up: the hold becomes the booking."""
        if not self.hold_is_active(now):
            raise TransitionRefused("This offer has ended. You can join the waitlist again.")
        self.status = BookingStatus.BOOKED
        self.focus_note = focus_note
        self.phone = phone

    def give_phone(self, phone: str) -> None:
        """The candidate gives (or changes) the number the mentor calls."""
        if self.status != BookingStatus.BOOKED:
            raise TransitionRefused(f"This session is {self.status_label.lower()}, so its phone number cannot change.")
        self.phone = phone

    def meeting_moved(self) -> None:
        """Where the session happens changed (a new link or place): calendars take the new version."""
        self.sequence += 1

    def lapse(self, now: datetime) -> None:
        """A waitlist offer ends without a booking."""
        if self.status != BookingStatus.HELD:
            raise TransitionRefused("This offer has already ended.")
        self.status = BookingStatus.LAPSED
        self.hold_expires_at = self.hold_expires_at or now


class MeetingLink(db.Model):
    """A mentor's own video meeting link (their personal room on Zoom, Teams, Meet …): their video sessions use it,
    read when each page or email is made, so a new link reaches every session still to come."""

    __tablename__ = "meeting_links"

    mentor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The booking rules until an admin saves others: the columns' defaults and the policy in force before the row exists.
POLICY_DEFAULTS = {
    "min_notice_hours": 12,
    "horizon_days": 60,
    "max_upcoming": 2,
    "cancel_cutoff_hours": 24,
    "max_reschedules": 2,
}


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
    min_notice_hours: Mapped[int] = mapped_column(default=POLICY_DEFAULTS["min_notice_hours"])
    horizon_days: Mapped[int] = mapped_column(default=POLICY_DEFAULTS["horizon_days"])
    max_upcoming: Mapped[int] = mapped_column(default=POLICY_DEFAULTS["max_upcoming"])
    cancel_cutoff_hours: Mapped[int] = mapped_column(default=POLICY_DEFAULTS["cancel_cutoff_hours"])
    max_reschedules: Mapped[int] = mapped_column(default=POLICY_DEFAULTS["max_reschedules"])
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @classmethod
    def with_defaults(cls) -> BookingPolicy:
        """The policy an admin has not changed yet (not added to the session)."""
        return cls(id=1, **POLICY_DEFAULTS)


class Reminder(db.Model):
    """One reminder for one person about one session at one time; a moved session gets new rows."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("booking_id", "recipient_id", "offset_minutes", "session_starts_at"),
        status_check(ReminderStatus),
        sa.Index("ix_reminders_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    offset_minutes: Mapped[int]
    session_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default=ReminderStatus.PENDING)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
