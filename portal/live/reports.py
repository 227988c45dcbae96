"""Report figures for live sessions in a date range: how many of those holding a seat came, and how many more wanted
one than there were seats (the waitlist demand)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.live.models import LiveRegistration, LiveSession
from portal.statuses import LiveSessionStatus, SeatStatus


@dataclass(frozen=True)
class SessionFigures:
    id: int
    title: str
    starts_at: datetime
    capacity: int
    seats_held: int
    attended: int
    marked: int  # seats whose attendance was recorded
    waitlisted_ever: int  # people who joined the waitlist at some point

    @property
    def attendance_rate(self) -> float | None:
        """Share of the seats whose attendance was recorded that were used; None before anyone is marked."""
        return self.attended / self.marked if self.marked else None


@dataclass(frozen=True)
class LiveFigures:
    sessions: list[SessionFigures]

    @property
    def attendance_rate(self) -> float | None:
        marked = sum(item.marked for item in self.sessions)
        return sum(item.attended for item in self.sessions) / marked if marked else None

    @property
    def waitlist_demand(self) -> int:
        return sum(item.waitlisted_ever for item in self.sessions)


def live_figures(start: datetime, end: datetime) -> LiveFigures:
    """Scheduled sessions starting in [start, end), with their seats, attendance and waitlist demand, in one query."""
    seat = LiveRegistration.status == SeatStatus.REGISTERED
    rows = db.session.execute(
        sa.select(
            LiveSession.id,
            LiveSession.title,
            LiveSession.starts_at,
            LiveSession.capacity,
            sa.func.count(LiveRegistration.id).filter(seat),
            sa.func.count(LiveRegistration.id).filter(seat, LiveRegistration.attended.is_(True)),
            sa.func.count(LiveRegistration.id).filter(seat, LiveRegistration.attended.is_not(None)),
            sa.func.count(LiveRegistration.id).filter(LiveRegistration.waitlisted_at.is_not(None)),
        )
        .outerjoin(LiveRegistration, LiveRegistration.session_id == LiveSession.id)
        .where(
            LiveSession.starts_at >= start,
            LiveSession.starts_at < end,
            LiveSession.status == LiveSessionStatus.SCHEDULED,
        )
        .group_by(LiveSession.id, LiveSession.title, LiveSession.starts_at, LiveSession.capacity)
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    return LiveFigures([SessionFigures(*row) for row in rows])
