"""Dates in a browser that speaks American English: the fields are text fields showing and taking day/month/year
(a date input would be drawn mm/dd/yyyy by the browser, whatever the page's language). Checked with axe-core."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.interviews.models import Slot
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_interview_type
from tests.test_browser import log_in
from tests.test_browser_interviews import flash

pytestmark = pytest.mark.browser

TYPE_NAME = "Technical: Python and ML fundamentals"
LONDON = ZoneInfo("Europe/London")
HINT = "Day/month/year, like 14/12/2026."
REAL_DATE = "Enter a real date as day/month/year, like 14/12/2026."


@pytest.fixture
def us_page(browser, live_server):
    """A page in a browser whose language is American English."""
    context = browser.new_context(base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def assert_day_field(page, field_id: str) -> None:
    """A text field (not a date input) with the day/month/year hint read with it."""
    field = page.locator(f"#{field_id}")
    assert field.get_attribute("type") == "text"
    assert page.locator(f"#{field_id}-hint").inner_text().strip() == HINT
    assert f"{field_id}-hint" in field.get_attribute("aria-describedby").split()


def test_a_mentor_and_an_admin_type_day_month_year_in_an_american_browser(app, make, us_page):
    page = us_page
    make.user("mentor", email="priya@example.org", name="Priya Shah")
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    with app.app_context():
        make_interview_type(TYPE_NAME)
        db.session.commit()

    log_in(page, "priya@example.org")
    assert page.evaluate("navigator.language") == "en-US"
    page.goto("/mentor/availability/slot")
    assert_day_field(page, "day")
    assert_accessible(page)

    # Month first, as the browser would have shown it: refused next to the field, and what was typed is kept.
    page.get_by_label("Interview type").select_option(label=f"{TYPE_NAME} (60 min)")
    page.get_by_label("Date", exact=True).fill("12/31/2026")
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Publish slot").click()
    error = page.locator("#day-error")
    error.wait_for()
    assert REAL_DATE in error.inner_text()
    day = page.get_by_label("Date", exact=True)
    assert day.input_value() == "12/31/2026" and day.get_attribute("aria-invalid") == "true"
    assert "day-error" in day.get_attribute("aria-describedby").split()
    assert_accessible(page)

    # Day first, without leading zeros, ten days ahead: published on that day.
    chosen = datetime.now(LONDON).date() + timedelta(days=10)
    day.fill(f"{chosen.day}/{chosen.month}/{chosen.year}")
    page.get_by_role("button", name="Publish slot").click()
    flash(page, "Slot published.")
    with app.app_context():
        starts = db.session.scalars(sa.select(Slot.starts_at)).all()
    assert [instant.astimezone(LONDON).replace(tzinfo=None) for instant in starts] == [
        datetime(chosen.year, chosen.month, chosen.day, 10, 0)
    ]
    page.get_by_role("button", name=re.compile("Log out")).click()
    page.get_by_text("You have logged out.").wait_for()

    # The admin's report range: shown day/month/year, typed day/month/year, the CSV links keep ISO.
    log_in(page, "alex@example.org")
    page.goto("/admin/reports")
    assert_day_field(page, "from")
    assert_day_field(page, "to")
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", page.locator("#from").input_value())
    page.locator("#from").fill("12/31/2026")
    page.get_by_role("button", name="Show").click()
    page.locator("#from-error").wait_for()
    assert "From must be a real date, like 14/12/2026." in page.locator("#from-error").inner_text()
    assert page.locator("#from").get_attribute("aria-invalid") == "true"
    assert_accessible(page)

    page.locator("#from").fill("14/12/2026")
    page.locator("#to").fill("31/12/2026")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"from=14%2F12%2F2026"))
    page.get_by_text("Sessions from 14 December 2026 to 31 December 2026").wait_for()
    assert page.locator("#from").input_value() == "14/12/2026"
    assert page.locator("#to").input_value() == "31/12/2026"
    assert page.locator("#from-error").count() == 0
    assert "from=2026-12-14" in page.get_by_role("link", name="bookings", exact=True).get_attribute("href")
    assert_accessible(page)
