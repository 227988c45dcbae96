"""Interview pages as people use them: status codes, messages, permissions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from portal.auth.models import User
from portal.extensions import db
from portal.interviews.models import Booking, Slot
from tests.factories import make_booking, make_interview_type, make_slot, make_user
from tests.interviews_helpers import NOW, at  # noqa: F401 - NOW is where the clock fixture pins the clock

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def world(app):
    with app.app_context():
        people = {
            "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah"),
            "other_mentor": make_user("mentor", email="other-mentor@example.org", name="Tom Okafor"),
            "candidate": make_user(email="sam@example.org", name="Sam Taylor"),
            "other": make_user(email="jo@example.org", name="Jo Lee"),
            "admin": make_user("admin", email="admin@example.org", name="Alex Admin"),
        }
        technical = make_interview_type()
        slot = make_slot(people["mentor"], at(days=3), technical)
        spare = make_slot(people["other_mentor"], at(days=4), technical)
        booked = make_slot(people["mentor"], at(days=5), technical)
        booking = make_booking(booked, people["other"], focus_note="Feature stores, please")
        ids = {name: user.id for name, user in people.items()}
        ids.update(slot=slot.id, spare=spare.id, booked=booked.id, booking=booking.id, type=technical.id)
        return ids


def login_as(auth, email):
    assert auth.login(email).status_code == 302


def test_slot_browser_groups_by_local_day_with_zone_and_filters(world, client, auth):
    login_as(auth, "sam@example.org")
    html = client.get("/interviews/slots").get_data(as_text=True)
    assert "Sunday 4 October 2026" in html and "10:00 BST" in html and "with Priya Shah" in html
    assert f"/interviews/slots/{world['booked']}/book" not in html  # held by someone
    filtered = client.get(f"/interviews/slots?mentor={world['other_mentor']}").get_data(as_text=True)
    assert "with Tom Okafor" in filtered and "with Priya Shah" not in filtered
    chosen = client.get("/interviews/slots?day=2026-10-05").get_data(as_text=True)
    assert "Monday 5 October 2026" in chosen and "Sunday 4 October 2026" not in chosen
    bad = client.get("/interviews/slots?day=2026-13-45")
    assert bad.status_code == 200 and "must be a real date" in bad.get_data(as_text=True)


def test_slot_browser_shows_times_in_the_viewers_zone(app, world, client, auth):
    with app.app_context():
        make_user(email="ny@example.org", timezone="America/New_York")
    login_as(auth, "ny@example.org")
    assert "05:00 EDT" in client.get("/interviews/slots").get_data(as_text=True)


def test_booking_page_shows_policy_and_books(app, world, client, auth, outbox):
    login_as(auth, "sam@example.org")
    page = client.get(f"/interviews/slots/{world['slot']}/book").get_data(as_text=True)
    assert "Book at least 12 hours ahead" in page and "Focus for this session" in page
    response = client.post(f"/interviews/slots/{world['slot']}/book", data={"focus_note": "Bias and variance"})
    assert response.status_code == 302
    booking_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session is booked" in booking_page and "Bias and variance" in booking_page
    assert outbox("sam@example.org")[-1].attachment_filename == "interview.ics"


def test_focus_note_over_1000_characters_is_refused_next_to_the_field(world, client, auth):
    login_as(auth, "sam@example.org")
    response = client.post(f"/interviews/slots/{world['slot']}/book", data={"focus_note": "x" * 1001})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1,000 characters or fewer" in html and 'href="#focus_note"' in html


def test_booking_a_held_slot_gets_409_with_alternatives(world, client, auth):
    login_as(auth, "sam@example.org")
    response = client.post(f"/interviews/slots/{world['booked']}/book", data={"focus_note": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone booked this slot a moment ago" in html
    assert f"/interviews/slots/{world['slot']}/book" in html and f"/interviews/slots/{world['spare']}/book" in html


def test_policy_violation_is_explained_on_the_page(app, world, client, auth):
    with app.app_context():
        late = make_slot(db.session.get(User, world["mentor"]), at(hours=6))
        late_id = late.id
    login_as(auth, "sam@example.org")
    page = client.get(f"/interviews/slots/{late_id}/book")
    assert page.status_code == 200 and "at least 12 hours ahead" in page.get_data(as_text=True)
    posted = client.post(f"/interviews/slots/{late_id}/book", data={"focus_note": ""})
    assert posted.status_code == 200 and "at least 12 hours ahead" in posted.get_data(as_text=True)


@pytest.mark.parametrize("email", ["mentor@example.org", "admin@example.org"])
def test_mentors_and_admins_cannot_book(world, client, auth, email):
    login_as(auth, email)
    assert client.post(f"/interviews/slots/{world['slot']}/book", data={}).status_code == 403


def test_unknown_slot_is_404(world, client, auth):
    login_as(auth, "sam@example.org")
    assert client.get("/interviews/slots/999999/book").status_code == 404


def test_dashboard_lists_upcoming_with_actions_and_past(app, world, client, auth):
    with app.app_context():
        candidate = db.session.get(User, world["candidate"])
        past_slot = make_slot(db.session.get(User, world["mentor"]), at(days=-3))
        make_booking(past_slot, candidate, status="completed")
    login_as(auth, "sam@example.org")
    client.post(f"/interviews/slots/{world['slot']}/book", data={"focus_note": "SQL window functions"})
    html = client.get("/interviews/bookings").get_data(as_text=True)
    upcoming, past = html.split("Past and cancelled", 1)
    assert "SQL window functions" in upcoming and "Add to calendar (.ics)" in upcoming
    assert "Reschedule" in upcoming and "Cancel" in upcoming
    assert "Completed" in past


def test_other_candidates_booking_is_404_everywhere(world, client, auth):
    login_as(auth, "sam@example.org")
    booking = world["booking"]
    for url in (
        f"/interviews/bookings/{booking}",
        f"/interviews/bookings/{booking}/calendar.ics",
        f"/interviews/bookings/{booking}/cancel",
        f"/interviews/bookings/{booking}/reschedule",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/interviews/bookings/{booking}/cancel", data={"reason": "x"}).status_code == 404
    assert client.post(f"/interviews/bookings/{booking}/reschedule", data={"slot_id": world["slot"]}).status_code == 404


def test_rescheduling_lists_only_slots_of_the_same_type_page_by_page(app, world, client, auth):
    with app.app_context():
        mentor = db.session.get(User, world["mentor"])
        behavioural = make_interview_type("Behavioural and career story", 45)
        other_type = make_slot(mentor, at(days=6), behavioural).id
        mentors = [db.session.get(User, world[name]) for name in ("mentor", "other_mentor")]
        mentors.append(make_user("mentor", email="third-mentor@example.org", name="Ada Byron"))
        for n in range(35):  # more than one page of the right type on one day, 07:00 to 20:36 UTC
            make_slot(mentors[n % 3], at(days=7, hours=-2 + n * 0.4))
    login_as(auth, "sam@example.org")
    booking_url = client.post(f"/interviews/slots/{world['slot']}/book", data={}).headers["Location"]
    booking_id = int(booking_url.rsplit("/", 1)[1])
    page = client.get(f"/interviews/bookings/{booking_id}/reschedule?day=08/10/2026").get_data(as_text=True)
    assert "Behavioural and career story" not in page and f'value="{other_type}"' not in page
    next_page = re.search(r'href="(/interviews/bookings/\d+/reschedule\?[^"]*page=2[^"]*)"', page).group(1)
    assert client.get(next_page.replace("&amp;", "&")).status_code == 200
    refused = client.post(f"/interviews/bookings/{booking_id}/reschedule", data={"slot_id": other_type})
    assert "a booking keeps its interview type" in refused.get_data(as_text=True)


def test_cancel_and_reschedule_through_the_pages(app, world, client, auth, outbox):
    login_as(auth, "sam@example.org")
    booking_url = client.post(f"/interviews/slots/{world['slot']}/book", data={}).headers["Location"]
    booking_id = int(booking_url.rsplit("/", 1)[1])
    page = client.get(f"/interviews/bookings/{booking_id}/reschedule").get_data(as_text=True)
    assert "Move here" in page
    moved = client.post(f"/interviews/bookings/{booking_id}/reschedule", data={"slot_id": world["spare"]})
    assert moved.status_code == 302
    assert "Tom Okafor" in client.get(booking_url).get_data(as_text=True)
    taken = client.post(f"/interviews/bookings/{booking_id}/reschedule", data={"slot_id": world["booked"]})
    assert taken.status_code == 409
    with app.app_context():
        assert db.session.get(Booking, booking_id).slot_id == world["spare"]
    cancelled = client.post(f"/interviews/bookings/{booking_id}/cancel", data={"reason": "Clash"})
    assert cancelled.status_code == 302 and cancelled.headers["Location"] == "/interviews/bookings"
    ics = Calendar.from_ical(outbox("sam@example.org")[-1].attachment_text)
    assert ics["METHOD"] == "CANCEL"


def test_every_calendar_file_names_its_organizer_as_rfc_5546_asks(app, world, client, auth, outbox):
    login_as(auth, "sam@example.org")
    booking_url = client.post(f"/interviews/slots/{world['slot']}/book", data={}).headers["Location"]
    client.post(f"{booking_url}/cancel", data={"reason": "Clash"})
    for email in outbox("sam@example.org")[-2:]:
        event = Calendar.from_ical(email.attachment_text).walk("VEVENT")[0]
        assert str(event["ORGANIZER"]) == "mailto:careers@example.org"
        assert event["ORGANIZER"].params["CN"] == "Career Services"
    assert "ORGANIZER;CN=" in client.get(f"{booking_url}/calendar.ics").get_data(as_text=True)


def test_within_the_cutoff_the_page_says_whom_to_contact(world, client, auth, clock):
    login_as(auth, "sam@example.org")
    booking_url = client.post(f"/interviews/slots/{world['slot']}/book", data={}).headers["Location"]
    clock.shift(timedelta(days=2, hours=12))
    html = client.get(booking_url + "/cancel").get_data(as_text=True)
    assert "can no longer be cancelled online" in html and "Priya Shah" in html
    refused = client.post(booking_url + "/cancel", data={"reason": ""})
    assert "Contact your mentor, Priya Shah" in refused.get_data(as_text=True)


def test_admin_cancels_late_with_override(app, world, client, auth, clock):
    clock.shift(timedelta(days=4, hours=12))  # 12 hours before the booked session
    login_as(auth, "admin@example.org")
    response = client.post(
        f"/interviews/bookings/{world['booking']}/cancel", data={"reason": "Phoned in", "override": "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        booking = db.session.get(Booking, world["booking"])
        assert booking.status == "cancelled" and booking.late_cancellation
    html = client.get("/admin/schedule/bookings").get_data(as_text=True)
    assert "Late cancels" in html and "Jo Lee" in html


def test_ics_download_is_valid_rfc5545(world, client, auth):
    login_as(auth, "jo@example.org")
    response = client.get(f"/interviews/bookings/{world['booking']}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    calendar = Calendar.from_ical(response.data)
    event = calendar.walk("VEVENT")[0]
    assert calendar["METHOD"] == "PUBLISH" and str(event["UID"]).startswith("booking-")
    assert event.decoded("DTSTART") == at(days=5) and event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(hours=1)
    assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert "Feature stores, please" in str(event["DESCRIPTION"])


def test_private_feed_lists_upcoming_sessions_and_can_be_replaced(app, world, client, auth):
    login_as(auth, "jo@example.org")
    assert client.get("/interviews/calendar/not-a-real-token-at-all.ics").status_code == 404
    client.post("/interviews/calendar/address")
    html = client.get("/account").get_data(as_text=True)
    first = re.search(r"/interviews/calendar/([\w-]+)\.ics", html).group(0)
    events = Calendar.from_ical(app.test_client().get(first).data).walk("VEVENT")
    assert len(events) == 1 and "Feature stores" in str(events[0]["DESCRIPTION"])
    client.post("/interviews/calendar/address")
    second = re.search(r"/interviews/calendar/([\w-]+)\.ics", client.get("/account").get_data(as_text=True)).group(0)
    assert second != first
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200
    auth.logout()
    login_as(auth, "mentor@example.org")
    client.post("/interviews/calendar/address")
    mentor_feed = re.search(r"/interviews/calendar/([\w-]+)\.ics", client.get("/account").get_data(as_text=True)).group(
        0
    )
    assert len(Calendar.from_ical(app.test_client().get(mentor_feed).data).walk("VEVENT")) == 1


def test_the_private_feed_can_be_turned_off_and_on_again(world, client, auth):
    login_as(auth, "jo@example.org")
    client.post("/interviews/calendar/address")
    feed = re.search(r"/interviews/calendar/([\w-]+)\.ics", client.get("/account").get_data(as_text=True)).group(0)
    response = client.post("/interviews/calendar/address/off")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account#calendar")
    page = client.get("/account").get_data(as_text=True)
    assert "Your calendar address is turned off" in page and ".ics" not in page
    assert "Create my calendar address" in page
    assert client.get(feed).status_code == 404
    client.post("/interviews/calendar/address")
    again = re.search(r"/interviews/calendar/([\w-]+)\.ics", client.get("/account").get_data(as_text=True)).group(0)
    assert again != feed and client.get(again).status_code == 200


# Mentor pages ------------------------------------------------------------------------------------------


def series_form(**overrides):
    data = {
        "interview_type": "1",
        "weekdays": ["1", "3"],
        "window_start": "09:00",
        "window_end": "12:00",
        "first_date": "2026-10-12",
        "last_date": "2026-10-18",
        "buffer_minutes": "15",
        "preview": "1",
    }
    data.update(overrides)
    return data


def test_mentor_previews_then_publishes_a_series(app, world, client, auth):
    login_as(auth, "mentor@example.org")
    data = series_form(interview_type=str(world["type"]))
    preview = client.post("/mentor/availability/series", data=data).get_data(as_text=True)
    assert "4 slots to publish" in preview and "Mon 12 Oct 2026, 09:00 BST" in preview
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Slot.id))) == 3
    data.pop("preview")
    response = client.post("/mentor/availability/series", data={**data, "confirm": "1"})
    assert response.status_code == 302
    assert "4 slots published." in client.get(response.headers["Location"]).get_data(as_text=True)
    again = client.post("/mentor/availability/series", data={**data, "confirm": "1"}).get_data(as_text=True)
    assert "This clashes with an existing slot on Mon 12 Oct 2026, 09:00 BST" in again


def test_a_series_preview_flags_clashes_and_publishes_the_rest_when_asked(app, world, client, auth):
    login_as(auth, "mentor@example.org")
    with app.app_context():
        existing = make_slot(
            db.session.get(User, world["mentor"]), datetime(2026, 10, 14, 9, 30, tzinfo=UTC)
        )  # Wednesday 10:30 in London: the second slot that day (10:15 to 11:15) overlaps it
        existing_id = existing.id
    data = series_form(interview_type=str(world["type"]))
    preview = client.post("/mentor/availability/series", data=data).get_data(as_text=True)
    assert "1 of the 4 slots clash with slots you have already published" in preview
    assert "3 slots to publish" in preview and "Publish the 3 slots that do not clash" in preview
    flagged = re.findall(r'<li class="clashes">(.*?)</li>', preview, re.S)
    assert len(flagged) == 1 and "Wed 14 Oct 2026, 10:15 BST" in flagged[0] and "10:30 BST to 11:30 BST" in flagged[0]
    assert 'name="confirm"' not in preview

    data.pop("preview")
    refused = client.post("/mentor/availability/series", data={**data, "confirm": "1"})
    page = refused.get_data(as_text=True)
    assert "This clashes with an existing slot on Wed 14 Oct 2026, 10:30 BST" in page
    assert '<li class="clashes">' in page and "Publish the 3 slots that do not clash" in page  # the preview stays

    published = client.post("/mentor/availability/series", data={**data, "skip_clashes": "1"})
    assert published.status_code == 302
    flash = client.get(published.headers["Location"]).get_data(as_text=True)
    assert "3 slots published. 1 that clashed with existing slots were skipped." in flash
    with app.app_context():
        mine = db.session.scalars(
            sa.select(Slot.starts_at).where(
                Slot.mentor_id == world["mentor"], Slot.id != existing_id, Slot.series_id.is_not(None)
            )
        ).all()
        assert len(mine) == 3
    everything = client.post("/mentor/availability/series", data={**data, "skip_clashes": "1"}).get_data(as_text=True)
    assert "Every slot of this series clashes with an existing one. Nothing was created." in everything


def test_series_form_shows_every_field_error(world, client, auth):
    login_as(auth, "mentor@example.org")
    html = client.post(
        "/mentor/availability/series",
        data=series_form(
            interview_type="0",
            weekdays=[],
            window_start="12:00",
            window_end="09:00",
            first_date="2026-10-18",
            last_date="2026-10-12",
            buffer_minutes="-1",
        ),
    ).get_data(as_text=True)
    for message in (
        "Choose an interview type.",
        "Choose at least one weekday.",
        "The end of the window must be after its start.",
        "The last date must be on or after the first date.",
        "between 0 and 240 minutes",
    ):
        assert message in html
    missing = client.post("/mentor/availability/series", data={"preview": "1"}).get_data(as_text=True)
    assert "Enter when the window starts." in missing and "Enter the first date." in missing


def test_series_preview_skips_a_time_the_clocks_skip_and_says_so(app, world, client, auth, clock):
    clock.move_to(datetime(2027, 3, 1, 9, tzinfo=UTC))
    login_as(auth, "mentor@example.org")
    form = series_form(
        weekdays=["7"],
        window_start="00:30",
        window_end="03:00",
        first_date="2027-03-21",
        last_date="2027-03-28",
        buffer_minutes="0",
    )
    html = client.post("/mentor/availability/series", data=form).get_data(as_text=True)
    assert "3 slots to publish" in html
    assert (
        "01:30 on Sunday 28 March 2027 does not exist in Europe/London: the clocks go forward that night, so that "
        "slot is skipped." in html
    )
    published = client.post("/mentor/availability/series", data={**form, "confirm": "1"})
    assert published.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Slot.id)).where(Slot.series_id.is_not(None))) == 3


def test_mentor_publishes_one_slot_and_sees_it(world, client, auth):
    login_as(auth, "mentor@example.org")
    response = client.post(
        "/mentor/availability/slot", data={"interview_type": world["type"], "day": "2026-10-20", "start_time": "14:00"}
    )
    assert response.status_code == 302
    assert "Tue 20 Oct 2026, 14:00 BST" in client.get("/mentor/availability").get_data(as_text=True)
    past = client.post(
        "/mentor/availability/slot", data={"interview_type": world["type"], "day": "2026-09-20", "start_time": "14:00"}
    )
    assert "already passed" in past.get_data(as_text=True)


def test_mentor_cannot_touch_another_mentors_slots(world, client, auth):
    login_as(auth, "other-mentor@example.org")
    assert client.post(f"/mentor/slots/{world['slot']}/remove").status_code == 404
    assert client.get(f"/mentor/slots/{world['booked']}/cancel").status_code == 404
    assert client.post(f"/mentor/bookings/{world['booking']}/outcome", data={"outcome": "completed"}).status_code == 404
    assert client.get(f"/mentor/availability?mentor={world['mentor']}").status_code == 403


def test_mentor_schedule_shows_candidate_focus_and_records_outcome(world, client, auth, clock):
    login_as(auth, "mentor@example.org")
    html = client.get("/mentor/schedule").get_data(as_text=True)
    assert "Jo Lee" in html and "Feature stores, please" in html
    early = client.post(
        f"/mentor/bookings/{world['booking']}/outcome", data={"outcome": "completed"}, follow_redirects=True
    )
    assert "once the session has started" in early.get_data(as_text=True)
    clock.shift(timedelta(days=5, minutes=30))
    done = client.post(
        f"/mentor/bookings/{world['booking']}/outcome", data={"outcome": "no_show"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Jo Lee&#39;s session is marked no-show." in done


def test_mentor_cancels_booked_slot_only_with_reason(app, world, client, auth, outbox):
    login_as(auth, "mentor@example.org")
    refused = client.post(f"/mentor/slots/{world['booked']}/cancel", data={"reason": ""}).get_data(as_text=True)
    assert "Give a reason: the candidate will read it." in refused
    assert client.post(f"/mentor/slots/{world['booked']}/remove").status_code == 302  # refused with a flash
    with app.app_context():
        assert db.session.get(Slot, world["booked"]).status == "open"
    response = client.post(f"/mentor/slots/{world['booked']}/cancel", data={"reason": "Family emergency"})
    assert response.status_code == 302
    assert "Family emergency" in outbox("jo@example.org")[-1].body_text


# Admin pages -----------------------------------------------------------------------------------------


def test_admin_week_view_shows_open_booked_and_cancelled(app, world, client, auth):
    with app.app_context():
        slot = db.session.get(Slot, world["spare"])  # Monday 5 October, Tom Okafor
        slot.status = "cancelled"
        make_slot(db.session.get(User, world["other_mentor"]), at(days=6))  # Wednesday, open
        db.session.commit()
    login_as(auth, "admin@example.org")
    html = client.get("/admin/schedule/?week=2026-10-07").get_data(as_text=True)
    assert "Schedule: week of 5 October 2026" in html
    for state in ("open", "booked", "cancelled"):
        assert html.count(f'class="week-slot state-{state}"') == 1, state
    assert "Jo Lee" in html  # the booked slot's candidate
    filtered = client.get(f"/admin/schedule/?week=2026-10-07&mentor={world['mentor']}").get_data(as_text=True)
    assert ">Priya Shah</h2>" in filtered and ">Tom Okafor</h2>" not in filtered
    previous = client.get("/admin/schedule/?week=2026-09-30").get_data(as_text=True)
    assert "Schedule: week of 28 September 2026" in previous and 'class="week-slot state-open"' in previous


def test_admin_publishes_for_a_mentor_and_must_choose_one(world, client, auth):
    login_as(auth, "admin@example.org")
    missing = client.post(
        "/mentor/availability/slot", data={"interview_type": world["type"], "day": "2026-10-20", "start_time": "14:00"}
    )
    assert "Choose the mentor these slots are for." in missing.get_data(as_text=True)
    response = client.post(
        "/mentor/availability/slot",
        data={"mentor": world["mentor"], "day": "2026-10-20", "interview_type": world["type"], "start_time": "14:00"},
    )
    assert response.status_code == 302 and f"mentor={world['mentor']}" in response.headers["Location"]


def test_admin_edits_an_unbooked_slot(world, client, auth):
    login_as(auth, "admin@example.org")
    response = client.post(
        f"/admin/schedule/slots/{world['slot']}/edit",
        data={"interview_type": world["type"], "day": "2026-10-06", "start_time": "16:00"},
    )
    assert response.status_code == 302
    booked = client.get(f"/admin/schedule/slots/{world['booked']}/edit").get_data(as_text=True)
    assert "This slot is booked" in booked


def test_admin_bulk_cancel_reports_a_summary(world, client, auth, outbox):
    login_as(auth, "admin@example.org")
    html = client.post(
        "/admin/schedule/bulk-cancel",
        data={"mentor": world["mentor"], "first_day": "2026-10-01", "last_day": "2026-10-31", "reason": "Leaving"},
    ).get_data(as_text=True)
    assert "Cancelled 2 slots of Priya Shah" in html and "1 booking was cancelled" in html
    assert "Leaving" in outbox("jo@example.org")[-1].body_text
    empty = client.post("/admin/schedule/bulk-cancel", data={"mentor": world["mentor"]}).get_data(as_text=True)
    assert "Give a reason" in empty and "Enter the first date." in empty


def test_admin_bookings_list_filters_and_counts(app, world, client, auth):
    with app.app_context():
        other = db.session.get(User, world["other"])
        past = make_slot(db.session.get(User, world["mentor"]), at(days=-2))
        make_booking(past, other, status="no_show")
    login_as(auth, "admin@example.org")
    html = client.get("/admin/schedule/bookings?status=no_show").get_data(as_text=True)
    assert "1 booking." in html and "No-show" in html
    row = re.search(r"<tr>\s*<td data-label=\"When\"><a href=\"/interviews/bookings/\d+\">.*?</tr>", html, re.S).group(
        0
    )
    assert re.search(r"<td data-label=\"Candidate\">Jo Lee</td>\s*<td[^>]*>1</td>\s*<td[^>]*>0</td>", row)
    assert "2 bookings." in client.get(f"/admin/schedule/bookings?candidate={world['other']}").get_data(as_text=True)


def test_the_slot_browser_says_the_limit_first_and_offers_no_booking_that_cannot_succeed(app, world, client, auth):
    login_as(auth, "sam@example.org")
    assert "the most you can hold at once" not in client.get("/interviews/slots").get_data(as_text=True)
    with app.app_context():
        sam = db.session.get(User, world["candidate"])
        mentor = db.session.get(User, world["mentor"])
        held = [make_booking(make_slot(mentor, at(days=10 + n)), sam).id for n in range(2)]  # the default limit
    page = client.get("/interviews/slots").get_data(as_text=True)
    assert "You already have 2 upcoming sessions, the most you can hold at once" in page
    assert page.index("booking-limit") < page.index("filter-form")
    for booking_id in held:
        assert f'href="/interviews/bookings/{booking_id}"' in page
        assert f'href="/interviews/bookings/{booking_id}/cancel"' in page
    assert "/waitlist/" in page
    assert f"/interviews/slots/{world['slot']}/book" not in page and "with Priya Shah" in page
    # The limit counts exactly what booking refuses on.
    refused = client.post(f"/interviews/slots/{world['slot']}/book", data={"focus_note": "x"})
    assert "the most you can hold at once" in refused.get_data(as_text=True)


def test_the_time_zone_switcher_keeps_the_zone_and_goes_back_to_the_list(app, world, client, auth):
    login_as(auth, "sam@example.org")
    response = client.post(
        "/interviews/timezone?next=/interviews/slots?day=2026-10-05", data={"timezone": "Asia/Tokyo"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/interviews/slots?day=2026-10-05#slot-times"
    page = client.get("/interviews/slots?day=2026-10-05").get_data(as_text=True)
    assert "Times are now shown in Asia/Tokyo." in page and " JST" in page
    with app.app_context():
        assert db.session.get(User, world["candidate"]).timezone == "Asia/Tokyo"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Europe/London\r\nBcc: x", "9" * 200])
def test_the_time_zone_switcher_refuses_a_zone_not_in_the_list(app, world, client, auth, zone):
    login_as(auth, "sam@example.org")
    response = client.post("/interviews/timezone?next=https://evil.example/", data={"timezone": zone})
    assert response.status_code == 302 and response.headers["Location"] == "/"  # never off the site
    assert "Choose a time zone from the list." in client.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, world["candidate"]).timezone == "Europe/London"
