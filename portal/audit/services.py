"""Recording admin actions in the audit log, inside the caller's transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


SCHEDULED_ACTOR = "Retention"  # who acted when no person did: the daily retention run


def record(
    actor: User | None,
    action: str,
    target_type: str,
    target_id: Any,
    summary: str,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction (it commits or rolls back with the action); `actor` None: the
    scheduled retention run acted."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else SCHEDULED_ACTOR,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        summary=summary[:500],
        before=_plain(before),
        after=_plain(after),
    )
    db.session.add(event)
    return event


def record_if_admin_for_other(actor: User, owner_id: int, *args, **kwargs) -> None:
    """Audit an action an admin takes on someone else's behalf (a mentor's slot, a candidate's booking)."""
    if actor.is_admin and actor.id != owner_id:
        record(actor, *args, **kwargs)
