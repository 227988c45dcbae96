"""Feedback pages: write and read session feedback, rate a session, progress, mentor to-do, admin overview."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import rules
from portal.content import render_markdown
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.feedback import chart, services
from portal.feedback.forms import FeedbackForm, RatingForm
from portal.feedback.rubric import CRITERIA, CRITERIA_BY_KEY, READINESS
from portal.pagination import paginate
from portal.security import role_required
from portal.statuses import Role
from portal.views import flash_refusal, show_error

bp = Blueprint("feedback", __name__, url_prefix="/feedback")


def _session(booking_id: int):
    return services.load_session(booking_id, current_user)


@bp.route("/sessions/<int:booking_id>", methods=["GET", "POST"])
@login_required
def session(booking_id: int):
    booking, feedback = _session(booking_id)
    is_mentor = current_user.id == booking.slot.mentor_id
    form = FeedbackForm(obj=feedback if request.method == "GET" else None)
    if request.method == "GET" and feedback is not None:
        for criterion in CRITERIA:
            form[criterion.column].data = feedback.score(criterion.key) or 0
    problem = None
    if is_mentor:
        try:
            services.check_can_write(booking, current_user)
        except DomainError as error:
            problem = error.message
    if request.method == "POST":
        if not is_mentor or problem:
            abort(403)
        if form.validate_on_submit():
            publishing = bool(form.publish.data)
            try:
                saved = services.save_feedback(booking, current_user, form.values(), publish=publishing)
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
                booking, feedback = _session(booking_id)
            else:
                flash(
                    "Feedback updated; the candidate sees the new version."
                    if saved.version > 1
                    else "Feedback published. The candidate has been told."
                    if publishing
                    else "Draft saved. The candidate cannot see it until you publish.",
                    "success",
                )
                return redirect(url_for("feedback.session", booking_id=booking.id))
    return _session_page(booking, feedback, form, problem)


def _session_page(booking, feedback, form, problem=None, rating_form=None, status: int = 200):
    """The session's feedback page; `rating_form` is the candidate's refused rating, shown with its errors."""
    is_mentor = current_user.id == booking.slot.mentor_id
    rating = (
        services.rating_for(booking) if (current_user.is_admin or current_user.id == booking.candidate_id) else None
    )
    history = services.revisions(feedback) if feedback and (is_mentor or current_user.is_admin) else []
    can_rate = rules.can_rate(
        current_user, booking, bool(feedback and feedback.is_published), rating is not None, utcnow()
    )
    return render_template(
        "feedback/session.html",
        booking=booking,
        feedback=feedback,
        form=form,
        is_mentor=is_mentor,
        problem=problem,
        criteria=CRITERIA,
        readiness=READINESS,
        markdown=render_markdown,
        history=history,
        rating=rating,
        rating_form=(rating_form or RatingForm()) if can_rate else None,
    ), status


@bp.route("/sessions/<int:booking_id>/rate", methods=["POST"])
@role_required(Role.CANDIDATE)
def rate(booking_id: int):
    booking, feedback = _session(booking_id)
    form = RatingForm()
    if form.validate_on_submit():
        try:
            services.rate_session(booking, current_user, form.score.data, form.comment.data)
            db.session.commit()
        except DomainError as error:
            flash_refusal(error)
        else:
            flash("Thank you for rating the session.", "success")
        return redirect(url_for("feedback.session", booking_id=booking_id))
    return _session_page(booking, feedback, FeedbackForm(formdata=None), rating_form=form, status=400)


@bp.route("/progress")
@role_required(Role.CANDIDATE)
def progress():
    data = services.progress(current_user)
    return render_template(
        "feedback/progress.html",
        **data,
        criteria=CRITERIA,
        criteria_by_key=CRITERIA_BY_KEY,
        readiness=READINESS,
        chart=chart.progress_chart(data["series"], current_user.timezone),
        legend=chart.legend(),
    )


@bp.route("/to-write")
@role_required(Role.MENTOR)
def pending():
    waiting = paginate(services.awaiting_feedback_query(current_user.id), 25)
    drafts = services.draft_booking_ids([booking.id for booking in waiting.items])
    return render_template("feedback/pending.html", waiting=waiting, drafts=drafts, now=utcnow())


@bp.route("/overview")
@role_required(Role.ADMIN)
def overview():
    overdue = (
        db.session.scalars(services.awaiting_feedback_query(older_than=services.OVERDUE_AFTER).limit(200))
        .unique()
        .all()
    )
    return render_template(
        "feedback/overview.html",
        overdue=overdue,
        ratings=services.mentor_ratings(),
        averages=services.criterion_averages(),
        now=utcnow(),
    )
