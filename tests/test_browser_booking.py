"""Booking in one step, in a real browser: choosing a day updates its times in place and leads the keyboard to the
first time; a whole keyboard booking takes at most 20 keys; one day's times under the calendar on a phone; the limit
on upcoming sessions said before anyone starts a booking; the time-zone switcher beside the times; focus on the
confirmation after booking. Every page visited is checked with axe-core.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.auth.models import User
from portal.extensions import db
from portal.interviews.models import Slot
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in

pytestmark = pytest.mark.browser

TYPE_NAME = "Technical: Python and ML fundamentals"
LONDON = ZoneInfo("Europe/London")
KEY_BUDGET = 20  # Calendly and Cal.com take 10 to 15


def seed_days(app, mentors, days: int, per_day: int) -> list[int]:
    """`per_day` one-hour slots a day for `days` days from two days ahead, shared out between `mentors`."""
    first = datetime.now(UTC).astimezone(LONDON).replace(hour=9, minute=0, second=0, microsecond=0)
    first = first.astimezone(UTC) + timedelta(days=2)
    with app.app_context():
        interview_type = make_interview_type(TYPE_NAME)
        ids = []
        for day in range(days):
            for index in range(per_day):
                mentor = mentors[index % len(mentors)]
                starts = first + timedelta(days=day, hours=index * 1.25)
                ids.append(make_slot(mentor, starts, interview_type).id)
        return ids


class Keyboard:
    """Presses keys on a page and counts them (typed text is not counted)."""

    def __init__(self, page) -> None:
        self.page = page
        self.presses = 0

    def press(self, key: str) -> None:
        self.presses += 1
        self.page.keyboard.press(key)

    def tab_to(self, predicate_js: str, limit: int = 30) -> None:
        check = f"({predicate_js})(document.activeElement)"
        for _ in range(limit):
            self.press("Tab")
            if self.page.evaluate(check):
                return
        pytest.fail(f"{limit} presses of Tab never focused an element matching {predicate_js} on {self.page.url}")


def wait_until(page, predicate_js: str, seconds: float = BROWSER_TIMEOUT_MS / 1000) -> None:
    """Poll `predicate_js` (a function of no arguments) in the page until it holds; fail after `seconds`. (The
    page's CSP forbids the string evaluation that Playwright's wait_for_function uses.)"""
    deadline = time.monotonic() + seconds
    while not page.evaluate(predicate_js):
        if time.monotonic() > deadline:
            pytest.fail(f"never true on {page.url}: {predicate_js}")
        page.wait_for_timeout(25)


def active(page, expression: str = "el => el.outerHTML.slice(0, 200)"):
    return page.evaluate(f"({expression})(document.activeElement)")


def test_a_keyboard_booking_takes_at_most_twenty_keys_and_a_day_updates_its_times_in_place(app, make, page):
    priya = make.user("mentor", name="Priya Shah")
    tom = make.user("mentor", name="Tom Okafor")
    make.user("candidate", email="sam@example.org", name="Sam Okafor")
    seed_days(app, [priya, tom], days=5, per_day=4)
    log_in(page, "sam@example.org")
    page.goto("/interviews/slots")
    page.get_by_role("heading", level=1, name="Book a mock interview").wait_for()
    assert_accessible(page)
    first_day = page.locator("#times-title").inner_text()
    # The times come before "Next available" in the reading order, right after the calendar.
    order = page.evaluate(
        """() => {
          const [calendar, times, next] = ["slot-calendar", "slot-times", "next-available"]
            .map((id) => document.getElementById(id));
          return Boolean(calendar.compareDocumentPosition(times) & Node.DOCUMENT_POSITION_FOLLOWING)
            && Boolean(times.compareDocumentPosition(next) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    assert order
    page.evaluate("window.stillTheSamePage = true")

    keys = Keyboard(page)
    keys.press("Tab")
    assert active(page, "el => el.textContent") == "Skip to main content"
    keys.press("Enter")
    keys.tab_to("el => el.matches('a.day')")
    chosen = active(page, "el => el.getAttribute('href')")
    keys.press("ArrowRight")  # the next day with open slots
    next_day = active(page, "el => el.getAttribute('href')")
    assert next_day != chosen and "day=" in next_day
    keys.press("Enter")
    wait_until(page, "() => document.activeElement.matches('#slot-times .slot-list a')")
    assert page.evaluate("window.stillTheSamePage") is True  # updated in place, not loaded again
    assert page.locator("#times-title").inner_text() != first_day
    assert "day=" in page.url
    assert page.locator(".calendar-grid a.day[aria-current='date']").get_attribute("href") == next_day
    chosen_day = re.search(r"day=(\d{4})-(\d\d)-(\d\d)", next_day).groups()
    assert page.locator("#filter-day").input_value() == "/".join(reversed(chosen_day))  # the date field follows
    assert_accessible(page)

    keys.press("Enter")
    page.wait_for_url(re.compile(r"/interviews/slots/\d+/book#booking-form$"))
    page.get_by_role("heading", level=1, name="Book this session").wait_for()
    keys.tab_to("el => el.id === 'focus_note'", limit=5)
    page.keyboard.type("Designing a feature store")
    keys.tab_to("el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Confirm booking'", limit=5)
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/interviews/bookings/\d+$"))
    confirmation = page.get_by_role("heading", name="Your session is booked")
    confirmation.wait_for()
    wait_until(page, "() => document.activeElement.id === 'booking-confirmed'")
    ring = page.evaluate(
        """() => { const style = getComputedStyle(document.activeElement);
                   return [style.outlineStyle, style.outlineWidth, style.boxShadow]; }"""
    )
    assert ring == ["solid", "2px", "none"]  # a modest ring, not the controls' heavy yellow and black one
    main = page.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('main')); return [s.outlineStyle, s.boxShadow]; }"
    )
    assert main == ["none", "none"]
    assert page.locator(".focus-note").inner_text() == "Designing a feature store"
    assert_accessible(page)
    print(f"a keyboard booking took {keys.presses} keys")
    assert keys.presses <= KEY_BUDGET, f"a keyboard booking took {keys.presses} keys"


def test_without_javascript_choosing_a_day_loads_the_page_at_its_times(app, make, browser, live_server):
    priya = make.user("mentor", name="Priya Shah")
    make.user("candidate", email="sam@example.org", name="Sam Okafor")
    seed_days(app, [priya], days=3, per_day=2)
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, "sam@example.org")
        page.goto("/interviews/slots")
        days = page.locator(".calendar-grid a.day")
        assert days.count() == 3
        first_title = page.locator("#times-title").inner_text()
        days.nth(1).click()
        page.wait_for_url(re.compile(r"day=\d{4}-\d\d-\d\d#slot-times$"))
        assert page.locator("#times-title").inner_text() != first_title
        assert page.locator("#slot-times .slot-item").count() == 2  # (axe needs JavaScript: the page is checked above)
    finally:
        context.close()


def test_on_a_phone_the_slot_page_shows_one_days_times_under_the_calendar(app, make, browser, live_server):
    mentors = [make.user("mentor", name=f"Mentor {n}") for n in range(3)]
    make.user("candidate", email="sam@example.org", name="Sam Okafor")
    seed_days(app, mentors, days=12, per_day=5)  # 60 open slots over 12 days
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, "sam@example.org")
        page.goto("/interviews/slots")
        assert page.locator("#slot-times .slot-item").count() == 5  # one day's times, not every day's
        calendar_bottom = page.evaluate("document.getElementById('slot-calendar').getBoundingClientRect().bottom")
        times_top = page.evaluate("document.getElementById('slot-times').getBoundingClientRect().top")
        assert times_top >= calendar_bottom  # under the calendar
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 3200, f"the slot page is {height} px long on a phone"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert_accessible(page)
        # Tapping another day updates the times under the calendar.
        page.locator(".calendar-grid a.day").nth(2).click()
        wait_until(page, "() => document.activeElement.matches('#slot-times .slot-list a')")
        assert page.locator("#slot-times .slot-item").count() == 5
        assert_accessible(page)
    finally:
        context.close()


def test_a_candidate_at_the_limit_is_told_at_the_top_and_cannot_start_a_booking(app, make, page):
    priya = make.user("mentor", name="Priya Shah")
    sam = make.user("candidate", email="sam@example.org", name="Sam Okafor")
    slot_ids = seed_days(app, [priya], days=3, per_day=2)
    with app.app_context():
        for slot_id in slot_ids[:2]:  # the policy's default limit is two
            make_booking(db.session.get(Slot, slot_id), sam)
    log_in(page, "sam@example.org")
    page.goto("/interviews/slots")
    limit = page.locator(".booking-limit")
    limit.get_by_role("heading", name="You already have 2 upcoming sessions, the most you can hold at once").wait_for()
    assert limit.get_by_role("link", name=re.compile(f"^{re.escape(TYPE_NAME)} with Priya Shah")).count() == 2
    assert limit.get_by_role("link", name="Cancel this session").count() == 2
    assert limit.get_by_role("link", name="join the waitlist").is_visible()
    # It is the first thing in the page's content, before the filters and the times.
    assert page.evaluate(
        "Boolean(document.querySelector('.booking-limit').compareDocumentPosition(document.querySelector('.filter-form'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert page.locator("#slot-times .slot-item").count() >= 1  # the times can still be seen
    assert page.locator("#slot-times").get_by_role("link", name=re.compile(r"^Book\b")).count() == 0
    assert_accessible(page)


def test_the_time_zone_switcher_beside_the_times_is_remembered(app, make, page):
    priya = make.user("mentor", name="Priya Shah")
    sam = make.user("candidate", email="sam@example.org", name="Sam Okafor")
    seed_days(app, [priya], days=2, per_day=1)
    log_in(page, "sam@example.org")
    page.goto("/interviews/slots")
    times = page.locator("#slot-times")
    assert re.search(r"\b09:00 (GMT|BST)\b", times.inner_text())
    times.get_by_label("Show times in").select_option("America/New_York")
    times.get_by_role("button", name="Change time zone").click()
    page.get_by_text("Times are now shown in America/New York.").wait_for()
    assert re.search(r"\b0[34]:00 (EST|EDT)\b", page.locator("#slot-times").inner_text())
    assert page.url.endswith("/interviews/slots#slot-times")
    assert_accessible(page)
    with app.app_context():
        assert db.session.get(User, sam.id).timezone == "America/New_York"
    page.goto("/account")
    assert page.get_by_label("Time zone").input_value() == "America/New_York"
