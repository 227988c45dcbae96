"""Subject access: a person (or an admin for them) asks for a copy of their data, the worker builds a zip of it, the
person downloads it for a few days, and then it is deleted.

A request only writes a queued row. `build_due_exports` (the worker) claims rows one at a time with a lease, builds
the zip in a temporary file from one consistent read of the database, stores it under the key the row was given
when it was requested (so a second build replaces the first file), and marks the row ready with one email, as a
compare-and-set on the claim: a worker stopped halfway leaves the row building, and the next run takes it up once
the lease is over.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal.audit.services import record
from portal.auth.models import User
from portal.db import claim_next, lock, reading, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.links import public_url
from portal.mail import OutgoingEmail, queue_email
from portal.privacy.contents import write_export
from portal.privacy.models import DataExport, ExportStatus
from portal.retention.services import Category, register
from portal.storage import Storage, StoredFile, new_key, storage_for

LEASE = timedelta(minutes=10)  # a build not finished by then is taken up again by the next run
MAX_ATTEMPTS = 3  # builds started (a stopped worker's included) before the export is marked failed
EXPORTS_AREA = "exports"


class ExportRefused(DomainError):
    """An export cannot be requested now (one is being prepared, or too many were asked for today)."""


# Where the zips live ------------------------------------------------------------------------------------------


def export_storage(app: Flask) -> Storage:
    """The store for export zips: an `exports` folder (or key prefix) inside the uploads' location, kept apart from
    the CV files so that nothing else ever lists or serves them."""
    return storage_for(app, EXPORTS_AREA)


def retention() -> timedelta:
    return timedelta(days=current_app.config["EXPORT_RETENTION_DAYS"])


# Requests -----------------------------------------------------------------------------------------------------


def requests_per_day() -> int:
    return current_app.config["EXPORT_REQUESTS_PER_DAY"]


def request_export(subject: User, by: User) -> DataExport:
    """Queue an export of `subject`'s data, asked for by themself or by an admin (audit-logged); flushes.

    Raises ExportRefused while an export of this person is being prepared, and when the person has asked for
    EXPORT_REQUESTS_PER_DAY exports in the last 24 hours (admins' requests are not limited). The partial unique
    index on exports being prepared settles two requests at once.
    """
    if by.id != subject.id and not by.is_admin:
        raise ExportRefused("Only admins export another person's data.")
    lock(subject)  # requests for one person queue up here, so each one sees the others' rows
    if subject.erased_at is not None:
        raise ExportRefused("This account has been erased: there is no personal data left to export.")
    now = utcnow()
    if by.id == subject.id:
        limit = requests_per_day()
        asked = db.session.scalar(
            sa.select(sa.func.count(DataExport.id)).where(
                DataExport.subject_id == subject.id,
                DataExport.requested_by_id == subject.id,
                DataExport.status != ExportStatus.FAILED,
                DataExport.created_at > now - timedelta(hours=24),
            )
        )
        if asked >= limit:
            raise ExportRefused(
                f"You have asked for {limit} copies of your data in the last 24 hours, the most we prepare in a day. "
                "Download one of those below, or ask again tomorrow."
            )
    export = DataExport(
        subject_id=subject.id,
        requested_by_id=by.id,
        status=ExportStatus.QUEUED,
        storage_key=new_key(),
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(export)
    except IntegrityError as error:
        raise ExportRefused(_in_progress_message(subject, by)) from error
    if by.id != subject.id:
        record(
            by,
            "user.export_requested",
            "user",
            subject.id,
            f"{by.name} asked for an export of the data of {subject.name}",
            after={"export_id": export.id},
        )
    return export


def _in_progress_message(subject: User, by: User) -> str:
    if by.id == subject.id:
        return "We are already preparing a copy of your data. We will email you when it is ready."
    return f"An export of the data of {subject.name} is already being prepared. Ask again when it is ready."


def own_exports_query(user: User) -> sa.Select:
    """The exports a person asked for of their own data, newest first."""
    return (
        sa.select(DataExport)
        .where(DataExport.subject_id == user.id, DataExport.requested_by_id == user.id)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
    )


def exports_about_query(subject: User) -> sa.Select:
    """Every export of a person's data (theirs and admins'), newest first, with who asked, for the admin page."""
    requester = aliased(User)
    return (
        sa.select(DataExport)
        .outerjoin(requester, DataExport.requested_by)
        .options(sa.orm.contains_eager(DataExport.requested_by.of_type(requester)))
        .where(DataExport.subject_id == subject.id)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
    )


def load_download(export_id: int, user: User) -> DataExport | None:
    """The export `user` may download now, or None: nobody but its requester, and only while it is ready."""
    export = db.session.get(DataExport, export_id)
    if export is None or not export.can_download(user):
        return None
    return export


def record_download(export: DataExport, by: User) -> None:
    """Note the download; an admin's download of someone else's data goes in the audit log."""
    export.downloaded_at = utcnow()
    if not export.is_self_service:
        record(
            by,
            "user.export_downloaded",
            "user",
            export.subject_id,
            f"{by.name} downloaded the export of the data of {export.subject.name}",
            after={"export_id": export.id},
        )


# The worker ---------------------------------------------------------------------------------------------------


def build_due_exports(limit: int = 20) -> int:
    """Build the queued exports (and those whose worker stopped and whose lease ran out), one transaction per step;
    returns how many became ready. An export that cannot be built is tried again after the lease, and marked failed
    with the reason after MAX_ATTEMPTS; it never stops the others."""
    ready = 0
    for _ in range(limit):
        claim = _claim_next()
        if claim is None:
            break
        export_id, attempt = claim
        try:
            stored = _build_and_store(export_id)
        except Exception as error:  # noqa: BLE001 - one export that cannot be built never stops the worker
            db.session.rollback()
            current_app.logger.exception("data export %s could not be built (attempt %s)", export_id, attempt)
            _note_failure(export_id, attempt, error)
            continue
        if _finish(export_id, attempt, stored):
            ready += 1
    return ready


def _claim_next() -> tuple[int, int] | None:
    """Take the oldest queued export (or one whose builder's lease is over) and commit the claim: (id, attempt)."""
    while True:
        now = utcnow()
        export = claim_next(
            db.session,
            DataExport,
            sa.or_(
                DataExport.status == ExportStatus.QUEUED,
                sa.and_(DataExport.status == ExportStatus.BUILDING, DataExport.claimed_at <= now - LEASE),
            ),
            order_by=(DataExport.created_at, DataExport.id),
        )
        if export is None:
            db.session.commit()
            return None
        if export.attempts >= MAX_ATTEMPTS:
            export.status = ExportStatus.FAILED
            export.error = (export.error or f"Building stopped {export.attempts} times.")[:2000]
            export.claimed_at = None
            export.expires_at = now + retention()
            requester = export.requested_by
            if requester is not None and requester.active:
                queue_email(requester.email, failed_email(export), user_id=requester.id)
            db.session.commit()
            current_app.logger.error("data export %s failed for good: %s", export.id, export.error)
            continue
        export.status = ExportStatus.BUILDING
        export.claimed_at = now
        export.attempts += 1
        claim = (export.id, export.attempts)
        db.session.commit()
        return claim


def _build_and_store(export_id: int) -> StoredFile:
    storage = export_storage(current_app._get_current_object())
    with tempfile.TemporaryFile(prefix=".export-") as temp:
        with reading(db.session, snapshot=True):  # one consistent view, no write lock
            export = db.session.get(DataExport, export_id)
            if export is None:
                raise LookupError(f"data export {export_id} was deleted while it was being built")
            key = export.storage_key
            write_export(export.subject, temp)
        temp.seek(0)
        return storage.save_as(key, temp)


def _finish(export_id: int, attempt: int, stored: StoredFile) -> bool:
    """Mark the export ready and queue its email, only if this build still holds the claim; True when it did."""
    now = utcnow()
    changed = db.session.execute(
        sa.update(DataExport)
        .where(
            DataExport.id == export_id,
            DataExport.status == ExportStatus.BUILDING,
            DataExport.attempts == attempt,
        )
        .values(
            status=ExportStatus.READY,
            size_bytes=stored.size,
            ready_at=now,
            expires_at=now + retention(),
            claimed_at=None,
            error=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        # Another build finished it first (the same key: its file is this one), or the export was deleted meanwhile
        # (its file must not stay behind).
        export = db.session.get(DataExport, export_id)
        if export is None:
            export_storage(current_app._get_current_object()).delete(stored.key)
        db.session.commit()
        return False
    export = db.session.get(DataExport, export_id, populate_existing=True)
    assert export is not None
    requester = export.requested_by
    if requester is not None and requester.active:
        queue_email(requester.email, ready_email(export), user_id=requester.id)
    db.session.commit()
    return True


def _export_page(export: DataExport) -> str:
    """The page the file is downloaded from: the person's own, or the admin's page of the person."""
    if export.is_self_service:
        return public_url("privacy.mine")
    return public_url("privacy.admin_exports", user_id=export.subject_id)


def ready_email(export: DataExport) -> OutgoingEmail:
    """ "Your data is ready": no personal data in the subject, a link to the page the file is downloaded from."""
    subject = "Your data export is ready" if export.is_self_service else "The data export you asked for is ready"
    return OutgoingEmail(
        subject=subject, template="data_export_ready", context={"export": export, "url": _export_page(export)}
    )


def failed_email(export: DataExport) -> OutgoingEmail:
    """The export could not be made: the person is not left waiting for an email that never comes."""
    return OutgoingEmail(
        subject="We could not prepare your data export",
        template="data_export_failed",
        context={"export": export, "url": _export_page(export)},
    )


def _note_failure(export_id: int, attempt: int, error: Exception) -> None:
    """Keep the reason; the export stays claimed, so it is tried again once the lease is over."""
    db.session.execute(
        sa.update(DataExport)
        .where(DataExport.id == export_id, DataExport.status == ExportStatus.BUILDING, DataExport.attempts == attempt)
        .values(error=f"{type(error).__name__}: {error}"[:2000])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# Removing exports ---------------------------------------------------------------------------------------------


def purge_expired_exports(now: datetime, dry_run: bool = False) -> int:
    """Delete the exports whose time is up (`expires_at <= now`): the stored zip, then the row (flushes; the caller
    commits). Returns how many there are; with `dry_run` only counts them."""
    expired = sa.and_(DataExport.expires_at.is_not(None), DataExport.expires_at <= now)
    if dry_run:
        return db.session.scalar(sa.select(sa.func.count(DataExport.id)).where(expired)) or 0
    return _delete(sa.select(DataExport.id, DataExport.storage_key).where(expired))


def delete_exports_for(user: User) -> int:
    """Delete every export of `user`'s data and every export they asked for (flushes; the caller commits): for the
    erasure of their account. Returns how many."""
    return _delete(
        sa.select(DataExport.id, DataExport.storage_key).where(
            sa.or_(DataExport.subject_id == user.id, DataExport.requested_by_id == user.id)
        )
    )


def _delete(statement: sa.Select) -> int:
    """Remove the files, then the rows; a file the store cannot delete now keeps its row for the next run."""
    storage = export_storage(current_app._get_current_object())
    deleted = []
    for export_id, key in db.session.execute(statement).all():
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - one file the store refuses never stops the others
            current_app.logger.exception("data export %s: its file could not be deleted", export_id)
            continue
        deleted.append(export_id)
    for start in range(0, len(deleted), 500):
        db.session.execute(
            sa.delete(DataExport)
            .where(DataExport.id.in_(deleted[start : start + 500]))
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    return len(deleted)


def _purge_expired(now: datetime) -> int:
    removed = purge_expired_exports(now)
    db.session.commit()
    return removed


DATA_EXPORTS = register(
    Category(
        key="data_exports",
        label="Data exports",
        setting="EXPORT_RETENTION_DAYS",
        unit="day",
        after="after the file is ready",
        count=lambda now: purge_expired_exports(now, dry_run=True),
        purge=_purge_expired,
    )
)
