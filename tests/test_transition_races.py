"""Two people changing one slot or booking at the same moment, many rounds each, with real threads and a database
connection each: whatever the order, the schedule stays whole (PostgreSQL runs these truly at once; SQLite queues
the writers)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.interviews.models import Booking, BookingPolicy, Reminder, Slot
from portal.mail import OutboxEmail
from portal.statuses import LIVE, BookingStatus, ReminderStatus, SlotStatus
from tests.conftest import pass_second_step
from tests.factories import PASSWORD, make_booking, make_interview_type, make_slot, make_user
from tests.test_races import run_together

ROUNDS = 10


@pytest.fixture
def settings() -> dict:
    return {
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "BOOKING_RATE_LIMIT": "1000 per hour",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 5, "pool_pre_ping": True},
    }


def soon(days: float, hours: float = 0) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days, hours=hours)


def signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert pass_second_step(client, response, email).status_code == 302
    return client


@pytest.fixture
def people(app):
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
        make_user(email="sam@example.org", name="Sam Taylor")
        make_user("admin", email="admin@example.org", name="Alex Admin")
        make_user("admin", email="second-admin@example.org", name="Bo Admin")
        kind = make_interview_type()
        db.session.add(BookingPolicy(id=1, max_upcoming=20, max_reschedules=1))  # a booking every round
        db.session.commit()
        return {"mentor": mentor.id, "type": kind.id}


def new_slot(app, people, days: float, hours: float = 0) -> int:
    with app.app_context():
        return make_slot(db.session.get(User, people["mentor"]), soon(days, hours)).id


def booking_form(client, slot_id: int) -> dict:
    """What the booking page sends: the slot's version as the page showed it."""
    page = client.get(f"/interviews/slots/{slot_id}/book").get_data(as_text=True)
    return {"version": re.search(r'name="version"[^>]*value="(\d+)"', page).group(1), "focus_note": ""}


def statuses(responses) -> list[int]:
    return sorted(response.status_code for response in responses)


def test_a_slot_withdrawn_while_it_is_booked_never_keeps_a_live_booking(app, people):
    candidate, mentor = signed_in(app, "sam@example.org"), signed_in(app, "mentor@example.org")
    outcomes = set()
    for round_number in range(ROUNDS):
        slot_id = new_slot(app, people, 3, 2 * round_number)
        withdraw = (
            (lambda slot_id=slot_id: mentor.post(f"/mentor/slots/{slot_id}/remove"))
            if round_number % 2
            else (lambda slot_id=slot_id: mentor.post(f"/mentor/slots/{slot_id}/cancel", data={"reason": "Ill"}))
        )
        form = booking_form(candidate, slot_id)
        responses = run_together(
            [
                lambda slot_id=slot_id, form=form: candidate.post(f"/interviews/slots/{slot_id}/book", data=form),
                withdraw,
            ]
        )
        assert all(response.status_code < 500 for response in responses), statuses(responses)
        with app.app_context():
            slot = db.session.get(Slot, slot_id)
            live = db.session.scalars(
                sa.select(Booking).where(Booking.slot_id == slot_id, Booking.status.in_(LIVE))
            ).all()
            assert not (slot.status == SlotStatus.CANCELLED and live), f"round {round_number}: withdrawn yet booked"
            pending = db.session.scalar(
                sa.select(sa.func.count(Reminder.id)).where(
                    Reminder.booking_id.in_(sa.select(Booking.id).where(Booking.slot_id == slot_id)),
                    Reminder.status == ReminderStatus.PENDING,
                )
            )
            assert bool(pending) == bool(live), f"round {round_number}: reminders for a session that is not there"
            outcomes.add((slot.status, bool(live)))
    assert outcomes <= {(SlotStatus.OPEN, True), (SlotStatus.CANCELLED, False)}


def test_a_slot_moved_by_an_admin_while_it_is_booked_is_never_moved_under_the_booking(app, people):
    candidate, admin = signed_in(app, "sam@example.org"), signed_in(app, "admin@example.org")
    for round_number in range(ROUNDS):
        slot_id = new_slot(app, people, 4, 2 * round_number)
        with app.app_context():
            slot = db.session.get(Slot, slot_id)
            booked_time = slot.starts_at
            local = slot.starts_at.astimezone(ZoneInfo("Europe/London"))
        edit_page = admin.get(f"/admin/schedule/slots/{slot_id}/edit").get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="(\d+)"', edit_page).group(1)
        moved = {
            "interview_type": people["type"],
            "day": (local + timedelta(days=1)).date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "version": version,
        }
        form = booking_form(candidate, slot_id)
        responses = run_together(
            [
                lambda slot_id=slot_id, form=form: candidate.post(f"/interviews/slots/{slot_id}/book", data=form),
                lambda slot_id=slot_id, moved=moved: admin.post(f"/admin/schedule/slots/{slot_id}/edit", data=moved),
            ]
        )
        assert all(response.status_code < 500 for response in responses), statuses(responses)
        with app.app_context():
            slot = db.session.get(Slot, slot_id)
            booking = db.session.scalar(sa.select(Booking).where(Booking.slot_id == slot_id))
            if booking is not None:
                assert slot.starts_at == booked_time, f"round {round_number}: a booked session moved silently"
                reminder_times = set(
                    db.session.scalars(sa.select(Reminder.session_starts_at).where(Reminder.booking_id == booking.id))
                )
                assert reminder_times <= {booked_time}
            else:
                assert slot.starts_at == booked_time + timedelta(days=1)


def test_four_reschedules_at_once_with_one_left_move_the_booking_once(app, people):
    candidate = signed_in(app, "sam@example.org")
    for round_number in range(ROUNDS):
        with app.app_context():
            owner = db.session.get(User, people["mentor"])
            sam = db.session.scalar(sa.select(User).where(User.email == "sam@example.org"))
            base = 10 * round_number
            booking = make_booking(make_slot(owner, soon(5, base)), sam)
            targets = [make_slot(owner, soon(5, base + 2 + n)).id for n in range(4)]
            booking_id, sequence = booking.id, booking.sequence
            emails_before = db.session.scalar(
                sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.subject.like("Booking moved%"))
            )
        page = candidate.get(f"/interviews/bookings/{booking_id}/reschedule").get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        responses = run_together(
            [
                (
                    lambda target=target, url=f"/interviews/bookings/{booking_id}/reschedule", version=version: (
                        candidate.post(url, data={"slot_id": target, "version": version})
                    )
                )
                for target in targets
            ]
        )
        assert statuses(responses) == [302, 409, 409, 409], f"round {round_number}"
        with app.app_context():
            booking = db.session.get(Booking, booking_id)
            assert booking.reschedule_count == 1 and booking.sequence == sequence + 1
            assert booking.slot_id in targets and booking.status == BookingStatus.BOOKED
            moved_emails = db.session.scalar(
                sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.subject.like("Booking moved%"))
            )
            assert moved_emails == emails_before + 1


def test_two_admins_editing_one_slot_at_once_change_it_once_and_the_other_is_told(app, people):
    first, second = signed_in(app, "admin@example.org"), signed_in(app, "second-admin@example.org")
    for round_number in range(ROUNDS):
        slot_id = new_slot(app, people, 6 + round_number)  # a day of its own: the edits clash with nothing else
        page = first.get(f"/admin/schedule/slots/{slot_id}/edit").get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        day = re.search(r'name="day"[^>]*value="(\d\d/\d\d/\d{4})"', page).group(1)  # shown day/month/year
        now_at = re.search(r'name="start_time"[^>]*value="(\d\d:\d\d)', page).group(1)
        starts = ("04:00", "04:30") if not now_at.startswith("04") else ("10:00", "10:30")  # both really change it
        edits = [
            {"interview_type": people["type"], "day": day, "start_time": start, "version": version} for start in starts
        ]
        responses = run_together(
            [
                lambda edit=edits[0], url=f"/admin/schedule/slots/{slot_id}/edit": first.post(url, data=edit),
                lambda edit=edits[1], url=f"/admin/schedule/slots/{slot_id}/edit": second.post(url, data=edit),
            ]
        )
        assert statuses(responses) == [302, 409], f"round {round_number}"
        refused = next(response for response in responses if response.status_code == 409).get_data(as_text=True)
        assert "changed by someone else" in refused
        with app.app_context():
            slot = db.session.get(Slot, slot_id)
            assert slot.version == int(version) + 1
