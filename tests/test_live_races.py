"""Seats at a live session are never oversold: many candidates registering at once, and seats given up while others
register, each request in its own thread with its own connection."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.live.models import LiveRegistration, LiveSession
from tests.conftest import logged_in
from tests.factories import make_user
from tests.test_live import make_session
from tests.test_races import run_together

CONTENDERS = 50
SEATS = 20
ROUNDS = 5


@pytest.fixture
def settings() -> dict:
    return {
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "BOOKING_RATE_LIMIT": "1000 per hour",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": CONTENDERS + 5, "max_overflow": 5, "pool_pre_ping": True},
    }


def statuses(session_id: int) -> Counter:
    return Counter(
        db.session.scalars(sa.select(LiveRegistration.status).where(LiveRegistration.session_id == session_id))
    )


def test_fifty_candidates_registering_at_once_for_twenty_seats_get_twenty_seats_and_thirty_waitlist_places(app):
    with app.app_context():
        emails = [make_user(email=f"racer{n}@example.org").email for n in range(CONTENDERS)]
    clients = [logged_in(app, email) for email in emails]
    for _ in range(ROUNDS):  # a new session each round, the same fifty people rushing for it
        with app.app_context():
            session_id = make_session(capacity=SEATS).id

        url = f"/live/{session_id}/register"
        responses = run_together([(lambda c=client, u=url: c.post(u)) for client in clients])

        assert [response.status_code for response in responses] == [302] * CONTENDERS
        with app.app_context():
            assert statuses(session_id) == {"registered": SEATS, "waitlisted": CONTENDERS - SEATS}
        page = clients[0].get(f"/live/{session_id}").get_data(as_text=True)
        assert "Full: new registrations join the waitlist" in page


def test_seats_given_up_while_others_register_are_never_oversold_and_go_to_the_first_in_line(app):
    with app.app_context():
        session_id = make_session(capacity=10).id
        holders = [make_user(email=f"holder{n}@example.org").email for n in range(10)]
        waiting = [make_user(email=f"waiting{n}@example.org").email for n in range(10)]
        newcomers = [make_user(email=f"new{n}@example.org").email for n in range(15)]
    holder_clients = [logged_in(app, email) for email in holders]
    for client in holder_clients:
        client.post(f"/live/{session_id}/register")
    for email in waiting:  # join the line one after another, so the order is known
        logged_in(app, email).post(f"/live/{session_id}/register")
    newcomer_clients = [logged_in(app, email) for email in newcomers]

    leavers = holder_clients[:5]
    responses = run_together(
        [(lambda c=client: c.post(f"/live/{session_id}/cancel-registration")) for client in leavers]
        + [(lambda c=client: c.post(f"/live/{session_id}/register")) for client in newcomer_clients]
    )

    assert all(response.status_code == 302 for response in responses)
    with app.app_context():
        assert statuses(session_id) == {"registered": 10, "waitlisted": 20, "cancelled": 5}
        seated = set(
            db.session.scalars(
                sa.select(User.email)
                .join(LiveRegistration.candidate)
                .where(LiveRegistration.session_id == session_id, LiveRegistration.status == "registered")
            )
        )
        # The five freed seats went to the first five who were waiting before, never to a newcomer.
        assert seated == set(holders[5:]) | set(waiting[:5])
        assert db.session.get(LiveSession, session_id).capacity == 10
