"""Where a session happens, on the pages: who sees the link, number or room; "Join now" in its window; the forms
that set the way of meeting (booking, account, slots, interview types); the demo data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from portal.auth.models import User
from portal.extensions import db
from portal.interviews import meeting
from portal.interviews.models import Booking, InterviewType, MeetingLink, Slot
from portal.waitlist import services as waitlist
from tests.conftest import logged_in
from tests.factories import make_booking, make_interview_type, make_slot, make_user
from tests.interviews_helpers import NOW, at  # noqa: F401 - NOW is where the clock fixture pins the clock

pytestmark = pytest.mark.usefixtures("clock")

OWN_LINK = "https://zoom.us/j/5551234567?pwd=priya"
START = datetime(2026, 10, 4, 14, 0, tzinfo=UTC)  # Sunday 15:00 in London


@pytest.fixture
def world(app):
    with app.app_context():
        people = {
            "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah"),
            "other_mentor": make_user("mentor", email="tom@example.org", name="Tom Okafor"),
            "candidate": make_user(email="sam@example.org", name="Sam Taylor"),
            "other": make_user(email="jo@example.org", name="Jo Lee"),
            "admin": make_user("admin", email="admin@example.org", name="Alex Admin"),
        }
        technical = make_interview_type()
        technical.preparation = "Have Python 3 ready."
        db.session.add(MeetingLink(mentor_id=people["mentor"].id, url=OWN_LINK))
        video = make_booking(make_slot(people["mentor"], START, technical), people["candidate"])
        phone_slot = make_slot(people["mentor"], at(days=5), technical, meeting_mode="phone")
        phone = make_booking(phone_slot, people["candidate"])
        phone.phone = "+44 20 7946 0958"
        open_phone = make_slot(people["other_mentor"], at(days=4), technical, meeting_mode="phone")
        db.session.commit()
        ids = {name: user.id for name, user in people.items()}
        ids.update(video=video.id, phone=phone.id, open_phone=open_phone.id, type=technical.id)
        return ids


def booking_page(app, email: str, booking_id: int):
    return logged_in(app, email).get(f"/interviews/bookings/{booking_id}")


@pytest.mark.parametrize("email", ["sam@example.org", "mentor@example.org", "admin@example.org"])
def test_the_candidate_the_mentor_and_admins_see_how_to_join(app, world, email):
    html = booking_page(app, email, world["video"]).get_data(as_text=True)
    assert "How to join" in html and f'href="{OWN_LINK}"' in html.replace("&amp;", "&")
    assert 'target="_blank" rel="noopener"' in html
    assert "Have Python 3 ready." in html
    phone = booking_page(app, email, world["phone"]).get_data(as_text=True)
    assert "+44 20 7946 0958" in phone


@pytest.mark.parametrize("email", ["jo@example.org", "tom@example.org"])
def test_another_candidate_or_mentor_gets_404_and_no_link(app, world, email):
    client = logged_in(app, email)
    for booking_id in (world["video"], world["phone"]):
        for path in ("", "/calendar.ics"):
            response = client.get(f"/interviews/bookings/{booking_id}{path}")
            assert response.status_code == 404
            assert OWN_LINK not in response.get_data(as_text=True) and "7946" not in response.get_data(as_text=True)


def test_the_mentor_sees_the_number_to_call_and_the_candidate_can_change_it(app, world):
    mentor = booking_page(app, "mentor@example.org", world["phone"]).get_data(as_text=True)
    assert 'href="tel:+442079460958"' in mentor and "call Sam Taylor on" in mentor
    assert f'action="/interviews/bookings/{world["phone"]}/phone"' not in mentor
    client = logged_in(app, "sam@example.org")
    page = client.get(f"/interviews/bookings/{world['phone']}").get_data(as_text=True)
    assert "Priya Shah will call you on" in page and "Change the number" in page
    refused = client.post(f"/interviews/bookings/{world['phone']}/phone", data={"phone": "not a number"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "There is a problem" in html and 'href="#phone"' in html
    saved = client.post(f"/interviews/bookings/{world['phone']}/phone", data={"phone": "07700 900123"})
    assert saved.status_code == 302
    assert "Your phone number is saved" in client.get(saved.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, world["phone"]).phone == "07700 900123"


def test_only_the_candidate_gives_the_number(app, world):
    for email, status in (("mentor@example.org", 403), ("admin@example.org", 403), ("jo@example.org", 404)):
        response = logged_in(app, email).post(
            f"/interviews/bookings/{world['phone']}/phone", data={"phone": "0123456789"}
        )
        assert response.status_code == status, email
    video = logged_in(app, "sam@example.org").post(
        f"/interviews/bookings/{world['video']}/phone", data={"phone": "0123456789"}, follow_redirects=True
    )
    assert "only be given for a phone session" in video.get_data(as_text=True)


def test_a_cancelled_booking_shows_the_way_of_meeting_only(app, world):
    with app.app_context():
        db.session.get(Booking, world["video"]).status = "cancelled"
        db.session.commit()
    for email in ("sam@example.org", "mentor@example.org"):
        html = booking_page(app, email, world["video"]).get_data(as_text=True)
        assert "Video call" in html and OWN_LINK not in html.replace("&amp;", "&") and "Join now" not in html


def test_the_booking_form_asks_for_a_number_for_a_phone_slot_only(app, world):
    client = logged_in(app, "jo@example.org")
    page = client.get(f"/interviews/slots/{world['open_phone']}/book").get_data(as_text=True)
    assert "Phone call (Tom Okafor calls you)" in page and 'type="tel"' in page and "What to have ready" in page
    missing = client.post(f"/interviews/slots/{world['open_phone']}/book", data={"focus_note": ""})
    assert 'href="#phone"' in missing.get_data(as_text=True)
    booked = client.post(
        f"/interviews/slots/{world['open_phone']}/book", data={"focus_note": "", "phone": "+44 161 496 0321"}
    )
    assert booked.status_code == 302
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking).where(Booking.slot_id == world["open_phone"]))
        assert booking.phone == "+44 161 496 0321"
        video_slot_id = make_slot(db.session.get(User, world["other_mentor"]), at(days=6)).id
    video = client.get(f"/interviews/slots/{video_slot_id}/book").get_data(as_text=True)
    assert 'type="tel"' not in video and "the link is on your booking page" in video


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (START - timedelta(minutes=16), False),  # 14:44 in London
        (START - timedelta(minutes=15), True),  # 14:45
        (START + timedelta(minutes=59, seconds=59), True),
        (START + timedelta(hours=1), False),  # 16:00: the end
    ],
)
def test_join_now_shows_from_15_minutes_before_until_the_end(app, world, moment, shown):
    with time_machine.travel(moment, tick=False):
        html = booking_page(app, "sam@example.org", world["video"]).get_data(as_text=True)
        mentor = booking_page(app, "mentor@example.org", world["video"]).get_data(as_text=True)
        phone = booking_page(app, "sam@example.org", world["phone"]).get_data(as_text=True)
    for page in (html, mentor):
        link = re.search(
            r'<a class="btn btn-success btn-lg join-link" href="([^"]+)" target="_blank" rel="noopener">Join now', page
        )
        assert (link is not None) is shown
        if link:
            assert link.group(1).replace("&amp;", "&") == OWN_LINK
    assert "Join now" not in phone


def test_join_now_appears_on_my_interviews_too(app, world):
    with time_machine.travel(START - timedelta(minutes=10), tick=False):
        html = logged_in(app, "sam@example.org").get("/interviews/bookings").get_data(as_text=True)
    assert html.count("Join now") == 1


@pytest.mark.parametrize(
    ("moment", "shown"), [(START - timedelta(minutes=16), False), (START - timedelta(minutes=5), True)]
)
def test_join_now_appears_on_the_candidates_and_mentors_home_page_inside_the_window(app, world, moment, shown):
    with time_machine.travel(moment, tick=False):
        candidate = logged_in(app, "sam@example.org").get("/").get_data(as_text=True)
        mentor = logged_in(app, "mentor@example.org").get("/").get_data(as_text=True)
    assert "Video call" in candidate  # how the next session happens, on the card
    candidate_link = re.search(r'class="btn btn-success btn-lg join-link" href="([^"]+)"', candidate)
    mentor_link = re.search(r'class="btn btn-join btn-sm ms-1" href="([^"]+)"', mentor)
    assert (candidate_link is not None) is shown and (mentor_link is not None) is shown
    if shown:
        assert candidate_link.group(1).replace("&amp;", "&") == OWN_LINK
        assert mentor_link.group(1).replace("&amp;", "&") == OWN_LINK


# The mentor's link, on the account page ---------------------------------------------------------------------


def test_a_mentor_saves_their_link_on_the_account_page(app, world):
    client = logged_in(app, "tom@example.org")
    account = client.get("/account").get_data(as_text=True)
    assert 'id="meeting-link"' in account and 'name="meeting_url"' in account
    refused = client.post("/mentor/meeting-link", data={"meeting_url": "javascript:alert(1)"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "There is a problem" in html and "must start with https://" in html
    saved = client.post("/mentor/meeting-link", data={"meeting_url": "https://meet.google.com/abc-defg-hij"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/account#meeting-link")
    assert "https://meet.google.com/abc-defg-hij" in client.get("/account").get_data(as_text=True)
    with app.app_context():
        assert meeting.mentor_link(world["other_mentor"]) == "https://meet.google.com/abc-defg-hij"


def test_the_flash_says_how_many_candidates_were_sent_the_new_link(app, world):
    client = logged_in(app, "mentor@example.org")
    response = client.post("/mentor/meeting-link", data={"meeting_url": "https://zoom.us/j/1"}, follow_redirects=True)
    assert "We have sent the new joining details to 1 candidate." in response.get_data(as_text=True)


def test_only_mentors_have_a_meeting_link(app, world):
    for email in ("sam@example.org", "admin@example.org"):
        client = logged_in(app, email)
        assert 'name="meeting_url"' not in client.get("/account").get_data(as_text=True)
        assert client.post("/mentor/meeting-link", data={"meeting_url": OWN_LINK}).status_code == 403


# Admins and mentors choose the way of meeting ------------------------------------------------------------------


def test_an_admin_sets_a_types_way_of_meeting_place_and_notes(app, world):
    client = logged_in(app, "admin@example.org")
    form = {
        "name": "Behavioural and career story",
        "duration_minutes": "45",
        "active": "y",
        "meeting_mode": "in_person",
    }
    refused = client.post("/admin/interview-types/new", data=form)
    assert "Enter where sessions of this type happen." in refused.get_data(as_text=True)
    saved = client.post(
        "/admin/interview-types/new", data={**form, "place": "Room 2.14", "preparation": "Two stories.\nBe early."}
    )
    assert saved.status_code == 302
    listing = client.get("/admin/interview-types").get_data(as_text=True)
    assert "In person: Room 2.14" in listing
    with app.app_context():
        saved_type = db.session.scalar(sa.select(InterviewType).where(InterviewType.name == form["name"]))
        assert (saved_type.meeting_mode, saved_type.place, saved_type.preparation) == (
            "in_person",
            "Room 2.14",
            "Two stories.\nBe early.",
        )


def test_a_mentor_publishes_a_phone_slot(app, world):
    client = logged_in(app, "tom@example.org")
    form = client.get("/mentor/availability/slot").get_data(as_text=True)
    assert "How the session happens" in form and "Technical: Python and ML fundamentals: video call" in form
    day = at(days=8).date().isoformat()
    data = {"interview_type": world["type"], "day": day, "start_time": "10:00", "meeting_mode": "phone"}
    assert client.post("/mentor/availability/slot", data=data).status_code == 302
    refused = client.post(
        "/mentor/availability/slot", data={**data, "start_time": "12:00", "meeting_mode": "in_person"}
    ).get_data(as_text=True)
    assert "names no place" in refused and 'href="#place"' in refused
    with app.app_context():
        modes = db.session.scalars(
            sa.select(Slot.meeting_mode).where(Slot.mentor_id == world["other_mentor"], Slot.starts_at > at(days=7))
        ).all()
    assert modes == ["phone"]


def test_an_admin_edits_a_slots_way_of_meeting(app, world):
    client = logged_in(app, "admin@example.org")
    page = client.get(f"/admin/schedule/slots/{world['open_phone']}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="phone">Phone call</option>', page)
    local = at(days=4).astimezone(ZoneInfo("Europe/London"))
    data = {
        "interview_type": world["type"],
        "day": local.date().isoformat(),
        "start_time": local.strftime("%H:%M"),
        "meeting_mode": "in_person",
        "place": "Room 1.01",
    }
    assert client.post(f"/admin/schedule/slots/{world['open_phone']}/edit", data=data).status_code == 302
    with app.app_context():
        slot = db.session.get(Slot, world["open_phone"])
        assert (slot.meeting_mode, slot.place) == ("in_person", "Room 1.01")


# Demo data ---------------------------------------------------------------------------------------------------------


def test_the_demo_data_shows_every_way_of_meeting(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        ways = set()
        for booking in db.session.scalars(sa.select(Booking).where(Booking.status == "booked")):
            way = meeting.meeting_of(booking)
            ways.add((way.mode, way.own_link) if way.is_video else (way.mode, bool(way.phone or way.place)))
    assert ways == {("video", True), ("phone", True), ("in_person", True)}


def test_a_waitlist_offer_of_a_phone_slot_asks_for_the_number(app, world):
    with app.app_context():
        waitlist.join(db.session.get(User, world["other"]), world["type"], None, None, None)
        hold_id = waitlist.offer_slot(db.session.get(Slot, world["open_phone"])).id
        db.session.commit()
    client = logged_in(app, "jo@example.org")
    page = client.get(f"/waitlist/offers/{hold_id}").get_data(as_text=True)
    assert "Phone call" in page and 'type="tel"' in page
    refused = client.post(f"/waitlist/offers/{hold_id}", data={"focus_note": ""}).get_data(as_text=True)
    assert 'href="#phone"' in refused
    booked = client.post(f"/waitlist/offers/{hold_id}", data={"focus_note": "", "phone": "020 7946 0958"})
    assert booked.status_code == 302
    with app.app_context():
        assert db.session.get(Booking, hold_id).phone == "020 7946 0958"
