"""Every status a row can be in, and the named sets of them that rules speak of.

Plain enums with no other dependency: the models build their CHECK constraints and partial indexes from them, and
`portal.rules` reasons with them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CANDIDATE = "candidate"
    MENTOR = "mentor"
    ADMIN = "admin"


ROLE_LABELS = {Role.CANDIDATE: "Candidate", Role.MENTOR: "Mentor", Role.ADMIN: "Admin"}


class MeetingMode(StrEnum):
    """How a session happens."""

    VIDEO = "video"  # the mentor's own meeting link, or a room made for the booking
    PHONE = "phone"  # the mentor calls the number the candidate gave
    IN_PERSON = "in_person"  # at the address or room an admin set


MEETING_MODE_LABELS = {
    MeetingMode.VIDEO: "Video call",
    MeetingMode.PHONE: "Phone call",
    MeetingMode.IN_PERSON: "In person",
}


class SlotStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    HELD = "held"  # a waitlist offer: the slot is kept for one candidate until the hold ends
    LAPSED = "lapsed"  # a waitlist offer that ended without a booking


# A session that happened or will happen.
SESSION = frozenset({BookingStatus.BOOKED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW})
# A booking that holds its slot, a waitlist offer included: at most one per slot (a partial unique index).
LIVE = SESSION | {BookingStatus.HELD}
# A session that takes feedback and ratings: it took place (or is booked and about to).
TAKES_FEEDBACK = frozenset({BookingStatus.BOOKED, BookingStatus.COMPLETED})
OUTCOMES = frozenset({BookingStatus.COMPLETED, BookingStatus.NO_SHOW})

BOOKING_STATUS_LABELS = {
    BookingStatus.BOOKED: "Booked",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.COMPLETED: "Completed",
    BookingStatus.NO_SHOW: "No-show",
    BookingStatus.HELD: "Offered to you",
    BookingStatus.LAPSED: "Offer ended",
}


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"


class EntryStatus(StrEnum):
    """A place on the waitlist."""

    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LEFT = "left"
    DECLINED = "declined"
    EXPIRED = "expired"


IN_LINE = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})
ENTRY_STATUS_LABELS = {
    EntryStatus.WAITING: "Waiting",
    EntryStatus.OFFERED: "Slot offered",
    EntryStatus.BOOKED: "Booked",
    EntryStatus.LEFT: "Left the list",
    EntryStatus.DECLINED: "Offer declined",
    EntryStatus.EXPIRED: "Offer expired",
}


class ReviewStatus(StrEnum):
    REQUESTED = "requested"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


OPEN_REVIEW = frozenset({ReviewStatus.REQUESTED, ReviewStatus.CLAIMED})
REVIEW_STATUS_LABELS = {
    ReviewStatus.REQUESTED: "Waiting for a mentor",
    ReviewStatus.CLAIMED: "In review",
    ReviewStatus.COMPLETED: "Reviewed",
    ReviewStatus.WITHDRAWN: "Withdrawn",
}


class FeedbackStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class LiveKind(StrEnum):
    """What kind of live industry session it is."""

    TALK = "talk"
    PANEL = "panel"
    EMPLOYER_QA = "employer_qa"


LIVE_KIND_LABELS = {
    LiveKind.TALK: "Talk",
    LiveKind.PANEL: "Panel",
    LiveKind.EMPLOYER_QA: "Employer Q&A",
}


class LiveSessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SeatStatus(StrEnum):
    """A candidate's place at a live session: a seat, a place on its waitlist, or given up."""

    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


SEAT_STATUS_LABELS = {
    SeatStatus.REGISTERED: "Registered",
    SeatStatus.WAITLISTED: "On the waitlist",
    SeatStatus.CANCELLED: "Cancelled",
}


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for an editor, or approved and scheduled (publish_at set)
    PUBLISHED = "published"
    ARCHIVED = "archived"


ARTICLE_STATUS_LABELS = {
    ArticleStatus.DRAFT: "Draft",
    ArticleStatus.SUBMITTED: "Waiting for an editor",
    ArticleStatus.PUBLISHED: "Published",
    ArticleStatus.ARCHIVED: "Archived",
}


class TagKind(StrEnum):
    SECTOR = "sector"
    PLACE = "place"
    TOPIC = "topic"


TAG_KIND_LABELS = {TagKind.SECTOR: "Sector", TagKind.PLACE: "City or region", TagKind.TOPIC: "Topic"}
