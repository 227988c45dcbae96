"""Live sessions in a real browser: an admin publishes one; a visitor finds it from the navigation, logs in from
its page and takes a seat. Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import assert_accessible
from tests.factories import PASSWORD
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

ADMIN, CANDIDATE = "alex@example.org", "sam@example.org"


def test_admin_publishes_a_session_and_a_visitor_logs_in_from_it_and_takes_a_seat(make, page):
    make.user("admin", email=ADMIN, name="Alex Morgan")
    make.user("candidate", email=CANDIDATE, name="Sam Okafor")
    day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()

    log_in(page, ADMIN)
    page.goto("/live/new")
    assert_accessible(page)
    page.get_by_label("Title").fill("Shipping models at a bank")
    page.get_by_label("Speakers").fill("Priya Shah (ML lead)")
    page.get_by_label("Date").fill(day)
    page.get_by_label("Start time").fill("18:00")
    page.get_by_label("End time").fill("19:00")
    page.get_by_label("Seats").fill("0")
    page.get_by_role("button", name="Save session").click()
    page.get_by_role("link", name="Enter a number of seats from 1 to 10,000.").wait_for()
    assert_accessible(page)
    page.get_by_label("Seats").fill("25")
    page.get_by_role("button", name="Save session").click()
    flash(page, "The session is published.")
    assert_accessible(page)
    log_out(page)

    page.goto("/")
    page.get_by_role("link", name="Live sessions").first.click()
    page.get_by_role("heading", level=1, name="Live industry sessions").wait_for()
    page.get_by_text("25 of 25 seats left").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Shipping models at a bank").click()
    page.get_by_role("link", name="Log in to register").click()
    page.get_by_label("Email address").fill(CANDIDATE)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/live/\d+$"))
    page.get_by_role("button", name="Register").click()
    flash(page, "You have a seat.")
    page.get_by_text("24 of 25 seats left").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Live sessions").first.click()
    page.get_by_role("link", name="My live sessions").click()
    page.get_by_role("cell", name="Registered").wait_for()
    assert_accessible(page)
