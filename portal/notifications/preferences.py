"""Email preferences per category, and one-click unsubscribe links that work without logging in."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from portal.extensions import db
from portal.links import public_url
from portal.notifications.models import CATEGORIES, NotificationPreference


def email_wanted(user_id: int | None, category: str) -> bool:
    """Whether an email of this category should go to this user (yes unless they turned it off)."""
    if user_id is None or category not in CATEGORIES:
        return True
    enabled = db.session.scalar(
        sa.select(NotificationPreference.email_enabled).where(
            NotificationPreference.user_id == user_id, NotificationPreference.category == category
        )
    )
    return enabled is not False


def preferences(user_id: int) -> dict[str, bool]:
    rows = dict(
        db.session.execute(
            sa.select(NotificationPreference.category, NotificationPreference.email_enabled).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {category: rows.get(category, True) for category in CATEGORIES}


def set_preference(user_id: int, category: str, enabled: bool) -> None:
    row = db.session.scalar(
        sa.select(NotificationPreference).where(
            NotificationPreference.user_id == user_id, NotificationPreference.category == category
        )
    )
    if row is None:
        db.session.add(NotificationPreference(user_id=user_id, category=category, email_enabled=enabled))
    else:
        row.email_enabled = enabled


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_url(user_id: int, category: str) -> str:
    token = _serializer().dumps({"u": user_id, "c": category})
    return public_url("preferences.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") not in CATEGORIES or not isinstance(data.get("u"), int):
        return None
    return data["u"], data["c"]
