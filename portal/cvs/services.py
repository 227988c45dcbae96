"""CV versions (upload, current, delete, download rights) and the review workflow."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal import events, rules
from portal.audit.services import record
from portal.auth.models import User
from portal.cvs.models import SECTIONS, VERDICTS, CVDocument, CVReview
from portal.cvs.validation import UploadRejected, inspect_upload
from portal.db import lock, utcnow
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.interviews.models import Booking, Slot
from portal.statuses import OPEN_REVIEW, SESSION, ReviewStatus
from portal.storage import storage_for
from portal.text import safe_filename

FEEDBACK_FIELDS = (
    "verdict",
    *(name for name, _ in SECTIONS),
    "strengths",
    "improvement_1",
    "improvement_2",
    "improvement_3",
)


class ReviewStateError(DomainError):
    """The review is not in a state that allows this action."""


NO_LONGER_MENTOR = (
    "Only mentors can write and publish CV reviews, and your account is no longer a mentor's. "
    "Reviews you had started have gone back to the queue for another mentor."
)


# Versions ----------------------------------------------------------------------------------------------


def max_upload_bytes() -> int:
    return int(current_app.config["CV_MAX_BYTES"])


def max_versions() -> int:
    return int(current_app.config["CV_MAX_VERSIONS"])


def too_many_versions(limit: int) -> str:
    return (
        f"You already have {limit} CV versions, the most we keep. Delete a version you no longer need "
        "(open it and choose Delete), then upload this one again."
    )


def size_label(size: int) -> str:
    """'5 MB', '97 KB': a size as people read it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{size // 1024} KB"


VERSION_NAME_FROM_FILE_MAX = 80


def version_name_from(filename: str) -> str:
    """A version name made from an uploaded file's name: no folders or extension, underscores as spaces, unprintable
    characters dropped, spaces collapsed, at most VERSION_NAME_FROM_FILE_MAX characters ("CV" when nothing is left).
    """
    base = re.split(r"[/\\]", filename or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    readable = "".join(character for character in stem.replace("_", " ") if character.isprintable())
    words = " ".join(readable.split())
    return words[:VERSION_NAME_FROM_FILE_MAX].rstrip() or "CV"


def upload_cv(candidate: User, name: str, filename: str, stream: BinaryIO) -> CVDocument:
    """Check the file by its content, store it and record a new current version (named after the file when `name`
    is blank).

    Raises UploadRejected, also when the candidate already keeps CV_MAX_VERSIONS versions; the stored file is
    removed again if the database refuses the row.
    """
    if not candidate.is_candidate:
        raise DomainError("Only candidates upload CVs.")
    limit = max_upload_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected(f"The file is larger than {size_label(limit)}. Upload a smaller file.")
    inspected = inspect_upload(data)
    # Count under the lock on the candidate's row, held to the commit: two uploads at once count one after the
    # other, so neither can slip past the limit on a count the other is about to change.
    lock(candidate)
    kept = db.session.scalar(sa.select(sa.func.count(CVDocument.id)).where(CVDocument.candidate_id == candidate.id))
    if kept >= max_versions():
        raise UploadRejected(too_many_versions(max_versions()))
    stored = storage_for(current_app).save(io.BytesIO(data))
    try:
        db.session.execute(
            sa.update(CVDocument)
            .where(CVDocument.candidate_id == candidate.id, CVDocument.is_current.is_(True))
            .values(is_current=False)
        )
        document = CVDocument(
            candidate_id=candidate.id,
            name=(name or "").strip()[:120] or version_name_from(filename),
            media_type=inspected.media_type,
            original_filename=safe_filename(filename, default=f"cv.{inspected.extension}")[:255],
            size_bytes=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
            page_count=inspected.page_count,
            word_count=inspected.word_count,
            extracted_text=inspected.text,
            links="\n".join(inspected.links),
            is_current=True,
        )
        db.session.add(document)
        db.session.flush()
    except Exception:
        storage_for(current_app).delete(stored.key)
        raise
    return document


TURNAROUND_WINDOW = timedelta(days=90)
TURNAROUND_MIN_REVIEWS = 5


def review_turnaround(now: datetime) -> timedelta | None:
    """The median time from request to published feedback of the reviews published in the last 90 days, or None
    with fewer than 5 of them (too few to promise anything). One query for two columns."""
    rows = db.session.execute(
        sa.select(CVReview.created_at, CVReview.completed_at).where(
            CVReview.status == ReviewStatus.COMPLETED, CVReview.completed_at >= now - TURNAROUND_WINDOW
        )
    ).all()
    durations = sorted(completed - created for created, completed in rows if completed is not None)
    if len(durations) < TURNAROUND_MIN_REVIEWS:
        return None
    middle = len(durations) // 2
    return durations[middle] if len(durations) % 2 else (durations[middle - 1] + durations[middle]) / 2


def turnaround_label(duration: timedelta) -> str:
    """'under an hour', 'about 5 hours', 'about 2 days': a duration as a promise people can read."""
    hours = duration.total_seconds() / 3600
    if hours < 1:
        return "under an hour"
    if hours < 36:
        count = round(hours)
        return f"about {count} hour{'s' if count != 1 else ''}"
    days = round(hours / 24)
    return f"about {days} day{'s' if days != 1 else ''}"


def candidate_documents(candidate: User) -> list[CVDocument]:
    return list(
        db.session.scalars(
            sa.select(CVDocument)
            .where(CVDocument.candidate_id == candidate.id)
            .order_by(CVDocument.created_at.desc(), CVDocument.id.desc())
        )
    )


def latest_reviews(document_ids: list[int]) -> dict[int, CVReview]:
    """The newest review of each document (one query)."""
    if not document_ids:
        return {}
    reviews = db.session.scalars(
        sa.select(CVReview).where(CVReview.cv_document_id.in_(document_ids)).order_by(CVReview.created_at, CVReview.id)
    )
    return {review.cv_document_id: review for review in reviews}


def load_own_document(document_id: int, user: User) -> CVDocument:
    document = db.session.get(CVDocument, document_id)
    if document is None or document.candidate_id != user.id:
        raise NotFound("No such CV.")
    return document


def can_download(document: CVDocument, user: User) -> bool:
    """The owner, admins, a mentor reviewing this version, or the mentor of a booking it is attached to."""
    if not user.is_authenticated:
        return False
    if user.is_admin or user.id == document.candidate_id:
        return True
    if not user.is_mentor:
        return False
    reviewing = sa.select(CVReview.id).where(
        CVReview.cv_document_id == document.id,
        CVReview.reviewer_id == user.id,
        CVReview.status.in_((ReviewStatus.CLAIMED, ReviewStatus.COMPLETED)),
    )
    booked = (
        sa.select(Booking.id)
        .join(Booking.slot)
        .where(Booking.cv_document_id == document.id, Slot.mentor_id == user.id, Booking.status.in_(SESSION))
    )
    return db.session.scalar(sa.select(sa.exists(reviewing) | sa.exists(booked))) or False


def set_current(document: CVDocument) -> None:
    db.session.execute(
        sa.update(CVDocument)
        .where(CVDocument.candidate_id == document.candidate_id, CVDocument.id != document.id)
        .values(is_current=False)
    )
    document.is_current = True


def delete_document(document: CVDocument) -> str:
    """Delete a version's row (reviews keep their feedback); returns the storage key to remove after commit."""
    open_review = db.session.scalar(
        sa.select(CVReview).where(CVReview.cv_document_id == document.id, CVReview.status.in_(OPEN_REVIEW))
    )
    if open_review is not None:
        if open_review.status == ReviewStatus.CLAIMED:
            raise DomainError("A mentor is reviewing this version. You can delete it once the review is published.")
        raise DomainError("This version is waiting for a review. Withdraw the request first, then delete it.")
    key = document.storage_key
    was_current = document.is_current
    candidate_id = document.candidate_id
    db.session.execute(sa.update(CVReview).where(CVReview.cv_document_id == document.id).values(cv_document_id=None))
    db.session.execute(sa.update(Booking).where(Booking.cv_document_id == document.id).values(cv_document_id=None))
    db.session.delete(document)
    db.session.flush()
    if was_current:
        newest = db.session.scalar(
            sa.select(CVDocument)
            .where(CVDocument.candidate_id == candidate_id)
            .order_by(CVDocument.created_at.desc(), CVDocument.id.desc())
            .limit(1)
        )
        if newest is not None:
            newest.is_current = True
    return key


# Review workflow ----------------------------------------------------------------------------------------


def request_review(candidate: User, document: CVDocument, target_role: str, questions: str) -> CVReview:
    """Ask for a review of one version; linked to the candidate's last completed review of another version."""
    if document.candidate_id != candidate.id:
        raise NotFound("No such CV.")
    if document.file_removed:
        raise DomainError("The file of this version was removed under the retention policy. Upload it again first.")
    previous = db.session.scalar(
        sa.select(CVReview)
        .where(
            CVReview.candidate_id == candidate.id,
            CVReview.status == ReviewStatus.COMPLETED,
            CVReview.cv_document_id != document.id,
        )
        .order_by(CVReview.completed_at.desc(), CVReview.id.desc())
        .limit(1)
    )
    review = CVReview(
        candidate_id=candidate.id,
        cv_document_id=document.id,
        document_name=document.name,
        target_role=target_role.strip()[:200],
        questions=(questions or "").strip()[:2000],
        previous_review_id=previous.id if previous else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError("This version already has a review request in progress.") from error
    return review


def _transition(review: CVReview, allowed: tuple[str, ...], message: str, held_by: int | None = None, **values) -> None:
    """Move the review on only if it is still in an allowed state (and, given `held_by`, still that mentor's):
    the database decides between two at once."""
    held = (CVReview.reviewer_id == held_by,) if held_by is not None else ()
    result = db.session.execute(
        sa.update(CVReview)
        .where(CVReview.id == review.id, CVReview.status.in_(allowed), *held)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ReviewStateError(message)
    db.session.refresh(review)


def withdraw_review(review: CVReview, by: User) -> None:
    if by.id != review.candidate_id:
        raise NotFound("No such review.")
    _transition(
        review,
        (ReviewStatus.REQUESTED,),
        "A mentor has already started this review, so it can no longer be withdrawn.",
        status=ReviewStatus.WITHDRAWN,
    )


def claim_review(review: CVReview, mentor: User) -> None:
    if not mentor.is_mentor:
        raise DomainError("Only mentors review CVs.")
    _transition(
        review,
        (ReviewStatus.REQUESTED,),
        "Another mentor claimed this review a moment ago.",
        status=ReviewStatus.CLAIMED,
        reviewer_id=mentor.id,
        claimed_at=utcnow(),
    )


def assign_review(review: CVReview, mentor: User | None, by: User) -> None:
    """An admin gives a waiting (or claimed) review to a mentor."""
    if not by.is_admin:
        raise NotFound("No such review.")
    if mentor is None or not mentor.is_mentor or not mentor.active:
        raise DomainError("Choose a mentor.", field="mentor")
    before = {"status": review.status, "reviewer_id": review.reviewer_id}
    _transition(
        review,
        OPEN_REVIEW,
        "This review is finished or withdrawn; it cannot be assigned.",
        status=ReviewStatus.CLAIMED,
        reviewer_id=mentor.id,
        claimed_at=utcnow(),
    )
    record(
        by,
        "review.assigned",
        "cv_review",
        review.id,
        f"CV review of {review.candidate.name} assigned to {mentor.name}",
        before,
        {"status": "claimed", "reviewer_id": mentor.id},
    )
    events.review_assigned.send(review, mentor=mentor, by=by)


def release_review(review: CVReview, by: User) -> None:
    """The reviewer (or an admin) hands a claimed review back to the queue; the draft is cleared."""
    if not (by.is_admin or by.id == review.reviewer_id):
        raise NotFound("No such review.")
    _release(review)


def release_reviews_of(reviewer: User, by: User, why: str) -> list[int]:
    """Hand every review `reviewer` has claimed but not published back to the queue, audited; returns their ids.

    Called when someone stops being a mentor (a role change or a closed account). Their draft is discarded from the
    review, as when a mentor releases one by hand: the verdict and wording were that person's judgement, and the
    next reviewer is expected to form their own from the CV rather than finish or sign off someone else's notes,
    which the candidate would then read as theirs. The text is not lost: the audit entry keeps it for admins.
    """
    reviews = db.session.scalars(
        sa.select(CVReview)
        .options(joinedload(CVReview.candidate))
        .where(CVReview.reviewer_id == reviewer.id, CVReview.status == ReviewStatus.CLAIMED)
        .order_by(CVReview.id)
    ).all()
    released = []
    for review in reviews:
        draft = {name: getattr(review, name) for name in FEEDBACK_FIELDS if getattr(review, name)}
        try:
            _release(review)
        except ReviewStateError:
            continue  # published or released a moment ago: nothing left to hand back
        released.append(review.id)
        record(
            by,
            "review.released",
            "cv_review",
            review.id,
            f"CV review of {review.candidate.name} back in the queue: {reviewer.name} {why}",
            {"status": ReviewStatus.CLAIMED, "reviewer_id": reviewer.id, "draft": draft},
            {"status": ReviewStatus.REQUESTED, "reviewer_id": None},
        )
    return released


def _release(review: CVReview) -> None:
    blank = {name: "" for name in FEEDBACK_FIELDS if name != "verdict"}
    _transition(
        review,
        (ReviewStatus.CLAIMED,),
        "Only a review in progress can be released.",
        status=ReviewStatus.REQUESTED,
        reviewer_id=None,
        claimed_at=None,
        verdict=None,
        draft_saved_at=None,
        **blank,
    )


def save_feedback(review: CVReview, by: User, values: dict[str, str], publish: bool) -> None:
    """Save the reviewer's draft; publishing needs a verdict and one improvement, and tells the candidate."""
    if by.id != review.reviewer_id:
        raise NotFound("No such review.")
    # The reviewer's row, locked first, says whether they are still a mentor now: an admin changing their role or
    # closing their account locks the same row, so the two happen one after the other (and in the same order).
    lock(by)
    if not (by.is_mentor and by.active):
        raise PermissionDenied(NO_LONGER_MENTOR)
    if review.status != ReviewStatus.CLAIMED:
        raise ReviewStateError(
            "This review has already been published."
            if review.status == ReviewStatus.COMPLETED
            else "Claim this review before writing feedback."
        )
    for name in FEEDBACK_FIELDS:
        if name in values:
            setattr(review, name, (values[name] or "").strip() if name != "verdict" else (values[name] or None))
    if review.verdict is not None and review.verdict not in VERDICTS:
        raise DomainError("Choose an overall verdict.", field="verdict")
    review.draft_saved_at = utcnow()
    if not publish:
        return
    if not review.verdict:
        raise DomainError("Choose an overall verdict before publishing.", field="verdict")
    if not review.improvements:
        raise DomainError("Give at least one improvement before publishing.", field="improvement_1")
    _transition(
        review,
        (ReviewStatus.CLAIMED,),
        "This review has already been published.",
        held_by=by.id,
        status=ReviewStatus.COMPLETED,
        completed_at=utcnow(),
    )
    events.review_published.send(review, by=by)


def load_review(review_id: int, user: User) -> CVReview:
    review = db.session.get(
        CVReview,
        review_id,
        options=[joinedload(CVReview.candidate), joinedload(CVReview.reviewer), joinedload(CVReview.document)],
    )
    if review is None or not rules.can_view_review(user, review):
        raise NotFound("No such review.")
    return review


def queue_query() -> sa.Select:
    """Waiting requests, oldest first."""
    return (
        sa.select(CVReview)
        .options(joinedload(CVReview.candidate))
        .where(CVReview.status == ReviewStatus.REQUESTED)
        .order_by(CVReview.created_at, CVReview.id)
    )


def reviewer_query(mentor: User) -> sa.Select:
    return (
        sa.select(CVReview)
        .options(joinedload(CVReview.candidate))
        .where(CVReview.reviewer_id == mentor.id)
        .order_by(CVReview.status != ReviewStatus.CLAIMED, CVReview.updated_at.desc())
    )


def all_reviews_query(status: str | None = None) -> sa.Select:
    statement = (
        sa.select(CVReview)
        .options(joinedload(CVReview.candidate), joinedload(CVReview.reviewer))
        .order_by(CVReview.created_at.desc(), CVReview.id.desc())
    )
    if status:
        statement = statement.where(CVReview.status == status)
    return statement
