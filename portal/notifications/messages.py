"""What the portal tells people, in words and links: every notice and email about bookings, waitlist offers,
reminders, reviews, feedback and accounts. Links come from the configured public address (portal.links), so a
message reads the same whether a request or the worker writes it."""

from __future__ import annotations

from portal import rules
from portal.auth.models import Invitation, Registration, User
from portal.cvs.models import CVReview
from portal.db import utcnow
from portal.feedback.models import SessionFeedback
from portal.feedback.rubric import READINESS
from portal.interviews.calendar import booking_attachment
from portal.interviews.meeting import Meeting, meeting_of
from portal.interviews.models import Booking, InterviewType, Reminder, Slot
from portal.interviews.reminders import offsets
from portal.interviews.services import get_policy
from portal.links import public_path, public_url
from portal.mail import OutgoingEmail, queue_email
from portal.notifications.services import notify
from portal.timeutil import format_local

# Where a session happens ---------------------------------------------------------------------------------------


def how_to_join(booking: Booking, recipient: User, meeting: Meeting) -> str:
    """One sentence telling `recipient` how to join the booked session (the link itself goes beside it)."""
    mentor, candidate = booking.slot.mentor, booking.candidate
    if meeting.is_video:
        room = "your own meeting room" if recipient.id == mentor.id else f"{mentor.name}'s meeting room"
        where = room if meeting.own_link else "a meeting room made for this session (keep the link between you)"
        return f"Video call, in {where}. Open the link at the start time."
    if meeting.is_phone:
        if recipient.id == candidate.id:
            if meeting.phone:
                return f"Phone call: {mentor.name} will call you on {meeting.phone}."
            return f"Phone call: {mentor.name} needs a number to call you on. Add it on the session page."
        if meeting.phone:
            caller = "Call" if recipient.id == mentor.id else f"{mentor.name} calls"
            return f"Phone call: {caller} {candidate.name} on {meeting.phone}."
        return f"Phone call: {candidate.name} has not given a number yet. It will be on the session page."
    return f"In person, at {meeting.place}."


def joining_details(booking: Booking, recipient: User) -> dict:
    """What an email says about where the session happens: the way of meeting (`label`), how to join (`how`) and
    the address to open (`url`) for a video call. Only the way of meeting for a session no longer booked, or for
    someone who no longer takes part (the mentor a session moved away from)."""
    meeting = meeting_of(booking)
    if not rules.can_see_meeting(recipient, booking):
        return {"label": meeting.label, "how": None, "url": None}
    return {"label": meeting.label, "how": how_to_join(booking, recipient, meeting), "url": meeting.url}


def _preparation(interview_type: InterviewType) -> str | None:
    return interview_type.preparation or None


# Bookings ----------------------------------------------------------------------------------------------------


def _booking_email(
    booking: Booking, recipient: User, subject: str, message: str, preparation: bool = False
) -> OutgoingEmail:
    """The email about a booking change, for its candidate or a mentor, with how to join and the calendar file
    (and the preparation notes, for a new booking's candidate)."""
    slot = booking.slot
    details = joining_details(booking, recipient)
    return OutgoingEmail(
        subject=subject,
        template="booking_update",
        context={
            "booking": booking,
            "slot": slot,
            "recipient": recipient,
            "message": message,
            "when": format_local(slot.starts_at, recipient.timezone),
            "until": format_local(slot.ends_at, recipient.timezone, with_date=False),
            "url": public_url("interviews.my_bookings" if recipient.id == booking.candidate_id else "mentor.schedule"),
            "where": details,
            "session_url": public_url("interviews.booking", booking_id=booking.id) if details["how"] else None,
            "preparation": _preparation(slot.interview_type) if preparation else None,
        },
        category="booking",
        attachment=booking_attachment(booking, with_meeting=details["how"] is not None),
    )


def tell_about_booking(
    booking: Booking, recipient: User, subject: str, message: str, link: str, preparation: bool = False
) -> None:
    notify(recipient, message, link, email=_booking_email(booking, recipient, subject, message, preparation))


def booking_made(booking: Booking, from_waitlist: bool = False) -> None:
    slot, candidate, mentor = booking.slot, booking.candidate, booking.slot.mentor
    kind = slot.interview_type.name
    when = format_local(slot.starts_at, candidate.timezone)
    mentor_when = format_local(slot.starts_at, mentor.timezone)
    tell_about_booking(
        booking,
        candidate,
        f"Booking confirmed: {kind}, {when}",
        f"Booked{' from the waitlist' if from_waitlist else ''}: {kind} with {mentor.name}, {when}.",
        public_path("interviews.booking", booking_id=booking.id),
        preparation=True,
    )
    tell_about_booking(
        booking,
        mentor,
        f"New booking: {candidate.name}" + ("" if from_waitlist else f", {mentor_when}"),
        f"New booking: {candidate.name}, {kind}, {mentor_when}.",
        public_path("mentor.schedule"),
    )


def booking_cancelled(booking: Booking, by: User) -> None:
    slot, candidate, mentor = booking.slot, booking.candidate, booking.slot.mentor
    kind = slot.interview_type.name
    tell_about_booking(
        booking,
        candidate,
        f"Booking cancelled: {kind}, {format_local(slot.starts_at, candidate.timezone)}",
        f"Cancelled: {kind} on {format_local(slot.starts_at, candidate.timezone)}.",
        public_path("interviews.my_bookings"),
    )
    mentor_when = format_local(slot.starts_at, mentor.timezone)
    reason = f" Reason: {booking.cancel_reason}" if booking.cancel_reason else ""
    who = candidate.name if by.id == candidate.id else "The career services team"
    whose = "" if by.id == candidate.id else f" with {candidate.name}"
    tell_about_booking(
        booking,
        mentor,
        f"Session cancelled: {candidate.name}, {mentor_when}",
        f"{who} cancelled the {kind} session{whose} on {mentor_when}.{reason}",
        public_path("mentor.schedule"),
    )


def session_withdrawn(booking: Booking, by: User, reason: str) -> None:
    """The slot of a booked session was cancelled by its mentor or the team: the candidate is told why."""
    slot, candidate = booking.slot, booking.candidate
    kind = slot.interview_type.name
    when = format_local(slot.starts_at, candidate.timezone)
    who = "the mentor" if by.id == slot.mentor_id else "the career services team"
    tell_about_booking(
        booking,
        candidate,
        f"Session cancelled by {who}: {kind}, {when}",
        f"Your {kind} session on {when} was cancelled by {who}: {reason}",
        public_path("interviews.slots", type=slot.interview_type_id),
    )


def booking_moved(booking: Booking, old_slot: Slot) -> None:
    new_slot, candidate = booking.slot, booking.candidate
    kind = new_slot.interview_type.name
    when = format_local(new_slot.starts_at, candidate.timezone)
    tell_about_booking(
        booking,
        candidate,
        f"Booking moved: {kind}, now {when}",
        f"Rescheduled: {kind} with {new_slot.mentor.name}, now {when}.",
        public_path("interviews.booking", booking_id=booking.id),
    )
    for mentor in {old_slot.mentor, new_slot.mentor}:
        old_when = format_local(old_slot.starts_at, mentor.timezone)
        new_when = format_local(new_slot.starts_at, mentor.timezone)
        if mentor.id == new_slot.mentor_id and mentor.id != old_slot.mentor_id:
            message = f"{candidate.name} moved their {kind} session to you: {new_when} (it was {old_when})."
        elif mentor.id != new_slot.mentor_id:
            message = f"{candidate.name} moved their {kind} session on {old_when} to another mentor."
        else:
            message = f"{candidate.name} moved their {kind} session from {old_when} to {new_when}."
        tell_about_booking(
            booking,
            mentor,
            f"Session moved: {candidate.name}, now {new_when}",
            message,
            public_path("mentor.schedule"),
        )


def meeting_changed(booking: Booking) -> None:
    """The session's joining details changed (the mentor's link, or the interview type's way of meeting or place):
    its candidate gets the new ones, with an updated calendar file."""
    slot, candidate = booking.slot, booking.candidate
    kind = slot.interview_type.name
    when = format_local(slot.starts_at, candidate.timezone)
    details = joining_details(booking, candidate)
    link = f" {details['url']}" if details["url"] else ""
    tell_about_booking(
        booking,
        candidate,
        f"New joining details: {kind}, {when}",
        f"Your {kind} session with {slot.mentor.name} on {when} has new joining details. {details['how']}{link}",
        public_path("interviews.booking", booking_id=booking.id),
    )


# Waitlist ------------------------------------------------------------------------------------------------------


def hold_offered(hold: Booking, minutes: int) -> None:
    slot, candidate = hold.slot, hold.candidate
    when = format_local(slot.starts_at, candidate.timezone)
    until = format_local(hold.hold_expires_at, candidate.timezone, with_date=False)
    notify(
        candidate,
        f"A slot opened: {slot.interview_type.name} with {slot.mentor.name}, {when}. It is held for you until {until}.",
        public_path("waitlist.offer", booking_id=hold.id),
        email=OutgoingEmail(
            f"A slot is held for you until {until}: {slot.interview_type.name}",
            "waitlist_offer",
            {
                "slot": slot,
                "when": when,
                "until": until,
                "minutes": minutes,
                "url": public_url("waitlist.offer", booking_id=hold.id),
            },
            category="waitlist",
        ),
    )


def hold_expired(hold: Booking) -> None:
    notify(
        hold.candidate,
        f"Your hold on the {hold.slot.interview_type.name} slot ended, so it was offered to the next person. "
        "Join the waitlist again whenever you like.",
        public_path("waitlist.index"),
    )


# Reminders -----------------------------------------------------------------------------------------------------


def reminder_email(reminder: Reminder, booking: Booking, recipient: User) -> OutgoingEmail:
    slot = booking.slot
    hours = reminder.offset_minutes / 60
    when_words = f"in {hours:g} hour{'s' if hours != 1 else ''}" if hours < 48 else f"in {hours / 24:g} days"
    is_candidate = recipient.id == booking.candidate_id
    changeable = is_candidate and rules.can_change(recipient, booking, get_policy(), utcnow())
    # The first reminder (the day before, by default) carries the preparation notes; later ones only how to join.
    first = reminder.offset_minutes >= max(offsets(), default=0)
    return OutgoingEmail(
        subject=f"Reminder: {slot.interview_type.name} {when_words}",
        template="reminder",
        context={
            "booking": booking,
            "slot": slot,
            "recipient": recipient,
            "when_words": when_words,
            "when": format_local(slot.starts_at, recipient.timezone),
            "until": format_local(slot.ends_at, recipient.timezone, with_date=False),
            "other": slot.mentor.name if is_candidate else booking.candidate.name,
            "reschedule_url": public_url("interviews.reschedule", booking_id=booking.id) if changeable else None,
            "cancel_url": public_url("interviews.cancel", booking_id=booking.id) if changeable else None,
            "url": public_url("interviews.booking", booking_id=booking.id),
            "where": joining_details(booking, recipient),
            "preparation": _preparation(slot.interview_type) if first and is_candidate else None,
        },
        category="reminders",
        attachment=booking_attachment(booking),
    )


# Feedback and CV reviews ----------------------------------------------------------------------------------------


def feedback_published(feedback: SessionFeedback, booking: Booking, mentor: User, edited: bool) -> None:
    kind = booking.slot.interview_type.name
    updated = " (updated)" if edited else ""
    notify(
        booking.candidate,
        f"{mentor.name} published feedback{updated} on your {kind} session.",
        public_path("feedback.session", booking_id=booking.id),
        email=OutgoingEmail(
            f"Your interview feedback{updated}: {kind}",
            "feedback_published",
            {
                "booking": booking,
                "feedback": feedback,
                "edited": edited,
                "readiness": READINESS[feedback.readiness],
                "url": public_url("feedback.session", booking_id=booking.id),
            },
            category="feedback",
        ),
    )


def review_assigned(review: CVReview, mentor: User, by: User) -> None:
    notify(
        mentor,
        f"{by.name} assigned you a CV review: {review.candidate.name}, {review.target_role}.",
        public_path("reviews.review", review_id=review.id),
    )


def review_published(review: CVReview, by: User) -> None:
    notify(
        review.candidate,
        f"{by.name} reviewed your CV “{review.document_name}”: {review.verdict_label}.",
        public_path("reviews.review", review_id=review.id),
        email=OutgoingEmail(
            f"Your CV review is ready: {review.verdict_label}",
            "cv_review_published",
            {"review": review, "url": public_url("reviews.review", review_id=review.id)},
            category="feedback",
        ),
    )


# Accounts ------------------------------------------------------------------------------------------------------


def confirm_registration(registration: Registration, token: str, hours: int) -> None:
    queue_email(
        registration.email,
        OutgoingEmail(
            "Confirm your email address to finish creating your account",
            "confirm_registration",
            {
                "name": registration.name,
                "confirm_url": public_url("auth.confirm_registration", token=token),
                "hours": hours,
            },
            category="security",
        ),
    )


def registration_for_existing_account(user: User) -> None:
    """Somebody used the registration form with an address that already has an account: only its owner is told."""
    queue_email(
        user.email,
        OutgoingEmail(
            "You already have an account",
            "registration_for_existing_account",
            {
                "user": user,
                "login_url": public_url("auth.login"),
                "reset_url": public_url("auth.forgot_password"),
            },
            category="security",
        ),
        user_id=user.id,
    )


def password_reset_without_account(address: str, deactivated: bool) -> None:
    """A reset was asked for an address with no usable account: the mailbox's owner is told why no link came."""
    queue_email(
        address,
        OutgoingEmail(
            "About your password reset request",
            "password_reset_without_account",
            {"address": address, "deactivated": deactivated, "register_url": public_url("auth.register")},
            category="security",
        ),
    )


def welcome(user: User) -> None:
    notify(
        user,
        "Welcome! Start by reading the guide or booking a mock interview.",
        public_path("pages.home"),
        email=OutgoingEmail("Welcome to Career Services", "welcome", {"home_url": public_url("pages.home")}),
    )


def password_reset(user: User, token: str, hours: int) -> None:
    queue_email(
        user.email,
        OutgoingEmail(
            "Reset your password",
            "password_reset",
            {"user": user, "reset_url": public_url("auth.reset_password", token=token), "hours": hours},
            category="security",
        ),
        user_id=user.id,
    )


def invitation(invitation: Invitation, token: str, days: int, by: User) -> None:
    queue_email(
        invitation.email,
        OutgoingEmail(
            f"You are invited to join Career Services as a {invitation.role}",
            "invitation",
            {
                "invitation": invitation,
                "inviter": by,
                "days": days,
                "accept_url": public_url("auth.accept_invitation", token=token),
            },
            category="security",
        ),
    )


def _period(seconds: int) -> str:
    """'hour', '10 minutes', '2 hours': a window in words."""
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} hours"
    minutes = max(seconds // 60, 1)
    return "minute" if minutes == 1 else f"{minutes} minutes"


def login_failures(user: User, attempts: int, seconds: int) -> None:
    """Somebody keeps typing a wrong password for this account: the owner hears of it once per window."""
    queue_email(
        user.email,
        OutgoingEmail(
            "Failed attempts to log in to your account",
            "login_failures",
            {
                "user": user,
                "attempts": attempts,
                "period": _period(seconds),
                "reset_url": public_url("auth.forgot_password"),
                "password_url": public_url("auth.change_password"),
            },
            category="security",
        ),
        user_id=user.id,
    )


def second_factor_reset(user: User, by: User) -> None:
    """An admin reset the person's two-factor sign-in: they hear of it at once, in the app and by email."""
    required = rules.second_factor_required(user)
    message = f"{by.name} reset your two-factor sign-in. " + (
        "Set it up again when you next log in." if required else "You can set it up again from your account page."
    )
    notify(
        user,
        message,
        public_path("auth.profile"),
        email=OutgoingEmail(
            "Your two-factor sign-in was reset",
            "second_factor_reset",
            {"by": by, "required": required, "login_url": public_url("auth.login")},
            category="security",
        ),
    )
