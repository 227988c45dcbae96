"""Admin queries over people and invitations."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import Invitation, User


def users_query(role: str | None = None) -> sa.Select:
    statement = sa.select(User).order_by(User.name, User.id)
    if role:
        statement = statement.where(User.role == role)
    return statement


def recent_invitations_query(limit: int = 20) -> sa.Select:
    return sa.select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)
