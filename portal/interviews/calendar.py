"""iCalendar (RFC 5545): one file per booking, and a private feed of a user's upcoming sessions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy.orm import contains_eager, joinedload

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.interviews.meeting import meeting_of
from portal.interviews.models import Booking, Slot
from portal.links import public_url
from portal.mail import Attachment
from portal.statuses import BookingStatus

PRODID = "-//Career Services//Mock interviews//EN"


def organizer() -> vCalAddress:
    """Who sends the invitation (RFC 5546 requires an ORGANIZER on a CANCEL): the portal's own address."""
    name, address = parseaddr(current_app.config["MAIL_FROM"])
    value = vCalAddress(f"mailto:{address}")
    value.params["cn"] = vText(name or current_app.config["SITE_NAME"])
    return value


def _event(booking: Booking, with_meeting: bool = True) -> Event:
    """The session as a VEVENT. While it is booked, LOCATION, URL and the description say how to join (left out with
    `with_meeting=False`, for someone no longer taking part)."""
    slot = booking.slot
    page = public_url("interviews.booking", booking_id=booking.id)
    meeting = meeting_of(booking)
    event = Event()
    event.add("uid", booking.uid)
    event.add("dtstamp", utcnow())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("sequence", booking.sequence)
    event.add("organizer", organizer())
    event.add("summary", f"Mock interview: {slot.interview_type.name}")
    lines = [f"Mentor: {slot.mentor.name}", f"Candidate: {booking.candidate.name}"]
    if booking.focus_note:
        lines.append(f"Focus: {booking.focus_note}")
    url = page
    if not with_meeting or booking.status != BookingStatus.BOOKED:
        event.add("location", meeting.label)
    elif meeting.is_video:
        event.add("location", meeting.url)
        url = meeting.url
        lines.append(f"How to join: a video call. Open {meeting.url} at the start time.")
    elif meeting.is_phone:
        event.add("location", f"Phone call to {meeting.phone}" if meeting.phone else meeting.label)
        lines.append(
            f"How to join: {slot.mentor.name} calls {booking.candidate.name} on {meeting.phone}."
            if meeting.phone
            else f"How to join: {slot.mentor.name} calls {booking.candidate.name}; the number to call is not given yet."
        )
    else:
        event.add("location", meeting.place or meeting.label)
        lines.append(f"How to join: in person, at {meeting.place}.")
    if booking.status == BookingStatus.BOOKED and slot.interview_type.preparation:
        lines.append(f"Before the session: {slot.interview_type.preparation}")
    lines.append(f"Session page: {page}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if booking.status == BookingStatus.CANCELLED else "CONFIRMED")
    event.add("url", url)
    return event


def _calendar(method: str, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def booking_method(booking: Booking) -> str:
    return "CANCEL" if booking.status == BookingStatus.CANCELLED else "PUBLISH"


def booking_ics(booking: Booking, with_meeting: bool = True) -> bytes:
    """The booking as a calendar file: PUBLISH while live, CANCEL (STATUS:CANCELLED) once cancelled."""
    calendar = _calendar(booking_method(booking))
    calendar.add_component(_event(booking, with_meeting))
    return calendar.to_ical()


def booking_attachment(booking: Booking, with_meeting: bool = True) -> Attachment:
    return Attachment(
        "interview.ics",
        f"text/calendar; method={booking_method(booking)}",
        booking_ics(booking, with_meeting).decode("utf-8"),
    )


def feed_bookings(user: User) -> list[Booking]:
    """A user's upcoming live sessions: as candidate, or as the mentor of the slot."""
    statement = (
        sa.select(Booking)
        .join(Booking.slot)
        .options(
            contains_eager(Booking.slot).joinedload(Slot.interview_type),
            contains_eager(Booking.slot).joinedload(Slot.mentor),
            joinedload(Booking.candidate),
        )
        .where(Booking.status == BookingStatus.BOOKED, Slot.starts_at > utcnow())
        .order_by(Slot.starts_at)
    )
    if user.is_mentor:
        statement = statement.where(Slot.mentor_id == user.id)
    else:
        statement = statement.where(Booking.candidate_id == user.id)
    return list(db.session.scalars(statement).unique())


def feed_ics(user: User, other_events: Iterable[Event] = ()) -> bytes:
    """The user's private feed: their upcoming sessions, and `other_events` (their live sessions, added by the view
    from a package above this one)."""
    calendar = _calendar("PUBLISH", f"Mock interviews ({user.name})")
    for booking in feed_bookings(user):
        calendar.add_component(_event(booking))
    for event in other_events:
        calendar.add_component(event)
    return calendar.to_ical()


def user_for_feed_token(token: str) -> User | None:
    if not token or len(token) < 20:
        return None
    return db.session.scalar(sa.select(User).where(User.calendar_token == token, User.active.is_(True)))


def turn_off_feed(user: User) -> None:
    """The private feed address stops working, and no new one exists until the user asks for it."""
    user.calendar_token = None


def regenerate_feed_token(user: User) -> str:
    """A new private feed address; the old one stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    return user.calendar_token
