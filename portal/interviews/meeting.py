"""Where a session happens: a video call (the mentor's own link, or a room made for the booking on MEETING_BASE_URL),
a phone call (the mentor calls the number the candidate gave), or in person (the place an admin set on the interview
type or the slot).

A booking's meeting is worked out whenever a page, an email or a calendar file shows it, from the slot, its type and
the mentor's link as they are then: a mentor's new link reaches every session still to come. Changes that move booked
sessions send `meeting_changed`, so that their candidates are told.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager, joinedload

from portal import events, rules
from portal.auth.models import User
from portal.db import lock, utcnow
from portal.errors import DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.interviews.models import Booking, InterviewType, MeetingLink, Slot
from portal.statuses import MEETING_MODE_LABELS, BookingStatus, MeetingMode

MAX_LINK_LENGTH = 500
MAX_PLACE_LENGTH = 300
MAX_PREPARATION_LENGTH = 2000
MAX_PHONE_LENGTH = 30
PHONE_DIGITS = (7, 15)  # the shortest local numbers to the longest international ones (E.164)

_PHONE = re.compile(r"[0-9 +()\-]+")
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# Printable ASCII that never appears unencoded in an address someone copied from a meeting service.
_NOT_IN_LINKS = frozenset(' "<>\\^`{|}')
# Bidirectional overrides, embeddings and isolates: text that reads differently from what it says.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


@dataclass(frozen=True)
class Meeting:
    """How one session happens, and what its participants need to join it."""

    mode: str
    url: str | None = None  # video: the address to open
    own_link: bool = False  # video: the mentor's own link (else the booking's own room)
    phone: str | None = None  # phone: the candidate's number, once given
    place: str | None = None  # in person: where
    full: bool = True  # False: only the way of meeting, for someone who may not see the rest

    @property
    def label(self) -> str:
        return MEETING_MODE_LABELS[self.mode]

    @property
    def is_video(self) -> bool:
        return self.mode == MeetingMode.VIDEO

    @property
    def is_phone(self) -> bool:
        return self.mode == MeetingMode.PHONE

    @property
    def is_in_person(self) -> bool:
        return self.mode == MeetingMode.IN_PERSON


# Reading -------------------------------------------------------------------------------------------------------


def room_url(room: str) -> str:
    """The address of a booking's own room on the meeting server (MEETING_BASE_URL)."""
    return f"{current_app.config['MEETING_BASE_URL'].rstrip('/')}/{quote(room, safe='')}"


def mentor_link(mentor_id: int) -> str | None:
    """The mentor's own meeting link, if they saved one."""
    row = db.session.get(MeetingLink, mentor_id)
    return row.url if row is not None else None


def mentor_links(mentor_ids: set[int]) -> dict[int, str | None]:
    """The own meeting links of several mentors in one query (None for a mentor without one), for lists."""
    statement = sa.select(MeetingLink.mentor_id, MeetingLink.url).where(MeetingLink.mentor_id.in_(mentor_ids))
    found = {mentor_id: url for mentor_id, url in db.session.execute(statement)}
    return {mentor_id: found.get(mentor_id) for mentor_id in mentor_ids}


def meeting_of(booking: Booking, with_link: bool = True, links: dict[int, str | None] | None = None) -> Meeting:
    """How the booked session happens, as things stand now. `with_link=False` leaves a video call's address out
    (no query for the mentor's link: for lists that only say how); `links` (from mentor_links) saves the query
    for each session of a list."""
    slot = booking.slot
    mode = slot.effective_mode
    if mode == MeetingMode.VIDEO:
        if not with_link:
            return Meeting(mode)
        own = links[slot.mentor_id] if links is not None and slot.mentor_id in links else mentor_link(slot.mentor_id)
        return Meeting(mode, url=own or room_url(booking.meeting_room), own_link=own is not None)
    if mode == MeetingMode.PHONE:
        return Meeting(mode, phone=booking.phone or None)
    return Meeting(mode, place=slot.effective_place or None)


def mode_of(slot: Slot) -> Meeting:
    """How a slot's session will happen, before anyone books it: the way and, in person, the place; never a link."""
    mode = slot.effective_mode
    return Meeting(mode, place=(slot.effective_place or None) if mode == MeetingMode.IN_PERSON else None)


# Checking what people type ------------------------------------------------------------------------------------------


def _has_hidden_characters(text: str, allowed: str = "") -> bool:
    """Control characters (other than `allowed`), format characters such as bidi overrides, or other invisibles."""
    return any(
        char not in allowed and (char in _BIDI or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"))
        for char in text
    )


def clean_meeting_link(text: str | None) -> str | None:
    """A mentor's meeting link as typed, checked: one https address with a host name, no user name or password, at
    most 500 characters. None for nothing (no link). Raises DomainError naming the field `meeting_url`."""
    link = (text or "").strip()
    if not link:
        return None

    def refuse(message: str) -> DomainError:
        return DomainError(message, field="meeting_url")

    if len(link) > MAX_LINK_LENGTH:
        raise refuse(f"The link must be {MAX_LINK_LENGTH} characters or fewer.")
    if any(not 32 < ord(char) < 127 or char in _NOT_IN_LINKS for char in link):
        raise refuse("Enter the link exactly as your meeting service gives it: one address, with no spaces.")
    parts = urlsplit(link)
    if parts.scheme.lower() != "https":
        raise refuse("The link must start with https:// so that it opens a secure meeting page.")
    if "@" in parts.netloc:
        raise refuse("The link must not contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    labels = host.split(".")
    if len(labels) < 2 or len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise refuse("Enter the full address of your meeting room, like https://zoom.us/j/1234567890.")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise refuse("Enter the full address of your meeting room, like https://zoom.us/j/1234567890.") from None
    return link


def clean_phone(text: str | None, required: bool) -> str | None:
    """The number a mentor calls, checked loosely (digits, spaces, +, brackets and hyphens; 7 to 15 digits); None
    when empty and not `required`. Raises DomainError naming the field `phone`."""
    phone = " ".join((text or "").split())
    if not phone:
        if required:
            raise DomainError("Enter the phone number your mentor should call.", field="phone")
        return None
    if len(phone) > MAX_PHONE_LENGTH or not _PHONE.fullmatch(phone):
        raise DomainError(
            "Enter a phone number using only digits, spaces, +, brackets and hyphens, like +44 20 7946 0958.",
            field="phone",
        )
    digits = sum(char.isascii() and char.isdigit() for char in phone)
    low, high = PHONE_DIGITS
    if not low <= digits <= high:
        raise DomainError(
            f"Enter a phone number of {low} to {high} digits, like +44 20 7946 0958.",
            field="phone",
        )
    return phone


def clean_place(text: str | None, field: str = "place") -> str:
    """Where a session in person happens: one line of at most 300 characters ("" for none)."""
    place = (text or "").strip()
    if "\n" in place or "\r" in place:
        raise DomainError("Write the place on one line, for example “Room 2.14, 10 Example Street, London”.", field)
    if _has_hidden_characters(place):
        raise DomainError("The place contains characters that cannot be shown. Type it again.", field)
    if len(place) > MAX_PLACE_LENGTH:
        raise DomainError(f"The place must be {MAX_PLACE_LENGTH} characters or fewer.", field)
    return place


def clean_preparation(text: str | None) -> str:
    """An interview type's preparation notes: at most 2,000 characters, on as many lines as needed."""
    notes = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _has_hidden_characters(notes, allowed="\n\t"):
        raise DomainError("The notes contain characters that cannot be shown. Type them again.", field="preparation")
    if len(notes) > MAX_PREPARATION_LENGTH:
        raise DomainError(f"At most {MAX_PREPARATION_LENGTH:,} characters.", field="preparation")
    return notes


def clean_mode(mode: str | None, required: bool) -> str | None:
    if not mode and not required:
        return None
    if mode not in {member.value for member in MeetingMode}:
        raise DomainError("Choose how the session happens.", field="meeting_mode")
    return mode


def slot_meeting(interview_type: InterviewType, mode: str | None, place: str | None) -> tuple[str | None, str | None]:
    """A slot's own way of meeting and place, checked: (None, None) follows its interview type. A place is kept only
    for a session in person, which needs one (its own or its type's)."""
    mode = clean_mode(mode, required=False)
    place = clean_place(place) or None
    if (mode or interview_type.meeting_mode) != MeetingMode.IN_PERSON:
        return mode, None
    if not (place or interview_type.place):
        raise DomainError(f"Enter where the session happens: “{interview_type.name}” names no place.", field="place")
    return mode, place


def type_meeting(mode: str | None, place: str | None, preparation: str | None) -> dict[str, str]:
    """An interview type's way of meeting, place and preparation notes, checked (a type in person needs a place)."""
    values = {
        "meeting_mode": clean_mode(mode, required=True),
        "place": clean_place(place),
        "preparation": clean_preparation(preparation),
    }
    if values["meeting_mode"] == MeetingMode.IN_PERSON and not values["place"]:
        raise DomainError("Enter where sessions of this type happen.", field="place")
    return values


# Changing it --------------------------------------------------------------------------------------------------------


def sessions_to_come(*conditions) -> list[Booking]:
    """Booked sessions not yet over that match the conditions on Slot and Booking, locked, with what a message
    about each needs loaded."""
    bookings = (
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.slot)
            .options(
                contains_eager(Booking.slot).joinedload(Slot.interview_type),
                contains_eager(Booking.slot).joinedload(Slot.mentor),
                joinedload(Booking.candidate),
            )
            .where(Booking.status == BookingStatus.BOOKED, Slot.ends_at > utcnow(), *conditions)
            .order_by(Slot.starts_at, Booking.id)
        )
        .unique()
        .all()
    )
    for booking in bookings:
        lock(booking)
    return [booking for booking in bookings if booking.status == BookingStatus.BOOKED]


def announce_changes(sender: object, sessions: list[Booking], before: dict[int, Meeting], by: User) -> list[Booking]:
    """The sessions whose meeting differs from `before` (by booking id) get a new calendar version and
    `meeting_changed` is sent for them; returns them."""
    changed = [booking for booking in sessions if meeting_of(booking) != before[booking.id]]
    for booking in changed:
        booking.meeting_moved()
    db.session.flush()
    if changed:
        events.meeting_changed.send(sender, bookings=changed, by=by)
    return changed


def save_meeting_link(mentor: User, link: str | None, by: User) -> list[Booking]:
    """Save a mentor's own meeting link (nothing removes it: their video sessions then get a room each). Returns the
    sessions still to come whose link changed; their candidates are told (`meeting_changed`)."""
    if not mentor.is_mentor or by.id != mentor.id:
        raise PermissionDenied("Only mentors set their own meeting link.")
    link = clean_meeting_link(link)
    lock(mentor)  # one change of this mentor's link at a time
    sessions = sessions_to_come(Slot.mentor_id == mentor.id)
    before = {booking.id: meeting_of(booking) for booking in sessions}
    row = db.session.get(MeetingLink, mentor.id)
    if link is None and row is not None:
        db.session.delete(row)
    elif link is not None and row is None:
        db.session.add(MeetingLink(mentor_id=mentor.id, url=link))
    elif link is not None:
        row.url = link
    db.session.flush()
    return announce_changes(mentor, sessions, before, by)


def give_phone(booking: Booking, by: User, phone: str | None) -> None:
    """The candidate of a booked phone session gives (or changes) the number to call, until the session ends."""
    if by.id != booking.candidate_id:
        raise NotFound("No such booking.")
    lock(booking)
    if not rules.can_give_phone(by, booking, utcnow()):
        raise DomainError("The number to call can only be given for a phone session still to come.")
    booking.give_phone(clean_phone(phone, required=True))
