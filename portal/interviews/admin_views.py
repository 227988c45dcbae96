"""Admin schedule: every mentor's week, slot edits, bulk cancellation, the bookings list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.forms import EmptyForm, choices, optional_id
from portal.interviews import availability, services
from portal.interviews.forms import BulkCancelForm, EditSlotForm, type_ways_hint
from portal.interviews.models import Booking, InterviewType, Slot
from portal.pagination import paginate
from portal.security import role_required
from portal.statuses import BOOKING_STATUS_LABELS, LIVE, Role
from portal.timeutil import to_local
from portal.views import date_arg, int_arg, show_error

bp = Blueprint("schedule", __name__, url_prefix="/admin/schedule")
MENTORS_PER_WEEK_PAGE = 4
BOOKINGS_PER_PAGE = 50


def _mentors() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.MENTOR).order_by(User.name)))


def _types() -> list[InterviewType]:
    return list(db.session.scalars(sa.select(InterviewType).order_by(InterviewType.name)))


@dataclass
class GridRow:
    hour: int
    cells: list[list[Slot]]  # one list a day, Monday first: the slots starting in this hour


@dataclass
class MentorWeek:
    mentor: User
    rows: list[GridRow]

    @property
    def by_day(self) -> list[list[Slot]]:
        """The same slots as a list a day, Monday first, each day's in order of time (the week on a phone)."""
        return [[slot for row in self.rows for slot in row.cells[day]] for day in range(7)]


def week_grids(mentors: list[User], slots: list[Slot], monday: date, zone_name: str) -> list[MentorWeek]:
    """A time grid for each mentor: a row per hour from their first to their last slot of the week, a column
    per day, each slot in the cell of the local hour and day it starts."""
    grids = []
    for mentor in mentors:
        placed = [(to_local(slot.starts_at, zone_name), slot) for slot in slots if slot.mentor_id == mentor.id]
        if not placed:
            continue
        hours = range(min(local.hour for local, _ in placed), max(local.hour for local, _ in placed) + 1)
        rows = {hour: GridRow(hour, [[] for _ in range(7)]) for hour in hours}
        for local, slot in placed:
            rows[local.hour].cells[(local.date() - monday).days].append(slot)
        grids.append(MentorWeek(mentor, list(rows.values())))
    return grids


@bp.route("/")
@role_required(Role.ADMIN)
def week():
    problems: list[str] = []
    chosen = date_arg("week", problems, "Week") or to_local(utcnow(), current_user.timezone).date()
    monday = chosen - timedelta(days=chosen.weekday())
    start, end = services.local_day_bounds(monday, monday + timedelta(days=6), current_user.timezone)
    mentor_id, type_id = int_arg("mentor"), int_arg("type")
    in_week = [Slot.starts_at >= start, Slot.starts_at < end]
    if mentor_id:
        in_week.append(Slot.mentor_id == mentor_id)
    if type_id:
        in_week.append(Slot.interview_type_id == type_id)
    # A few mentors at a time: a bootcamp's whole week is more than anyone can read on one page.
    mentor_page = paginate(
        sa.select(User).where(User.id.in_(sa.select(Slot.mentor_id).where(*in_week))).order_by(User.name, User.id),
        MENTORS_PER_WEEK_PAGE,
        count=True,
        arg="mentors",
    )
    shown = [mentor.id for mentor in mentor_page.items]
    slots = (
        db.session.scalars(
            sa.select(Slot)
            .options(joinedload(Slot.interview_type))
            .where(*in_week, Slot.mentor_id.in_(shown))
            .order_by(Slot.starts_at, Slot.id)
        ).all()
        if shown
        else []
    )
    bookings = (
        {
            b.slot_id: b
            for b in db.session.scalars(
                sa.select(Booking)
                .options(joinedload(Booking.candidate))
                .where(Booking.slot_id.in_([s.id for s in slots]), Booking.status.in_(LIVE))
            )
        }
        if slots
        else {}
    )
    days = [monday + timedelta(days=n) for n in range(7)]
    filters = {"mentor": mentor_id, "type": type_id}
    return render_template(
        "interviews/admin_week.html",
        days=days,
        grids=week_grids(mentor_page.items, slots, monday, current_user.timezone),
        bookings=bookings,
        mentor_page=mentor_page,
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
@role_required(Role.ADMIN)
def edit_slot(slot_id: int):
    slot = availability.load_slot_for_change(slot_id, current_user)
    form = EditSlotForm()
    types = [t for t in _types() if t.active]
    form.interview_type.choices = choices((t.id, f"{t.name} ({t.duration_minutes} min)") for t in types)
    form.meeting_mode.description = type_ways_hint(types)
    if request.method == "GET":
        local = to_local(slot.starts_at, slot.mentor.timezone)
        form.interview_type.data = slot.interview_type_id
        form.day.data, form.start_time.data = local.date(), local.time()
        form.meeting_mode.data, form.place.data = slot.meeting_mode or "", slot.place or ""
        form.version.data = slot.version
    if form.validate_on_submit():
        try:
            availability.edit_slot(
                slot,
                form.interview_type.data,
                form.day.data,
                form.start_time.data,
                current_user,
                version=optional_id(form.version.data),
                meeting_mode=form.meeting_mode.data,
                place=form.place.data,
            )
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
@role_required(Role.ADMIN)
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
@role_required(Role.ADMIN)
def bookings():
    problems: list[str] = []
    status = request.args.get("status") if request.args.get("status") in BOOKING_STATUS_LABELS else None
    mentor_id, candidate_id = int_arg("mentor"), int_arg("candidate")
    search = request.args.get("q", "").strip()[:100]
    first, last = date_arg("from", problems, "From"), date_arg("to", problems, "To")
    start, end = services.local_day_bounds(first, last, current_user.timezone)
    slot_conditions = []
    booking_conditions = []
    if status:
        booking_conditions.append(Booking.status == status)
    if mentor_id:
        slot_conditions.append(Slot.mentor_id == mentor_id)
    if candidate_id:
        booking_conditions.append(Booking.candidate_id == candidate_id)
    if search:
        booking_conditions.append(Booking.candidate_id.in_(sa.select(User.id).where(User.matching(search))))
    if start:
        slot_conditions.append(Slot.starts_at >= start)
    if end:
        slot_conditions.append(Slot.starts_at < end)
    pagination = services.bookings_by_session_time(
        slot_conditions, booking_conditions, BOOKINGS_PER_PAGE, by_candidate=bool(candidate_id or search)
    )
    counts = services.candidate_reliability([b.candidate_id for b in pagination.items])
    chosen = db.session.get(User, candidate_id) if candidate_id else None
    filters = {
        "status": status,
        "mentor": mentor_id,
        "candidate": candidate_id,
        "q": search,
        "from": first.isoformat() if first else None,
        "to": last.isoformat() if last else None,
    }
    return render_template(
        "interviews/admin_bookings.html",
        pagination=pagination,
        counts=counts,
        mentors=_mentors(),
        chosen=chosen,
        statuses=BOOKING_STATUS_LABELS,
        filters=filters,
        query_args={k: v for k, v in filters.items() if v},
        problems=problems,
    )
