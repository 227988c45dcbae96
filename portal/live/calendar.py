"""iCalendar files for live sessions: one per registration, and the events a user's private feed adds."""

from __future__ import annotations

import sqlalchemy as sa
from icalendar import Calendar, Event
from sqlalchemy.orm import contains_eager

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.interviews.calendar import PRODID, organizer
from portal.links import public_url
from portal.live.meeting import meeting_of
from portal.live.models import LiveRegistration, LiveSession
from portal.mail import Attachment
from portal.statuses import LiveSessionStatus, SeatStatus


def registration_event(registration: LiveRegistration) -> Event:
    """The session as a VEVENT for one registered person: how to join while they hold a seat, CANCELLED once they
    or the session no longer do."""
    session = registration.session
    page = public_url("live.session", session_id=session.id)
    live = registration.has_seat and session.is_scheduled
    event = Event()
    event.add("uid", registration.uid)
    event.add("dtstamp", utcnow())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("sequence", registration.sequence + session.version)
    event.add("organizer", organizer())
    event.add("summary", f"{session.kind_label}: {session.title}")
    lines = [f"Speakers: {session.speakers}"]
    meeting = meeting_of(session)
    url = page
    if not live:
        event.add("location", meeting.label)
    elif meeting.is_video:
        event.add("location", meeting.url)
        url = meeting.url
        lines.append(f"How to join: a video call. Open {meeting.url} at the start time.")
    elif meeting.is_phone:
        event.add("location", f"Dial {meeting.phone}")
        lines.append(f"How to join: dial {meeting.phone} at the start time.")
    else:
        event.add("location", meeting.place)
        lines.append(f"How to join: in person, at {meeting.place}.")
    lines.append(f"Session page: {page}")
    event.add("description", "\n".join(lines))
    event.add("status", "CONFIRMED" if live else "CANCELLED")
    event.add("url", url)
    return event


def registration_ics(registration: LiveRegistration) -> bytes:
    """The registration as a calendar file: PUBLISH while the seat is held, CANCEL once it is not."""
    live = registration.has_seat and registration.session.is_scheduled
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH" if live else "CANCEL")
    calendar.add_component(registration_event(registration))
    return calendar.to_ical()


def registration_attachment(registration: LiveRegistration) -> Attachment:
    live = registration.has_seat and registration.session.is_scheduled
    method = "PUBLISH" if live else "CANCEL"
    return Attachment("live-session.ics", f"text/calendar; method={method}", registration_ics(registration).decode())


def feed_events(user: User) -> list[Event]:
    """The live sessions still to come at which the user holds a seat, as events for their private feed."""
    registrations = db.session.scalars(
        sa.select(LiveRegistration)
        .join(LiveRegistration.session)
        .options(contains_eager(LiveRegistration.session))
        .where(
            LiveRegistration.candidate_id == user.id,
            LiveRegistration.status == SeatStatus.REGISTERED,
            LiveSession.status == LiveSessionStatus.SCHEDULED,
            LiveSession.starts_at > utcnow(),
        )
        .order_by(LiveSession.starts_at)
    )
    return [registration_event(registration) for registration in registrations]
