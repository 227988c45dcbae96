"""Closing an account, reopening it during the grace period, and erasing a person's personal data.

Closing (`close_account`) happens at once: future sessions are cancelled with the usual notices, waitlist places and
live-session seats to come are given up, CV review requests nobody has started are withdrawn, every session ends and
the account is deactivated. Erasure (`erase_user`) follows after ACCOUNT_ERASURE_GRACE_DAYS (`erase_due`, run by the
retention job) or at once when an admin erases someone on request.

What erasure does with each table that can hold personal data (other columns hold none: ids, times, statuses):

- users: the row stays (bookings, scores and ratings point at it). Name "Former member", email
  `erased-<id>@invalid.example`; password hash, second factor, calendar token, focus areas, last login and the
  editor right cleared.
- password_resets, recovery_codes: deleted.
- registrations: those for the person's email address deleted (name, email, password hash).
- invitations: those to the person (by email, or accepted into the account) deleted; those they sent stay.
- cv_documents: every version's file deleted from storage; name, original filename, extracted text, links (the
  instant check's details), page and word counts and checksum blanked; the row stays for the reviews' history.
- cv_reviews about the person: target role, questions, document name and every comment (summary, sections,
  strengths, improvements) blanked; status, verdict and times kept for the review reports.
- cv_reviews written by the person (a mentor): kept, shown under the anonymous name.
- bookings as candidate: focus note, phone number and cancellation reason blanked; status, times and outcome kept.
- session_feedback, feedback_revisions about the person: strengths, improvements and next steps blanked; rubric
  scores and readiness kept.
- session_ratings given by the person: comment blanked; the score kept.
- waitlist_entries, live_registrations: kept (no text; attendance figures count them).
- notifications to the person: deleted. Notifications and outbox emails to others: the person's name and email
  address replaced wherever they appear (a mentor's cancellation notice and its calendar attachment).
- outbox_emails about the person's bookings, whoever they went to (found by the booking's calendar UID in the
  attachment): sent ones keep their delivery metadata (recipient, subject, status, times) with both bodies and the
  calendar file blanked; ones not sent yet (queued, or failed and so open to an admin's retry) are still delivered,
  so a mentor learns of a cancellation, with what the person typed (focus notes, phone numbers, the reasons they gave
  when cancelling) replaced by "(erased)" in the text, the HTML and the calendar file. Notifications to others that
  name the person get the same replacement (and that of their CV reviews' target roles).
- notification_preferences (email choices and unsubscribes), candidate_interests, insight_saves: deleted.
- outbox_emails to the person: queued ones deleted (dropped, never sent); sent or failed ones keep their delivery
  metadata, with the address replaced and the subject, bodies, attachment, unsubscribe link and error blanked.
- audit_events: the name and email replaced in the summary, actor name and before/after values of every entry;
  in entries about the person's bookings and CV reviews, the free text (a cancellation reason, a released review's
  draft) blanked; "account.erased" records only the user id.
- meeting_links (a mentor's own video room, often named after them): deleted.
- slots, slot_series, live_sessions, insight articles and revisions, page revisions: kept; a mentor's or editor's
  work stays for history under the anonymous name. Free text others typed there (a live session's speakers) is not
  searched.
- data_exports: deleted with their zips (exports of the person's data, and exports they asked for as an admin).
- privacy_consents: kept (a notice version, how and when; nothing that identifies the person once the account is
  anonymised).
- reminders, live_reminders: kept (no text); those of cancelled sessions were ended by the cancellation.

Each step is safe to repeat; the whole erasure runs in the caller's transaction and `erased_at` is set last, so an
interrupted erasure (the transaction rolled back after some files were deleted) is completed by the next call.
A new kind of personal data gets its step in `ERASURE_STEPS`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from icalendar import vText
from markupsafe import escape

from portal import events
from portal.admin.services import future_bookings, is_last_active_admin, withdraw_from_future_sessions
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.auth import services as auth_services
from portal.auth.models import ERASED_EMAIL_DOMAIN, Invitation, PasswordReset, RecoveryCode, Registration, User
from portal.cvs.models import CVDocument, CVReview
from portal.cvs.services import withdraw_review
from portal.db import claim_next, lock, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.feedback.models import FeedbackRevision, SessionFeedback, SessionRating
from portal.insights.models import SavedArticle, candidate_interests
from portal.interviews.models import Booking, MeetingLink, Slot
from portal.live.models import LiveRegistration, LiveSession
from portal.live.services import cancel_registration
from portal.mail import OutboxEmail, OutgoingEmail, queue_email
from portal.notifications.models import Notification, NotificationPreference
from portal.privacy import notice
from portal.privacy.exports import delete_exports_for
from portal.retention.services import Category, register
from portal.rules import contact
from portal.statuses import EmailStatus, EntryStatus, LiveSessionStatus, ReviewStatus, SeatStatus
from portal.storage import storage_for
from portal.timeutil import DEFAULT_TIMEZONE, format_local
from portal.waitlist.models import WaitlistEntry
from portal.waitlist.services import leave

ERASED_NAME = "Former member"
ERASED_CV_NAME = "Erased CV"
CLOSING = "account_closing"  # cancellations made while closing an account are in its own audit entry


class AccountClosingRefused(DomainError):
    """The account cannot be closed, reopened or erased now (the last admin, already closed, already erased)."""


def placeholder_email(user_id: int) -> str:
    """The unique, lower-case, undeliverable address an erased account keeps (nothing is ever queued to it)."""
    return f"erased-{user_id}@{ERASED_EMAIL_DOMAIN}"


def grace_period() -> timedelta:
    return timedelta(days=current_app.config["ACCOUNT_ERASURE_GRACE_DAYS"])


# Closing ---------------------------------------------------------------------------------------------------------


def confirm_identity(user: User, password: str, code: str | None) -> None:
    """The password again and, when two-factor sign-in is on, a current app code or an unused recovery code (used up
    now). Raises DomainError on the field that is wrong; the password is checked first."""
    auth_services.check_password_again(user, password or "")
    if user.has_second_factor:
        if not (code or "").strip():
            raise DomainError("Enter the code from your authenticator app, or a recovery code.", field="code")
        auth_services.check_second_factor(user, code or "")


def close_account(user: User, by: User) -> list[Booking]:
    """Close the account now (its owner, or an admin erasing it): future bookings cancelled with notices, waitlist
    places and future live-session places given up, unstarted CV review requests withdrawn, every session ended, the
    account deactivated and due for erasure after the grace period; the person is emailed. Returns the cancelled
    bookings. Raises AccountClosingRefused for the last active admin or an account already closed."""
    lock(user)
    if user.closed_at is not None or user.erased_at is not None:
        raise AccountClosingRefused("This account is already closed.")
    if is_last_active_admin(user):
        raise AccountClosingRefused(
            "This is the only active admin account, so it cannot be closed or erased. Make someone else an admin first."
        )
    now = utcnow()
    if by.id != user.id:
        reason = "The account of a participant was closed by the career services team."
    elif user.is_mentor:
        reason = "Your mentor closed their account."
    else:
        reason = "The candidate closed their account."
    bookings = withdraw_from_future_sessions(user, by, reason, within=CLOSING)
    left = _leave_waitlists(user)
    seats = _give_up_live_places(user, now)
    withdrawn = _withdraw_review_requests(user)
    was_active = user.active
    user.active = False
    user.end_all_sessions()
    user.closed_at = now
    user.erase_after = now + grace_period()
    record(
        by,
        "account.closed",
        "user",
        user.id,
        f"{user.name}: account closed; {len(bookings)} future booking(s) cancelled",
        {"active": was_active},
        {
            "active": False,
            "erase_after": user.erase_after,
            "cancelled_bookings": [b.id for b in bookings],
            "waitlist_entries_left": left,
            "live_registrations_cancelled": seats,
            "review_requests_withdrawn": withdrawn,
        },
    )
    if was_active:
        events.account_deactivated.send(user, by=by)
    queue_email(
        user.email,
        OutgoingEmail(
            "Your account is closed",
            "account_closed",
            {
                "user": user,
                "by_self": by.id == user.id,
                "erase_on": format_local(user.erase_after, user.timezone, date_only=True),
                "contact": contact(),
            },
            category="security",
        ),
        user_id=user.id,
    )
    return bookings


def _open_waitlist_entries(user: User) -> sa.ColumnElement[bool]:
    return sa.and_(
        WaitlistEntry.candidate_id == user.id, WaitlistEntry.status.in_((EntryStatus.WAITING, EntryStatus.OFFERED))
    )


def _future_live_places(user: User, now: datetime) -> sa.ColumnElement[bool]:
    """The person's seats and waitlist places at live sessions still to come (join LiveRegistration.session)."""
    return sa.and_(
        LiveRegistration.candidate_id == user.id,
        LiveRegistration.status.in_((SeatStatus.REGISTERED, SeatStatus.WAITLISTED)),
        LiveSession.status == LiveSessionStatus.SCHEDULED,
        LiveSession.starts_at > now,
    )


def _leave_waitlists(user: User) -> list[int]:
    entries = db.session.scalars(sa.select(WaitlistEntry).where(_open_waitlist_entries(user))).all()
    for entry in entries:
        leave(entry, user)
    return [entry.id for entry in entries]


def _give_up_live_places(user: User, now: datetime) -> list[int]:
    registrations = db.session.scalars(
        sa.select(LiveRegistration)
        .join(LiveRegistration.session)
        .where(_future_live_places(user, now))
        .order_by(LiveRegistration.id)
    ).all()
    for registration in registrations:
        cancel_registration(registration, user)
    return [registration.id for registration in registrations]


def _withdraw_review_requests(user: User) -> list[int]:
    reviews = db.session.scalars(
        sa.select(CVReview).where(CVReview.candidate_id == user.id, CVReview.status == ReviewStatus.REQUESTED)
    ).all()
    for review in reviews:
        withdraw_review(review, user)
    return [review.id for review in reviews]


def reopen_account(user: User, by: User) -> None:
    """Undo a closing before erasure: the account is active again and no longer due for erasure (its cancelled
    bookings stay cancelled). Raises AccountClosingRefused when it is not closed or already erased."""
    lock(user)
    if user.erased_at is not None:
        raise AccountClosingRefused("This account has been erased, so it cannot be reopened.")
    if user.closed_at is None:
        raise AccountClosingRefused(f"{user.name}'s account is not closed.")
    before = {"closed_at": user.closed_at, "erase_after": user.erase_after, "active": user.active}
    user.closed_at = None
    user.erase_after = None
    user.active = True
    notice.ask_again_if_behind(user)
    record(
        by,
        "account.reopened",
        "user",
        user.id,
        f"{user.name}: account reopened",
        before,
        {"closed_at": None, "erase_after": None, "active": True},
    )


# Erasure ---------------------------------------------------------------------------------------------------------


def _erase_cv_files(user: User) -> None:
    """Every CV version's file leaves storage (a missing file is fine: a step repeated) and its details go."""
    storage = storage_for(current_app)
    documents = db.session.scalars(sa.select(CVDocument).where(CVDocument.candidate_id == user.id)).all()
    for document in documents:
        storage.delete(document.storage_key)
    db.session.execute(
        sa.update(CVDocument)
        .where(CVDocument.candidate_id == user.id)
        .values(
            name=ERASED_CV_NAME,
            original_filename="erased",
            extracted_text="",
            links="",
            sha256="",
            page_count=None,
            word_count=0,
            file_removed_at=sa.func.coalesce(CVDocument.file_removed_at, utcnow()),
        )
        .execution_options(synchronize_session=False)
    )


def _erase_texts_about(user: User) -> None:
    """What the person wrote for their sessions and reviews, and what others wrote about them; scores stay."""
    db.session.execute(
        sa.update(CVReview)
        .where(CVReview.candidate_id == user.id)
        .values(
            document_name=ERASED_CV_NAME,
            target_role="",
            questions="",
            comment_summary="",
            comment_experience="",
            comment_skills="",
            comment_projects="",
            comment_presentation="",
            strengths="",
            improvement_1="",
            improvement_2="",
            improvement_3="",
        )
        .execution_options(synchronize_session=False)
    )
    their_bookings = sa.select(Booking.id).where(Booking.candidate_id == user.id)
    db.session.execute(
        sa.update(Booking)
        .where(Booking.candidate_id == user.id)
        .values(focus_note="", phone=None, cancel_reason=None)
        .execution_options(synchronize_session=False)
    )
    blank = {"strengths": "", "improvements": "", "next_steps": ""}
    db.session.execute(
        sa.update(SessionFeedback)
        .where(SessionFeedback.booking_id.in_(their_bookings))
        .values(**blank)
        .execution_options(synchronize_session=False)
    )
    their_feedback = sa.select(SessionFeedback.id).where(SessionFeedback.booking_id.in_(their_bookings))
    db.session.execute(
        sa.update(FeedbackRevision)
        .where(FeedbackRevision.feedback_id.in_(their_feedback))
        .values(**blank)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(SessionRating)
        .where(SessionRating.candidate_id == user.id)
        .values(comment="")
        .execution_options(synchronize_session=False)
    )


def _delete_account_rows(user: User) -> None:
    """Rows that exist only for the person: sign-in secrets, notices, preferences, saved articles, interests."""
    for statement in (
        sa.delete(PasswordReset).where(PasswordReset.user_id == user.id),
        sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id),
        sa.delete(Registration).where(Registration.email == user.email),
        sa.delete(Invitation).where(sa.or_(Invitation.email == user.email, Invitation.user_id == user.id)),
        sa.delete(Notification).where(Notification.user_id == user.id),
        sa.delete(NotificationPreference).where(NotificationPreference.user_id == user.id),
        sa.delete(SavedArticle).where(SavedArticle.user_id == user.id),
        sa.delete(candidate_interests).where(candidate_interests.c.user_id == user.id),
        sa.delete(MeetingLink).where(MeetingLink.mentor_id == user.id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))


def _erase_outbox(user: User) -> None:
    """Emails to the person still waiting are dropped; those already sent (or failed) keep only their metadata."""
    theirs = sa.or_(OutboxEmail.user_id == user.id, OutboxEmail.to_address == user.email)
    db.session.execute(
        sa.delete(OutboxEmail)
        .where(theirs, OutboxEmail.status == EmailStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(OutboxEmail)
        .where(theirs)
        .values(
            to_address=placeholder_email(user.id),
            subject="(erased)",
            body_text="",
            body_html=None,
            attachment_filename=None,
            attachment_content_type=None,
            attachment_text=None,
            list_unsubscribe=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


def unfold_calendar(text: str) -> str:
    """iCalendar text with its folded lines joined again (RFC 5545 3.1: a line break followed by one space or tab)."""
    return re.sub(r"\r?\n[ \t]", "", text)


ERASED_WORDS = "(erased)"


def _words_pattern(words: list[str]) -> re.Pattern | None:
    """Any of `words` as a whole (not inside a longer word), the longest first."""
    unique = sorted({word for word in words if word.strip()}, key=len, reverse=True)
    if not unique:
        return None
    return re.compile("|".join(r"(?<!\w)" + re.escape(word) + r"(?!\w)" for word in unique))


class _Words:
    """What the person typed, found where the portal copied it: as typed (a notice, an email's text part),
    HTML-escaped (its HTML part) and iCalendar-escaped (its calendar file, whose folded lines are joined first)."""

    def __init__(self, words: list[str]) -> None:
        self.words = [word for word in words if word and word.strip()]
        self.typed = _words_pattern(self.words)
        self.html = _words_pattern([str(escape(word)) for word in self.words])
        self.calendar = _words_pattern([vText(word).to_ical().decode("utf-8") for word in self.words])

    @staticmethod
    def _sub(pattern: re.Pattern | None, value: str | None) -> str | None:
        return pattern.sub(ERASED_WORDS, value) if pattern is not None and value else value

    def in_text(self, value: str | None) -> str | None:
        return self._sub(self.typed, value)

    def in_html(self, value: str | None) -> str | None:
        return self._sub(self.html, value)

    def in_calendar(self, value: str | None) -> str | None:
        """Left unfolded where a word was replaced, as _Mentions leaves it (calendar programs read long lines)."""
        if not value:
            return value
        unfolded = unfold_calendar(value)
        cleaned = self._sub(self.calendar, unfolded)
        return cleaned if cleaned != unfolded else value


def _their_words(user: User) -> tuple[list[str], _Words]:
    """The calendar UIDs of the person's bookings, and what they typed that the portal copies into other people's
    emails and notices: focus notes, phone numbers, the reasons they gave when cancelling, CV review target roles."""
    bookings = db.session.execute(
        sa.select(Booking.uid, Booking.focus_note, Booking.phone, Booking.cancel_reason, Booking.cancelled_by_id).where(
            Booking.candidate_id == user.id
        )
    ).all()
    words = [text for booking in bookings for text in (booking.focus_note, booking.phone)]
    words += [booking.cancel_reason for booking in bookings if booking.cancelled_by_id == user.id]
    words += db.session.scalars(sa.select(CVReview.target_role).where(CVReview.candidate_id == user.id)).all()
    return [booking.uid for booking in bookings], _Words(words)


UIDS_PER_QUERY = 100  # SQLite refuses an expression deeper than 1,000 terms


def _erase_their_words_elsewhere(user: User) -> None:
    """Emails about the person's bookings (each carries the booking's calendar UID) hold what they typed: a focus
    note, a phone number, a reason for cancelling, in the text and HTML parts and the calendar file, whoever they went
    to (the mentor, a mentor the session moved away from). An email already sent keeps its metadata only: its bodies
    and calendar file are blanked. One not sent yet (queued, or failed and so open to an admin's retry) still goes
    out, so the mentor learns of the change, with the person's words replaced by "(erased)" in all three. Notices to
    others that name the person (a mentor's "... cancelled. Reason: ...") get the same replacement. Runs before the
    bookings' own texts are blanked."""
    uids, words = _their_words(user)
    if words.typed is None:
        return
    for start in range(0, len(uids), UIDS_PER_QUERY):
        batch = uids[start : start + UIDS_PER_QUERY]
        about = sa.or_(*(OutboxEmail.attachment_text.contains(uid, autoescape=True) for uid in batch))
        for row in db.session.scalars(sa.select(OutboxEmail).where(about)):
            if row.status == EmailStatus.SENT:
                row.body_text, row.body_html, row.attachment_text = "", None, None
                continue
            row.body_text = words.in_text(row.body_text) or ""
            row.body_html = words.in_html(row.body_html)
            row.attachment_text = words.in_calendar(row.attachment_text)
    named = _Mentions(user).condition(Notification.message)
    for notice_row in db.session.scalars(sa.select(Notification).where(Notification.user_id != user.id, named)):
        cleaned = words.in_text(notice_row.message)
        if cleaned != notice_row.message:
            notice_row.message = cleaned
    db.session.flush()


class _Mentions:
    """Finds and replaces a person's name and email address inside other people's texts."""

    def __init__(self, user: User, with_name: bool = True) -> None:
        self.email = user.email.lower()
        self.name = user.name.strip()
        self.replacement_email = placeholder_email(user.id)
        self.names = set()
        if with_name and self.name and self.name != ERASED_NAME:
            in_calendar = self.name.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            self.names = {self.name, str(escape(self.name)), in_calendar}
        words = [re.escape(self.email)]
        words += [r"(?<!\w)" + re.escape(name) + r"(?!\w)" for name in sorted(self.names, key=len, reverse=True)]
        self.pattern = re.compile("|".join(words), re.IGNORECASE)

    def needles(self) -> list[str]:
        """Lower-case fragments that a text mentioning the person contains: as typed, as HTML escapes it (an email's
        HTML part) and as JSON escapes it (audit values)."""
        found = {self.email}
        for name in self.names:
            found |= {name.lower(), json.dumps(name.lower())[1:-1]}
        return sorted(found)

    def _swap(self, match: re.Match) -> str:
        return self.replacement_email if "@" in match.group(0) else ERASED_NAME

    def replace(self, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("BEGIN:VCALENDAR"):  # a name may be split across a folded line
                unfolded = unfold_calendar(value)
                cleaned = self.pattern.sub(self._swap, unfolded)
                return cleaned if cleaned != unfolded else value
            return self.pattern.sub(self._swap, value)
        if isinstance(value, dict):
            return {key: self.replace(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.replace(item) for item in value]
        return value

    def condition(self, column) -> sa.ColumnElement[bool]:
        text = sa.func.lower(sa.cast(column, sa.Text))
        return sa.or_(*(text.contains(needle, autoescape=True) for needle in self.needles()))


# Columns where another person's text may name the person being erased.
MENTION_COLUMNS: tuple[tuple[type, tuple[str, ...]], ...] = (
    (Notification, ("message",)),
    (OutboxEmail, ("to_address", "subject", "body_text", "body_html", "attachment_text", "last_error")),
    (AuditEvent, ("actor_name", "summary", "before", "after")),
    (Booking, ("cancel_reason",)),
)


# Keys of audit values that hold free text about the session or review the entry is about (a cancellation reason, a
# released review's draft): blanked in entries about the erased person's bookings and CV reviews.
AUDIT_FREE_TEXT_KEYS = ("reason", "draft", "focus_note")


def _blank_free_text(values: dict | None) -> dict | None:
    if not values:
        return values
    return {
        key: ({} if key == "draft" else "") if key in AUDIT_FREE_TEXT_KEYS else item for key, item in values.items()
    }


def _audit_about(kind: str, id_column, *where) -> sa.ColumnElement[bool]:
    """Audit entries about the rows of `kind` whose `id_column` matches `where` (audit target ids are text)."""
    ids = sa.select(sa.cast(id_column, sa.String)).where(*where)
    return sa.and_(AuditEvent.target_type == kind, AuditEvent.target_id.in_(ids))


def _erase_audit_texts(user: User) -> None:
    """Audit entries about the person's bookings and CV reviews keep what happened, not the words written."""
    about = sa.or_(
        _audit_about("booking", Booking.id, Booking.candidate_id == user.id),
        _audit_about("cv_review", CVReview.id, CVReview.candidate_id == user.id),
    )
    for event in db.session.scalars(sa.select(AuditEvent).where(about)):
        before, after = _blank_free_text(event.before), _blank_free_text(event.after)
        if before != event.before:
            event.before = before
        if after != event.after:
            event.after = after


def _linked(user: User) -> dict[type, sa.ColumnElement[bool] | None]:
    """Where another person's text may name this person: notifications and emails to the people they shared a
    session or a CV review with, audit entries by them or about them, their sessions, slots, CVs and reviews. A name
    is not unique (two people may share it, and a name may be an ordinary word), so it is replaced only there; the
    email address, which is unique, is replaced everywhere. For an admin, who acts on anyone's behalf, every
    notification and email is searched (None: no limit)."""

    their_sessions = sa.or_(
        Booking.candidate_id == user.id, Booking.slot_id.in_(sa.select(Slot.id).where(Slot.mentor_id == user.id))
    )
    their_reviews = sa.or_(CVReview.candidate_id == user.id, CVReview.reviewer_id == user.id)
    counterparts = sa.union(
        sa.select(Booking.candidate_id).join(Slot, Booking.slot_id == Slot.id).where(Slot.mentor_id == user.id),
        sa.select(Slot.mentor_id).join(Booking, Booking.slot_id == Slot.id).where(Booking.candidate_id == user.id),
        sa.select(CVReview.reviewer_id).where(CVReview.candidate_id == user.id, CVReview.reviewer_id.is_not(None)),
        sa.select(CVReview.candidate_id).where(CVReview.reviewer_id == user.id),
    )
    return {
        Notification: None if user.is_admin else Notification.user_id.in_(counterparts),
        OutboxEmail: None if user.is_admin else OutboxEmail.user_id.in_(counterparts),
        AuditEvent: sa.or_(
            AuditEvent.actor_id == user.id,
            sa.and_(AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id)),
            _audit_about("booking", Booking.id, their_sessions),
            _audit_about("slot", Slot.id, Slot.mentor_id == user.id),
            _audit_about("cv_review", CVReview.id, their_reviews),
            _audit_about("cv", CVDocument.id, CVDocument.candidate_id == user.id),
        ),
        Booking: their_sessions,
    }


def _scrub_mentions(user: User) -> None:
    by_name, by_email = _Mentions(user), _Mentions(user, with_name=False)
    linked = _linked(user)
    for model, names in MENTION_COLUMNS:
        columns = [getattr(model, name) for name in names]
        named = sa.or_(*(by_name.condition(column) for column in columns))
        if linked[model] is not None:
            named = sa.and_(linked[model], named)
        mailed = sa.or_(*(by_email.condition(column) for column in columns))
        found = db.session.execute(sa.select(model, named.label("named")).where(sa.or_(named, mailed))).all()
        for row, in_scope in found:
            mentions = by_name if in_scope else by_email
            for name in names:
                value = getattr(row, name)
                cleaned = mentions.replace(value)
                if cleaned != value:
                    setattr(row, name, cleaned)
    db.session.flush()


# The steps of an erasure, in order; each takes the user (name and email still as they were) and is safe to repeat.
ERASURE_STEPS: list[Callable[[User], None]] = [
    _erase_cv_files,
    _erase_their_words_elsewhere,
    _erase_texts_about,
    _delete_account_rows,
    _erase_outbox,
    _erase_audit_texts,
    _scrub_mentions,
    delete_exports_for,
]


def _anonymise_account(user: User) -> None:
    user.name = ERASED_NAME
    user.email = placeholder_email(user.id)
    user.password_hash = None
    user.forget_second_factor()
    user.calendar_token = None
    user.focus_areas = ""
    user.is_editor = False
    user.last_login_at = None
    user.timezone = DEFAULT_TIMEZONE
    user.active = False


def erase_user(user: User, by: User | None = None) -> bool:
    """Erase the person's personal data (see the module's table), closing the account first when it is still open
    (`by` the admin doing it). Safe to repeat: returns False when the account was already erased. Runs in the
    caller's transaction (flushes, never commits). Raises AccountClosingRefused for the last active admin."""
    lock(user)
    if user.erased_at is not None:
        return False
    if user.closed_at is None:
        if by is None:
            raise AccountClosingRefused("An account is erased without an admin only after it was closed.")
        close_account(user, by)
    user_id = user.id
    for step in ERASURE_STEPS:
        step(user)
    _anonymise_account(user)
    user.erased_at = utcnow()
    user.erase_after = None
    record(by, "account.erased", "user", user_id, f"Account {user_id} erased")
    db.session.flush()
    current_app.logger.info("account erased: user %s", user_id)
    return True


def _due(now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    return (User.closed_at.is_not(None), User.erased_at.is_(None), User.erase_after <= now)


def count_erasure_due(now: datetime) -> int:
    """How many closed accounts have passed their grace period and wait for erasure."""
    return db.session.scalar(sa.select(sa.func.count(User.id)).where(*_due(now))) or 0


def erase_due(now: datetime) -> list[int]:
    """Erase every closed account whose grace period ended by `now`, each in its own committed transaction; returns
    their ids. Several workers may run this at once: each account is claimed with a row lock (SKIP LOCKED on
    PostgreSQL), so none is erased twice. An account that fails is rolled back, logged and left for the next run."""
    erased: list[int] = []
    failed: list[int] = []
    while True:
        user = claim_next(db.session, User, *_due(now), User.id.not_in(failed), order_by=(User.erase_after, User.id))
        if user is None:
            db.session.rollback()
            return erased
        user_id = user.id
        try:
            done = erase_user(user)
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("erasure failed: user %s", user_id)
            failed.append(user_id)
            continue
        if done:
            erased.append(user_id)


register(
    Category(
        key="closed_accounts",
        label="Closed accounts",
        setting="ACCOUNT_ERASURE_GRACE_DAYS",
        unit="day",
        after="after the account is closed",
        count=count_erasure_due,
        purge=lambda now: len(erase_due(now)),
    )
)


def closing_summary(user: User) -> dict[str, Any]:
    """What closing the account would change now, for the page that asks for confirmation."""
    now = utcnow()
    return {
        "bookings": future_bookings(user),
        "waitlist": db.session.scalar(sa.select(sa.func.count(WaitlistEntry.id)).where(_open_waitlist_entries(user))),
        "live": db.session.scalar(
            sa.select(sa.func.count(LiveRegistration.id))
            .join(LiveRegistration.session)
            .where(_future_live_places(user, now))
        ),
        "grace_days": current_app.config["ACCOUNT_ERASURE_GRACE_DAYS"],
        "erase_on": now + grace_period(),
    }
