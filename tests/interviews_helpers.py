"""Shared set-up for the interview tests: a pinned clock and people with slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.extensions import db
from portal.mail import OutboxEmail
from portal.notifications.models import Notification

# Thursday 1 October 2026, 09:00 UTC (10:00 in London, BST).
NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> datetime:
    """An instant relative to NOW."""
    return NOW + timedelta(days=days, hours=hours)


def emails_to(address: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id))
    )


def notices_for(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.message).where(Notification.user_id == user_id).order_by(Notification.id)
        )
    )
