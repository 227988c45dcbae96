"""In-app notifications."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, sql_in, utcnow
from portal.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        sa.Index("ix_notifications_created", "created_at"),  # the retention run goes by age
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(sa.String(500))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Emails people may turn off; security emails (password reset, invitations) and the welcome are always sent.
CATEGORIES = {
    "reminders": "Reminders before your sessions",
    "booking": "Booking changes (confirmations, cancellations, moves)",
    "feedback": "Feedback and CV reviews",
    "waitlist": "Waitlist offers",
}


class NotificationPreference(db.Model):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "category"),
        sa.CheckConstraint(sql_in("category", CATEGORIES), name="category_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(sa.String(20))
    email_enabled: Mapped[bool] = mapped_column(default=True)
