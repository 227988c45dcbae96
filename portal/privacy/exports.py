"""Subject access: a person (or an admin for them) asks for a copy of their data, the worker builds a zip of it, the
person downloads it for a few days, and then it is deleted.

A request only writes a queued row. `build_due_exports` (the worker) claims rows one at a time with a lease, builds
the zip in a temporary file from one consistent read of the database, stores it under the key the row was given
when it was requested (so a second build replaces the first file), and marks the row ready with one email, as a
compare-and-set on the claim: a worker stopped halfway leaves the row building, and the next run takes it up once
the lease is over.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import Flask, current_app, g, render_template
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.auth.models import User
from portal.config import storage_location
from portal.cvs.check import check_cv
from portal.cvs.models import CVDocument, CVReview
from portal.db import claim_next, lock, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.feedback.models import FeedbackRevision, SessionFeedback, SessionRating
from portal.feedback.rubric import CRITERIA, READINESS
from portal.insights.models import InsightArticle, InsightTag, SavedArticle, candidate_interests
from portal.interviews.models import Booking, InterviewType, MeetingLink, Slot, SlotSeries
from portal.links import public_url
from portal.live.models import LiveRegistration, LiveSession
from portal.mail import OutboxEmail, OutgoingEmail, queue_email
from portal.notifications.models import CATEGORIES, Notification
from portal.notifications.preferences import preferences
from portal.privacy.models import IN_PROGRESS, DataExport, ExportStatus
from portal.statuses import FeedbackStatus, ReviewStatus
from portal.storage import FileMissing, Storage, StoredFile, build_storage, new_key, storage_for
from portal.text import safe_filename
from portal.waitlist.models import WaitlistEntry

EXPORT_FORMAT = "career-portal-export/1"
LEASE = timedelta(minutes=10)  # a build not finished by then is taken up again by the next run
MAX_ATTEMPTS = 3  # builds started (a stopped worker's included) before the export is marked failed
ROWS_PER_FETCH = 200  # rows read from the database at a time for lists that can be long
TEXT_ROWS_PER_FETCH = 20  # the same, for rows carrying long texts (CV text, articles)
STORAGE_EXTENSION_KEY = "portal.privacy.storage"
_storage_lock = threading.Lock()


class ExportRefused(DomainError):
    """An export cannot be requested now (one is being prepared, or too many were asked for today)."""


# Where the zips live ------------------------------------------------------------------------------------------


def export_storage(app: Flask) -> Storage:
    """The store for export zips: an `exports` folder (or key prefix) inside the uploads' location, kept apart from
    the CV files so that nothing else ever lists or serves them."""
    storage = app.extensions.get(STORAGE_EXTENSION_KEY)
    if storage is None:
        with _storage_lock:
            storage = app.extensions.get(STORAGE_EXTENSION_KEY)
            if storage is None:
                location = storage_location(app.config)
                if location.kind == "s3":
                    location = replace(location, prefix=f"{location.prefix}/exports".strip("/"))
                else:
                    assert location.path is not None
                    location = replace(location, path=location.path / "exports")
                storage = app.extensions[STORAGE_EXTENSION_KEY] = build_storage(app, location)
    return storage


def retention() -> timedelta:
    return timedelta(days=int(current_app.config.get("EXPORT_RETENTION_DAYS", 7)))


# Requests -----------------------------------------------------------------------------------------------------


def requests_per_day() -> int:
    return int(current_app.config.get("EXPORT_REQUESTS_PER_DAY", 3))


def request_export(subject: User, by: User) -> DataExport:
    """Queue an export of `subject`'s data, asked for by themself or by an admin (audit-logged); flushes.

    Raises ExportRefused while an export of this person is being prepared, and when the person has asked for
    EXPORT_REQUESTS_PER_DAY exports in the last 24 hours (admins' requests are not limited). The partial unique
    index on exports being prepared settles two requests at once.
    """
    if by.id != subject.id and not by.is_admin:
        raise ExportRefused("Only admins export another person's data.")
    lock(subject)  # requests for one person queue up here, so each one sees the others' rows
    if db.session.scalar(
        sa.select(sa.func.count(DataExport.id)).where(
            DataExport.subject_id == subject.id, DataExport.status.in_(IN_PROGRESS)
        )
    ):
        raise ExportRefused(_in_progress_message(subject, by))
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


def own_exports(user: User, limit: int = 20) -> list[DataExport]:
    """The exports a person asked for of their own data, newest first."""
    return list(
        db.session.scalars(
            sa.select(DataExport)
            .where(DataExport.subject_id == user.id, DataExport.requested_by_id == user.id)
            .order_by(DataExport.created_at.desc(), DataExport.id.desc())
            .limit(limit)
        )
    )


def exports_about(subject: User, limit: int = 20) -> list[DataExport]:
    """Every export of a person's data (theirs and admins'), newest first, for the admin page."""
    requester = aliased(User)
    return list(
        db.session.scalars(
            sa.select(DataExport)
            .outerjoin(requester, DataExport.requested_by)
            .options(sa.orm.contains_eager(DataExport.requested_by.of_type(requester)))
            .where(DataExport.subject_id == subject.id)
            .order_by(DataExport.created_at.desc(), DataExport.id.desc())
            .limit(limit)
        )
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


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Read everything that follows from one consistent view of the database, without taking the write lock:
    REPEATABLE READ on PostgreSQL; on SQLite a plain (deferred) transaction, which reads one snapshot with WAL."""
    marked = g.get("read_only_request")
    g.read_only_request = True
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield
    finally:
        db.session.rollback()
        if marked is None:
            g.pop("read_only_request", None)
        else:
            g.read_only_request = marked


def _build_and_store(export_id: int) -> StoredFile:
    storage = export_storage(current_app._get_current_object())
    with tempfile.TemporaryFile(prefix=".export-") as temp:
        with _one_snapshot():
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


def ready_email(export: DataExport) -> OutgoingEmail:
    """ "Your data is ready": no personal data in the subject, a link to the page the file is downloaded from."""
    if export.is_self_service:
        return OutgoingEmail(
            subject="Your data export is ready",
            template="data_export_ready",
            context={"export": export, "own": True, "url": public_url("privacy.mine")},
        )
    return OutgoingEmail(
        subject="The data export you asked for is ready",
        template="data_export_ready",
        context={"export": export, "own": False, "url": public_url("privacy.admin_exports", user_id=export.subject_id)},
    )


def failed_email(export: DataExport) -> OutgoingEmail:
    """The export could not be made: the person is not left waiting for an email that never comes."""
    return OutgoingEmail(
        subject="We could not prepare your data export",
        template="data_export_failed",
        context={
            "export": export,
            "own": export.is_self_service,
            "url": public_url("privacy.mine")
            if export.is_self_service
            else public_url("privacy.admin_exports", user_id=export.subject_id),
        },
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


# The zip ------------------------------------------------------------------------------------------------------


def write_export(subject: User, target: BinaryIO) -> None:
    """Write the zip of everything held about `subject` into `target`: data.json, their CV files under cv/, and
    README.txt. Long lists are read in batches and written as they are read."""
    generated_at = utcnow()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        cv_files = _write_cv_files(subject, archive)
        with archive.open("data.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
            _write_json_object(out, data_sections(subject, generated_at, cv_files))
            out.flush()
            out.detach()
        archive.writestr("README.txt", render_template("privacy/export_readme.txt", generated_at=generated_at))


def _cv_documents(subject: User) -> sa.Select:
    return (
        sa.select(CVDocument)
        .where(CVDocument.candidate_id == subject.id)
        .order_by(CVDocument.created_at, CVDocument.id)
    )


def _write_cv_files(subject: User, archive: zipfile.ZipFile) -> dict[int, str | None]:
    """Copy each stored CV file into cv/<version>-<name>; returns the path of each document's file (None when the
    store no longer has it)."""
    storage = storage_for(current_app._get_current_object())
    paths: dict[int, str | None] = {}
    rows = db.session.execute(
        sa.select(CVDocument.id, CVDocument.storage_key, CVDocument.original_filename)
        .where(CVDocument.candidate_id == subject.id)
        .order_by(CVDocument.created_at, CVDocument.id)
    ).all()
    for version, (document_id, key, filename) in enumerate(rows, start=1):
        path = f"cv/{version}-{safe_filename(filename, default='cv')}"
        try:
            stream = storage.open(key)
        except FileMissing:
            current_app.logger.warning("data export: CV %s has no stored file", document_id)
            paths[document_id] = None
            continue
        try:
            with archive.open(path, "w", force_zip64=True) as member:
                shutil.copyfileobj(stream, member, 64 * 1024)
        finally:
            stream.close()
        paths[document_id] = path
    return paths


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _dumps(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, default=_plain, ensure_ascii=False, indent=indent)


def _write_json_object(out: io.TextIOWrapper, sections: Iterable[tuple[str, Any]]) -> None:
    """One JSON object whose values are written as they come: a list given as an iterator is written item by item."""
    out.write("{")
    for index, (name, value) in enumerate(sections):
        out.write(("," if index else "") + f"\n  {_dumps(name)}: ")
        if isinstance(value, Iterator):
            out.write("[")
            count = 0
            for count, item in enumerate(value, start=1):
                out.write(("," if count > 1 else "") + "\n    " + _dumps(item))
            out.write("\n  ]" if count else "]")
        else:
            out.write(_dumps(value, indent=2).replace("\n", "\n  "))
    out.write("\n}\n")


def _rows(statement: sa.Select, per_fetch: int = ROWS_PER_FETCH) -> Iterator[sa.Row]:
    yield from db.session.execute(statement.execution_options(yield_per=per_fetch))


def data_sections(subject: User, generated_at: datetime, cv_files: dict[int, str | None]) -> Iterator[tuple[str, Any]]:
    """The parts of data.json in order, each a value or an iterator of items (see README.txt for what each holds)."""
    yield "format", EXPORT_FORMAT
    yield "generated_at", generated_at
    yield "account", _account(subject)
    yield "consents", _consents(subject)
    yield "bookings", _bookings(subject)
    yield "waitlist_entries", _waitlist(subject)
    yield "live_sessions", _live_sessions(subject)
    yield "cv_versions", _cv_versions(subject, cv_files)
    yield "cv_reviews_received", _cv_reviews_received(subject)
    yield "interview_feedback_received", _feedback_received(subject)
    yield "ratings_given", _ratings_given(subject)
    yield "insight_interests", _interests(subject)
    yield "saved_articles", _saved_articles(subject)
    yield "notifications", _notifications(subject)
    yield "emails", _emails(subject)
    yield "audit_entries", _audit_entries(subject)
    if not subject.is_candidate:
        yield "meeting_link", db.session.scalar(sa.select(MeetingLink.url).where(MeetingLink.mentor_id == subject.id))
        yield "availability_slots", _slots(subject)
        yield "weekly_availability", _series(subject)
        yield "interview_feedback_written", _feedback_written(subject)
        yield "cv_reviews_written", _cv_reviews_written(subject)
        yield "articles_written", _articles_written(subject)


def _account(subject: User) -> dict[str, Any]:
    account = {
        "name": subject.name,
        "email": subject.email,
        "role": subject.role,
        "time_zone": subject.timezone,
        "active": subject.active,
        "created_at": subject.created_at,
        "last_login_at": subject.last_login_at,
        "two_factor_sign_in_since": subject.totp_enabled_at,
        "calendar_feed_on": subject.calendar_token is not None,
    }
    if not subject.is_candidate:
        account["focus_areas"] = subject.focus_areas
        account["article_editor"] = subject.is_editor
    return account


def _consents(subject: User) -> dict[str, Any]:
    chosen = preferences(subject.id)
    return {
        "privacy_notice_accepted_at": subject.privacy_accepted_at,
        "email_preferences": [
            {"category": category, "description": label, "emails_on": chosen[category]}
            for category, label in CATEGORIES.items()
        ],
    }


def _session_columns(mentor: Any) -> tuple:
    return (Slot.starts_at, Slot.ends_at, InterviewType.name.label("interview_type"), mentor.name.label("mentor"))


def _bookings(subject: User) -> Iterator[dict]:
    mentor = aliased(User)
    statement = (
        sa.select(Booking, *_session_columns(mentor))
        .join(Booking.slot)
        .join(Slot.interview_type)
        .join(mentor, Slot.mentor)
        .where(Booking.candidate_id == subject.id)
        .order_by(Slot.starts_at, Booking.id)
    )
    for booking, starts_at, ends_at, type_name, mentor_name in _rows(statement):
        yield {
            "id": booking.id,
            "interview_type": type_name,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "mentor": mentor_name,
            "status": booking.status,
            "focus_note": booking.focus_note,
            "phone": booking.phone,
            "cv_version_id": booking.cv_document_id,
            "reschedules": booking.reschedule_count,
            "cancelled_at": booking.cancelled_at,
            "cancel_reason": booking.cancel_reason,
            "late_cancellation": booking.late_cancellation,
            "outcome_recorded_at": booking.outcome_at,
            "created_at": booking.created_at,
        }


def _waitlist(subject: User) -> Iterator[dict]:
    mentor = aliased(User)
    statement = (
        sa.select(WaitlistEntry, InterviewType.name, mentor.name)
        .join(WaitlistEntry.interview_type)
        .outerjoin(mentor, WaitlistEntry.mentor)
        .where(WaitlistEntry.candidate_id == subject.id)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    for entry, type_name, mentor_name in _rows(statement):
        yield {
            "interview_type": type_name,
            "mentor": mentor_name,
            "first_date": entry.first_date,
            "last_date": entry.last_date,
            "status": entry.status,
            "created_at": entry.created_at,
            "updated_at": entry.updated_at,
        }


def _live_sessions(subject: User) -> Iterator[dict]:
    statement = (
        sa.select(LiveRegistration, LiveSession.title, LiveSession.kind, LiveSession.starts_at, LiveSession.ends_at)
        .join(LiveRegistration.session)
        .where(LiveRegistration.candidate_id == subject.id)
        .order_by(LiveSession.starts_at, LiveRegistration.id)
    )
    for registration, title, kind, starts_at, ends_at in _rows(statement):
        yield {
            "session": title,
            "kind": kind,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "status": registration.status,
            "registered_at": registration.created_at,
            "waitlisted_at": registration.waitlisted_at,
            "attended": registration.attended,
            "cancelled_at": registration.cancelled_at,
        }


def _cv_versions(subject: User, cv_files: dict[int, str | None]) -> Iterator[dict]:
    statement = _cv_documents(subject).options(sa.orm.undefer(CVDocument.extracted_text))
    for version, (document,) in enumerate(_rows(statement, TEXT_ROWS_PER_FETCH), start=1):
        links = [link for link in document.links.splitlines() if link]
        yield {
            "id": document.id,
            "version": version,
            "name": document.name,
            "filename": document.original_filename,
            "file_in_this_zip": cv_files.get(document.id),
            "media_type": document.media_type,
            "size_bytes": document.size_bytes,
            "sha256": document.sha256,
            "pages": document.page_count,
            "words": document.word_count,
            "current": document.is_current,
            "uploaded_at": document.created_at,
            "links": links,
            "extracted_text": document.extracted_text,
            "checks": [
                {"check": item.title, "passed": item.passed, "detail": item.detail}
                for item in check_cv(document.extracted_text, document.page_count, links)
            ],
        }


def _review_content(review: CVReview) -> dict[str, Any]:
    return {
        "verdict": review.verdict,
        "summary": review.comment_summary,
        "experience_and_impact": review.comment_experience,
        "skills": review.comment_skills,
        "projects_and_portfolio": review.comment_projects,
        "presentation": review.comment_presentation,
        "strengths": review.strengths,
        "improvements": review.improvements,
    }


def _cv_reviews_received(subject: User) -> Iterator[dict]:
    """Every review request; the feedback of those completed (drafts are the mentor's until published)."""
    reviewer = aliased(User)
    statement = (
        sa.select(CVReview, reviewer.name)
        .outerjoin(reviewer, CVReview.reviewer)
        .where(CVReview.candidate_id == subject.id)
        .order_by(CVReview.created_at, CVReview.id)
    )
    for review, reviewer_name in _rows(statement):
        item: dict[str, Any] = {
            "cv_version": review.document_name,
            "cv_version_id": review.cv_document_id,
            "target_role": review.target_role,
            "questions": review.questions,
            "status": review.status,
            "requested_at": review.created_at,
        }
        if review.status == ReviewStatus.COMPLETED:
            item |= {"reviewer": reviewer_name, "completed_at": review.completed_at, **_review_content(review)}
        yield item


def _scores(feedback: SessionFeedback | FeedbackRevision) -> dict[str, int | None]:
    return {criterion.name: feedback.score(criterion.key) for criterion in CRITERIA}


def _feedback_content(feedback: SessionFeedback | FeedbackRevision) -> dict[str, Any]:
    return {
        "rubric_scores_1_to_5": _scores(feedback),
        "strengths": feedback.strengths,
        "improvements": feedback.improvements,
        "next_steps": feedback.next_steps,
        "readiness": READINESS.get(feedback.readiness or "", feedback.readiness),
    }


def _feedback_received(subject: User) -> Iterator[dict]:
    mentor = aliased(User)
    published = sa.and_(Booking.candidate_id == subject.id, SessionFeedback.status == FeedbackStatus.PUBLISHED)
    earlier: dict[int, list[dict]] = {}
    for revision in db.session.scalars(
        sa.select(FeedbackRevision)
        .join(SessionFeedback, FeedbackRevision.feedback_id == SessionFeedback.id)
        .join(SessionFeedback.booking)
        .where(published)
        .order_by(FeedbackRevision.feedback_id, FeedbackRevision.version)
    ):
        earlier.setdefault(revision.feedback_id, []).append(
            {"version": revision.version, "published_at": revision.published_at, **_feedback_content(revision)}
        )
    statement = (
        sa.select(SessionFeedback, *_session_columns(mentor))
        .join(SessionFeedback.booking)
        .join(Booking.slot)
        .join(Slot.interview_type)
        .join(mentor, Slot.mentor)
        .where(published)
        .order_by(Slot.starts_at, SessionFeedback.id)
    )
    for feedback, starts_at, _ends_at, type_name, mentor_name in _rows(statement):
        yield {
            "booking_id": feedback.booking_id,
            "session_starts_at": starts_at,
            "interview_type": type_name,
            "mentor": mentor_name,
            "published_at": feedback.published_at,
            "edited_at": feedback.edited_at,
            **_feedback_content(feedback),
            "earlier_versions": earlier.get(feedback.id, []),
        }


def _ratings_given(subject: User) -> Iterator[dict]:
    mentor = aliased(User)
    statement = (
        sa.select(SessionRating, *_session_columns(mentor))
        .join(Booking, SessionRating.booking_id == Booking.id)
        .join(Booking.slot)
        .join(Slot.interview_type)
        .join(mentor, Slot.mentor)
        .where(SessionRating.candidate_id == subject.id)
        .order_by(SessionRating.created_at, SessionRating.id)
    )
    for rating, starts_at, _ends_at, type_name, mentor_name in _rows(statement):
        yield {
            "booking_id": rating.booking_id,
            "session_starts_at": starts_at,
            "interview_type": type_name,
            "mentor": mentor_name,
            "score_1_to_5": rating.score,
            "comment": rating.comment,
            "rated_at": rating.created_at,
        }


def _interests(subject: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(InsightTag.kind, InsightTag.name)
        .join(candidate_interests, candidate_interests.c.tag_id == InsightTag.id)
        .where(candidate_interests.c.user_id == subject.id)
        .order_by(InsightTag.kind, InsightTag.name)
    )
    return [{"kind": kind, "name": name} for kind, name in rows]


def _saved_articles(subject: User) -> Iterator[dict]:
    statement = (
        sa.select(InsightArticle.title, SavedArticle.created_at)
        .join(InsightArticle, SavedArticle.article_id == InsightArticle.id)
        .where(SavedArticle.user_id == subject.id)
        .order_by(SavedArticle.created_at)
    )
    for title, saved_at in _rows(statement):
        yield {"article": title, "saved_at": saved_at}


def _notifications(subject: User) -> Iterator[dict]:
    statement = (
        sa.select(Notification.message, Notification.link, Notification.created_at, Notification.read_at)
        .where(Notification.user_id == subject.id)
        .order_by(Notification.created_at, Notification.id)
    )
    for message, link, created_at, read_at in _rows(statement):
        yield {"message": message, "link": link, "created_at": created_at, "read_at": read_at}


def _emails(subject: User) -> Iterator[dict]:
    """The outbox's record of emails to them: who to, subject, state and times (not the bodies)."""
    statement = (
        sa.select(
            OutboxEmail.to_address,
            OutboxEmail.subject,
            OutboxEmail.category,
            OutboxEmail.status,
            OutboxEmail.attempts,
            OutboxEmail.created_at,
            OutboxEmail.sent_at,
        )
        .where(sa.or_(OutboxEmail.user_id == subject.id, OutboxEmail.to_address == subject.email))
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    )
    for to, subject_line, category, status, attempts, created_at, sent_at in _rows(statement):
        yield {
            "to": to,
            "subject": subject_line,
            "category": category,
            "status": status,
            "attempts": attempts,
            "queued_at": created_at,
            "sent_at": sent_at,
        }


def _audit_entries(subject: User) -> Iterator[dict]:
    statement = (
        sa.select(AuditEvent)
        .where(
            sa.or_(
                AuditEvent.actor_id == subject.id,
                sa.and_(AuditEvent.target_type == "user", AuditEvent.target_id == str(subject.id)),
            )
        )
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    for (event,) in _rows(statement):
        yield {
            "at": event.created_at,
            "by": event.actor_name,
            "by_them": event.actor_id == subject.id,
            "action": event.action,
            "about": f"{event.target_type} {event.target_id}" if event.target_id else event.target_type,
            "summary": event.summary,
            "before": event.before,
            "after": event.after,
        }


def _slots(subject: User) -> Iterator[dict]:
    statement = (
        sa.select(Slot, InterviewType.name)
        .join(Slot.interview_type)
        .where(Slot.mentor_id == subject.id)
        .order_by(Slot.starts_at, Slot.id)
    )
    for slot, type_name in _rows(statement):
        yield {
            "interview_type": type_name,
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "status": slot.status,
            "meeting_mode": slot.meeting_mode,
            "place": slot.place,
            "cancelled_at": slot.cancelled_at,
            "cancel_reason": slot.cancel_reason,
            "created_at": slot.created_at,
        }


def _series(subject: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(SlotSeries, InterviewType.name)
        .join(InterviewType, SlotSeries.interview_type_id == InterviewType.id)
        .where(SlotSeries.mentor_id == subject.id)
        .order_by(SlotSeries.created_at)
    )
    return [
        {
            "interview_type": type_name,
            "time_zone": series.timezone,
            "weekdays": series.weekdays,
            "from": series.window_start,
            "to": series.window_end,
            "first_date": series.first_date,
            "last_date": series.last_date,
            "created_at": series.created_at,
        }
        for series, type_name in rows
    ]


def _feedback_written(subject: User) -> Iterator[dict]:
    """Their interview feedback, drafts included, with the session it is about (not the candidate's details)."""
    statement = (
        sa.select(SessionFeedback, Slot.starts_at, InterviewType.name)
        .join(SessionFeedback.booking)
        .join(Booking.slot)
        .join(Slot.interview_type)
        .where(SessionFeedback.mentor_id == subject.id)
        .order_by(Slot.starts_at, SessionFeedback.id)
    )
    for feedback, starts_at, type_name in _rows(statement):
        yield {
            "booking_id": feedback.booking_id,
            "session_starts_at": starts_at,
            "interview_type": type_name,
            "status": feedback.status,
            "published_at": feedback.published_at,
            "updated_at": feedback.updated_at,
            **_feedback_content(feedback),
        }


def _cv_reviews_written(subject: User) -> Iterator[dict]:
    statement = sa.select(CVReview).where(CVReview.reviewer_id == subject.id).order_by(CVReview.created_at, CVReview.id)
    for (review,) in _rows(statement):
        yield {
            "review_id": review.id,
            "target_role": review.target_role,
            "status": review.status,
            "claimed_at": review.claimed_at,
            "completed_at": review.completed_at,
            **_review_content(review),
        }


def _articles_written(subject: User) -> Iterator[dict]:
    statement = (
        sa.select(InsightArticle)
        .where(InsightArticle.author_id == subject.id)
        .order_by(InsightArticle.created_at, InsightArticle.id)
    )
    for (article,) in _rows(statement, TEXT_ROWS_PER_FETCH):
        yield {
            "title": article.title,
            "summary": article.summary,
            "body_markdown": article.body,
            "status": article.status,
            "published_at": article.published_at,
            "created_at": article.created_at,
            "updated_at": article.updated_at,
        }
