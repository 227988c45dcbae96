"""Mentor pages (admins may act for any mentor with ?mentor=ID): availability, schedule, outcomes."""

from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.db import utcnow
from portal.errors import DomainError, PermissionDenied
from portal.extensions import db
from portal.forms import EmptyForm, choices, optional_id
from portal.interviews import availability, meeting, services
from portal.interviews.forms import (
    CancelSlotForm,
    MeetingLinkForm,
    OutcomeForm,
    SeriesForm,
    SlotForm,
    type_ways_hint,
)
from portal.interviews.models import InterviewType, Slot
from portal.pagination import paginate
from portal.security import is_safe_next, role_required
from portal.statuses import Role, SlotStatus
from portal.timeutil import to_local
from portal.views import flash_refusal, show_error

bp = Blueprint("mentor", __name__, url_prefix="/mentor")
UPCOMING_PER_PAGE = 10


def _mentor_arg() -> int | None:
    return optional_id(request.args.get("mentor", "") or request.form.get("mentor", ""))


def _target_mentor() -> User:
    """The mentor whose schedule this request is about (admins choose with ?mentor=ID); None for an admin who
    has not chosen one."""
    try:
        return availability.mentor_for(current_user, _mentor_arg())
    except PermissionDenied:
        if current_user.is_admin:
            return None  # type: ignore[return-value]
        raise


def _choices(form) -> None:
    types = db.session.scalars(
        sa.select(InterviewType).where(InterviewType.active.is_(True)).order_by(InterviewType.name)
    ).all()
    form.interview_type.choices = choices(
        [(0, "Choose a type")] + [(t.id, f"{t.name} ({t.duration_minutes} min)") for t in types]
    )
    form.meeting_mode.description = type_ways_hint(types)
    if hasattr(form, "mentor"):
        mentors = db.session.scalars(User.active_mentors()).all()
        form.mentor.choices = choices([(0, "Choose a mentor")] + [(m.id, m.name) for m in mentors])


def _chosen_mentor(form) -> User | None:
    """Mentors publish for themselves; admins for the mentor chosen in the form (an error next to it if none)."""
    if not current_user.is_admin:
        return current_user
    try:
        return availability.mentor_for(current_user, form.mentor.data or None)
    except DomainError:
        form.mentor.errors = [*form.mentor.errors, "Choose the mentor these slots are for."]
        return None


def _back_to_availability(mentor: User):
    return redirect(url_for("mentor.availability_page", mentor=mentor.id if current_user.is_admin else None))


@bp.route("/availability")
@role_required(Role.MENTOR, Role.ADMIN)
def availability_page():
    mentor = _target_mentor()
    if mentor is None:
        return redirect(url_for("schedule.week"))
    slots = paginate(
        sa.select(Slot)
        .options(joinedload(Slot.interview_type))
        .where(Slot.mentor_id == mentor.id, Slot.status == SlotStatus.OPEN, Slot.ends_at > utcnow())
        .order_by(Slot.starts_at, Slot.id),
        50,
    )
    booked = services.booked_slot_ids([slot.id for slot in slots.items])
    return render_template(
        "interviews/mentor_availability.html", mentor=mentor, slots=slots, booked=booked, form=EmptyForm()
    )


@bp.route("/availability/slot", methods=["GET", "POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def add_slot():
    mentor = _target_mentor()
    form = SlotForm()
    _choices(form)
    if mentor is not None and request.method == "GET":
        form.mentor.data = mentor.id
    if form.validate_on_submit() and (mentor := _chosen_mentor(form)) is not None:
        try:
            interview_type, planned = availability.plan_single(
                mentor, form.interview_type.data, form.day.data, form.start_time.data
            )
            availability.publish_slots(
                mentor,
                interview_type,
                planned,
                current_user,
                meeting_mode=form.meeting_mode.data,
                place=form.place.data,
            )
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash("Slot published." + (f" {planned[0].note}" if planned[0].note else ""), "success")
            return _back_to_availability(mentor)
    return render_template("interviews/slot_form.html", form=form, mentor=mentor)


@bp.route("/availability/series", methods=["GET", "POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def add_series():
    mentor = _target_mentor()
    form = SeriesForm()
    _choices(form)
    if mentor is not None and request.method == "GET":
        form.mentor.data = mentor.id
    planned, clashes = None, {}
    if form.validate_on_submit() and (mentor := _chosen_mentor(form)) is not None:
        weekdays = {day for day in (form.weekdays.data or []) if 1 <= day <= 7}
        values = (
            weekdays,
            form.window_start.data,
            form.window_end.data,
            form.first_date.data,
            form.last_date.data,
            form.buffer_minutes.data,
        )
        try:
            interview_type, planned = availability.plan_series(mentor, form.interview_type.data, *values)
            way = meeting.slot_meeting(interview_type, form.meeting_mode.data, form.place.data)
            clashes = availability.clashes(mentor.id, planned)
            if form.confirm.data or form.skip_clashes.data:
                chosen = [p for index, p in enumerate(planned) if index not in clashes or not form.skip_clashes.data]
                if not chosen:
                    raise availability.SlotClash(
                        "Every slot of this series clashes with an existing one. Nothing was created."
                    )
                series = availability.new_series(mentor, interview_type, *values, current_user)
                availability.publish_slots(mentor, interview_type, chosen, current_user, series, *way)
                db.session.commit()
                skipped = len(planned) - len(chosen)
                flash(
                    f"{len(chosen)} slots published."
                    + (f" {skipped} that clashed with existing slots were skipped." if skipped else ""),
                    "success",
                )
                return _back_to_availability(mentor)
        except availability.SlotClash as error:
            db.session.rollback()
            show_error(form, error)
            clashes = availability.clashes(mentor.id, planned)  # the preview stays, with what clashes now
        except DomainError as error:
            show_error(form, error)
            planned = None
    return render_template(
        "interviews/series_form.html",
        form=form,
        mentor=mentor,
        planned=planned or [],
        clashes=clashes,
        notes=[p.note for p in planned or [] if p.note] + (planned.skipped if planned else []),
    )


def _managed_slot(slot_id: int) -> Slot:
    return availability.load_slot_for_change(slot_id, current_user)


@bp.route("/slots/<int:slot_id>/remove", methods=["POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def remove_slot(slot_id: int):
    slot = _managed_slot(slot_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        availability.remove_slot(slot, current_user)
        db.session.commit()
        flash("Slot removed.", "success")
    except DomainError as error:
        flash_refusal(error)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("mentor.availability_page"))


@bp.route("/slots/<int:slot_id>/cancel", methods=["GET", "POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def cancel_slot(slot_id: int):
    slot = _managed_slot(slot_id)
    booking = availability.live_booking(slot)
    form = CancelSlotForm()
    if form.validate_on_submit():
        try:
            availability.cancel_slot(slot, form.reason.data, current_user)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
            slot = _managed_slot(slot_id)
            booking = availability.live_booking(slot)
        else:
            flash("Slot cancelled." + (" The candidate has been told why." if booking else ""), "success")
            return _back_to_availability(slot.mentor)
    return render_template("interviews/cancel_slot.html", slot=slot, booking=booking, form=form)


@bp.route("/meeting-link", methods=["GET", "POST"])
@role_required(Role.MENTOR)
def meeting_link():
    """A mentor's own video meeting link: set on the account page; this page shows the form again when it is wrong."""
    form = MeetingLinkForm()
    if request.method == "GET":
        form.meeting_url.data = meeting.mentor_link(current_user.id)
    if form.validate_on_submit():
        try:
            changed = meeting.save_meeting_link(current_user, form.meeting_url.data, current_user)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            saved = "saved" if (form.meeting_url.data or "").strip() else "removed"
            told = len({booking.candidate_id for booking in changed})
            sent = (
                f" We have sent the new joining details to {told} candidate{'s' if told != 1 else ''}." if told else ""
            )
            flash(f"Your meeting link is {saved}.{sent}", "success")
            return redirect(url_for("auth.profile") + "#meeting-link")
    return render_template("interviews/meeting_link.html", form=form)


@bp.route("/schedule")
@role_required(Role.MENTOR, Role.ADMIN)
def schedule():
    mentor = _target_mentor()
    if mentor is None:
        return redirect(url_for("schedule.bookings"))
    now = utcnow()
    upcoming = paginate(services.mentor_sessions_query(mentor.id, True, now), UPCOMING_PER_PAGE, arg="upcoming")
    past = paginate(services.mentor_sessions_query(mentor.id, False, now), 20)
    zone_name = current_user.timezone
    agenda = [
        (day, list(sessions))
        for day, sessions in groupby(
            upcoming.items, key=lambda booking: to_local(booking.slot.starts_at, zone_name).date()
        )
    ]
    return render_template(
        "interviews/mentor_schedule.html",
        mentor=mentor,
        upcoming=upcoming,
        agenda=agenda,
        today=to_local(now, zone_name).date(),
        past=past,
        outcome_form=OutcomeForm(),
        now=now,
    )


@bp.route("/bookings/<int:booking_id>/outcome", methods=["POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def record_outcome(booking_id: int):
    booking = services.load_booking(booking_id, current_user)
    form = OutcomeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.record_outcome(booking, current_user, form.outcome.data)
        db.session.commit()
        flash(f"{booking.candidate.name}'s session is marked {booking.status_label.lower()}.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("mentor.schedule", mentor=booking.slot.mentor_id if current_user.is_admin else None))
