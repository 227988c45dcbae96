"""The audit log: who did what to what, with the values before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class AuditEvent(db.Model):
    """Who did what to what, with the values before and after; written in the transaction of the action."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_created", "created_at"),
        sa.Index("ix_audit_events_action_created", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(60))
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[str | None] = mapped_column(sa.String(40))
    summary: Mapped[str] = mapped_column(sa.String(500))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()


# The execution option that lets the retention policy (portal.retention) delete entries past their period.
RETENTION_PURGE = "audit_retention_purge"


class AuditLogReadOnly(RuntimeError):
    """Audit entries are kept for their whole retention period: only the retention policy deletes them, after it."""


@sa.event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_deletes(state: sa.orm.ORMExecuteState) -> None:
    """`delete(AuditEvent)` through any session is refused unless it carries the RETENTION_PURGE option (a statement
    on the bare table, as the tests use to empty the database, is not the ORM's and not checked)."""
    if not state.is_delete:  # every ORM statement passes here: the common case leaves at once
        return
    mapper = state.bind_mapper
    if (
        mapper is not None
        and issubclass(mapper.class_, AuditEvent)
        and not state.execution_options.get(RETENTION_PURGE)
    ):
        raise AuditLogReadOnly("Audit entries are deleted only by the retention policy.")


@sa.event.listens_for(Session, "before_flush")
def _refuse_deleting_entries(session: Session, flush_context, instances) -> None:
    """`session.delete(event)` is refused: there is no way to delete one chosen entry."""
    if any(isinstance(instance, AuditEvent) for instance in session.deleted):
        raise AuditLogReadOnly("Audit entries are deleted only by the retention policy.")
