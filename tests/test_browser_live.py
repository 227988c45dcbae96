"""Live sessions in a real browser: an admin publishes one; a visitor finds it from the navigation, logs in from
its page and takes a seat; a candidate registers and cancels with the keyboard alone, on a desktop and a phone. Every
distinct page reached is checked with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import assert_accessible
from tests.factories import PASSWORD
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out, tab_to
from tests.test_live import make_session

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


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


@pytest.mark.parametrize("width", [1280, 360])
def test_a_candidate_registers_and_cancels_with_the_keyboard_only(app, make, page, width):
    make.user("candidate", email=CANDIDATE, name="Sam Okafor")
    with app.app_context():
        session_id = make_session(capacity=5, title="Hiring ML engineers in Leeds").id
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, CANDIDATE)
    page.goto("/live")
    page.get_by_role("heading", level=1, name="Live industry sessions").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)
    page.goto(f"/live/{session_id}")
    page.get_by_text("5 of 5 seats left").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)

    tab_to(page, "el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Register'")
    page.keyboard.press("Enter")
    flash(page, "You have a seat.")
    page.get_by_text("4 of 5 seats left").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)

    page.once("dialog", lambda dialog: dialog.accept())  # "Give up your place at this session?"
    tab_to(page, "el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Cancel my registration'")
    page.keyboard.press("Enter")
    flash(page, "Your registration is cancelled.")
    page.get_by_text("5 of 5 seats left").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)
