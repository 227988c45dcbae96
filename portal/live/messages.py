"""What the portal tells people about live sessions: the notice and email for a seat, a place on the waitlist, a
promotion from it, a cancellation, and the reminders. Links come from the configured public address."""

from __future__ import annotations

from portal.links import public_path, public_url
from portal.live.calendar import registration_attachment
from portal.live.meeting import meeting_of
from portal.live.models import LiveRegistration, LiveReminder
from portal.mail import OutgoingEmail
from portal.notifications.services import notify
from portal.timeutil import format_local


def _email(
    registration: LiveRegistration, subject: str, message: str, calendar: bool, category: str = "general"
) -> OutgoingEmail:
    """An email about one registration: what happened, when, how to join (for a seat) and, with `calendar`, the
    calendar file (a cancellation for a seat given up)."""
    session = registration.session
    candidate = registration.candidate
    meeting = meeting_of(session)
    live = registration.has_seat and session.is_scheduled
    how = None
    if live:
        if meeting.is_video:
            how = f"A video call: open {meeting.url} at the start time."
        elif meeting.is_phone:
            how = f"By phone: dial {meeting.phone} at the start time."
        else:
            how = f"In person, at {meeting.place}."
    return OutgoingEmail(
        subject=subject,
        template="live_update",
        context={
            "message": message,
            "session": session,
            "recipient": candidate,
            "when": format_local(session.starts_at, candidate.timezone),
            "until": format_local(session.ends_at, candidate.timezone, with_date=False),
            "how": how,
            "join_url": meeting.url if live and meeting.is_video else None,
            "url": public_url("live.session", session_id=session.id),
        },
        category=category,
        attachment=registration_attachment(registration) if calendar else None,
    )


def _tell(registration: LiveRegistration, subject: str, message: str, calendar: bool = True) -> None:
    notify(
        registration.candidate,
        message,
        public_path("live.session", session_id=registration.session_id),
        email=_email(registration, subject, message, calendar),
    )


def seat_taken(registration: LiveRegistration) -> None:
    title = registration.session.title
    _tell(registration, f"You have a seat: {title}", f"You have a seat at “{title}”.")


def waitlist_joined(registration: LiveRegistration, position: int) -> None:
    title = registration.session.title
    _tell(
        registration,
        f"You are on the waitlist: {title}",
        f"“{title}” is full. You are number {position} on its waitlist: "
        "if a seat frees up, it is yours and we will tell you.",
        calendar=False,
    )


def promoted(registration: LiveRegistration) -> None:
    title = registration.session.title
    _tell(
        registration,
        f"A seat freed up: you are in for {title}",
        f"A seat at “{title}” freed up and it is now yours.",
    )


def registration_cancelled(registration: LiveRegistration, had_seat: bool) -> None:
    title = registration.session.title
    _tell(
        registration,
        f"Registration cancelled: {title}",
        f"Your registration for “{title}” is cancelled.",
        calendar=had_seat,
    )


def session_cancelled(registration: LiveRegistration, reason: str | None, had_seat: bool) -> None:
    title = registration.session.title
    because = f" The reason given: {reason}" if reason else ""
    _tell(registration, f"Cancelled: {title}", f"“{title}” has been cancelled.{because}", calendar=had_seat)


def session_changed(registration: LiveRegistration) -> None:
    """The time or the joining details changed: the email gives both, and the calendar update."""
    session = registration.session
    when = format_local(session.starts_at, registration.candidate.timezone)
    _tell(
        registration,
        f"Changed: {session.title}",
        f"“{session.title}” has changed: it starts {when}. Check how to join below.",
    )


def live_reminder_email(reminder: LiveReminder, registration: LiveRegistration) -> OutgoingEmail:
    hours = reminder.offset_minutes / 60
    when_words = f"in {hours:g} hour{'s' if hours != 1 else ''}" if hours < 48 else f"in {hours / 24:g} days"
    title = registration.session.title
    return _email(
        registration,
        f"Reminder: {title} {when_words}",
        f"“{title}” starts {when_words}.",
        calendar=True,
        category="reminders",
    )
