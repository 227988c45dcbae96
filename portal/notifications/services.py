"""The one way the product tells a user something: an in-app notice and, when asked, an email."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.mail import OutgoingEmail, queue_email
from portal.notifications.models import Notification


def notify(user: User, message: str, link: str | None = None, email: OutgoingEmail | None = None) -> Notification:
    """Write a notification (and the outbox email, when given) in the caller's transaction."""
    notification = Notification(user_id=user.id, message=message[:500], link=link)
    db.session.add(notification)
    if email is not None and user.active:
        email.context.setdefault("user", user)
        email.context.setdefault("link", link)
        queue_email(user.email, email, user_id=user.id)
    db.session.flush()
    return notification


def unread_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def notifications_page_query(user: User) -> sa.Select:
    return (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
