"""Where a live session happens, in the same terms as a mock interview (portal.interviews.meeting): a video call (the
session's own link, or a room made for it on MEETING_BASE_URL), a phone line to dial, or a place."""

from __future__ import annotations

from portal.errors import DomainError
from portal.interviews.meeting import Meeting, clean_meeting_link, clean_mode, clean_phone, clean_place, room_url
from portal.live.models import LiveSession
from portal.statuses import MeetingMode


def meeting_of(session: LiveSession) -> Meeting:
    """How to join the session, with the details only registered people see."""
    if session.meeting_mode == MeetingMode.VIDEO:
        url = session.meeting_url or room_url(session.meeting_room)
        return Meeting(session.meeting_mode, url=url, own_link=session.meeting_url is not None)
    if session.meeting_mode == MeetingMode.PHONE:
        return Meeting(session.meeting_mode, phone=session.dial_in)
    return Meeting(session.meeting_mode, place=session.place)


def mode_of(session: LiveSession) -> Meeting:
    """How the session happens, for anyone: the way and, in person, the place; never a link or a number."""
    place = session.place if session.meeting_mode == MeetingMode.IN_PERSON else None
    return Meeting(session.meeting_mode, place=place)


def clean_meeting(mode: str | None, link: str | None, dial_in: str | None, place: str | None) -> dict:
    """The way of meeting as typed, checked like an interview's: a video call takes an optional https link (else
    a room is made), a phone session needs the number to dial, a session in person needs a place. Raises
    DomainError naming the field."""
    mode = clean_mode(mode, required=True)
    values = {"meeting_mode": mode, "meeting_url": None, "dial_in": None, "place": None}
    if mode == MeetingMode.VIDEO:
        values["meeting_url"] = clean_meeting_link(link)
    elif mode == MeetingMode.PHONE:
        try:
            values["dial_in"] = clean_phone(dial_in, required=True)
        except DomainError as error:
            raise DomainError(error.message.replace("your mentor should call", "people dial"), "dial_in") from None
    else:
        values["place"] = clean_place(place) or None
        if not values["place"]:
            raise DomainError("Enter where the session happens.", field="place")
    return values


def clean_material_link(text: str | None, field: str) -> str | None:
    """A recording or slides link: checked like a meeting link (https, a host name, no password)."""
    try:
        return clean_meeting_link(text)
    except DomainError as error:
        message = error.message.replace("meeting room", "recording or slides").replace("meeting page", "page")
        raise DomainError(message.replace("https://zoom.us/j/1234567890", "https://example.com/talk"), field) from None
