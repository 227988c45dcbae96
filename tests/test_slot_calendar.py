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
    assert re.search(r'<h2 class="[^"]*" id="calendar-title" tabindex="-1">October 2026</h2>', page)
    thursday = day_cell(page, "22 October")
    assert (
        'aria-label="22 October: 3 open slots"' in thursday
        and 'href="/interviews/slots?day=2026-10-22#slot-times"' in thursday
    )
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
    page = client.get(f"/interviews/slots?type={world['technical']}&day=2026-10-22").get_data(as_text=True)
    assert "3 open times." in page and "Thursday 22 October 2026" in page
    assert " chosen" in day_cell(page, "22 October")
    assert 'aria-current="date"' in day_cell(page, "22 October")
    assert f"/interviews/slots?type={world['technical']}&amp;day=2026-10-26" not in page  # no technical slot that day
    assert "Monday 26 October" not in page


def test_addresses_of_the_old_from_and_to_filters_still_choose_their_day(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots?from=2026-10-26&to=2026-10-26").get_data(as_text=True)
    assert "Monday 26 October 2026" in page and "1 open time." in page and "with Tom Okafor" in page


def times_section(page: str) -> str:
    section = page[page.index('id="slot-times"') :]
    return section[: section.index('id="next-available"')]


def test_only_one_day_of_times_is_shown_the_first_with_open_slots_when_none_is_chosen(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots").get_data(as_text=True)
    times = times_section(page)
    assert "Thursday 22 October 2026" in times and times.count('class="slot-item') == 3
    assert "Monday 26 October" not in times.split("other-days")[0]  # only as the link to the next day
    assert 'href="/interviews/slots?day=2026-10-26#slot-times"' in times  # the next day with open times
    assert " chosen" in day_cell(page, "22 October")


def test_the_earlier_and_later_days_with_open_times_link_to_each_other(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots?day=2026-10-26").get_data(as_text=True)
    times = times_section(page)
    assert "Monday 26 October 2026" in times and "with Tom Okafor" in times
    assert 'href="/interviews/slots?day=2026-10-22#slot-times"' in times and "the day before with open times" in times
    assert "the next day with open times" not in times  # 9 November is on the next month's page
    page = as_user(app, "sam@example.org").get("/interviews/slots?day=2026-10-22").get_data(as_text=True)
    earlier = times_section(page)
    assert 'href="/interviews/slots?day=2026-10-26#slot-times"' in earlier and "the next day with open times" in earlier
    assert "the day before with open times" not in earlier


def test_a_day_without_open_times_says_so_and_offers_the_next_day_and_the_waitlist(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots?day=2026-10-23").get_data(as_text=True)
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", times_section(page)))
    assert "No open times on Friday 23 October 2026." in said
    assert "The next day with open times is Monday 26 October" in said and "join the waitlist" in said


def test_moving_to_another_month_lists_its_first_day_with_open_times(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots?month=2026-11-01").get_data(as_text=True)
    times = times_section(page)
    assert "Monday 9 November 2026" in times and "with Priya Shah" in times


@pytest.mark.parametrize("typed", ["22/10/2026", "22-10-2026", "2026-10-22"])
def test_the_date_field_takes_day_month_year(app, world, typed):
    page = as_user(app, "sam@example.org").get(f"/interviews/slots?day={typed}").get_data(as_text=True)
    assert "Thursday 22 October 2026" in times_section(page)
    assert 'value="22/10/2026"' in page and "Day/month/year, like 14/12/2026" in page


@pytest.mark.parametrize("typed", ["10/22/2026", "31/02/2027", "someday", "9" * 30])
def test_a_date_that_is_not_a_day_is_explained_next_to_the_field(app, world, typed):
    response = as_user(app, "sam@example.org").get("/interviews/slots", query_string={"day": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = re.search(r'<div id="filter-day-error"[^>]*>(.*?)</div>', page)
    assert error and "Date must be a real date, like 14/12/2026." in error.group(1)
    field = re.search(r'<input [^>]*id="filter-day"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field and "filter-day-error" in field


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
    assert f'href="/interviews/slots?type={world["technical"]}&amp;day=2026-10-22#slot-times"' in section
    assert f'href="/interviews/slots?type={world["design"]}&amp;day=2026-10-26#slot-times"' in section
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


def test_a_day_gone_by_or_beyond_the_horizon_says_so_and_leads_to_the_first_open_day(app, world):
    client = as_user(app, "sam@example.org")
    past = times_section(client.get("/interviews/slots?day=01/10/2026").get_data(as_text=True))
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", past))
    assert (
        "Thursday 1 October 2026 has passed." in said and "The first day with open times is Thursday 22 October" in said
    )
    far = times_section(client.get("/interviews/slots?day=01/01/2030").get_data(as_text=True))
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", far))
    assert (
        "Tuesday 1 January 2030 is too far ahead: sessions can be booked at most 60 days ahead, until 19 December 2026."
        in said
    )
    assert 'href="/interviews/slots?day=2026-10-22#slot-times"' in far


def test_a_month_without_open_times_says_so_and_does_not_list_another_months_day(app, world):
    page = as_user(app, "sam@example.org").get("/interviews/slots?month=2026-12-01").get_data(as_text=True)
    times = times_section(page)
    said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", times))
    assert "No open times in December 2026. The first day with open times is Thursday 22 October" in said
    assert "slot-item" not in times and "highlighted" not in page
