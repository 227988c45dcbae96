"""Waitlist pages: join, see your place, leave; the offer page to book or decline a held slot; the admin list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.forms import EmptyForm, choices, optional_id
from portal.interviews.models import InterviewType
from portal.interviews.services import SlotTaken
from portal.security import role_required
from portal.statuses import IN_LINE, Role
from portal.views import flash_refusal, show_error
from portal.waitlist import services
from portal.waitlist.forms import AcceptForm, JoinForm
from portal.waitlist.models import WaitlistEntry

bp = Blueprint("waitlist", __name__, url_prefix="/waitlist")


def _join_form() -> JoinForm:
    form = JoinForm()
    types = db.session.scalars(
        sa.select(InterviewType).where(InterviewType.active.is_(True)).order_by(InterviewType.name)
    ).all()
    mentors = db.session.scalars(User.active_mentors()).all()
    form.interview_type.choices = choices([(0, "Choose a type")] + [(t.id, t.name) for t in types])
    form.mentor.choices = choices([(0, "Any mentor")] + [(m.id, m.name) for m in mentors])
    if request.method == "GET":
        for name in ("interview_type", "mentor"):
            value = optional_id(request.args.get({"interview_type": "type"}.get(name, name), ""))
            if value:
                form[name].data = value
    return form


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
def index():
    form = _join_form()
    if form.validate_on_submit():
        try:
            services.join(
                current_user,
                form.interview_type.data,
                form.mentor.data or None,
                form.first_date.data,
                form.last_date.data,
            )
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(
                "You are on the waitlist. When a matching slot opens we hold it for you and tell you at once.",
                "success",
            )
            return redirect(url_for("waitlist.index"))
    entries = services.entries_for(current_user)
    positions = {entry.id: services.position(entry) for entry in entries if entry.status in IN_LINE}
    return render_template(
        "waitlist/index.html",
        form=form,
        entries=entries,
        positions=positions,
        holds=services.active_holds(current_user),
    )


@bp.route("/<int:entry_id>/leave", methods=["POST"])
@role_required(Role.CANDIDATE)
def leave(entry_id: int):
    entry = db.get_or_404(WaitlistEntry, entry_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.leave(entry, current_user)
        db.session.commit()
        flash("You have left the waitlist.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("waitlist.index"))


def _hold(booking_id: int):
    return services.load_hold(booking_id, current_user)


@bp.route("/offers/<int:booking_id>", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
def offer(booking_id: int):
    hold = _hold(booking_id)
    form = AcceptForm()
    if form.validate_on_submit():
        try:
            services.accept(hold, current_user, form.focus_note.data, form.phone.data)
            db.session.commit()
        except SlotTaken:
            db.session.rollback()
            flash("Someone else holds this slot now.", "danger")
            return redirect(url_for("waitlist.index"))
        except DomainError as error:
            show_error(form, error)
            hold = _hold(booking_id)
        else:
            flash("We have emailed you the details with a calendar file.", "booked")
            return redirect(url_for("interviews.booking", booking_id=hold.id))
    return render_template(
        "waitlist/offer.html",
        hold=hold,
        form=form,
        active=hold.hold_is_active(utcnow()),
        now=utcnow(),
    )


@bp.route("/offers/<int:booking_id>/decline", methods=["POST"])
@role_required(Role.CANDIDATE)
def decline(booking_id: int):
    hold = _hold(booking_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.decline(hold)
        db.session.commit()
        flash("Offer declined: the slot goes to the next person in line.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("waitlist.index"))


@bp.route("/all")
@role_required(Role.ADMIN)
def admin():
    return render_template("waitlist/admin.html", groups=services.waiting_by_type())
