"""The address people are told to write to comes from one setting (CONTACT_EMAIL): the pages that send people to the
career services team, the emails, and the privacy and accessibility pages that quote it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import logged_in
from tests.factories import make_booking, make_slot, make_user

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
CONTACT = "help-desk@bootcamp.example"

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def settings() -> dict:
    return {"CONTACT_EMAIL": CONTACT}


def test_the_pages_past_the_cutoff_name_the_configured_address(app):
    with app.app_context():
        mentor = make_user("mentor", email="priya@example.org", name="Priya Shah")
        sam = make_user(email="sam@example.org", name="Sam Taylor")
        booking_id = make_booking(make_slot(mentor, NOW + timedelta(hours=5)), sam).id  # inside the 24-hour cutoff
    client = logged_in(app, "sam@example.org")
    for path in (
        f"/interviews/bookings/{booking_id}",
        f"/interviews/bookings/{booking_id}/cancel",
        f"/interviews/bookings/{booking_id}/reschedule",
        "/interviews/bookings",
    ):
        page = client.get(path).get_data(as_text=True)
        assert CONTACT in page and "careers@example.org" not in page, path
    refused = client.post(f"/interviews/bookings/{booking_id}/cancel", data={"reason": "ill"})
    assert f"or the career services team at {CONTACT}." in refused.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/privacy", "/accessibility"])
def test_the_privacy_and_accessibility_pages_quote_the_configured_address(app, path):
    page = app.test_client().get(path).get_data(as_text=True)
    assert CONTACT in page and "careers@example.org" not in page and "{CONTACT_EMAIL}" not in page
