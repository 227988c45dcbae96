"""Candidate pages: browse slots, book, see, cancel and reschedule bookings, calendars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import memo, rules
from portal.auth import services as auth_services
from portal.auth.models import User
from portal.cvs.services import candidate_documents
from portal.db import utcnow
from portal.errors import DomainError, NotFound
from portal.extensions import db, limiter
from portal.forms import EmptyForm, choices, optional_id
from portal.interviews import calendar, meeting, services
from portal.interviews.forms import (
    BookingForm,
    CancelBookingForm,
    MeetingLinkForm,
    PhoneForm,
    RescheduleForm,
    TimezoneSwitchForm,
)
from portal.interviews.models import Booking, InterviewType, Slot
from portal.live import calendar as live_calendar
from portal.pagination import Page, paginate
from portal.security import role_required
from portal.statuses import Role
from portal.timeutil import format_local, to_local
from portal.views import date_arg, flash_refusal, int_arg, next_or_home, show_error

bp = Blueprint("interviews", __name__, url_prefix="/interviews")
SLOTS_PER_PAGE = 30


# Where a session happens, for any template ---------------------------------------------------------------------


@bp.app_template_global()
def meeting_for(
    booking: Booking, with_link: bool = True, links: dict[int, str | None] | None = None
) -> meeting.Meeting:
    """How a session happens, for the signed-in person: the link, number or place only for its participants and
    admins while it is booked (see rules.can_see_meeting), else just the way of meeting. A list passes the mentors'
    `links` (meeting.mentor_links) so that each session costs no query."""
    if rules.can_see_meeting(current_user, booking):
        return meeting.meeting_of(booking, with_link, links)
    return meeting.Meeting(booking.slot.effective_mode, full=False)


@bp.app_template_global()
def meeting_of_slot(slot: Slot) -> meeting.Meeting:
    """How an open slot's session will happen (the way, and the place in person; never a link)."""
    return meeting.mode_of(slot)


@bp.app_template_global()
def join_url(booking: Booking, now: datetime, links: dict[int, str | None] | None = None) -> str | None:
    """The address behind "Join now" when the signed-in person may join the session at `now`, else None."""
    if not rules.can_join(current_user, booking, now):
        return None
    return meeting.meeting_of(booking, links=links).url


@bp.app_template_global()
def meeting_link_form() -> MeetingLinkForm:
    """The signed-in mentor's meeting-link form, filled in with their link (for the account page)."""
    return MeetingLinkForm(formdata=None, meeting_url=meeting.mentor_link(current_user.id))


@dataclass(frozen=True)
class SlotChoice:
    """One bookable slot as a list shows it, its times already in the viewer's zone."""

    id: int
    starts_at: datetime
    start: str  # "09:00 BST"
    end: str
    when: str  # "Mon 5 Oct 2026, 09:00 BST"
    type_name: str
    mentor_name: str

    @classmethod
    def of(cls, row, zone_name: str) -> SlotChoice:
        return cls(
            id=row.id,
            starts_at=row.starts_at,
            start=format_local(row.starts_at, zone_name, with_date=False),
            end=format_local(row.ends_at, zone_name, with_date=False),
            when=format_local(row.starts_at, zone_name),
            type_name=row.type_name,
            mentor_name=row.mentor_name,
        )


def slot_browser(exclude_slot: Slot | None = None, only_type_id: int | None = None) -> dict:
    """Filters, the month calendar and one local day's bookable slots (the chosen day, else the first day with open
    slots). Moving a booking lists only its own interview type (`only_type_id`), never the slot it has now
    (`exclude_slot`). A bad date goes into `day_problems`, shown next to the date field."""
    problems: list[str] = []
    day_problems: list[str] = []
    filters = {
        "type": only_type_id or int_arg("type"),
        "mentor": int_arg("mentor"),
        # `from` is the chosen day in addresses made before the calendar chose one day at a time.
        "day": date_arg("day" if request.args.get("day") else "from", day_problems, "Date"),
    }
    policy = services.get_policy()
    now = utcnow()
    zone_name = current_user.timezone
    seconds = current_app.config["CALENDAR_FIGURES_SECONDS"]
    next_by_type = memo.shared_for(
        seconds,
        ("next-by-type", zone_name, filters["mentor"]),
        lambda: services.next_available(policy, now, "type", mentor_id=filters["mentor"]),
    )
    next_by_mentor = memo.shared_for(
        seconds,
        ("next-by-mentor", zone_name, filters["type"]),
        lambda: services.next_available(policy, now, "mentor", type_id=filters["type"]),
    )
    first_open = None
    firsts = [first for type_id, first in next_by_type.items() if filters["type"] in (None, type_id)]
    if firsts:
        first_open = to_local(min(firsts), zone_name).date()
    month = date_arg("month", problems, "Month")
    calendar_ = month_calendar(policy, filters, month or filters["day"] or first_open)
    # The day whose times are listed: the one chosen, else the first with open slots of the month moved to, else
    # the first with open slots at all.
    chosen = filters["day"] or (calendar_.first_open_day() if month else first_open)
    times = Page(items=[], page=1, per_page=SLOTS_PER_PAGE, has_next=False)
    if chosen is not None:
        start, end = services.local_day_bounds(chosen, chosen, zone_name)
        statement = services.bookable_slots_query(
            policy, now, type_id=filters["type"], mentor_id=filters["mentor"], start=start, end=end
        )
        if exclude_slot is not None:
            statement = statement.where(Slot.id != exclude_slot.id)
        times = paginate(statement, SLOTS_PER_PAGE, rows=True)
    choices_ = [SlotChoice.of(row, zone_name) for row in times.items]
    types = db.session.execute(
        sa.select(InterviewType.id, InterviewType.name)
        .where(InterviewType.active.is_(True), InterviewType.id == only_type_id if only_type_id else sa.true())
        .order_by(InterviewType.name)
    ).all()
    mentors = db.session.execute(User.active_mentors().with_only_columns(User.id, User.name)).all()
    kept = {key: filters[key] for key in ("type", "mentor") if filters[key]}
    return {
        "pagination": times,
        "day": chosen,
        "first_open": first_open,
        "day_state": calendar_.state_of(chosen),
        "times": choices_,
        "earlier_day": calendar_.day_before(chosen),
        "later_day": calendar_.day_after(chosen),
        "types": types,
        "mentors": mentors,
        "filters": filters,
        "query_args": {**kept, **({"day": chosen.isoformat()} if chosen else {})},
        "problems": problems,
        "day_problems": day_problems,
        "policy": policy,
        "calendar": calendar_,
        "calendar_args": kept,
        "next_by_type": next_by_type,
        "next_by_mentor": next_by_mentor,
    }


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_month: bool
    open_slots: int
    today: bool
    bookable: bool  # inside the policy's notice and horizon


@dataclass(frozen=True)
class MonthCalendar:
    month: date  # its first day
    weeks: list[list[CalendarDay]]
    previous: date | None
    next: date | None
    today: date
    last_bookable: date  # the booking horizon's last day

    def state_of(self, day: date | None) -> str | None:
        """ "past" for a day gone by, "beyond" for one past the booking horizon, else None."""
        if day is None:
            return None
        if day < self.today:
            return "past"
        return "beyond" if day > self.last_bookable else None

    def _open_days(self) -> list[date]:
        return [cell.day for week in self.weeks for cell in week if cell.open_slots and cell.bookable]

    def first_open_day(self) -> date | None:
        """The first day of the month itself with open slots."""
        return next((day for day in self._open_days() if day.month == self.month.month), None)

    def day_before(self, day: date | None) -> date | None:
        """The nearest earlier day on this calendar with open slots."""
        earlier = [other for other in self._open_days() if day and other < day]
        return earlier[-1] if earlier else None

    def day_after(self, day: date | None) -> date | None:
        """The nearest later day on this calendar with open slots."""
        return next((other for other in self._open_days() if day and other > day), None)


def month_calendar(policy, filters: dict, shown: date | None) -> MonthCalendar:
    """The month of the day `shown` (this month when None; never one in the past), a week a row from Monday, each
    day with its number of open slots for the filters."""
    zone_name = current_user.timezone
    now = utcnow()
    today = to_local(now, zone_name).date()
    last_bookable = to_local(now + timedelta(days=policy.horizon_days), zone_name).date()
    first_bookable = to_local(now + timedelta(hours=policy.min_notice_hours), zone_name).date()
    month = max(shown or today, today).replace(day=1)  # the past has nothing to book
    start = month - timedelta(days=month.weekday())
    next_month = (month + timedelta(days=32)).replace(day=1)
    end = next_month - timedelta(days=1)
    end += timedelta(days=6 - end.weekday())
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    counts = memo.shared_for(
        current_app.config["CALENDAR_FIGURES_SECONDS"],
        ("calendar", zone_name, month, filters["type"], filters["mentor"]),
        lambda: services.open_slots_per_day(
            policy, now, days, zone_name, type_id=filters["type"], mentor_id=filters["mentor"]
        ),
    )
    cells = [
        CalendarDay(
            day=day,
            in_month=day.month == month.month,
            open_slots=counts.get(day, 0),
            today=day == today,
            bookable=first_bookable <= day <= last_bookable,
        )
        for day in days
    ]
    previous = (month - timedelta(days=1)).replace(day=1)
    return MonthCalendar(
        month=month,
        weeks=[cells[index : index + 7] for index in range(0, len(cells), 7)],
        previous=previous if previous >= today.replace(day=1) else None,
        next=next_month if next_month <= last_bookable else None,
        today=today,
        last_bookable=last_bookable,
    )


@bp.app_template_global()
def timezone_switch_form() -> TimezoneSwitchForm:
    """The time-zone switcher beside a list of times, set to the signed-in person's zone."""
    return TimezoneSwitchForm(formdata=None, timezone=current_user.timezone)


@bp.route("/slots")
@login_required
def slots():
    browser = slot_browser()
    at_limit = (
        services.sessions_at_the_limit(current_user, browser["policy"], utcnow()) if current_user.is_candidate else []
    )
    return render_template("interviews/slots.html", at_limit=at_limit, now=utcnow(), **browser)


@bp.route("/timezone", methods=["POST"])
@login_required
def switch_timezone():
    """Show times in another zone, remembered on the account; back to the list the switcher was beside."""
    form = TimezoneSwitchForm()
    if form.validate_on_submit():
        auth_services.set_timezone(current_user, form.timezone.data)
        db.session.commit()
        flash(f"Times are now shown in {form.timezone.data.replace('_', ' ')}.", "success")
        return redirect(next_or_home() + "#slot-times")  # back at the times, where the switcher was
    flash("Choose a time zone from the list.", "danger")
    return redirect(next_or_home())


def _slot_taken_page(slot: Slot | None):
    alternatives = services.nearest_alternatives(slot) if slot is not None else []
    return render_template("interviews/slot_taken.html", slot=slot, alternatives=alternatives), 409


@bp.route("/slots/<int:slot_id>/book", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def book(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    policy = services.get_policy()
    form = BookingForm()
    documents = candidate_documents(current_user)
    form.cv_document.choices = choices(
        [(0, "Do not share a CV")] + [(d.id, d.name + (" (current)" if d.is_current else "")) for d in documents]
    )
    if request.method == "GET":
        form.cv_document.data = next((d.id for d in documents if d.is_current), 0)
        form.version.data = slot.version
    if form.validate_on_submit():
        try:
            booking = services.book_slot(
                current_user,
                slot_id,
                form.focus_note.data,
                form.cv_document.data,
                version=optional_id(form.version.data),
                phone=form.phone.data,
            )
            db.session.commit()
        except services.SlotTaken:
            db.session.rollback()
            return _slot_taken_page(db.session.get(Slot, slot_id))
        except DomainError as error:
            show_error(form, error)
        else:
            flash("We have emailed you the details with a calendar file.", "booked")
            return redirect(url_for("interviews.booking", booking_id=booking.id))
    elif request.method == "GET":
        try:
            services.check_booking_rules(current_user, slot, policy, utcnow())
        except services.SlotTaken:
            return _slot_taken_page(slot)
        except DomainError as error:
            form.form_errors.append(error.message)
    return render_template("interviews/book.html", slot=slot, form=form, policy=policy, now=utcnow())


@bp.route("/bookings")
@role_required(Role.CANDIDATE)
def my_bookings():
    now = utcnow()
    upcoming = db.session.scalars(services.candidate_bookings_query(current_user, True, now)).unique().all()
    past = paginate(services.candidate_bookings_query(current_user, False, now), 20)
    return render_template(
        "interviews/my_bookings.html", upcoming=upcoming, past=past, now=now, policy=services.get_policy()
    )


def _booking_page(item: Booking, phone_form: PhoneForm | None = None):
    return render_template(
        "interviews/booking.html",
        booking=item,
        policy=services.get_policy(),
        now=utcnow(),
        phone_form=phone_form or PhoneForm(formdata=None, phone=item.phone),
    )


@bp.route("/bookings/<int:booking_id>")
@login_required
def booking(booking_id: int):
    return _booking_page(services.load_booking(booking_id, current_user))


@bp.route("/bookings/<int:booking_id>/phone", methods=["POST"])
@role_required(Role.CANDIDATE)
def give_phone(booking_id: int):
    item = services.load_booking(booking_id, current_user)
    if item.candidate_id != current_user.id:
        raise NotFound("No such booking.")
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            meeting.give_phone(item, current_user, form.phone.data)
            db.session.commit()
        except DomainError as error:
            if error.field != "phone":  # not a phone session (any more): nothing to correct in the form
                flash_refusal(error)
                return redirect(url_for("interviews.booking", booking_id=booking_id))
            show_error(form, error)
            item = services.load_booking(booking_id, current_user)
        else:
            flash("Your phone number is saved: your mentor will call you on it.", "success")
            return redirect(url_for("interviews.booking", booking_id=item.id))
    return _booking_page(item, form)


def _changeable_booking(booking_id: int) -> Booking:
    """A booking the signed-in person may cancel or reschedule when the rules allow (its candidate, admins)."""
    item = services.load_booking(booking_id, current_user)
    if not rules.can_change_for(current_user, item):
        raise NotFound("No such booking.")
    return item


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    item = _changeable_booking(booking_id)
    form = CancelBookingForm()
    if form.validate_on_submit():
        try:
            services.cancel_booking(item, current_user, form.reason.data, override=form.override.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
            item = _changeable_booking(booking_id)
        else:
            flash("The booking is cancelled. We have emailed you a calendar update.", "success")
            return redirect(
                url_for("interviews.my_bookings")
                if current_user.is_candidate
                else url_for("interviews.booking", booking_id=item.id)
            )
    return render_template(
        "interviews/cancel.html", booking=item, form=form, policy=services.get_policy(), now=utcnow()
    )


@bp.route("/bookings/<int:booking_id>/reschedule", methods=["GET", "POST"])
@login_required
def reschedule(booking_id: int):
    item = _changeable_booking(booking_id)
    form = RescheduleForm()
    if request.method == "GET":
        form.version.data = item.version
    if form.validate_on_submit():
        try:
            services.reschedule_booking(
                item,
                form.slot_id.data,
                current_user,
                override=form.override.data,
                version=optional_id(form.version.data),
            )
            db.session.commit()
        except services.SlotTaken:
            db.session.rollback()
            return _slot_taken_page(db.session.get(Slot, form.slot_id.data))
        except DomainError as error:
            show_error(form, error)
            item = _changeable_booking(booking_id)
        else:
            flash("We have emailed you the updated calendar file.", "moved")
            return redirect(url_for("interviews.booking", booking_id=item.id))
    browser = slot_browser(exclude_slot=item.slot, only_type_id=item.slot.interview_type_id)
    return render_template("interviews/reschedule.html", booking=item, form=form, now=utcnow(), **browser)


@bp.route("/bookings/<int:booking_id>/calendar.ics")
@login_required
def booking_ics(booking_id: int):
    item = services.load_booking(booking_id, current_user)
    return Response(
        calendar.booking_ics(item),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="interview-{item.id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    user = calendar.user_for_feed_token(token)
    if user is None:
        abort(404)
    return Response(
        calendar.feed_ics(user, live_calendar.feed_events(user)),
        mimetype="text/calendar",
        headers={"Cache-Control": "private, no-store"},
    )


@bp.route("/calendar/address", methods=["POST"])
@login_required
def regenerate_feed():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    had_one = bool(current_user.calendar_token)
    calendar.regenerate_feed_token(current_user)
    db.session.commit()
    flash(
        "Your new calendar address is ready. The old one no longer works."
        if had_one
        else "Your private calendar address is ready.",
        "success",
    )
    return redirect(url_for("auth.profile") + "#calendar")


@bp.route("/calendar/address/off", methods=["POST"])
@login_required
def turn_off_feed():
    if not EmptyForm().validate_on_submit():
        abort(400)
    calendar.turn_off_feed(current_user)
    db.session.commit()
    flash("Your calendar address is turned off: calendars subscribed to it get nothing more.", "success")
    return redirect(url_for("auth.profile") + "#calendar")
