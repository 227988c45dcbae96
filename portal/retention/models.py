"""A record of each retention run: when, who or what started it, and how much it removed of each category."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, status_check
from portal.extensions import db


class Trigger(StrEnum):
    """What started a retention run."""

    WORKER = "worker"  # the daily run of `flask worker`
    COMMAND = "command"  # `flask retention run`
    ADMIN = "admin"  # "Run now" on the admin page


TRIGGER_LABELS = {Trigger.WORKER: "The worker (daily)", Trigger.COMMAND: "flask retention run", Trigger.ADMIN: "Admin"}


class RetentionRun(db.Model):
    """One run that removed data (dry runs change nothing and leave no row). `counts` maps each category's key to
    the number of items removed; `errors` maps a category that failed to the reason. A run whose `finished_at` is
    empty is still going, or was stopped halfway (what it removed before stopping is gone all the same)."""

    __tablename__ = "retention_runs"
    __table_args__ = (
        status_check(Trigger, column="triggered_by", name="trigger_known"),
        sa.Index("ix_retention_runs_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triggered_by: Mapped[str] = mapped_column(sa.String(10))
    triggered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    errors: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    triggered_by_user: Mapped[User | None] = relationship()

    @property
    def trigger_label(self) -> str:
        label = TRIGGER_LABELS.get(self.triggered_by, self.triggered_by)
        if self.triggered_by == Trigger.ADMIN:
            return f"{label}: {self.triggered_by_user.name}" if self.triggered_by_user else f"{label} (account removed)"
        return label

    @property
    def total(self) -> int:
        return sum(count for count in self.counts.values() if isinstance(count, int))
