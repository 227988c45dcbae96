"""Booking from a calendar: the month grid, the chosen day's times, "next available", and the cutoff warning."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import logged_in as as_user
from tests.factories import make_interview_type, make_slot, make_user

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)  # Tuesday 20 October 2026, 10:00 in London

pytestmark = pytest.mark.usefixtures("clock")


def day_cell(page: str, label: str) -> str:
    """The calendar cell whose accessible name starts with `label` ("22 October")."""
    match = re.search(r'<td class="([^"]*)">\s*<(a|span)([^>]*aria-label="' + re.escape(label) + r'[^"]*"[^>]*)>', page)
    assert match, label
    return match.group(0)


@pytest.fixture
def world(app):
    with app.app_context():
        priya = make_user("mentor", email="priya@example.org", name="Priya Shah")
        tom = make_user("mentor", email="tom@example.org", name="Tom Okafor")
        make_user(email="sam@example.org", name="Sam Taylor")
        technical = make_interview_type("Technical: Python and ML fundamentals")
        design = make_interview_type("ML system design")
        make_interview_type("Behavioural")  # nothing open
        for hours in (0, 2, 4):
            make_slot(priya, NOW + timedelta(days=2, hours=hours), technical)  # three on Thursday 22
        make_slot(tom, NOW + timedelta(days=6), design)  # Monday 26
        make_slot(tom, NOW + timedelta(hours=3), design)  # today, inside the 12-hour notice: not bookable
        make_slot(priya, NOW + timedelta(days=61), technical)  # beyond the 60-day horizon
        make_slot(priya, NOW + timedelta(days=20, hours=1), design)  # Monday 9 November
        return {"priya": priya.id, "tom": tom.id, "technical": technical.id, "design": design.id}


def test_the_month_marks_days_with_open_slots_today_and_the_booking_window(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots").get_data(as_text=True)
    assert '<h2 class="h6 mb-0" id="calendar-title">October 2026</h2>' in page
    thursday = day_cell(page, "22 October")
    assert 'aria-label="22 October: 3 open slots"' in thursday and 'href="/interviews/slots?from=2026-10-22' in thursday
    assert 'aria-label="26 October: 1 open slot"' in day_cell(page, "26 October")
    today = day_cell(page, "20 October")
    assert "today" in today and "<span" in today and "no open slots, today" in today  # the slot today is too soon
    assert "beyond" in day_cell(page, "19 October") and "not open for booking" in day_cell(page, "19 October")
    assert "Previous month" not in page and "Next month" in page


def test_a_later_month_and_the_horizon(app, world):
    client = as_user(app, "sam@example.org")
    november = client.get("/interviews/slots?month=2026-11-01").get_data(as_text=True)
    assert "November 2026" in november and "Previous month" in november
    assert 'aria-label="9 November: 1 open slot"' in day_cell(november, "9 November")
    december = client.get("/interviews/slots?month=2026-12-01").get_data(as_text=True)
    # 19 December is the last day inside the 60-day horizon; the slot on the 20th is not offered.
    assert "Next month" not in december
    assert "not open for booking" in day_cell(december, "20 December")
    assert "no open slots" in day_cell(december, "19 December")
    past = client.get("/interviews/slots?month=2025-01-01").get_data(as_text=True)
    assert "October 2026" in past


def test_choosing_a_day_lists_its_times_and_keeps_the_filters(app, world):
    client = as_user(app, "sam@example.org")
    page = client.get(f"/interviews/slots?type={world['technical']}&from=2026-10-22&to=2026-10-22").get_data(
        as_text=True
    )
    assert "3 open slots" in page
    assert 'class="chosen"' in page or " chosen" in day_cell(page, "22 October")
    assert 'aria-current="date"' in day_cell(page, "22 October")
    assert f"/interviews/slots?type={world['technical']}&amp;from=2026-10-26" not in page  # no technical slot that day
    assert "Monday 26 October" not in page


def test_a_month_that_is_not_a_date_is_explained_not_a_server_error(app, world):
    response = as_user(app, "sam@example.org").get("/interviews/slots?month=2026-13-45")
    assert response.status_code == 200
    assert "Month" in response.get_data(as_text=True)


def test_next_available_per_interview_type_and_per_mentor(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots").get_data(as_text=True)
    section = page[page.index('id="next-title"') :]
    section = section[: section.index("</section>")]
    assert "Technical: Python and ML fundamentals" in section and "ML system design" in section
    assert "Behavioural" not in section
    assert f'href="/interviews/slots?type={world["technical"]}&amp;from=2026-10-22&amp;to=2026-10-22"' in section
    assert f'href="/interviews/slots?type={world["design"]}&amp;from=2026-10-26&amp;to=2026-10-26"' in section
    assert re.search(r"Priya Shah \(next: Thu 22 Oct 2026, 10:00 BST\)", page)
    assert re.search(r"Tom Okafor \(next: Mon 26 Oct 2026, 09:00 GMT\)", page)


def test_the_booking_page_warns_when_the_slot_is_inside_the_cancellation_cutoff(app, world):
    with app.app_context():
        from portal.auth.models import User
        from portal.extensions import db

        priya = db.session.get(User, world["priya"])
        soon = make_slot(priya, NOW + timedelta(hours=20)).id
        later = make_slot(priya, NOW + timedelta(days=3)).id
    client = as_user(app, "sam@example.org")
    warned = client.get(f"/interviews/slots/{soon}/book").get_data(as_text=True)
    assert "This session starts in less than 24 hours." in warned
    assert "you will not be able to cancel or reschedule it online" in warned
    assert "less than 24 hours" not in client.get(f"/interviews/slots/{later}/book").get_data(as_text=True)
