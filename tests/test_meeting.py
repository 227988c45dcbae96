"""Where a session happens, in the services: video (the mentor's link or a room of the booking's own), phone and in
person; what people type, checked; the join window; a new link or type reaching the sessions still to come; the
emails, reminders and calendar files that say how to join."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal import rules
from portal.admin.services import save_interview_type
from portal.config import ConfigError, check_meeting_base_url
from portal.errors import DomainError, PermissionDenied
from portal.extensions import db
from portal.interviews import availability, meeting, services
from portal.interviews.calendar import booking_ics
from portal.interviews.models import Booking, Reminder, Slot
from portal.mail import OutboxEmail
from portal.notifications.reminders import send_due_reminders
from portal.waitlist import services as waitlist
from tests.factories import make_booking, make_interview_type, make_slot, make_user
from tests.interviews_helpers import NOW, at, emails_to, notices_for

OWN_LINK = "https://zoom.us/j/5551234567?pwd=priya"
PLACE = "Room 2.14, 10 Example Street, London EC1A 1AA"
PREPARATION = "A laptop with Python 3.\nOne project you can walk through."


@pytest.fixture
def people(ctx):
    technical = make_interview_type()
    technical.preparation = PREPARATION
    behavioural = make_interview_type("Behavioural and career story", 45)
    behavioural.meeting_mode, behavioural.place = "in_person", PLACE
    db.session.commit()
    return {
        "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah"),
        "other_mentor": make_user("mentor", email="tom@example.org", name="Tom Okafor"),
        "candidate": make_user(email="sam@example.org", name="Sam Taylor"),
        "other": make_user(email="jo@example.org", name="Jo Lee"),
        "admin": make_user("admin", email="admin@example.org", name="Alex Admin"),
        "type": technical,
        "behavioural": behavioural,
    }


def book(people, slot, candidate=None, phone=None) -> Booking:
    booking = services.book_slot(candidate or people["candidate"], slot.id, "Feature stores", phone=phone)
    db.session.commit()
    return booking


def set_link(mentor, link):
    changed = meeting.save_meeting_link(mentor, link, mentor)
    db.session.commit()
    return changed


def parse_event(ics: bytes):
    return next(iter(Calendar.from_ical(ics).walk("VEVENT")))


# Each way of meeting ---------------------------------------------------------------------------------------------


def test_a_video_session_gets_a_room_of_its_own_that_stays_when_it_moves(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    room = meeting.meeting_of(booking)
    assert room.is_video and not room.own_link
    assert room.url == f"https://meet.jit.si/{booking.meeting_room}"
    assert booking.meeting_room.startswith("mock-interview-") and len(booking.meeting_room) >= 36
    other = book(people, make_slot(people["mentor"], at(days=4)), people["other"])
    assert other.meeting_room != booking.meeting_room  # unguessable from one another
    services.reschedule_booking(booking, make_slot(people["other_mentor"], at(days=5)).id, people["candidate"])
    db.session.commit()
    assert meeting.meeting_of(booking).url == room.url


def test_a_video_session_uses_the_mentors_own_link_when_they_have_one(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    set_link(people["mentor"], OWN_LINK)
    assert meeting.meeting_of(booking) == meeting.Meeting("video", url=OWN_LINK, own_link=True)


@pytest.mark.parametrize("base", ["https://video.bootcamp.example/rooms", "https://video.bootcamp.example/rooms/"])
def test_rooms_are_made_on_the_configured_meeting_server(app, people, base):
    app.config["MEETING_BASE_URL"] = base
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    assert meeting.meeting_of(booking).url == f"https://video.bootcamp.example/rooms/{booking.meeting_room}"


def test_a_phone_session_needs_the_number_to_call_and_other_sessions_ignore_it(people):
    slot = make_slot(people["mentor"], at(days=3), meeting_mode="phone")
    with pytest.raises(DomainError, match="Enter the phone number") as missing:
        book(people, slot)
    assert missing.value.field == "phone"
    db.session.rollback()
    with pytest.raises(DomainError, match="only digits, spaces"):
        book(people, slot, phone="call me maybe")
    db.session.rollback()
    booking = book(people, slot, phone="  +44 (0)20  7946-0958 ")
    assert booking.phone == "+44 (0)20 7946-0958"
    assert meeting.meeting_of(booking) == meeting.Meeting("phone", phone="+44 (0)20 7946-0958")
    video = book(people, make_slot(people["mentor"], at(days=4)), phone="+44 20 7946 0000")
    assert video.phone is None


def test_in_person_sessions_happen_at_the_slots_place_or_else_the_types(people):
    as_type = book(people, make_slot(people["mentor"], at(days=3), people["behavioural"]))
    elsewhere = book(
        people,
        make_slot(people["mentor"], at(days=4), people["behavioural"], place="Room 1.01, Example House"),
        people["other"],
    )
    assert meeting.meeting_of(as_type) == meeting.Meeting("in_person", place=PLACE)
    assert meeting.meeting_of(elsewhere).place == "Room 1.01, Example House"


def test_a_slot_overrides_its_types_way_of_meeting_and_needs_a_place_in_person(people):
    mentor, technical = people["mentor"], people["type"]
    interview_type, planned = availability.plan_single(mentor, technical.id, at(days=3).date(), at(days=3).time())
    with pytest.raises(DomainError, match="names no place") as no_place:
        availability.publish_slots(mentor, interview_type, planned, mentor, meeting_mode="in_person")
    assert no_place.value.field == "place"
    with pytest.raises(DomainError, match="Choose how the session happens"):
        availability.publish_slots(mentor, interview_type, planned, mentor, meeting_mode="carrier pigeon")
    with pytest.raises(DomainError, match="on one line"):
        availability.publish_slots(mentor, interview_type, planned, mentor, meeting_mode="in_person", place="a\nb")
    [slot] = availability.publish_slots(mentor, interview_type, planned, mentor, meeting_mode="phone", place="Kept?")
    assert (slot.meeting_mode, slot.place, slot.effective_mode) == ("phone", None, "phone")  # a place only in person
    [follows] = availability.publish_slots(
        mentor, interview_type, [availability.PlannedSlot(at(days=5), at(days=5, hours=1))], mentor
    )
    assert (follows.meeting_mode, follows.effective_mode) == (None, "video")


def test_an_admin_moves_an_open_slot_to_a_room(people):
    slot = make_slot(people["mentor"], at(days=3))
    day, start = at(days=3).date(), at(days=3).time()
    availability.edit_slot(slot, people["type"].id, day, start, people["admin"], meeting_mode="in_person", place=PLACE)
    db.session.commit()
    assert (slot.meeting_mode, slot.place, meeting.mode_of(slot).place) == ("in_person", PLACE, PLACE)
    availability.edit_slot(slot, people["type"].id, day, start, people["admin"])
    db.session.commit()
    assert (slot.meeting_mode, slot.place, slot.effective_mode) == (None, None, "video")


def test_a_waitlist_offer_of_a_phone_slot_asks_for_the_number(people):
    slot = make_slot(people["mentor"], at(days=3), meeting_mode="phone")
    waitlist.join(people["candidate"], people["type"].id, None, None, None)
    hold = waitlist.offer_slot(slot)
    db.session.commit()
    with pytest.raises(DomainError, match="Enter the phone number"):
        waitlist.accept(hold, people["candidate"], "")
    db.session.rollback()
    booked = waitlist.accept(db.session.get(Booking, hold.id), people["candidate"], "", "020 7946 0958")
    db.session.commit()
    assert booked.status == "booked" and booked.phone == "020 7946 0958"


def test_the_candidate_gives_a_number_when_a_session_becomes_a_phone_call(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    booking.slot.meeting_mode = "phone"  # e.g. its type became phone calls
    db.session.commit()
    assert rules.can_give_phone(people["candidate"], booking, NOW)
    assert not rules.can_give_phone(people["mentor"], booking, NOW)
    with pytest.raises(DomainError, match="7 to 15 digits"):
        meeting.give_phone(booking, people["candidate"], "12345")
    meeting.give_phone(booking, people["candidate"], "+1 (212) 555-0100")
    db.session.commit()
    assert booking.phone == "+1 (212) 555-0100"
    services.cancel_booking(booking, people["candidate"], "")
    db.session.commit()
    with pytest.raises(DomainError):
        meeting.give_phone(booking, people["candidate"], "+1 (212) 555-0199")


# What people type --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "link",
    [
        "https://zoom.us/j/5551234567?pwd=abcDEF123",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%7d",
        "https://meet.google.com/abc-defg-hij",
        "HTTPS://meet.jit.si/priya-shah",
        "https://video.example.org:8443/room/7",
    ],
)
def test_meeting_links_people_copy_from_meeting_services_are_accepted(link):
    assert meeting.clean_meeting_link(f"  {link} ") == link


@pytest.mark.parametrize(
    ("link", "says"),
    [
        ("javascript:alert(document.cookie)", "must start with https://"),
        ("JavaScript://zoom.us/%0aalert(1)", "must start with https://"),
        ("data:text/html,<script>alert(1)</script>", "one address"),
        ("http://zoom.us/j/5551234567", "must start with https://"),
        ("//zoom.us/j/5551234567", "must start with https://"),
        ("zoom.us/j/5551234567", "must start with https://"),
        ("https://priya:secret@zoom.us/j/5551234567", "user name or password"),
        ("https://zoom.us@evil.example/j/1", "user name or password"),
        ("https://zoom.us/j/555 1234567", "no spaces"),
        ("https://zoom.us/j/555\n1234567", "no spaces"),
        ("https://zoom.us/\u202ej/5551234567", "no spaces"),
        ("https://zoöm.us/j/5551234567", "no spaces"),
        ('https://zoom.us/j/1"onmouseover="alert(1)', "no spaces"),
        ("https://localhost/room", "full address"),
        ("https://", "full address"),
        ("https://-zoom.us/j/1", "full address"),
        ("https://zoom.us:99999/j/1", "full address"),
        ("https://zoom.us/j/" + "1" * 500, "500 characters or fewer"),
    ],
)
def test_meeting_links_that_are_not_a_plain_https_address_are_refused(link, says):
    with pytest.raises(DomainError, match=says) as refused:
        meeting.clean_meeting_link(link)
    assert refused.value.field == "meeting_url"


def test_an_empty_meeting_link_means_none():
    assert meeting.clean_meeting_link("   ") is None and meeting.clean_meeting_link(None) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("(020) 7946-0958", "(020) 7946-0958"),
        ("07700\t900123", "07700 900123"),
        ("+1 212 555 0100", "+1 212 555 0100"),
    ],
)
def test_phone_numbers_are_checked_loosely(typed, stored):
    assert meeting.clean_phone(typed, required=True) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "call me",
        "+44 20 7946 0958 ext. 12",
        "020.7946.0958",
        "123456",
        "1" * 16,
        "+44 20 7946 0958 " + "-" * 20,
        "٠٢٠٧٩٤٦٠٩٥٨",
    ],
)
def test_phone_numbers_with_other_characters_or_digit_counts_are_refused(typed):
    with pytest.raises(DomainError) as refused:
        meeting.clean_phone(typed, required=True)
    assert refused.value.field == "phone"


def test_places_and_preparation_notes_refuse_hidden_characters():
    with pytest.raises(DomainError, match="cannot be shown"):
        meeting.clean_place("Room 2.14\u202e41.2 mooR")
    with pytest.raises(DomainError, match="cannot be shown"):
        meeting.clean_preparation("Bring a laptop\x00")
    with pytest.raises(DomainError, match="300 characters"):
        meeting.clean_place("x" * 301)
    assert meeting.clean_preparation("Laptop\r\n\tPython 3\r\n") == "Laptop\n\tPython 3"


def test_the_meeting_server_must_be_an_https_address_in_production():
    check_meeting_base_url({"MEETING_BASE_URL": "https://meet.jit.si", "PORTAL_ENV": "production"})
    check_meeting_base_url({"MEETING_BASE_URL": "http://127.0.0.1:8000", "PORTAL_ENV": "development"})
    for bad in ("http://meet.example.org", "javascript:alert(1)", "https://user:pw@meet.example.org", "meet.jit.si"):
        with pytest.raises(ConfigError, match="MEETING_BASE_URL"):
            check_meeting_base_url({"MEETING_BASE_URL": bad, "PORTAL_ENV": "production"})


# Joining -----------------------------------------------------------------------------------------------------------


def test_the_join_window_opens_15_minutes_before_the_start_and_closes_at_the_end(people):
    start = datetime(2026, 10, 4, 14, 0, tzinfo=UTC)  # 15:00 in London
    booking = book(people, make_slot(people["mentor"], start))
    candidate, mentor, admin, other = people["candidate"], people["mentor"], people["admin"], people["other"]
    for moment, open_ in (
        (start - timedelta(minutes=16), False),  # 14:44
        (start - timedelta(minutes=15, seconds=1), False),
        (start - timedelta(minutes=15), True),  # 14:45
        (start, True),
        (booking.slot.ends_at - timedelta(seconds=1), True),
        (booking.slot.ends_at, False),  # 16:00, the end
    ):
        assert rules.join_window_open(booking, moment) is open_, moment
        assert [rules.can_join(user, booking, moment) for user in (candidate, mentor, admin, other)] == [
            open_,
            open_,
            open_,
            False,
        ]


def test_only_booked_video_sessions_can_be_joined(people):
    start = at(days=3)
    phone = book(people, make_slot(people["mentor"], start, meeting_mode="phone"), phone="020 7946 0958")
    assert rules.join_window_open(phone, start) and not rules.can_join(people["candidate"], phone, start)
    video = book(people, make_slot(people["other_mentor"], at(days=4)), people["other"])
    services.cancel_booking(video, people["other"], "")
    db.session.commit()
    assert not rules.join_window_open(video, at(days=4)) and not rules.can_see_meeting(people["other"], video)


# A new link or a changed type ----------------------------------------------------------------------------------


def test_a_new_link_reaches_the_sessions_to_come_and_only_their_candidates_are_told(people, ctx):
    mentor, jo = people["mentor"], people["other"]
    soon = book(people, make_slot(mentor, at(days=3)))
    later = book(people, make_slot(mentor, at(days=5)), jo)
    phone = make_booking(make_slot(mentor, at(days=6), meeting_mode="phone"), make_user(email="ph@example.org"))
    cancelled = book(people, make_slot(mentor, at(days=7)), make_user(email="gone@example.org"))
    services.cancel_booking(cancelled, cancelled.candidate, "")
    elsewhere = make_booking(make_slot(people["other_mentor"], at(days=3)), make_user(email="tom-c@example.org"))
    past = make_booking(make_slot(mentor, at(days=-2)), make_user(email="past@example.org"))
    db.session.commit()
    before = {email: len(emails_to(email)) for email in ("sam@example.org", "jo@example.org")}

    changed = set_link(mentor, OWN_LINK)

    assert {booking.id for booking in changed} == {soon.id, later.id}
    for booking, email in ((soon, "sam@example.org"), (later, "jo@example.org")):
        assert booking.sequence == 1 and meeting.meeting_of(booking).url == OWN_LINK
        assert len(emails_to(email)) == before[email] + 1
        message = emails_to(email)[-1]
        assert message.subject.startswith("New joining details: Technical: Python and ML fundamentals")
        assert OWN_LINK in message.body_text and "Priya Shah's meeting room" in message.body_text
        assert parse_event(message.attachment_text.encode())["location"] == OWN_LINK
        assert "new joining details" in notices_for(booking.candidate_id)[-1]
    for booking in (phone, cancelled, elsewhere, past):
        assert not any("joining details" in notice for notice in notices_for(booking.candidate_id))
    assert not any("joining details" in notice for notice in notices_for(mentor.id))
    assert not any("joining details" in email.subject for email in emails_to("mentor@example.org"))

    assert set_link(mentor, OWN_LINK) == []  # the same link again changes nothing
    assert {b.id for b in set_link(mentor, "https://zoom.us/j/999")} == {soon.id, later.id}
    assert {b.id for b in set_link(mentor, "")} == {soon.id, later.id}  # back to a room each
    assert meeting.meeting_of(soon).url.startswith("https://meet.jit.si/mock-interview-")


def test_only_a_mentor_sets_their_own_link(people):
    with pytest.raises(PermissionDenied):
        meeting.save_meeting_link(people["candidate"], OWN_LINK, people["candidate"])
    with pytest.raises(PermissionDenied):
        meeting.save_meeting_link(people["mentor"], OWN_LINK, people["admin"])
    with pytest.raises(DomainError, match="https://"):
        meeting.save_meeting_link(people["mentor"], "javascript:alert(1)", people["mentor"])


def test_a_type_moving_in_person_tells_the_candidates_of_the_sessions_that_follow_it(people):
    technical = people["type"]
    follows = book(people, make_slot(people["mentor"], at(days=3)))
    own_way = book(people, make_slot(people["other_mentor"], at(days=4), meeting_mode="video"), people["other"])
    values = {
        "name": technical.name,
        "duration_minutes": 60,
        "active": True,
        "meeting_mode": "in_person",
        "place": "",
        "preparation": "",
    }
    with pytest.raises(DomainError, match="Enter where sessions of this type happen"):
        save_interview_type(technical, values, people["admin"])
    db.session.rollback()
    saved, changed = save_interview_type(technical, {**values, "place": PLACE}, people["admin"])
    db.session.commit()
    assert saved.meeting_mode == "in_person" and [b.id for b in changed] == [follows.id]
    assert meeting.meeting_of(follows) == meeting.Meeting("in_person", place=PLACE)
    assert meeting.meeting_of(own_way).is_video
    assert f"In person, at {PLACE}." in emails_to("sam@example.org")[-1].body_text
    assert not any("joining details" in e.subject for e in emails_to("jo@example.org"))
    _, again = save_interview_type(
        technical, {**values, "place": PLACE, "preparation": "Bring water."}, people["admin"]
    )
    assert again == []  # new notes, same place: nobody is told


# Emails, reminders and calendar files ------------------------------------------------------------------------------


def test_the_confirmation_says_how_to_join_and_what_to_prepare(people):
    set_link(people["mentor"], OWN_LINK)
    book(people, make_slot(people["mentor"], at(days=3)))
    candidate = emails_to("sam@example.org")[-1]
    mentor = emails_to("mentor@example.org")[-1]
    assert candidate.subject.startswith("Booking confirmed")
    assert "Video call, in Priya Shah's meeting room." in candidate.body_text and OWN_LINK in candidate.body_text
    assert "Before the session:\nA laptop with Python 3.\nOne project you can walk through." in candidate.body_text
    assert f'<a href="{OWN_LINK}">' in candidate.body_html
    assert "white-space:pre-line" in candidate.body_html
    assert "Video call, in your own meeting room." in mentor.body_text and "Before the session" not in mentor.body_text


def test_a_phone_confirmation_tells_each_side_who_calls_whom(people):
    book(people, make_slot(people["mentor"], at(days=3), meeting_mode="phone"), phone="+44 20 7946 0958")
    assert "Phone call: Priya Shah will call you on +44 20 7946 0958." in emails_to("sam@example.org")[-1].body_text
    assert "Phone call: Call Sam Taylor on +44 20 7946 0958." in emails_to("mentor@example.org")[-1].body_text


def test_cancel_emails_name_the_way_of_meeting_without_the_link(people):
    set_link(people["mentor"], OWN_LINK)
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    services.cancel_booking(booking, people["candidate"], "")
    db.session.commit()
    for address in ("sam@example.org", "mentor@example.org"):
        email = emails_to(address)[-1]
        assert "cancel" in email.subject.lower() and "How:       Video call\n" in email.body_text
        assert OWN_LINK not in email.body_text + email.body_html + email.attachment_text
        assert parse_event(email.attachment_text.encode())["location"] == "Video call"


def test_a_mentor_a_session_moved_away_from_is_not_given_the_new_joining_details(people):
    set_link(people["other_mentor"], OWN_LINK)
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    services.reschedule_booking(booking, make_slot(people["other_mentor"], at(days=4)).id, people["candidate"])
    db.session.commit()
    old_mentor = emails_to("mentor@example.org")[-1]
    assert "to another mentor" in old_mentor.body_text
    assert OWN_LINK not in old_mentor.body_text + old_mentor.attachment_text
    assert OWN_LINK in emails_to("sam@example.org")[-1].body_text
    assert OWN_LINK in emails_to("tom@example.org")[-1].body_text


def reminders_for(address: str) -> list[OutboxEmail]:
    return [email for email in emails_to(address) if email.category == "reminders"]


def test_reminders_say_how_to_join_and_the_day_before_one_what_to_prepare(people, ctx):
    start = at(days=3)
    booking = book(people, make_slot(people["mentor"], start))
    room = meeting.meeting_of(booking).url
    ctx.move_to(start - timedelta(hours=24))
    assert send_due_reminders() == 2
    day_before = reminders_for("sam@example.org")[-1]
    assert "How: Video call, in a meeting room made for this session" in day_before.body_text
    assert f"Join the video call: {room}" in day_before.body_text and "Join the video call</a>" in day_before.body_html
    assert "Before the session:\nA laptop with Python 3." in day_before.body_text
    assert "Before the session" not in reminders_for("mentor@example.org")[-1].body_text
    ctx.move_to(start - timedelta(hours=1))
    assert send_due_reminders() == 2
    hour_before = reminders_for("sam@example.org")[-1]
    assert "in 1 hour" in hour_before.subject and room in hour_before.body_text
    assert "Before the session" not in hour_before.body_text
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(Reminder.status == "sent")) == 4


def test_an_in_person_reminder_gives_the_place(people, ctx):
    start = at(days=3)
    book(people, make_slot(people["mentor"], start, people["behavioural"]))
    ctx.move_to(start - timedelta(hours=1))
    send_due_reminders()
    assert f"How: In person, at {PLACE}." in reminders_for("sam@example.org")[-1].body_text


def test_the_calendar_file_says_where_for_each_way_of_meeting(people):
    set_link(people["mentor"], OWN_LINK)
    video = book(people, make_slot(people["mentor"], at(days=3)))
    phone = book(people, make_slot(people["other_mentor"], at(days=4), meeting_mode="phone"), phone="+44 20 7946 0958")
    in_person = book(people, make_slot(people["other_mentor"], at(days=5), people["behavioural"]), people["other"])

    event = parse_event(booking_ics(video))
    assert str(event["location"]) == OWN_LINK and str(event["url"]) == OWN_LINK
    assert f"How to join: a video call. Open {OWN_LINK}" in event["description"]
    assert "Before the session: A laptop with Python 3." in event["description"]
    assert f"Session page: http://localhost/interviews/bookings/{video.id}" in event["description"]

    event = parse_event(booking_ics(phone))
    assert str(event["location"]) == "Phone call to +44 20 7946 0958"
    assert str(event["url"]) == f"http://localhost/interviews/bookings/{phone.id}"
    assert "Tom Okafor calls Sam Taylor on +44 20 7946 0958" in event["description"]

    event = parse_event(booking_ics(in_person))
    assert str(event["location"]) == PLACE and f"in person, at {PLACE}" in event["description"]
    assert str(event["url"]) == f"http://localhost/interviews/bookings/{in_person.id}"


def test_a_slots_own_way_of_meeting_is_kept_by_the_database(people):
    slot = make_slot(people["mentor"], at(days=3))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Slot).where(Slot.id == slot.id).values(meeting_mode="zoom"))
        db.session.flush()
