"""The signed-in workspace in a real browser (1280 px and 360 px, axe-core on every page, the clock pinned):
a candidate books from the month calendar with the keyboard only and joins from their home page inside the
15-minute window; the booking page warns inside the cancellation cutoff; a mentor publishes a series, skipping the
slot that clashes; each role's home page shows its own items."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from portal.auth.models import User
from portal.extensions import db
from portal.interviews.models import MeetingLink, Slot
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in
from tests.test_browser_interviews import tab_to

pytestmark = pytest.mark.browser

NOW = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in London
START = datetime(2026, 10, 22, 13, 0, tzinfo=UTC)  # Thursday 14:00 in London
LINK = "https://meet.example.org/priya-shah"


@pytest.fixture
def world(app, make):
    priya = make.user("mentor", email="priya@example.org", name="Priya Shah")
    tom = make.user("mentor", email="tom@example.org", name="Tom Okafor")
    make.user("candidate", email="sam@example.org", name="Sam Taylor")
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    with app.app_context():
        technical = make_interview_type("Technical: Python and ML fundamentals")
        db.session.add(MeetingLink(mentor_id=priya.id, url=LINK))
        db.session.commit()
        ids = {
            "soon": make_slot(priya, NOW + timedelta(hours=20), technical).id,  # Wednesday, inside the 24-hour cutoff
            "thursday": make_slot(priya, START, technical).id,
            "monday": make_slot(tom, NOW + timedelta(days=6), technical).id,
        }
    return ids


def small_page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    context.route(f"{LINK}**", lambda route: route.fulfill(content_type="text/html", body="<title>Room</title>"))
    return context, context.new_page()


def focused_label(page) -> str:
    return page.evaluate("document.activeElement.getAttribute('aria-label') || document.activeElement.innerText")


def test_book_from_the_calendar_by_keyboard_then_join_from_the_home_page(app, world, page, browser, live_server):
    with time_machine.travel(NOW, tick=True):
        log_in(page, "sam@example.org")
        page.goto("/interviews/slots")
        page.get_by_role("heading", level=1, name="Book a mock interview").wait_for()
        assert_accessible(page)
        # Tab into the calendar; the arrows move between days that have open slots.
        tab_to(page, "el => el.matches('a.day.has-slots')")
        assert focused_label(page).startswith("21 October: 1 open slot")
        page.keyboard.press("ArrowRight")
        assert focused_label(page).startswith("22 October: 1 open slot")
        page.keyboard.press("ArrowDown")  # Thursday 29 has nothing: the next week's Monday is not below either
        page.keyboard.press("ArrowLeft")
        assert focused_label(page).startswith("21 October")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"day=2026-10-22#slot-times$"))  # the times, updated in place
        assert page.locator("td.chosen a.day").get_attribute("aria-current") == "date"
        assert "1 open time." in page.locator("#slot-times").inner_text()
        page.get_by_role("link", name=re.compile(r"^Book .*Thu 22 Oct 2026")).wait_for()
        assert page.evaluate("document.activeElement.matches('#slot-times .slot-list a[href*=\"/book\"]')")
        assert_accessible(page)

        page.keyboard.press("Enter")  # focus is on the day's first time
        page.get_by_role("heading", level=1, name="Book this session").wait_for()
        assert page.locator(".cutoff-warning").count() == 0  # two days ahead: changeable online
        tab_to(page, "el => el.id === 'focus_note'")
        page.keyboard.type("Explaining bias and variance")
        tab_to(page, "el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Confirm booking'")
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="Your session is booked").wait_for()
        assert_accessible(page)

    with time_machine.travel(START - timedelta(minutes=20), tick=False):
        page.goto("/")
        page.get_by_role("heading", level=1, name="Your career workspace").wait_for()
        assert page.get_by_role("link", name=re.compile("^Join now")).count() == 0
        assert "In 20 minutes." in page.locator(".countdown").inner_text()

    with time_machine.travel(START - timedelta(minutes=10), tick=True):
        page.goto("/")
        join = page.get_by_role("link", name=re.compile("^Join now"))
        join.wait_for()
        assert join.get_attribute("href") == LINK
        assert_accessible(page)
        context, phone = small_page(browser, live_server)
        try:
            log_in(phone, "sam@example.org")
            join = phone.get_by_role("link", name=re.compile("^Join now"))
            join.wait_for()
            assert join.is_visible() and phone.evaluate("document.documentElement.scrollWidth") <= 360
            assert_accessible(phone)
            with phone.expect_popup() as opened:
                join.click()
            assert opened.value.url == LINK
        finally:
            context.close()


def test_the_booking_page_warns_inside_the_cancellation_cutoff(app, world, page):
    with time_machine.travel(NOW, tick=True):
        log_in(page, "sam@example.org")
        page.goto(f"/interviews/slots/{world['soon']}/book")
        warning = page.locator(".cutoff-warning")
        warning.wait_for()
        assert "This session starts in less than 24 hours." in warning.inner_text()
        assert "you will not be able to cancel or reschedule it online" in warning.inner_text()
        assert_accessible(page)
        page.goto(f"/interviews/slots/{world['monday']}/book")
        page.get_by_role("heading", level=1, name="Book this session").wait_for()
        assert page.locator(".cutoff-warning").count() == 0


def test_a_mentor_previews_a_series_sees_the_clash_and_publishes_the_rest(app, world, page):
    with time_machine.travel(NOW, tick=True):
        log_in(page, "priya@example.org")
        page.goto("/mentor/availability/series")
        page.get_by_label("Interview type").select_option(label="Technical: Python and ML fundamentals (60 min)")
        page.get_by_label("Thursday").check()
        page.get_by_label("Daily window starts").fill("13:00")
        page.get_by_label("Daily window ends").fill("16:00")
        page.get_by_label("First date").fill("2026-10-22")
        page.get_by_label("Last date").fill("2026-10-29")
        page.get_by_role("button", name="Preview slots").click()
        summary = page.locator(".clash-summary")
        summary.wait_for()
        # 13:00, 14:15 on two Thursdays; 14:15 on the 22nd meets the existing 14:00 slot.
        assert "1 of the 4 slots clash" in summary.inner_text()
        clash = page.locator(".preview-list li.clashes")
        assert clash.count() == 1 and "Thu 22 Oct 2026, 14:15 BST" in clash.inner_text()
        assert_accessible(page)
        page.get_by_role("button", name="Publish the 3 slots that do not clash").click()
        page.get_by_text("3 slots published. 1 that clashed with existing slots were skipped.").wait_for()
        assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 360])
def test_each_role_sees_their_own_home_page(app, world, browser, live_server, width):
    with app.app_context():
        sam = db.session.scalar(db.select(User).filter_by(email="sam@example.org"))
        priya = db.session.scalar(db.select(User).filter_by(email="priya@example.org"))
        make_booking(db.session.get(Slot, world["thursday"]), sam)
        make_booking(make_slot(priya, NOW - timedelta(days=3)), sam)  # feedback overdue
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    expected = {
        "sam@example.org": ("Your career workspace", ["Your next session", "Latest feedback", "Your CV", "Next steps"]),
        "priya@example.org": (
            "Your mentoring workspace",
            ["This week's sessions", "Feedback to write", "CV reviews waiting"],
        ),
        "alex@example.org": (
            "Career services at a glance",
            [
                "Today across all mentors",
                "Sessions without feedback after 48 hours",
                "CV reviews unclaimed for over 3 days",
                "Failed emails",
                "Waiting for a slot",
            ],
        ),
    }
    try:
        with time_machine.travel(START - timedelta(hours=2), tick=True):
            for email, (title, sections) in expected.items():
                log_in(page, email)
                page.get_by_role("heading", level=1, name=title).wait_for()
                headings = [" ".join(h.split()) for h in page.locator("main h2").all_inner_texts()]
                for section in sections:
                    assert any(h.startswith(section) for h in headings), (email, section, headings)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, email
                assert_accessible(page)
                context.clear_cookies()
            log_in(page, "priya@example.org")
            agenda = page.locator("section[aria-labelledby=agenda-title]").inner_text()
            assert "Today, Thursday 22 October" in agenda and "Sam Taylor" in agenda
            assert f"Video call: {LINK}" in agenda  # how to join, on the first screen
            assert page.locator("section[aria-labelledby=agenda-title] a.meeting-link").is_visible()
            overdue = page.locator("section[aria-labelledby=write-title]").inner_text()
            assert "5 days ago, overdue" in overdue
    finally:
        context.close()
