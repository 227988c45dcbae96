"""Races settled by the database: many candidates booking one slot, two mentors' requests publishing at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.interviews.models import Booking, Slot
from tests.conftest import ON_POSTGRES, pass_second_step
from tests.factories import PASSWORD, make_interview_type, make_slot, make_user

CONTENDERS = 20


@pytest.fixture
def settings() -> dict:
    return {
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "BOOKING_RATE_LIMIT": "1000 per hour",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": CONTENDERS + 5, "max_overflow": 5, "pool_pre_ping": True},
    }


def soon(days: float) -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=days)


def run_together(functions):
    """Start every function at the same moment, each in its own thread (and its own connection)."""
    barrier = threading.Barrier(len(functions))

    def go(function):
        barrier.wait(timeout=30)
        return function()

    with ThreadPoolExecutor(max_workers=len(functions)) as pool:
        return list(pool.map(go, functions))


def test_twenty_candidates_booking_one_slot_end_with_one_booking_and_no_500(app):
    with app.app_context():
        mentor = make_user("mentor")
        slot = make_slot(mentor, soon(3))
        slot_id = slot.id
        for backup in range(3):
            make_slot(mentor, soon(4 + backup))
        emails = [make_user(email=f"racer{n}@example.org").email for n in range(CONTENDERS)]
    clients = []
    for email in emails:
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        clients.append(client)

    statuses = run_together(
        [
            (lambda c=client: c.post(f"/interviews/slots/{slot_id}/book", data={"focus_note": "race"}))
            for client in clients
        ]
    )
    codes = sorted(response.status_code for response in statuses)
    assert codes == [302] + [409] * (CONTENDERS - 1)
    losers = [r for r in statuses if r.status_code == 409]
    assert all("Someone booked this slot a moment ago" in r.get_data(as_text=True) for r in losers)
    assert all("/book" in r.get_data(as_text=True) for r in losers)  # alternatives offered
    with app.app_context():
        live = db.session.scalars(sa.select(Booking).where(Booking.slot_id == slot_id)).all()
        assert len(live) == 1 and live[0].status == "booked"


def test_two_publishes_of_overlapping_slots_at_once_create_one(app):
    with app.app_context():
        mentor_id = make_user("mentor", email="m@example.org").id
        type_id = make_interview_type().id
    day = (soon(5)).date().isoformat()
    clients = []
    for _ in range(2):
        client = app.test_client()
        pass_second_step(
            client, client.post("/login", data={"email": "m@example.org", "password": PASSWORD}), "m@example.org"
        )
        clients.append(client)
    responses = run_together(
        [
            (
                lambda c=client, minute=minute: c.post(
                    "/mentor/availability/slot",
                    data={"interview_type": type_id, "day": day, "start_time": f"10:{minute:02d}"},
                )
            )
            for client, minute in zip(clients, (0, 30), strict=True)
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200).get_data(as_text=True)
    assert "clashes" in refused or "a moment ago" in refused
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Slot.id)).where(Slot.mentor_id == mentor_id)) == 1


def test_each_database_guards_against_overlapping_open_slots_itself(app, database_uri):
    """PostgreSQL refuses the row (exclusion constraint); SQLite takes the write lock when a transaction
    begins, so a second writer waits until the first has committed and its check sees the first slot."""
    with app.app_context():
        mentor = make_user("mentor")
        make_slot(mentor, soon(3))
        if ON_POSTGRES:
            with pytest.raises(sa.exc.IntegrityError, match="ex_slots_mentor_no_overlap"):
                make_slot(mentor, soon(3) + timedelta(minutes=30))
            db.session.rollback()
        else:
            db.session.execute(sa.select(1))  # this transaction now holds SQLite's write lock
            other = sa.create_engine(database_uri, connect_args={"timeout": 0.2})
            with pytest.raises(sa.exc.OperationalError, match="locked"), other.connect() as connection:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            other.dispose()
            db.session.rollback()
        make_slot(mentor, soon(3) + timedelta(minutes=30), status="cancelled")  # cancelled ones may overlap
