"""What a copy of a person's data holds: data.json, their CV files and a README, written into a zip as the rows are
read (long lists a batch at a time), from whatever consistent view of the database the caller has opened."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any, BinaryIO

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.orm import aliased

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.cvs.check import check_cv
from portal.cvs.models import CVDocument, CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.feedback.models import FeedbackRevision, SessionFeedback, SessionRating
from portal.feedback.rubric import CRITERIA, READINESS
from portal.insights.models import InsightArticle, InsightTag, SavedArticle, candidate_interests
from portal.interviews.models import Booking, InterviewType, MeetingLink, Slot, SlotSeries
from portal.live.models import LiveRegistration, LiveSession
from portal.mail import OutboxEmail
from portal.notifications.models import CATEGORIES, Notification
from portal.notifications.preferences import preferences
from portal.privacy.models import PrivacyConsent
from portal.statuses import FeedbackStatus, ReviewStatus
from portal.storage import FileMissing, storage_for
from portal.text import safe_filename
from portal.waitlist.models import WaitlistEntry

EXPORT_FORMAT = "career-portal-export/1"
ROWS_PER_FETCH = 200  # rows read from the database at a time for lists that can be long
TEXT_ROWS_PER_FETCH = 20  # the same, for rows carrying long texts (CV text, articles)


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
        sa.select(CVDocument.id, CVDocument.storage_key, CVDocument.original_filename, CVDocument.file_removed_at)
        .where(CVDocument.candidate_id == subject.id)
        .order_by(CVDocument.created_at, CVDocument.id)
    ).all()
    for version, (document_id, key, filename, removed_at) in enumerate(rows, start=1):
        path = f"cv/{version}-{safe_filename(filename, default='cv')}"
        if removed_at is not None:  # removed under the retention policy
            paths[document_id] = None
            continue
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
    accepted = db.session.execute(
        sa.select(PrivacyConsent.notice_version, PrivacyConsent.how, PrivacyConsent.created_at)
        .where(PrivacyConsent.user_id == subject.id)
        .order_by(PrivacyConsent.id)
    )
    return {
        "privacy_notice_accepted_at": subject.privacy_accepted_at,
        "privacy_notice_version": subject.privacy_notice_version,
        "privacy_notice_acceptances": [{"version": version, "how": how, "at": at} for version, how, at in accepted],
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
            "file_removed_at": document.file_removed_at,  # removed under the retention policy, with its text
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
