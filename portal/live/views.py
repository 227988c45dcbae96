"""Live session pages: the public listing and session pages, registering and cancelling, the calendar file, the
candidate's own list, and the forms of those who run sessions, admins and editor mentors (create, edit, cancel,
attendance, recording and slides)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db, limiter
from portal.forms import EmptyForm, optional_id
from portal.live import services
from portal.live.calendar import registration_ics
from portal.live.forms import CancelSessionForm, MaterialsForm, SessionForm
from portal.live.meeting import meeting_of, mode_of
from portal.live.models import LiveSession
from portal.pagination import paginate
from portal.security import role_required
from portal.statuses import MeetingMode, Role
from portal.timeutil import to_local
from portal.views import flash_refusal, show_error

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("live", __name__, url_prefix="/live")
SESSIONS_PER_PAGE = 20


def _session_or_404(session_id: int) -> LiveSession:
    try:
        return services.get_session(session_id)
    except NotFound:
        abort(404)


@bp.route("")
def index():
    page = paginate(services.upcoming_query(), SESSIONS_PER_PAGE)
    taken = services.seats_taken([session.id for session in page.items])
    left = {session.id: max(session.capacity - taken.get(session.id, 0), 0) for session in page.items}
    return render_template(
        "live/index.html", page=page, left=left, can_manage=services.can_manage(current_user), mode_of=mode_of
    )


@bp.route("/<int:session_id>")
def session(session_id: int):
    item = _session_or_404(session_id)
    registration = services.registration_of(item, current_user)
    has_seat = registration is not None and registration.has_seat
    return render_template(
        "live/session.html",
        session=item,
        registration=registration,
        position=services.waitlist_position(registration) if registration else None,
        seats_left=services.seats_left(item),
        meeting=meeting_of(item) if has_seat or services.can_manage(current_user) else mode_of(item),
        show_meeting=has_seat or services.can_manage(current_user),
        materials=services.can_see_materials(current_user, registration),
        can_manage=services.can_manage(current_user),
        waiting=services.waitlist_length(item) if services.can_manage(current_user) else None,
        now=utcnow(),
        form=EmptyForm(),
    )


@bp.route("/<int:session_id>/register", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def register(session_id: int):
    item = _session_or_404(session_id)
    if request.method == "GET":  # back from the login page: the button is on the session page
        return redirect(url_for("live.session", session_id=item.id))
    if EmptyForm().validate_on_submit():
        try:
            registration = services.register(item, current_user)
            db.session.commit()
        except DomainError as error:
            flash_refusal(error)
        else:
            if registration.has_seat:
                flash("You have a seat. We have emailed you the details with a calendar file.", "success")
            else:
                flash("The session is full, so you are on its waitlist. A freed seat goes to you in turn.", "info")
    return redirect(url_for("live.session", session_id=item.id))


@bp.route("/<int:session_id>/cancel-registration", methods=["POST"])
@role_required(Role.CANDIDATE)
def cancel_registration(session_id: int):
    item = _session_or_404(session_id)
    registration = services.registration_of(item, current_user)
    if registration is None or not registration.is_active:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            services.cancel_registration(registration, current_user)
            db.session.commit()
        except DomainError as error:
            flash_refusal(error)
        else:
            flash("Your registration is cancelled.", "success")
    return redirect(url_for("live.session", session_id=item.id))


@bp.route("/<int:session_id>/calendar.ics")
@role_required(Role.CANDIDATE)
def calendar_file(session_id: int):
    item = _session_or_404(session_id)
    registration = services.registration_of(item, current_user)
    if registration is None or registration.is_waiting:
        abort(404)
    return Response(
        registration_ics(registration),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="live-session-{item.id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/mine")
@role_required(Role.CANDIDATE)
def mine():
    page = paginate(services.my_registrations_query(current_user), SESSIONS_PER_PAGE)
    return render_template("live/mine.html", page=page, now=utcnow())


# Admins and editor mentors ----------------------------------------------------------------------------------------


def manager_required(view: F) -> F:
    """Admins and editor mentors only: anonymous users log in first, everyone else gets 403."""

    @wraps(view)
    @role_required(Role.ADMIN, Role.MENTOR)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not services.can_manage(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _draft(form: SessionForm) -> services.SessionDraft:
    return services.SessionDraft(
        kind=form.kind.data,
        title=form.title.data or "",
        description=form.description.data or "",
        speakers=form.speakers.data or "",
        day=form.day.data,
        start_time=form.start_time.data,
        end_time=form.end_time.data,
        capacity=form.capacity.data,
        meeting_mode=form.meeting_mode.data,
        meeting_url=form.meeting_url.data,
        dial_in=form.dial_in.data,
        place=form.place.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@manager_required
def new_session():
    form = SessionForm()
    if request.method == "GET":
        form.meeting_mode.data = MeetingMode.VIDEO
    if form.validate_on_submit():
        try:
            item, notes = services.create_session(current_user, _draft(form))
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(" ".join(["The session is published.", *notes]), "success")
            return redirect(url_for("live.session", session_id=item.id))
    return render_template("live/form.html", form=form, session=None)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_session(session_id: int):
    item = _session_or_404(session_id)
    form = SessionForm(obj=item if request.method == "GET" else None)
    if request.method == "GET":
        starts, ends = to_local(item.starts_at, current_user.timezone), to_local(item.ends_at, current_user.timezone)
        form.day.data, form.start_time.data, form.end_time.data = starts.date(), starts.time(), ends.time()
        form.version.data = item.version
    if form.validate_on_submit():
        try:
            notes = services.edit_session(item, current_user, _draft(form), optional_id(form.version.data) or 0)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(" ".join(["The session is saved.", *notes]), "success")
            return redirect(url_for("live.session", session_id=item.id))
    return render_template("live/form.html", form=form, session=item)


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
@manager_required
def cancel_session(session_id: int):
    item = _session_or_404(session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            told = services.cancel_session(item, current_user, form.reason.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(f"The session is cancelled; {told} people were told.", "success")
            return redirect(url_for("live.session", session_id=item.id))
    return render_template("live/cancel.html", form=form, session=item)


@bp.route("/<int:session_id>/attendance", methods=["GET", "POST"])
@manager_required
def attendance(session_id: int):
    item = _session_or_404(session_id)
    form = EmptyForm()
    materials = MaterialsForm(formdata=None, recording_url=item.recording_url or "", slides_url=item.slides_url or "")
    if form.validate_on_submit():
        present = {number for number in map(optional_id, request.form.getlist("present")) if number}
        try:
            count = services.mark_attendance(item, current_user, present)
            db.session.commit()
        except DomainError as error:
            flash_refusal(error)
        else:
            flash(f"Attendance saved: {count} present.", "success")
        return redirect(url_for("live.attendance", session_id=item.id))
    return render_template(
        "live/attendance.html",
        session=item,
        people=services.attendees(item),
        form=form,
        materials=materials,
        now=utcnow(),
    )


@bp.route("/<int:session_id>/materials", methods=["POST"])
@manager_required
def save_materials(session_id: int):
    item = _session_or_404(session_id)
    materials = MaterialsForm()
    if materials.validate_on_submit():
        try:
            services.save_materials(item, current_user, materials.recording_url.data, materials.slides_url.data)
            db.session.commit()
        except DomainError as error:
            show_error(materials, error)
        else:
            flash("The recording and slides links are saved.", "success")
            return redirect(url_for("live.attendance", session_id=item.id))
    return render_template(
        "live/attendance.html",
        session=item,
        people=services.attendees(item),
        form=EmptyForm(),
        materials=materials,
        now=utcnow(),
    ), 400
