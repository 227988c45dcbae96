"""The retention policy: each category of data, how long it is kept, and the runs that remove what is older.

A category is registered once (`register(Category(...))`) with functions that count and remove what is past its
period at a given instant. A run removes every category in turn, in batches of RETENTION_BATCH_SIZE rows, each batch
its own short transaction, and is recorded in `retention_runs`; a dry run only counts and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from portal.audit.models import RETENTION_PURGE, AuditEvent
from portal.audit.services import record
from portal.auth.models import User
from portal.cvs.models import CVDocument, CVReview
from portal.db import reading, utcnow
from portal.extensions import db
from portal.interviews.models import Booking, Slot
from portal.mail import OutboxEmail
from portal.notifications.models import Notification
from portal.retention.models import RetentionRun, Trigger
from portal.statuses import EmailStatus
from portal.storage import StorageError, storage_for
from portal.timeutil import months_before

RUN_EVERY = timedelta(hours=24)
# A run that has not finished this long after it started was stopped halfway: it no longer holds the next one back.
STALLED_AFTER = timedelta(hours=6)
# Serialises the decision to start a run on PostgreSQL (pg_advisory_xact_lock); SQLite's write lock does the same.
RUN_LOCK_KEY = 0x52455445  # "RETE"
UNITS = ("day", "month", "year")


@dataclass(frozen=True)
class Category:
    """One kind of data and how long it is kept.

    `setting` names the configuration value holding the period, a whole number of `unit`s ("day", "month" or
    "year"), counted from what `after` says ("after the candidate's last activity"). `count(now)` and `purge(now)`
    count and remove what is past the period at `now`; `purge` commits as it goes and returns how many it removed.
    """

    key: str
    label: str
    setting: str
    unit: str
    after: str
    count: Callable[[datetime], int]
    purge: Callable[[datetime], int]

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"A retention period is counted in {', '.join(UNITS)}, not {self.unit!r}.")

    @property
    def period(self) -> int:
        return int(current_app.config[self.setting])

    @property
    def period_text(self) -> str:
        """What people are told: "24 months after the candidate's last activity"."""
        return f"{self.period} {self.unit}{'' if self.period == 1 else 's'} {self.after}".strip()

    def cutoff(self, now: datetime) -> datetime:
        """The instant before which data of this category is past its period (calendar months and years)."""
        if self.unit == "day":
            return now - timedelta(days=self.period)
        return months_before(now, self.period * (12 if self.unit == "year" else 1))


_CATEGORIES: dict[str, Category] = {}


def register(category: Category) -> Category:
    """Add a category to the policy (runs handle categories in the order they were registered).

    Raises ValueError when another category already has its key."""
    if category.key in _CATEGORIES:
        raise ValueError(f"A retention category {category.key!r} is already registered.")
    _CATEGORIES[category.key] = category
    return category


def categories() -> list[Category]:
    return list(_CATEGORIES.values())


def batch_size() -> int:
    return max(int(current_app.config["RETENTION_BATCH_SIZE"]), 1)


def delete_in_batches(model: type, condition: sa.ColumnElement[bool], **options) -> int:
    """Delete the rows of `model` matching `condition`, at most batch_size() per statement, committing after each
    statement; returns how many were deleted."""
    size = batch_size()
    removed = 0
    while True:
        batch = sa.select(model.id).where(condition).order_by(model.id).limit(size)
        statement = sa.delete(model).where(model.id.in_(batch.scalar_subquery()))
        deleted = db.session.execute(statement.execution_options(synchronize_session=False, **options)).rowcount
        db.session.commit()
        removed += deleted
        if deleted < size:
            return removed


def count_where(model: type, condition: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)).where(condition)) or 0


# CV files -----------------------------------------------------------------------------------------------------


def inactive_since(cutoff: datetime) -> sa.Select:
    """The ids of the users whose last activity was before `cutoff`.

    A person's last activity is the latest of: when their account was made, when they last signed in, when they last
    uploaded a CV version, when they last asked for a CV review, and when the latest mock-interview session they
    booked starts or started (a booking of any status, so a session still to come keeps everything).
    """
    document, review, booking = aliased(CVDocument), aliased(CVReview), aliased(Booking)
    return sa.select(User.id).where(
        User.created_at < cutoff,
        sa.or_(User.last_login_at.is_(None), User.last_login_at < cutoff),
        ~sa.exists().where(document.candidate_id == User.id, document.created_at >= cutoff),
        ~sa.exists().where(review.candidate_id == User.id, review.created_at >= cutoff),
        ~sa.exists().where(booking.candidate_id == User.id).where(Slot.id == booking.slot_id, Slot.starts_at >= cutoff),
    )


def _cv_files_past(now: datetime) -> sa.ColumnElement[bool]:
    cutoff = CV_FILES.cutoff(now)
    return sa.and_(CVDocument.file_removed_at.is_(None), CVDocument.candidate_id.in_(inactive_since(cutoff)))


def count_cv_files(now: datetime) -> int:
    return count_where(CVDocument, _cv_files_past(now))


def candidates_past(now: datetime, after_id: int, limit: int) -> list[int]:
    """The next `limit` candidates (by id, after `after_id`) with a CV file past the period at `now`."""
    return list(
        db.session.scalars(
            sa.select(CVDocument.candidate_id)
            .where(_cv_files_past(now), CVDocument.candidate_id > after_id)
            .group_by(CVDocument.candidate_id)
            .order_by(CVDocument.candidate_id)
            .limit(limit)
        )
    )


def purge_cv_files(now: datetime) -> int:
    """Remove the stored file and the extracted text and links of every CV version of a candidate inactive for longer
    than the period; the version stays, marked `file_removed_at`, so that its reviews and bookings still show it.

    One candidate at a time: their account row is locked and their inactivity checked again under the lock, so a
    candidate who signs in (which writes that row) while the run goes on either waits for it or keeps their files.
    Then the files go, and the rows are marked in the same short transaction: a run stopped in between leaves a row
    whose file is gone (its download page says the file is missing) and the next run marks it, as deleting is
    idempotent. A file the store refuses to delete is logged and its version left for the next run."""
    storage = storage_for(current_app)
    size = batch_size()
    removed = 0
    after_id = 0
    while True:
        candidates = candidates_past(now, after_id, size)
        db.session.commit()
        for candidate_id in candidates:
            db.session.execute(sa.select(User.id).where(User.id == candidate_id).with_for_update())
            rows = db.session.execute(
                sa.select(CVDocument.id, CVDocument.storage_key).where(
                    CVDocument.candidate_id == candidate_id, _cv_files_past(now)
                )
            ).all()
            deleted = []
            for document_id, key in rows:
                try:
                    storage.delete(key)
                except (StorageError, OSError, ValueError):
                    current_app.logger.exception("retention: the file of CV %s could not be deleted", document_id)
                else:
                    deleted.append(document_id)
            if deleted:
                removed += db.session.execute(
                    sa.update(CVDocument)
                    .where(CVDocument.id.in_(deleted), CVDocument.file_removed_at.is_(None))
                    .values(file_removed_at=now, extracted_text="", links="")
                    .execution_options(synchronize_session=False)
                ).rowcount
            db.session.commit()
        if len(candidates) < size:
            return removed
        after_id = candidates[-1]


# Outbox emails, audit entries, notifications ------------------------------------------------------------------


def _emails_past(now: datetime) -> sa.ColumnElement[bool]:
    """Sent emails by when they were sent, failed ones by when they failed for good; a queued email never."""
    cutoff = OUTBOX_EMAILS.cutoff(now)
    return sa.or_(
        sa.and_(OutboxEmail.status == EmailStatus.SENT, OutboxEmail.sent_at < cutoff),
        sa.and_(OutboxEmail.status == EmailStatus.FAILED, OutboxEmail.failed_at < cutoff),
    )


def _audit_past(now: datetime) -> sa.ColumnElement[bool]:
    return AuditEvent.created_at < AUDIT_LOG.cutoff(now)


def _notifications_past(now: datetime) -> sa.ColumnElement[bool]:
    return Notification.created_at < NOTIFICATIONS.cutoff(now)


CV_FILES = register(
    Category(
        key="cv_files",
        label="CV files",
        setting="RETENTION_CV_MONTHS",
        unit="month",
        after="after the candidate's last activity",
        count=count_cv_files,
        purge=purge_cv_files,
    )
)
OUTBOX_EMAILS = register(
    Category(
        key="outbox_emails",
        label="Sent and failed emails",
        setting="RETENTION_OUTBOX_DAYS",
        unit="day",
        after="after they were sent (or failed for good)",
        count=lambda now: count_where(OutboxEmail, _emails_past(now)),
        purge=lambda now: delete_in_batches(OutboxEmail, _emails_past(now)),
    )
)
AUDIT_LOG = register(
    Category(
        key="audit_log",
        label="Audit log entries",
        setting="RETENTION_AUDIT_YEARS",
        unit="year",
        after="after the action",
        count=lambda now: count_where(AuditEvent, _audit_past(now)),
        purge=lambda now: delete_in_batches(AuditEvent, _audit_past(now), **{RETENTION_PURGE: True}),
    )
)
NOTIFICATIONS = register(
    Category(
        key="notifications",
        label="In-app notifications",
        setting="RETENTION_NOTIFICATIONS_MONTHS",
        unit="month",
        after="after they were sent",
        count=lambda now: count_where(Notification, _notifications_past(now)),
        purge=lambda now: delete_in_batches(Notification, _notifications_past(now)),
    )
)


# Runs ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One category's part of a run or a preview. `period_text` is None for a category no longer in the policy."""

    key: str
    label: str
    period_text: str | None
    count: int | None  # None when the category failed
    error: str | None = None


def preview(now: datetime) -> list[Line]:
    """What a run at `now` would remove, by category; changes nothing."""
    return [Line(c.key, c.label, c.period_text, c.count(now)) for c in categories()]


def _serialise_runs() -> None:
    """Hold the lock that decides which run starts until the transaction ends (PostgreSQL; SQLite's write
    transaction already holds the database's write lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(RUN_LOCK_KEY)))


def is_due(now: datetime) -> bool:
    """No run has started in the last 24 hours (one that stalled without finishing does not count after 6 hours)."""
    recent = sa.select(RetentionRun.id).where(
        RetentionRun.started_at > now - RUN_EVERY,
        sa.or_(RetentionRun.finished_at.is_not(None), RetentionRun.started_at > now - STALLED_AFTER),
    )
    return not db.session.scalar(sa.select(sa.exists(recent)))


def _start(now: datetime, trigger: Trigger, actor: User | None, only_if_due: bool) -> RetentionRun | None:
    _serialise_runs()
    if only_if_due and not is_due(now):
        db.session.rollback()
        return None
    run = RetentionRun(started_at=now, triggered_by=trigger, triggered_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.commit()
    return run


def _carry_out(run: RetentionRun, now: datetime, actor: User | None) -> RetentionRun:
    """Purge every category (one that fails is logged and recorded; the others go on), then finish the run."""
    run_id = run.id
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for category in categories():
        try:
            counts[category.key] = category.purge(now)
        except Exception as error:  # noqa: BLE001 - one category's failure never stops the others
            db.session.rollback()
            current_app.logger.exception("retention: %s could not be purged", category.key)
            errors[category.key] = f"{type(error).__name__}: {error}"[:500]
    run = db.session.get(RetentionRun, run_id)
    run.counts = counts
    run.errors = errors
    run.finished_at = utcnow()
    if actor is not None:
        record(
            actor,
            "retention.run",
            "retention_run",
            run.id,
            f"Ran the retention policy: {summary(run)}",
            after={"counts": counts, "errors": errors},
        )
    db.session.commit()
    return run


def run_retention(now: datetime, trigger: Trigger, actor: User | None = None) -> RetentionRun:
    """Remove everything past its period at `now` and record the run (an admin's run is audit-logged)."""
    run = _start(now, trigger, actor, only_if_due=False)
    assert run is not None
    return _carry_out(run, now, actor)


def run_retention_if_due(now: datetime) -> RetentionRun | None:
    """The worker's daily run: carried out when no run started in the last 24 hours, else None. The decision and the
    run's row are one transaction under a lock, so of two workers deciding at once only one runs it."""
    with reading(db.session):  # most passes of the worker: a look without the lock
        due = is_due(now)
    run = _start(now, Trigger.WORKER, None, only_if_due=True) if due else None
    return _carry_out(run, now, None) if run is not None else None


def lines_of(run: RetentionRun) -> list[Line]:
    """A run's result by category, in the policy's order (categories no longer registered last)."""
    known = {category.key: category for category in categories()}
    recorded = {**run.counts, **run.errors}
    keys = [key for key in known if key in recorded] + [key for key in recorded if key not in known]
    return [
        Line(
            key,
            known[key].label if key in known else key,
            known[key].period_text if key in known else None,
            run.counts.get(key),
            run.errors.get(key),
        )
        for key in keys
    ]


def summary(run: RetentionRun) -> str:
    """ "CV files 3, Sent and failed emails 120, …; 123 in all" (failures named)."""
    parts = [f"{line.label} {line.count}" if line.error is None else f"{line.label} failed" for line in lines_of(run)]
    return f"{', '.join(parts)}; {run.total} in all"


def runs_query() -> sa.Select:
    """The runs, newest first, with the admin who started each (one query for the page, not one per run)."""
    return (
        sa.select(RetentionRun)
        .options(sa.orm.selectinload(RetentionRun.triggered_by_user))
        .order_by(RetentionRun.started_at.desc(), RetentionRun.id.desc())
    )


def last_run() -> RetentionRun | None:
    return db.session.scalar(runs_query().limit(1))
