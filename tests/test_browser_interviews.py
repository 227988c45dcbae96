"""Mock-interview journeys in a real browser: publishing availability, booking, moving, cancelling, the admin week.

Every page reached is checked with axe-core (WCAG 2.1 A/AA); one journey runs on a 360 px screen and one with the
keyboard only.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal.extensions import db
from portal.interviews.models import Booking, Slot
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in

pytestmark = pytest.mark.browser

TYPE_NAME = "Technical: Python and ML fundamentals"
LONDON = ZoneInfo("Europe/London")  # every user here keeps the default time zone


def log_out(page) -> None:
    page.get_by_role("button", name=re.compile("Log out")).click()
    page.get_by_text("You have logged out.").wait_for()


def flash(page, text: str):
    """The flash message containing `text` (waits for it)."""
    message = page.locator(".flash-messages").get_by_text(text)
    message.wait_for()
    return message


def seed_slots(app, mentor, count: int) -> list[int]:
    """`count` one-hour slots of `mentor`, two hours apart, from two days ahead (inside notice and horizon)."""
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    with app.app_context():
        interview_type = make_interview_type(TYPE_NAME)
        return [make_slot(mentor, base + timedelta(hours=2 * n), interview_type).id for n in range(count)]


def tab_to(page, predicate_js: str, limit: int = 80) -> None:
    """Press Tab until the JS predicate `el => ...` holds for document.activeElement; fail after `limit` presses."""
    check = f"({predicate_js})(document.activeElement)"
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check):
            return
    pytest.fail(f"{limit} presses of Tab never focused an element matching {predicate_js} on {page.url}")


def test_mentor_publishes_series_candidate_books_reschedules_cancels_admin_sees_week(app, make, page):
    make.user("mentor", email="priya@example.org", name="Priya Shah")
    make.user("candidate", email="sam@example.org", name="Sam Okafor")
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    with app.app_context():
        make_interview_type(TYPE_NAME)

    # Two weekdays, 18:00 to 20:30 with 60-minute sessions and a 15-minute break: 18:00 and 19:15 each day;
    # fourteen days hold each weekday twice, so 2 weekdays x 2 weeks x 2 sessions = 8 slots.
    first = date.today() + timedelta(days=2)
    last = first + timedelta(days=13)
    weekdays = [first.strftime("%A"), (first + timedelta(days=1)).strftime("%A")]
    expected = 8

    # The mentor publishes a weekly series.
    log_in(page, "priya@example.org")
    assert_accessible(page)
    page.get_by_role("link", name="Availability").click()
    page.get_by_role("heading", level=1, name="Your availability").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Publish a weekly series").click()
    page.get_by_role("heading", level=1, name="Publish a weekly series").wait_for()
    assert_accessible(page)
    page.get_by_label("Interview type").select_option(label=f"{TYPE_NAME} (60 min)")
    for weekday in weekdays:
        page.get_by_label(weekday, exact=True).check()
    page.get_by_label("Daily window starts").fill("18:00")
    page.get_by_label("Daily window ends").fill("20:30")
    page.get_by_label("First date").fill(first.isoformat())
    page.get_by_label("Last date").fill(last.isoformat())
    page.get_by_label("Break between sessions (minutes)").fill("15")
    page.get_by_role("button", name="Preview slots").click()
    page.get_by_role("heading", name=f"{expected} slots to publish").wait_for()
    assert page.locator(".preview-list li").count() == expected
    assert_accessible(page)
    page.get_by_role("button", name=f"Publish these {expected} slots").click()
    flash(page, f"{expected} slots published.")
    assert page.locator("tbody tr").count() == expected
    assert_accessible(page)
    log_out(page)
    assert_accessible(page)  # the home page, logged out

    # The candidate books the first slot.
    log_in(page, "sam@example.org")
    assert_accessible(page)
    page.get_by_role("link", name="Book an interview").click()
    page.get_by_role("heading", level=1, name="Book a mock interview").wait_for()
    assert page.get_by_text("2 open times.").is_visible()  # the first day's two sessions
    assert_accessible(page)
    page.locator(".slot-list").get_by_role("link", name=re.compile(r"^Book\b")).first.click()
    page.get_by_role("heading", level=1, name="Book this session").wait_for()
    assert page.locator(".session-facts").get_by_text("Priya Shah").is_visible()
    assert_accessible(page)
    page.get_by_label("Focus for this session").fill("Explaining bias and variance")
    page.get_by_role("button", name="Confirm booking").click()
    page.get_by_role("heading", name="Your session is booked").wait_for()
    page.wait_for_url(re.compile(r"/interviews/bookings/\d+$"))
    booking_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator(".focus-note").inner_text() == "Explaining bias and variance"
    assert_accessible(page)
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        uid, first_slot_id = booking.uid, booking.slot_id

    page.get_by_role("link", name="My interviews", exact=True).click()
    page.get_by_role("heading", level=1, name="My interviews").wait_for()
    card = page.locator(".booking-card")
    assert card.count() == 1
    assert "Priya Shah" in card.inner_text()
    assert_accessible(page)
    with page.expect_download() as download:
        card.get_by_role("link", name="Add to calendar (.ics)").click()
    assert download.value.suggested_filename == f"interview-{booking_id}.ics"
    ics = Path(download.value.path()).read_bytes().decode("utf-8")
    lines = re.sub(r"\r\n[ \t]", "", ics).split("\r\n")  # unfold RFC 5545 continuation lines
    assert lines[0] == "BEGIN:VCALENDAR"
    assert f"UID:{uid}" in lines

    # ... moves it to another slot ...
    card.get_by_role("link", name=re.compile(r"^Reschedule")).click()
    page.get_by_role("heading", level=1, name="Reschedule your session").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name=re.compile(r"^Move here")).first.click()
    page.get_by_role("heading", name="Your session has moved").wait_for()
    assert page.get_by_text("Rescheduled 1 of 2 allowed times.").is_visible()
    with app.app_context():
        moved = db.session.get(Booking, booking_id)
        moved_slot_id = moved.slot_id
        moved_day = moved.slot.starts_at.astimezone(LONDON).date()
    assert moved_slot_id != first_slot_id

    # ... and cancels it.
    page.get_by_role("link", name="Cancel booking").click()
    page.get_by_role("heading", level=1, name="Cancel this booking").wait_for()
    assert_accessible(page)
    page.get_by_label("Reason (optional)").fill("I have a job interview that day.")
    page.get_by_role("button", name="Cancel booking").click()
    flash(page, "The booking is cancelled.")
    page.get_by_role("heading", level=1, name="My interviews").wait_for()
    assert page.get_by_text("You have no upcoming sessions.").is_visible()
    past = page.get_by_role("table", name="Past and cancelled sessions").locator("tbody tr")
    assert past.count() == 1
    assert past.locator(".badge").inner_text() == "Cancelled"
    assert_accessible(page)
    log_out(page)

    # The admin sees the mentor's week and the cancelled booking.
    log_in(page, "alex@example.org")
    assert_accessible(page)
    page.get_by_role("link", name="Schedule", exact=True).click()
    page.get_by_role("heading", level=1, name=re.compile("^Schedule: week of")).wait_for()
    assert_accessible(page)
    mentor_week = page.get_by_role("region", name="Priya Shah's week")
    day = mentor_week.locator(f'td[data-day="{moved_day.isoformat()}"]')
    for _ in range(3):  # the slot is at most a week or two ahead
        if day.count():
            break
        next_week = page.get_by_role("link", name="Next week")
        target = next_week.get_attribute("href")
        next_week.click()
        page.wait_for_url(re.compile(re.escape(target) + "$"))
    row = mentor_week.get_by_role("row").filter(has=page.get_by_role("rowheader", name="19:00"))
    slot = row.locator(f'td[data-day="{moved_day.isoformat()}"] .week-slot')
    assert "19:15" in slot.inner_text()
    # The cancelled booking freed the slot again.
    assert slot.locator(".badge").inner_text() == "Open"
    assert day.locator(".week-slot .badge").all_inner_texts() == ["Open", "Open"]  # 18:00 and 19:15

    page.get_by_role("link", name="Bookings", exact=True).click()
    page.get_by_role("heading", level=1, name="Bookings").wait_for()
    row = page.locator("tbody tr").filter(has_text="Sam Okafor")
    assert row.count() == 1
    assert "Priya Shah" in row.inner_text()
    assert row.locator(".badge").inner_text() == "Cancelled"
    assert_accessible(page)


def test_booking_pages_are_accessible_at_360px(app, make, browser, live_server):
    mentor = make.user("mentor", email="priya@example.org", name="Priya Shah")
    candidate = make.user("candidate", email="sam@example.org", name="Sam Okafor")
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    slot_ids = seed_slots(app, mentor, 4)
    with app.app_context():
        booked_slot = db.session.get(Slot, slot_ids[0])
        booking_id = make_booking(booked_slot, candidate).id
        week = booked_slot.starts_at.astimezone(LONDON).date().isoformat()

    pages = {
        "sam@example.org": [
            "/interviews/slots",
            f"/interviews/slots/{slot_ids[1]}/book",
            "/interviews/bookings",
            f"/interviews/bookings/{booking_id}",
            f"/interviews/bookings/{booking_id}/reschedule",
            f"/interviews/bookings/{booking_id}/cancel",
        ],
        "priya@example.org": ["/mentor/schedule", "/mentor/availability", "/mentor/availability/series"],
        "alex@example.org": ["/admin/schedule/", f"/admin/schedule/?week={week}", "/admin/schedule/bookings"],
    }
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    too_wide: dict[str, int] = {}
    try:
        for email, paths in pages.items():
            context.clear_cookies()
            log_in(page, email)
            for path in paths:
                response = page.goto(path)
                assert response.status == 200, path
                assert_accessible(page)
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 360:
                    too_wide[path] = width
    finally:
        context.close()
    assert too_wide == {}, f"pages wider than 360 px: {too_wide}"


def test_booking_journey_with_keyboard_only(app, make, page):
    mentor = make.user("mentor", name="Priya Shah")
    make.user("candidate", email="sam@example.org", name="Sam Okafor")
    seed_slots(app, mentor, 3)
    log_in(page, "sam@example.org")

    tab_to(page, "el => el.tagName === 'A' && el.textContent.trim() === 'Book an interview'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/interviews/slots$"))
    page.get_by_role("heading", level=1, name="Book a mock interview").wait_for()

    # The skip link is the first stop and moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.get_by_role("link", name="Skip to main content").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    tab_to(page, "el => el.matches('.slot-list a[href*=\"/book\"]')")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/interviews/slots/\d+/book#booking-form$"))
    page.get_by_role("heading", level=1, name="Book this session").wait_for()

    tab_to(page, "el => el.id === 'focus_note'")
    page.keyboard.type("Designing a feature store")
    tab_to(page, "el => el.tagName === 'BUTTON' && el.textContent.trim() === 'Confirm booking'", limit=5)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/interviews/bookings/\d+$"))
    page.get_by_role("heading", name="Your session is booked").wait_for()
    page.get_by_role("heading", level=1, name=TYPE_NAME).wait_for()
    assert page.locator(".focus-note").inner_text() == "Designing a feature store"
    assert page.locator(".session-facts .badge").inner_text() == "Booked"
