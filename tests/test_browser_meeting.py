"""A candidate books a video session and joins it: in a real browser (1280 px and 360 px), checked with axe-core.

The clock is pinned in this process, where the live server runs, so the session page can be opened inside its join
window. The meeting server's pages are answered by the browser itself: the test never leaves the machine.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.extensions import db
from portal.interviews.models import Booking
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_interview_type, make_slot
from tests.test_browser import log_in

pytestmark = pytest.mark.browser

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
START = datetime(2026, 10, 3, 14, 0, tzinfo=UTC)  # Saturday 15:00 in London
ROOMS = re.compile(r"^https://meet\.jit\.si/mock-interview-[A-Za-z0-9_-]{22}$")


def answer_meeting_pages(context) -> None:
    """The meeting server, as far as this test goes: any page under it is a stub."""
    context.route(
        "https://meet.jit.si/**",
        lambda route: route.fulfill(content_type="text/html", body="<!doctype html><title>Meeting room</title>"),
    )


def test_a_candidate_books_a_video_session_and_joins_it_from_15_minutes_before(app, make, browser, live_server):
    mentor = make.user("mentor", email="priya@example.org", name="Priya Shah")  # no link of her own: a room each
    make.user("candidate", email="sam@example.org", name="Sam Taylor")
    with app.app_context():
        technical = make_interview_type()
        technical.preparation = "A laptop with Python 3 and headphones."
        db.session.commit()
        slot_id = make_slot(mentor, START, technical).id

    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    answer_meeting_pages(context)
    page = context.new_page()
    try:
        with time_machine.travel(NOW, tick=True):
            log_in(page, "sam@example.org")
            page.goto(f"/interviews/slots/{slot_id}/book")
            page.get_by_role("heading", level=1, name="Book this session").wait_for()
            assert "Video call" in page.locator(".session-facts").inner_text()
            assert "A laptop with Python 3 and headphones." in page.locator(".preparation").inner_text()
            assert_accessible(page)
            page.get_by_label("Focus for this session").fill("Explaining bias and variance")
            page.get_by_role("button", name="Confirm booking").click()
            page.get_by_role("heading", name="Your session is booked").wait_for()
            booking_url = page.url
            how = page.get_by_role("region", name="How to join")
            room = how.locator(".meeting-link a").get_attribute("href")
            assert ROOMS.match(room)
            assert "appears on this page 15 minutes before the start" in how.inner_text()
            assert page.get_by_role("link", name=re.compile("^Join now")).count() == 0
            assert_accessible(page)
        with app.app_context():
            booking = db.session.scalar(db.select(Booking).where(Booking.slot_id == slot_id))
            assert room.endswith(booking.meeting_room)

        with time_machine.travel(START - timedelta(minutes=16), tick=False):  # 14:44
            page.goto(booking_url)
            page.get_by_role("heading", level=1).wait_for()
            assert page.get_by_role("link", name=re.compile("^Join now")).count() == 0

        with time_machine.travel(START - timedelta(minutes=15), tick=True):  # 14:45
            page.goto(booking_url)
            join = page.get_by_role("link", name=re.compile("^Join now"))
            join.wait_for()
            assert join.get_attribute("href") == room
            assert join.get_attribute("target") == "_blank" and "noopener" in join.get_attribute("rel").split()
            assert "The session starts soon" in page.locator(".join-now").inner_text()
            assert_accessible(page)
            with page.expect_popup() as opened:
                join.click()
            meeting_page = opened.value
            meeting_page.wait_for_load_state()
            assert meeting_page.url == room and meeting_page.title() == "Meeting room"
            assert meeting_page.evaluate("window.opener") is None  # rel="noopener"
            meeting_page.close()

        with time_machine.travel(START + timedelta(minutes=20), tick=True):
            small = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
            small.set_default_timeout(BROWSER_TIMEOUT_MS)
            answer_meeting_pages(small)
            phone = small.new_page()
            try:
                log_in(phone, "sam@example.org")
                phone.goto(booking_url)
                join = phone.get_by_role("link", name=re.compile("^Join now"))
                join.wait_for()
                assert join.is_visible() and join.get_attribute("href") == room
                assert "The session has started" in phone.locator(".join-now").inner_text()
                assert phone.evaluate("document.documentElement.scrollWidth") <= 360
                assert_accessible(phone)
            finally:
                small.close()

        with time_machine.travel(START + timedelta(hours=1), tick=False):  # the end
            page.goto(booking_url)
            page.get_by_role("heading", level=1).wait_for()
            assert page.get_by_role("link", name=re.compile("^Join now")).count() == 0
    finally:
        context.close()
