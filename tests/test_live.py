"""Live industry sessions: admins publish, edit and cancel them; candidates take seats or wait in line; calendar
files, the private feed, reminders, attendance, recordings and reports."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from icalendar import Calendar

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.live.models import LiveRegistration, LiveSession
from portal.mail import OutboxEmail
from portal.notifications.models import Notification
from portal.notifications.reminders import send_due_reminders
from tests.conftest import logged_in
from tests.factories import make_user


def soon(days: float) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days)


def make_session(capacity: int = 2, starts_at: datetime | None = None, **values) -> LiveSession:
    starts_at = starts_at or soon(3)
    session = LiveSession(
        kind=values.pop("kind", "talk"),
        title=values.pop("title", "Shipping models at a bank"),
        speakers=values.pop("speakers", "Priya Shah (ML lead)"),
        description=values.pop("description", "How a bank ships ML."),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        capacity=capacity,
        meeting_mode=values.pop("meeting_mode", "video"),
        **values,
    )
    db.session.add(session)
    db.session.commit()
    return session


def outbox(address: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id))
    )


@pytest.fixture
def world(app):
    with app.app_context():
        make_user("admin", email="admin@example.org", name="Ada Admin", timezone="America/New_York")
        for name in ("ann", "ben", "cat"):
            make_user(email=f"{name}@example.org", name=name.title())
        session_id = make_session(capacity=2).id
    return {"session_id": session_id}


def form_values(**changes) -> dict:
    values = {
        "kind": "panel",
        "title": "Hiring ML engineers in 2027",
        "speakers": "Three hiring managers",
        "description": "What they look for.\nAnd what they do not.",
        "day": soon(10).date().isoformat(),
        "start_time": "18:00",
        "end_time": "19:30",
        "capacity": "30",
        "meeting_mode": "video",
        "meeting_url": "",
        "dial_in": "",
        "place": "",
    }
    values.update(changes)
    return values


# Creating, editing, cancelling ---------------------------------------------------------------------------------


def test_admin_publishes_a_session_in_their_own_zone_and_anyone_sees_it_listed(app, world):
    admin = logged_in(app, "admin@example.org")
    response = admin.post("/live/new", data=form_values())
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(sa.select(LiveSession).where(LiveSession.title == "Hiring ML engineers in 2027"))
        local = session.starts_at.astimezone(ZoneInfo("America/New_York"))
        assert (local.hour, local.minute) == (18, 0) and session.ends_at - session.starts_at == timedelta(minutes=90)
        audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "live_session.created"))
        assert audit.target_id == str(session.id) and audit.actor_name == "Ada Admin"
        room = session.meeting_room
    listing = app.test_client().get("/live").get_data(as_text=True)
    assert "Hiring ML engineers in 2027" in listing and "30 of 30 seats left" in listing
    assert "Shipping models at a bank" in listing
    page = app.test_client().get(response.headers["Location"]).get_data(as_text=True)
    assert "Panel with Three hiring managers" in page and room not in page  # the room is for those registered
    assert "Log in to register" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"capacity": "0"}, "Enter a number of seats from 1 to 10,000."),
        ({"capacity": str(10**12)}, "Enter a number of seats from 1 to 10,000."),
        ({"capacity": "9" * 400}, "Enter a number of seats from 1 to 10,000."),
        ({"capacity": "lots"}, "Not a valid integer value."),
        ({"day": "2026-02-31"}, "Enter a real date as day/month/year, like 14/12/2026."),
        ({"day": "99999-01-01"}, "Enter a real date as day/month/year, like 14/12/2026."),
        ({"day": "1999-01-01"}, "Enter a date between 2000 and 2100."),
        ({"start_time": "25:00"}, "Not a valid time value."),
        ({"end_time": "18:00"}, "The session must end after it starts."),
        ({"end_time": "17:00"}, "A session lasts at most 12 hours."),
        ({"title": "Talk\u202eevil"}, "Remove the control characters"),
        ({"speakers": "Priya\nShah"}, "Remove the control characters"),
        ({"description": "ok\x00"}, "Remove the control characters"),
        ({"title": "x" * 201}, "At most 200 characters."),
        ({"meeting_url": "http://zoom.us/j/1"}, "The link must start with https://"),
        ({"meeting_mode": "phone"}, "Enter the phone number people dial."),
        ({"meeting_mode": "phone", "dial_in": "call me"}, "Enter a phone number using only digits"),
        ({"meeting_mode": "in_person"}, "Enter where the session happens."),
        ({"meeting_mode": "hologram"}, "Choose how the session happens."),
        ({"kind": "party"}, "Not a valid choice."),
        ({"day": soon(-2).date().isoformat()}, "Choose a start in the future."),
    ],
)
def test_a_bad_session_form_gets_a_message_next_to_the_field_never_a_500(app, world, changes, message):
    admin = logged_in(app, "admin@example.org")
    response = admin.post("/live/new", data=form_values(**changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True) and "Error code 500" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LiveSession.id))) == 1


def test_a_session_in_person_or_by_phone_keeps_its_place_or_number(app, world):
    admin = logged_in(app, "admin@example.org")
    admin.post("/live/new", data=form_values(meeting_mode="in_person", place="Room 2.14, 10 Example Street"))
    admin.post("/live/new", data=form_values(title="Dial-in Q&A", meeting_mode="phone", dial_in="+44 20 7946 0958"))
    with app.app_context():
        rows = {s.title: s for s in db.session.scalars(sa.select(LiveSession))}
        assert rows["Hiring ML engineers in 2027"].place == "Room 2.14, 10 Example Street"
        assert rows["Dial-in Q&A"].dial_in == "+44 20 7946 0958" and rows["Dial-in Q&A"].place is None
    assert "Room 2.14, 10 Example Street" in app.test_client().get("/live").get_data(as_text=True)


def test_candidates_and_visitors_cannot_create_edit_or_cancel(app, world):
    sid = world["session_id"]
    ann = logged_in(app, "ann@example.org")
    for url in ("/live/new", f"/live/{sid}/edit", f"/live/{sid}/cancel", f"/live/{sid}/attendance"):
        assert ann.get(url).status_code == 403
        assert app.test_client().get(url).status_code == 302  # to the login page
    assert app.test_client().get("/live/999999").status_code == 404


@pytest.fixture
def mentors(app):
    """An editor mentor and a plain mentor."""
    with app.app_context():
        editor = make_user("mentor", email="edie@example.org", name="Edie Editor")
        editor.is_editor = True
        make_user("mentor", email="mo@example.org", name="Mo Mentor")
        db.session.commit()


def test_an_editor_mentor_creates_edits_and_cancels_sessions_and_the_audit_log_names_them(app, world, mentors):
    editor = logged_in(app, "edie@example.org")
    assert "Live sessions: create and run them" in editor.get("/insights/mine").get_data(as_text=True)
    assert "New live session" in editor.get("/live").get_data(as_text=True)
    response = editor.post("/live/new", data=form_values(title="Edie's panel"))
    assert response.status_code == 302
    with app.app_context():
        sid = db.session.scalar(sa.select(LiveSession.id).where(LiveSession.title == "Edie's panel"))
    page = editor.get(f"/live/{sid}").get_data(as_text=True)
    assert f"/live/{sid}/edit" in page and f"/live/{sid}/cancel" in page
    version = re.search(r'name="version" type="hidden" value="(\d+)"', editor.get(f"/live/{sid}/edit").text)[1]
    data = form_values(title="Edie's better panel", version=version)
    assert editor.post(f"/live/{sid}/edit", data=data).status_code == 302
    assert editor.post(f"/live/{sid}/cancel", data={"reason": "The speakers cannot come."}).status_code == 302
    with app.app_context():
        session = db.session.get(LiveSession, sid)
        assert session.title == "Edie's better panel" and not session.is_scheduled
        actions = {
            event.action: event.actor_name
            for event in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.target_id == str(sid)))
        }
        assert actions == {
            "live_session.created": "Edie Editor",
            "live_session.edited": "Edie Editor",
            "live_session.cancelled": "Edie Editor",
        }


def test_a_plain_mentor_cannot_create_edit_cancel_or_mark_attendance(app, world, mentors):
    sid = world["session_id"]
    mo = logged_in(app, "mo@example.org")
    for url in ("/live/new", f"/live/{sid}/edit", f"/live/{sid}/cancel", f"/live/{sid}/attendance"):
        assert mo.get(url).status_code == 403
    assert mo.post("/live/new", data=form_values(title="Mo's talk")).status_code == 403
    assert mo.post(f"/live/{sid}/cancel", data={"reason": "No."}).status_code == 403
    assert mo.post(f"/live/{sid}/materials", data={"recording_url": "https://example.org/r"}).status_code == 403
    page = mo.get(f"/live/{sid}").get_data(as_text=True)
    assert f"/live/{sid}/edit" not in page and "New live session" not in mo.get("/live").get_data(as_text=True)
    assert "Live sessions: create and run them" not in mo.get("/insights/mine").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(LiveSession, sid).is_scheduled
        assert db.session.scalar(sa.select(sa.func.count(LiveSession.id))) == 1


def test_editing_the_time_tells_seat_holders_and_a_stale_edit_is_refused(app, world):
    sid = world["session_id"]
    logged_in(app, "ann@example.org").post(f"/live/{sid}/register")
    admin = logged_in(app, "admin@example.org")
    page = admin.get(f"/live/{sid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    data = form_values(title="Shipping models at a bank", capacity="2", version=version)
    assert admin.post(f"/live/{sid}/edit", data=data).status_code == 302
    assert admin.post(f"/live/{sid}/edit", data=data).status_code == 409
    with app.app_context():
        assert "has changed: it starts" in outbox("ann@example.org")[-1].body_text
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "live_session.edited"))
        assert db.session.get(LiveSession, sid).title == "Shipping models at a bank"


def test_capacity_cannot_drop_below_the_seats_taken_and_more_seats_go_to_the_waitlist(app, world):
    sid = world["session_id"]
    for name in ("ann", "ben", "cat"):
        logged_in(app, f"{name}@example.org").post(f"/live/{sid}/register")
    admin = logged_in(app, "admin@example.org")
    version = lambda: re.search(r'name="version" type="hidden" value="(\d+)"', admin.get(f"/live/{sid}/edit").text)[1]  # noqa: E731
    response = admin.post(f"/live/{sid}/edit", data=form_values(capacity="1", version=version()))
    assert "2 people already hold seats: keep at least 2 seats." in response.get_data(as_text=True)
    assert admin.post(f"/live/{sid}/edit", data=form_values(capacity="3", version=version())).status_code == 302
    with app.app_context():
        assert "freed up and it is now yours" in outbox("cat@example.org")[-1].body_text


def test_cancelling_a_session_tells_everyone_registered_and_waiting(app, world):
    sid = world["session_id"]
    for name in ("ann", "ben", "cat"):
        logged_in(app, f"{name}@example.org").post(f"/live/{sid}/register")
    admin = logged_in(app, "admin@example.org")
    response = admin.post(f"/live/{sid}/cancel", data={"reason": "The speaker is ill."})
    assert response.status_code == 302
    with app.app_context():
        for name in ("ann", "ben", "cat"):
            email = outbox(f"{name}@example.org")[-1]
            assert email.subject == "Cancelled: Shipping models at a bank"
            assert "The reason given: The speaker is ill." in email.body_text
        assert Calendar.from_ical(outbox("ann@example.org")[-1].attachment_text)["METHOD"] == "CANCEL"
        assert outbox("cat@example.org")[-1].attachment_text is None  # never had a seat: no calendar entry to remove
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "live_session.cancelled"))
    assert "Shipping models at a bank" not in app.test_client().get("/live").get_data(as_text=True)
    assert "This session has been cancelled." in app.test_client().get(f"/live/{sid}").get_data(as_text=True)


# Seats and the waitlist --------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_to_register(app, world):
    sid = world["session_id"]
    response = app.test_client().post(f"/live/{sid}/register")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_seats_then_waitlist_then_promotion_in_order_when_a_seat_frees(app, world):
    sid = world["session_id"]
    clients = {name: logged_in(app, f"{name}@example.org") for name in ("ann", "ben", "cat")}
    for name in ("ann", "ben", "cat"):
        clients[name].post(f"/live/{sid}/register")
    assert "You have a seat." in clients["ann"].get(f"/live/{sid}").get_data(as_text=True)
    cat_page = clients["cat"].get(f"/live/{sid}").get_data(as_text=True)
    assert "You are number 1 on the waitlist." in cat_page and "waitlist-length" not in cat_page
    assert 'id="waitlist-length">1 waiting' in logged_in(app, "admin@example.org").get(f"/live/{sid}").text
    assert "Full: new registrations join the waitlist" in cat_page
    with app.app_context():
        seat_email = outbox("ann@example.org")[-1]
        assert seat_email.subject == "You have a seat: Shipping models at a bank"
        event = Calendar.from_ical(seat_email.attachment_text).walk("VEVENT")[0]
        assert str(event["SUMMARY"]) == "Talk: Shipping models at a bank" and "live-session-" in str(event["LOCATION"])
        assert "number 1 on its waitlist" in outbox("cat@example.org")[-1].body_text
    assert clients["ann"].post(f"/live/{sid}/cancel-registration").status_code == 302
    with app.app_context():
        promoted = outbox("cat@example.org")[-1]
        assert promoted.subject == "A seat freed up: you are in for Shipping models at a bank"
        assert promoted.attachment_text and "METHOD:PUBLISH" in promoted.attachment_text
        assert db.session.scalar(
            sa.select(Notification.message).where(Notification.message.like("A seat at%")).limit(1)
        )
        assert "METHOD:CANCEL" in outbox("ann@example.org")[-1].attachment_text
    assert "You have a seat." in clients["cat"].get(f"/live/{sid}").get_data(as_text=True)
    assert 'id="waitlist-length">0 waiting' in logged_in(app, "admin@example.org").get(f"/live/{sid}").text
    mine = clients["cat"].get("/live/mine").get_data(as_text=True)
    assert "Shipping models at a bank" in mine and "Registered" in mine


def test_registering_twice_is_refused_and_a_cancelled_candidate_may_come_back(app, world):
    sid = world["session_id"]
    ann = logged_in(app, "ann@example.org")
    ann.post(f"/live/{sid}/register")
    ann.post(f"/live/{sid}/register")
    assert "You are already registered for this session." in ann.get(f"/live/{sid}").get_data(as_text=True)
    ann.post(f"/live/{sid}/cancel-registration")
    ann.post(f"/live/{sid}/register")
    with app.app_context():
        rows = db.session.scalars(sa.select(LiveRegistration)).all()
        assert [row.status for row in rows] == ["registered"]


def test_no_registration_or_cancelling_once_the_session_has_started(app, world):
    sid = world["session_id"]
    ann = logged_in(app, "ann@example.org")
    ann.post(f"/live/{sid}/register")
    with time_machine.travel(soon(3) + timedelta(minutes=5), tick=False):
        ben = logged_in(app, "ben@example.org")
        ben.post(f"/live/{sid}/register")
        assert "registration is closed" in ben.get(f"/live/{sid}").get_data(as_text=True)
        assert ann.post(f"/live/{sid}/cancel-registration").status_code == 302
        assert "can no longer be cancelled" in ann.get(f"/live/{sid}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LiveRegistration.id))) == 1


def test_mentors_and_admins_cannot_take_seats(app, world):
    sid = world["session_id"]
    assert logged_in(app, "admin@example.org").post(f"/live/{sid}/register").status_code == 403


# Calendars and reminders --------------------------------------------------------------------------------------------


def test_ics_download_and_private_feed_list_the_seat(app, world):
    sid = world["session_id"]
    ann = logged_in(app, "ann@example.org")
    assert ann.get(f"/live/{sid}/calendar.ics").status_code == 404  # not registered
    ann.post(f"/live/{sid}/register")
    response = ann.get(f"/live/{sid}/calendar.ics")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert event.decoded("dtstart") == soon(3) or event.decoded("dtstart").astimezone(UTC) == soon(3)
    assert "Speakers: Priya Shah (ML lead)" in str(event["DESCRIPTION"])
    assert logged_in(app, "ben@example.org").get(f"/live/{sid}/calendar.ics").status_code == 404
    ann.post("/interviews/calendar/address")
    feed = re.search(r"/interviews/calendar/([\w-]+)\.ics", ann.get("/account").get_data(as_text=True)).group(0)
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(app.test_client().get(feed).data).walk("VEVENT")]
    assert summaries == ["Talk: Shipping models at a bank"]
    ann.post(f"/live/{sid}/cancel-registration")
    assert Calendar.from_ical(app.test_client().get(feed).data).walk("VEVENT") == []


def test_reminders_go_out_24_hours_and_1_hour_before_exactly_once(app, world):
    sid = world["session_id"]
    logged_in(app, "ann@example.org").post(f"/live/{sid}/register")
    logged_in(app, "ben@example.org").post(f"/live/{sid}/register")
    logged_in(app, "cat@example.org").post(f"/live/{sid}/register")  # waitlisted: no reminder
    start = soon(3)
    with app.app_context():
        with time_machine.travel(start - timedelta(hours=25), tick=False):
            assert send_due_reminders() == 0
        with time_machine.travel(start - timedelta(hours=23), tick=False):
            assert send_due_reminders() == 2
            assert send_due_reminders() == 0
        with time_machine.travel(start - timedelta(minutes=30), tick=False):
            assert send_due_reminders() == 2
        subjects = [e.subject for e in outbox("ann@example.org") if e.category == "reminders"]
        assert subjects == [
            "Reminder: Shipping models at a bank in 24 hours",
            "Reminder: Shipping models at a bank in 1 hour",
        ]
        assert not [e for e in outbox("cat@example.org") if e.category == "reminders"]


def test_a_cancelled_seat_gets_no_reminder(app, world):
    sid = world["session_id"]
    ann = logged_in(app, "ann@example.org")
    ann.post(f"/live/{sid}/register")
    ann.post(f"/live/{sid}/cancel-registration")
    with app.app_context(), time_machine.travel(soon(3) - timedelta(minutes=30), tick=False):
        assert send_due_reminders() == 0


# After the session ------------------------------------------------------------------------------------------------


def test_attendance_and_links_after_the_session_only_for_those_registered(app, world):
    sid = world["session_id"]
    logged_in(app, "ann@example.org").post(f"/live/{sid}/register")
    logged_in(app, "ben@example.org").post(f"/live/{sid}/register")
    admin = logged_in(app, "admin@example.org")
    assert "once the session has started" in admin.post(
        f"/live/{sid}/materials", data={"recording_url": "https://example.com/rec", "slides_url": ""}
    ).get_data(as_text=True)
    with time_machine.travel(soon(3) + timedelta(hours=2), tick=False):
        admin = logged_in(app, "admin@example.org")
        with app.app_context():
            ann_id = db.session.scalar(sa.select(LiveRegistration.candidate_id).order_by(LiveRegistration.id))
        marked = admin.post(f"/live/{sid}/attendance", data={"present": [str(ann_id), "99999999999", "x"]})
        assert marked.status_code == 302
        bad = admin.post(f"/live/{sid}/materials", data={"recording_url": "http://example.com/rec", "slides_url": ""})
        assert bad.status_code == 400 and "must start with https://" in bad.get_data(as_text=True)
        good = {"recording_url": "https://video.example.com/rec", "slides_url": "https://example.com/slides.pdf"}
        assert admin.post(f"/live/{sid}/materials", data=good).status_code == 302
        ann_page = logged_in(app, "ann@example.org").get(f"/live/{sid}").get_data(as_text=True)
        assert "https://video.example.com/rec" in ann_page and "https://example.com/slides.pdf" in ann_page
        cat_page = logged_in(app, "cat@example.org").get(f"/live/{sid}").get_data(as_text=True)
        assert "video.example.com" not in cat_page
        assert "video.example.com" not in app.test_client().get(f"/live/{sid}").get_data(as_text=True)
        assert 'value="https://video.example.com/rec"' in admin.get(f"/live/{sid}/attendance").get_data(as_text=True)
    with app.app_context():
        attended = dict(db.session.execute(sa.select(LiveRegistration.candidate_id, LiveRegistration.attended)).all())
        assert sorted(attended.values()) == [False, True]
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"live_session.attendance", "live_session.materials"} <= actions


def test_an_editor_mentor_marks_attendance_and_adds_the_recording_and_a_plain_mentor_cannot(app, world, mentors):
    sid = world["session_id"]
    logged_in(app, "ann@example.org").post(f"/live/{sid}/register")
    with time_machine.travel(soon(3) + timedelta(hours=2), tick=False):
        editor, mo = logged_in(app, "edie@example.org"), logged_in(app, "mo@example.org")
        assert f"/live/{sid}/attendance" in editor.get(f"/live/{sid}").get_data(as_text=True)
        with app.app_context():
            ann_id = db.session.scalar(sa.select(LiveRegistration.candidate_id))
        assert mo.post(f"/live/{sid}/attendance", data={"present": [str(ann_id)]}).status_code == 403
        assert editor.post(f"/live/{sid}/attendance", data={"present": [str(ann_id)]}).status_code == 302
        materials = {"recording_url": "https://video.example.com/rec", "slides_url": ""}
        assert mo.post(f"/live/{sid}/materials", data=materials).status_code == 403
        assert editor.post(f"/live/{sid}/materials", data=materials).status_code == 302
        assert "video.example.com" not in mo.get(f"/live/{sid}").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(LiveRegistration.attended))
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_name).where(AuditEvent.action.like("live_session.%"))
        ).all()
        assert sorted(events) == [("live_session.attendance", "Edie Editor"), ("live_session.materials", "Edie Editor")]


# Query counts --------------------------------------------------------------------------------------------------------


def test_the_listing_sends_the_same_number_of_queries_for_few_and_many_sessions(app, count_queries):
    def add(count: int) -> None:
        with app.app_context():
            for n in range(count):
                make_session(capacity=5, starts_at=soon(2 + n / 24), title=f"Session {n}")

    def statements(client, url: str) -> int:
        with count_queries() as sent:
            assert client.get(url).status_code == 200
        return len(sent)

    with app.app_context():
        make_user(email="ann@example.org")
    ann = logged_in(app, "ann@example.org")
    add(3)
    few = {url: statements(client, url) for url in ("/live",) for client in (app.test_client(),)}
    few_ann = statements(ann, "/live")
    add(40)
    many = {url: statements(client, url) for url in ("/live",) for client in (app.test_client(),)}
    assert few == many and statements(ann, "/live") == few_ann
    assert max(many.values()) <= 6


# Reports -------------------------------------------------------------------------------------------------------


def test_reports_show_attendance_rate_and_waitlist_demand(app, world):
    sid = world["session_id"]
    for name in ("ann", "ben", "cat"):
        logged_in(app, f"{name}@example.org").post(f"/live/{sid}/register")
    with time_machine.travel(soon(3) + timedelta(hours=2), tick=False):
        admin = logged_in(app, "admin@example.org")
        with app.app_context():
            ann_id = db.session.scalar(sa.select(LiveRegistration.candidate_id).order_by(LiveRegistration.id))
        admin.post(f"/live/{sid}/attendance", data={"present": [str(ann_id)]})
        page = admin.get(f"/admin/reports?to={soon(4).date().isoformat()}").get_data(as_text=True)
    assert re.search(r'id="live-attendance-rate">50%<', page)
    assert re.search(r'id="live-waitlist-demand">1<', page)
    row = page.split('id="live-report-table"', 1)[1]
    assert "Shipping models at a bank" in row and "2 / 2" in row and "1 of 2 marked" in row


def test_a_new_meeting_link_reaches_seat_holders_with_a_calendar_update(app, world):
    sid = world["session_id"]
    logged_in(app, "ann@example.org").post(f"/live/{sid}/register")
    admin = logged_in(app, "admin@example.org")
    page = admin.get(f"/live/{sid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    with app.app_context():
        session = db.session.get(LiveSession, sid)
        local = session.starts_at.astimezone(ZoneInfo("America/New_York"))
    data = form_values(
        title="Shipping models at a bank",
        capacity="2",
        version=version,
        day=local.date().isoformat(),
        start_time=local.strftime("%H:%M"),
        end_time=(local + timedelta(hours=1)).strftime("%H:%M"),
        meeting_url="https://meet.example.com/bank-talk",
    )
    assert admin.post(f"/live/{sid}/edit", data=data).status_code == 302
    with app.app_context():
        email = outbox("ann@example.org")[-1]
        assert "https://meet.example.com/bank-talk" in email.body_text
        event = Calendar.from_ical(email.attachment_text).walk("VEVENT")[0]
        assert str(event["LOCATION"]) == "https://meet.example.com/bank-talk"
        assert db.session.get(LiveSession, sid).starts_at == session.starts_at


def test_odd_addresses_get_404_not_500(app, world):
    visitor = app.test_client()
    for url in ("/live/99999999999999999999", "/live/2147483648", "/live?page=99999999", "/live/0/calendar.ics"):
        assert visitor.get(url).status_code in (302, 404), url
    assert visitor.get("/live?page=-1").status_code == 200
    ann = logged_in(app, "ann@example.org")
    assert ann.post("/live/99999999999999999999/register").status_code == 404
    assert ann.post("/live/2147483648/cancel-registration").status_code == 404
    assert ann.post(f"/live/{world['session_id']}/cancel-registration").status_code == 404  # nothing to cancel
    assert ann.get("/live/2147483648/calendar.ics").status_code == 404


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_stated(app, world):
    admin = logged_in(app, "admin@example.org")  # in America/New_York
    gap = admin.post("/live/new", data=form_values(day="2027-03-14", start_time="02:30", end_time="04:00"))
    assert "02:30 on Sunday 14 March 2027 does not exist in America/New_York" in gap.get_data(as_text=True)
    fold = admin.post(
        "/live/new", data=form_values(day="2027-11-07", start_time="01:30", end_time="03:00"), follow_redirects=True
    )
    assert "happens twice in America/New_York (the clocks go back); we used the first one, EDT." in fold.get_data(
        as_text=True
    )
    with app.app_context():
        session = db.session.scalar(sa.select(LiveSession).where(LiveSession.title == "Hiring ML engineers in 2027"))
        assert session.starts_at == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
        assert session.ends_at == datetime(2027, 11, 7, 8, 0, tzinfo=UTC)


def test_demo_data_has_live_sessions_one_of_them_full(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0  # idempotent
    listing = app.test_client().get("/live").get_data(as_text=True)
    assert "From notebook to production" in listing and "40 of 40 seats left" not in listing
    assert "Employer Q&amp;A: hiring junior ML engineers" in listing and "Full: join the waitlist" in listing
    assert "Panel: what an ML engineer does all day" not in listing  # over
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LiveSession.id))) == 3


def test_the_session_page_sends_the_same_number_of_queries_for_few_and_many_registrations(app, count_queries):
    with app.app_context():
        session_id = make_session(capacity=100).id
        ann = make_user(email="ann@example.org")
        db.session.add(LiveRegistration(session_id=session_id, candidate_id=ann.id, status="registered", uid="u-ann"))
        db.session.commit()

    def add(first: int, last: int) -> None:
        with app.app_context():
            for n in range(first, last):
                user = make_user(email=f"c{n}@example.org")
                db.session.add(
                    LiveRegistration(session_id=session_id, candidate_id=user.id, status="registered", uid=f"u{n}")
                )
            db.session.commit()

    def statements(client) -> int:
        with count_queries() as sent:
            assert client.get(f"/live/{session_id}").status_code == 200
        return len(sent)

    client = logged_in(app, "ann@example.org")
    add(0, 3)
    few = (statements(client), statements(app.test_client()))
    add(3, 40)
    assert (statements(client), statements(app.test_client())) == few


def test_each_live_reminder_is_sent_once_with_two_workers_at_once(app, world):
    from portal.live import services
    from portal.live.models import LiveReminder

    start = soon(3)
    with app.app_context():
        people = [make_user(email=f"p{n}@example.org") for n in range(12)]
        for n, person in enumerate(people):
            session = make_session(capacity=5, starts_at=start + timedelta(hours=n), title=f"Talk {n}")
            services.register(session, person)
        db.session.commit()
    now = start - timedelta(hours=12)  # every 24-hour reminder is due, no 1-hour one yet
    barrier = threading.Barrier(2)
    counts = []

    def worker():
        with time_machine.travel(now, tick=False), app.test_request_context("/"):
            barrier.wait(timeout=10)
            counts.append(send_due_reminders())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        sent = db.session.scalar(sa.select(sa.func.count(LiveReminder.id)).where(LiveReminder.status == "sent"))
        emails = db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.category == "reminders"))
    assert sum(counts) == sent == emails == 12
