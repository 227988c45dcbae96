"""A person leaving while something is being given to them: closing the account while a booking is made for them,
while they register for a live session, or while a freed slot is offered to them from the waitlist. The closing holds
its locks while the other transaction starts; whatever the order, nothing stays live on a closed account.

PostgreSQL runs the two truly at once (the second is seen waiting in pg_stat_activity, or finishing without
waiting, which is the bug these tests guard against); SQLite's writers take turns, and the same assertions hold.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.interviews import services as interview_services
from portal.interviews.models import Booking, Slot
from portal.live import services as live_services
from portal.live.models import LiveRegistration, LiveSession
from portal.privacy.erasure import close_account
from portal.statuses import BookingStatus, SeatStatus
from portal.waitlist import services as waitlist_services
from portal.waitlist.models import WaitlistEntry
from tests.factories import make_booking, make_interview_type, make_slot, make_user
from tests.races import LockWatch, in_thread

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
ROUNDS = 3

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def mentor_id(app):
    with app.app_context():
        make_interview_type()
        return make_user("mentor", email="priya@example.org", name="Priya Shah").id


def close_while(app, user_id: int, second) -> tuple[str, list]:
    """Close the account and hold its locks while `second` runs in another transaction; then commit."""
    with app.app_context(), LockWatch() as watch:
        user = db.session.get(User, user_id)
        close_account(user, user)
        thread, outcome = in_thread(app, second)
        how = watch.wait_for(thread)
        db.session.commit()
        thread.join(15)
        assert not thread.is_alive()
        return how, outcome


def test_a_booking_made_while_the_account_closes_is_refused(app, mentor_id):
    for round_number in range(ROUNDS):
        with app.app_context():
            candidate_id = make_user(email=f"sam{round_number}@example.org", name="Sam Taylor").id
            slot_id = make_slot(db.session.get(User, mentor_id), NOW + timedelta(days=3, hours=2 * round_number)).id

        def book(candidate_id=candidate_id, slot_id=slot_id):
            interview_services.book_slot(db.session.get(User, candidate_id), slot_id, "Feature stores")

        how, outcome = close_while(app, candidate_id, book)
        assert how == "waiting"  # the booking waits for the person's lock
        assert "This account is closed, so it cannot book sessions." in str(outcome[0])
        with app.app_context():
            live = db.session.scalars(
                sa.select(Booking).where(Booking.candidate_id == candidate_id, Booking.status == BookingStatus.BOOKED)
            ).all()
            assert live == []
            assert db.session.get(Slot, slot_id).status == "open"


def test_a_live_session_seat_taken_while_the_account_closes_is_refused(app, mentor_id):
    with app.app_context():
        session = LiveSession(
            kind="talk",
            title="Hiring in ML",
            speakers="A. Speaker",
            starts_at=NOW + timedelta(days=5),
            ends_at=NOW + timedelta(days=5, hours=1),
            capacity=20,
            meeting_mode="video",
        )
        db.session.add(session)
        db.session.commit()
        session_id = session.id
    for round_number in range(ROUNDS):
        with app.app_context():
            candidate_id = make_user(email=f"jo{round_number}@example.org", name="Jo Lee").id

        def register(candidate_id=candidate_id):
            live_services.register(db.session.get(LiveSession, session_id), db.session.get(User, candidate_id))

        how, outcome = close_while(app, candidate_id, register)
        assert how == "waiting", "the registration went ahead without waiting for the closing"
        assert "This account is closed, so it cannot register for sessions." in str(outcome[0])
        with app.app_context():
            seats = db.session.scalars(
                sa.select(LiveRegistration).where(
                    LiveRegistration.candidate_id == candidate_id,
                    LiveRegistration.status.in_((SeatStatus.REGISTERED, SeatStatus.WAITLISTED)),
                )
            ).all()
            assert seats == []


def test_a_freed_slot_is_never_offered_to_a_person_whose_account_just_closed(app, mentor_id):
    for round_number in range(ROUNDS):
        starts = NOW + timedelta(days=4, hours=2 * round_number)
        with app.app_context():
            mentor = db.session.get(User, mentor_id)
            holder = make_user(email=f"holder{round_number}@example.org", name="Ada Lovelace")
            leaving = make_user(email=f"leaving{round_number}@example.org", name="Lee Leaving")
            next_in_line = make_user(email=f"next{round_number}@example.org", name="Nia Next")
            slot = make_slot(mentor, starts)
            booking_id = make_booking(slot, holder).id
            for person in (leaving, next_in_line):  # first in line, then the next
                waitlist_services.join(person, slot.interview_type_id, None, None, None)
                db.session.commit()
            holder_id, leaving_id, next_id, slot_id = holder.id, leaving.id, next_in_line.id, slot.id

        def cancel_and_offer(booking_id=booking_id, holder_id=holder_id):
            holder = db.session.get(User, holder_id)
            interview_services.cancel_booking(db.session.get(Booking, booking_id), holder, "Something came up")

        how, outcome = close_while(app, leaving_id, cancel_and_offer)
        assert outcome == ["committed"], outcome
        with app.app_context():
            holds = dict(
                db.session.execute(
                    sa.select(Booking.candidate_id, Booking.status).where(
                        Booking.slot_id == slot_id, Booking.status == BookingStatus.HELD
                    )
                ).all()
            )
            assert leaving_id not in holds, how
            assert holds == {next_id: BookingStatus.HELD}  # the slot went to the next in line at once
            places = dict(
                db.session.execute(
                    sa.select(WaitlistEntry.candidate_id, WaitlistEntry.status).where(
                        WaitlistEntry.candidate_id.in_((leaving_id, next_id))
                    )
                ).all()
            )
            assert places == {leaving_id: "left", next_id: "offered"}
