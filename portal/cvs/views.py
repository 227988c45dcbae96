"""CV pages for candidates, the review queue for mentors, and the admin's list of reviews."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import rules
from portal.auth.models import User
from portal.cvs import services
from portal.cvs.check import check_cv
from portal.cvs.diff import diff_summary, text_diff
from portal.cvs.forms import AssignForm, FeedbackForm, ReviewRequestForm, UploadForm
from portal.cvs.models import SECTIONS, CVDocument, CVReview
from portal.db import utcnow
from portal.errors import DomainError, render_error
from portal.extensions import db, limiter
from portal.forms import EmptyForm, choices
from portal.pagination import paginate
from portal.security import role_required
from portal.statuses import OPEN_REVIEW, REVIEW_STATUS_LABELS, ReviewStatus, Role
from portal.storage import StorageError, storage_for
from portal.timeutil import format_local
from portal.views import flash_refusal, show_error, stored_file_response

bp = Blueprint("cvs", __name__, url_prefix="/cvs")
reviews_bp = Blueprint("reviews", __name__, url_prefix="/reviews")
WAITING_TOO_LONG = timedelta(days=3)
QUEUE_PER_PAGE = 25
FILE_REMOVED_MESSAGE = (
    "The file of this CV version was removed on {date} under the retention policy, which keeps CV files for a set "
    "time after a candidate's last activity. The version's details and reviews stay."
)
FILE_MISSING_MESSAGE = (
    "The file of this CV version could not be found in storage, so it cannot be downloaded. "
    "The version's details and reviews are unaffected; the candidate can upload the file again as a new version."
)


def _own_document(document_id: int) -> CVDocument:
    return services.load_own_document(document_id, current_user)


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
@limiter.limit(lambda: current_app.config["UPLOAD_RATE_LIMIT"], methods=["POST"])
def index():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            document = services.upload_cv(current_user, form.name.data, upload.filename or "", upload.stream)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(f"“{document.name}” uploaded. Here is an instant check of it.", "success")
            return redirect(url_for("cvs.detail", document_id=document.id))
    documents = services.candidate_documents(current_user)
    reviews = services.latest_reviews([d.id for d in documents])
    turnaround = services.review_turnaround(utcnow())
    page = render_template(
        "cvs/index.html",
        form=form,
        documents=documents,
        reviews=reviews,
        max_size=services.size_label(services.max_upload_bytes()),
        max_versions=services.max_versions(),
        turnaround=services.turnaround_label(turnaround) if turnaround is not None else None,
    )
    # A refused upload (a missing field, a file we cannot accept, too many versions) is not a success.
    return page, 422 if request.method == "POST" else 200


@bp.route("/<int:document_id>", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
def detail(document_id: int):
    document = _own_document(document_id)
    form = ReviewRequestForm()
    if form.validate_on_submit():
        try:
            review = services.request_review(current_user, document, form.target_role.data, form.questions.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
            document = _own_document(document_id)
        else:
            flash(
                "Review requested. A mentor will pick it up soon; we will tell you when the feedback is ready.",
                "success",
            )
            return redirect(url_for("reviews.review", review_id=review.id))
    reviews = db.session.scalars(
        sa.select(CVReview).where(CVReview.cv_document_id == document.id).order_by(CVReview.created_at.desc())
    ).all()
    has_open = any(r.status in OPEN_REVIEW for r in reviews)
    checks = (
        None
        if document.file_removed
        else check_cv(document.extracted_text, document.page_count, links=document.links.splitlines())
    )
    return render_template(
        "cvs/detail.html",
        document=document,
        checks=checks,
        reviews=reviews,
        form=form,
        has_open=has_open,
    )


@bp.route("/<int:document_id>/download")
@login_required
def download(document_id: int):
    document = db.session.get(CVDocument, document_id)
    if document is None or not services.can_download(document, current_user):
        current_app.logger.warning("CV download refused: user %s, document %s", current_user.id, document_id)
        abort(404)
    if document.file_removed:
        date = format_local(document.file_removed_at, current_user.timezone, date_only=True)
        return render_error(410, FILE_REMOVED_MESSAGE.format(date=date))
    response = stored_file_response(
        storage_for(current_app), document.storage_key, document.original_filename, document.media_type
    )
    if response is None:
        current_app.logger.error("CV %s: no stored file under its key", document.id)
        return render_error(404, FILE_MISSING_MESSAGE)
    return response


@bp.route("/<int:document_id>/current", methods=["POST"])
@role_required(Role.CANDIDATE)
def make_current(document_id: int):
    document = _own_document(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.set_current(document)
    db.session.commit()
    flash(f"“{document.name}” is now your current CV.", "success")
    return redirect(url_for("cvs.index"))


@bp.route("/<int:document_id>/delete", methods=["POST"])
@role_required(Role.CANDIDATE)
def delete(document_id: int):
    document = _own_document(document_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = document.name
    try:
        key = services.delete_document(document)
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
        return redirect(url_for("cvs.detail", document_id=document_id))
    try:
        storage_for(current_app).delete(key)
    except (StorageError, OSError):
        # The version is gone for good already; a stray file is only wasted space.
        current_app.logger.exception("CV %s deleted, but its stored file could not be removed", document_id)
    flash(f"“{name}” deleted. Feedback already written about it stays in your reviews.", "success")
    return redirect(url_for("cvs.index"))


# Reviews ------------------------------------------------------------------------------------------------


def _review(review_id: int) -> CVReview:
    return services.load_review(review_id, current_user)


@reviews_bp.route("/<int:review_id>", methods=["GET", "POST"])
@login_required
def review(review_id: int):
    item = _review(review_id)
    is_reviewer = current_user.id == item.reviewer_id and item.status == ReviewStatus.CLAIMED
    form = FeedbackForm(obj=item if request.method == "GET" else None)
    if request.method == "POST":
        if not is_reviewer:
            abort(403)
        if form.validate_on_submit():
            values = {name: form[name].data for name in services.FEEDBACK_FIELDS}
            try:
                services.save_feedback(item, current_user, values, publish=bool(form.publish.data))
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
                item = _review(review_id)
            else:
                flash(
                    "Feedback published. The candidate has been told."
                    if form.publish.data
                    else "Draft saved. Only you can see it until you publish.",
                    "success",
                )
                return redirect(url_for("reviews.review", review_id=item.id))
    previous = item.previous_review
    diff = []
    if (
        (is_reviewer or current_user.is_admin)
        and previous is not None
        and previous.document is not None
        and item.document is not None
        and not (previous.document.file_removed or item.document.file_removed)
    ):
        diff = text_diff(previous.document.extracted_text, item.document.extracted_text)
    show_feedback = (
        item.status == ReviewStatus.COMPLETED or current_user.id == item.reviewer_id or current_user.is_admin
    )
    return render_template(
        "cvs/review.html",
        review=item,
        form=form,
        is_reviewer=is_reviewer,
        previous=previous,
        diff=diff,
        diff_counts=diff_summary(diff) if diff else (0, 0),
        sections=SECTIONS,
        show_feedback=show_feedback,
        can_download=item.document is not None and services.can_download(item.document, current_user),
    )


def _button_action(review_id: int, action, success: str, target: str | None = None):
    item = _review(review_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(item)
        db.session.commit()
        flash(success, "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(target or url_for("reviews.review", review_id=review_id))


@reviews_bp.route("/<int:review_id>/withdraw", methods=["POST"])
@role_required(Role.CANDIDATE)
def withdraw(review_id: int):
    return _button_action(review_id, lambda r: services.withdraw_review(r, current_user), "Review request withdrawn.")


@reviews_bp.route("/<int:review_id>/claim", methods=["POST"])
@role_required(Role.MENTOR)
def claim(review_id: int):
    item = db.session.get(CVReview, review_id)
    if item is None or not rules.can_view_review(current_user, item):
        flash("Another mentor claimed this review a moment ago.", "warning")
        return redirect(url_for("reviews.queue"))
    return _button_action(
        review_id,
        lambda r: services.claim_review(r, current_user),
        "You are reviewing this CV. Save drafts as you go; publish when ready.",
    )


@reviews_bp.route("/<int:review_id>/release", methods=["POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def release(review_id: int):
    return _button_action(
        review_id,
        lambda r: services.release_review(r, current_user),
        "Review handed back to the queue.",
        url_for("reviews.queue") if current_user.is_mentor else url_for("reviews.all_reviews"),
    )


@reviews_bp.route("/queue")
@role_required(Role.MENTOR)
def queue():
    waiting = paginate(services.queue_query(), QUEUE_PER_PAGE)
    mine = paginate(services.reviewer_query(current_user), QUEUE_PER_PAGE, arg="mine")
    return render_template(
        "cvs/queue.html", waiting=waiting, mine=mine, now=utcnow(), form=EmptyForm(), too_long=WAITING_TOO_LONG
    )


@reviews_bp.route("/all")
@role_required(Role.ADMIN)
def all_reviews():
    status = request.args.get("status") if request.args.get("status") in REVIEW_STATUS_LABELS else None
    pagination = paginate(services.all_reviews_query(status), 50, count=True)
    mentors = db.session.scalars(User.active_mentors()).all()
    form = AssignForm()
    form.mentor.choices = choices([(0, "Choose a mentor")] + [(m.id, m.name) for m in mentors])
    return render_template(
        "cvs/admin_reviews.html",
        pagination=pagination,
        status=status,
        statuses=REVIEW_STATUS_LABELS,
        now=utcnow(),
        too_long=WAITING_TOO_LONG,
        form=form,
    )


@reviews_bp.route("/<int:review_id>/assign", methods=["POST"])
@role_required(Role.ADMIN)
def assign(review_id: int):
    item = _review(review_id)
    form = AssignForm()
    form.mentor.choices = []
    if not form.validate_on_submit():
        abort(400)
    mentor = db.session.get(User, form.mentor.data) if form.mentor.data else None
    try:
        services.assign_review(item, mentor, current_user)
        db.session.commit()
        flash(f"Assigned to {mentor.name}.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("reviews.all_reviews"))
