"""Admin schedule: every mentor's week, slot edits, bulk cancellation, the bookings list."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import EmptyForm, choices
from portal.interviews import availability, services
from portal.interviews.forms import BulkCancelForm, EditSlotForm
from portal.interviews.models import BOOKING_STATUS_LABELS, LIVE_BOOKING_STATUSES, Booking, InterviewType, Slot
from portal.security import role_required
from portal.timeutil import to_local
from portal.views import date_arg, int_arg, show_error

bp = Blueprint("schedule", __name__, url_prefix="/admin/schedule")


def _mentors() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == "mentor").order_by(User.name)))


def _types() -> list[InterviewType]:
    return list(db.session.scalars(sa.select(InterviewType).order_by(InterviewType.name)))


@bp.route("/")
@role_required("admin")
def week():
    problems: list[str] = []
    chosen = date_arg("week", problems, "Week") or to_local(utcnow(), current_user.timezone).date()
    monday = chosen - timedelta(days=chosen.weekday())
    start, end = services.local_day_bounds(monday, monday + timedelta(days=6), current_user.timezone)
    mentor_id, type_id = int_arg("mentor"), int_arg("type")
    statement = (
        sa.select(Slot)
        .options(joinedload(Slot.mentor), joinedload(Slot.interview_type))
        .where(Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at, Slot.id)
    )
    if mentor_id:
        statement = statement.where(Slot.mentor_id == mentor_id)
    if type_id:
        statement = statement.where(Slot.interview_type_id == type_id)
    slots = db.session.scalars(statement).all()
    bookings = (
        {
            b.slot_id: b
            for b in db.session.scalars(
                sa.select(Booking)
                .options(joinedload(Booking.candidate))
                .where(Booking.slot_id.in_([s.id for s in slots]), Booking.status.in_(LIVE_BOOKING_STATUSES))
            )
        }
        if slots
        else {}
    )
    days = [(monday + timedelta(days=n), []) for n in range(7)]
    for slot in slots:
        days[(to_local(slot.starts_at, current_user.timezone).date() - monday).days][1].append(slot)
    filters = {"mentor": mentor_id, "type": type_id}
    return render_template(
        "interviews/admin_week.html",
        days=days,
        bookings=bookings,
        monday=monday,
        previous_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
        mentors=_mentors(),
        types=_types(),
        filters=filters,
        problems=problems,
        nav_args={key: value for key, value in filters.items() if value},
        form=EmptyForm(),
        today=to_local(utcnow(), current_user.timezone).date(),
    )


@bp.route("/slots/<int:slot_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_slot(slot_id: int):
    try:
        slot = availability.load_slot_for_change(slot_id, current_user)
    except NotFound:
        abort(404)
    form = EditSlotForm()
    form.interview_type.choices = choices((t.id, f"{t.name} ({t.duration_minutes} min)") for t in _types() if t.active)
    if request.method == "GET":
        local = to_local(slot.starts_at, slot.mentor.timezone)
        form.interview_type.data = slot.interview_type_id
        form.day.data, form.start_time.data = local.date(), local.time()
    if form.validate_on_submit():
        try:
            availability.edit_slot(slot, form.interview_type.data, form.day.data, form.start_time.data, current_user)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
            slot = availability.load_slot_for_change(slot_id, current_user)
        else:
            flash("Slot updated.", "success")
            return redirect(url_for("schedule.week", week=to_local(slot.starts_at, current_user.timezone).date()))
    return render_template(
        "interviews/admin_edit_slot.html", slot=slot, form=form, booked=availability.live_booking(slot) is not None
    )


@bp.route("/bulk-cancel", methods=["GET", "POST"])
@role_required("admin")
def bulk_cancel():
    form = BulkCancelForm()
    form.mentor.choices = choices([(0, "Choose a mentor")] + [(m.id, m.name) for m in _mentors()])
    if request.method == "GET" and int_arg("mentor"):
        form.mentor.data = int_arg("mentor")
    summary = None
    if form.validate_on_submit():
        mentor = db.session.get(User, form.mentor.data)
        if mentor is None or not mentor.is_mentor:
            form.mentor.errors = ["Choose a mentor."]
        else:
            try:
                slots, bookings = availability.bulk_cancel(
                    mentor, form.first_day.data, form.last_day.data, form.reason.data, current_user
                )
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            else:
                summary = {
                    "mentor": mentor.name,
                    "slots": slots,
                    "bookings": bookings,
                    "first": form.first_day.data,
                    "last": form.last_day.data,
                }
    return render_template("interviews/admin_bulk_cancel.html", form=form, summary=summary)


@bp.route("/bookings")
@role_required("admin")
def bookings():
    problems: list[str] = []
    status = request.args.get("status") if request.args.get("status") in BOOKING_STATUS_LABELS else None
    mentor_id, candidate_id = int_arg("mentor"), int_arg("candidate")
    first, last = date_arg("from", problems, "From"), date_arg("to", problems, "To")
    start, end = services.local_day_bounds(first, last, current_user.timezone)
    statement = (
        sa.select(Booking)
        .join(Booking.slot)
        .options(
            joinedload(Booking.candidate),
            joinedload(Booking.slot).joinedload(Slot.mentor),
            joinedload(Booking.slot).joinedload(Slot.interview_type),
        )
        .order_by(Slot.starts_at.desc(), Booking.id.desc())
    )
    if status:
        statement = statement.where(Booking.status == status)
    if mentor_id:
        statement = statement.where(Slot.mentor_id == mentor_id)
    if candidate_id:
        statement = statement.where(Booking.candidate_id == candidate_id)
    if start:
        statement = statement.where(Slot.starts_at >= start)
    if end:
        statement = statement.where(Slot.starts_at < end)
    pagination = db.paginate(statement, per_page=50, error_out=False)
    counts = services.candidate_reliability([b.candidate_id for b in pagination.items])
    candidates = db.session.scalars(sa.select(User).where(User.role == "candidate").order_by(User.name)).all()
    filters = {
        "status": status,
        "mentor": mentor_id,
        "candidate": candidate_id,
        "from": first.isoformat() if first else None,
        "to": last.isoformat() if last else None,
    }
    return render_template(
        "interviews/admin_bookings.html",
        pagination=pagination,
        counts=counts,
        mentors=_mentors(),
        candidates=candidates,
        statuses=BOOKING_STATUS_LABELS,
        filters=filters,
        query_args={k: v for k, v in filters.items() if v},
        problems=problems,
    )
