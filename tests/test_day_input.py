"""Dates are typed and shown day/month/year (14/12/2026) in every form and filter, whatever language the browser
speaks; ISO dates (the portal's own links) still work; anything else gets a message next to the field, never a 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import Flask

from portal.extensions import db
from portal.insights import services as insight_services
from portal.insights.models import InsightArticle
from portal.interviews.models import Slot
from portal.live.models import LiveSession
from portal.timeutil import DayOutOfRange, format_day, parse_day
from portal.waitlist.models import WaitlistEntry
from tests.conftest import logged_in
from tests.factories import make_interview_type, make_slot, make_user

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("clock")

HUGE = "99999999999999999999"
REAL_DATE = "Enter a real date as day/month/year, like 14/12/2026."
HINT = "Day/month/year, like 14/12/2026."
DECEMBER_14 = date(2026, 12, 14)


# The parser and the formatter ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/12/2026", DECEMBER_14),
        ("1/3/2027", date(2027, 3, 1)),
        ("01/03/2027", date(2027, 3, 1)),
        ("14-12-2026", DECEMBER_14),
        ("14.12.2026", DECEMBER_14),
        ("14 12 2026", DECEMBER_14),
        ("14 / 12 / 2026", DECEMBER_14),
        ("  14/12/2026 ", DECEMBER_14),
        ("2026-12-14", DECEMBER_14),  # ISO: the portal's links and older bookmarks
        ("29/02/2028", date(2028, 2, 29)),
        ("1/1/2000", date(2000, 1, 1)),
        ("31/12/2100", date(2100, 12, 31)),
    ],
)
def test_parse_day_reads_day_month_year_with_any_separator_and_iso(text, expected):
    assert parse_day(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12/31/2026",  # month first, as an American browser would show it
        "31/02/2027",
        "29/02/2027",
        "0/12/2026",
        "14/0/2026",
        "14/12/26",  # a two-digit year
        "14/12/20266",
        "2026/12/14",
        "14//12/2026",
        "14/12-2026x",
        HUGE,
        "9" * 10_000,
        "14/12/2026\n",
        "\t14/12/2026",
        "14/12/2026\x00",
        "14/\x8512/2026",
        "14\u202e/12/2026",
        "١٤/١٢/٢٠٢٦",  # digits, but not the ones the portal reads
        "today",
        "",
        "   ",
    ],
)
def test_parse_day_refuses_anything_else_with_a_message(text):
    with pytest.raises(ValueError, match=re.escape(REAL_DATE)):
        parse_day(text)


@pytest.mark.parametrize("text", ["14/12/1999", "1/1/2101", "0001-01-01", "9999-12-31"])
def test_parse_day_refuses_years_outside_the_services_life(text):
    with pytest.raises(DayOutOfRange, match="Enter a date between 2000 and 2100."):
        parse_day(text)


def test_format_day_writes_two_digit_day_and_month_and_reads_back():
    assert format_day(DECEMBER_14) == "14/12/2026"
    assert format_day(date(2027, 3, 1)) == "01/03/2027"
    assert parse_day(format_day(date(2028, 2, 29))) == date(2028, 2, 29)


# Reading pages -------------------------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.text_of: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        attributes["tag"] = tag
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
            if tag == "div":
                self._open.append(attributes["id"])
                self.text_of[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "div" and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            self.text_of[element_id] += data


def page_elements(html: str) -> _Elements:
    parsed = _Elements()
    parsed.feed(html)
    return parsed


def assert_date_input(html: str, field_id: str, value: str) -> None:
    """The field is a text input showing `value`, described by its day/month/year hint, with no error."""
    page = page_elements(html)
    field = page.by_id[field_id]
    assert (field["tag"], field.get("type")) == ("input", "text")
    assert field["value"] == value
    assert f"{field_id}-hint" in field["aria-describedby"].split()
    assert HINT in page.text_of[f"{field_id}-hint"]
    assert f"{field_id}-error" not in page.by_id and "aria-invalid" not in field


def assert_refused_next_to_field(response, field_id: str, typed: str, message: str) -> None:
    """A 200 page with `message` next to the field, which is marked invalid, describes the error and keeps what was
    typed."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = page_elements(html)
    field = page.by_id[field_id]
    assert field.get("type") == "text" and field["value"] == typed
    assert field.get("aria-invalid") == "true"
    assert f"{field_id}-error" in field["aria-describedby"].split()
    assert message in page.text_of[f"{field_id}-error"]
    assert f'href="#{field_id}"' in html  # the summary at the top links to the field


# Forms -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(app):
    with app.app_context():
        insight_services.seed_tags()
        mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
        editor = make_user("mentor", email="editor@example.org", name="Edie Editor")
        editor.is_editor = True
        make_user("admin", email="admin@example.org", name="Ada Admin")
        make_user(email="sam@example.org", name="Sam Okafor")
        kind = make_interview_type()
        slot = make_slot(mentor, datetime(2026, 12, 10, 10, 0, tzinfo=UTC), kind)
        article = insight_services.create_article(
            mentor, insight_services.ArticleText("Hiring in London fintech", "What banks ask.", "Words.", ())
        )
        insight_services.submit_article(article, mentor, article.version)
        db.session.commit()
        return {
            "mentor": mentor.id,
            "type": kind.id,
            "slot": slot.id,
            "slot_version": slot.version,
            "article": article.id,
            "article_version": article.version,
        }


def _slot_on(app, day: date) -> bool:
    with app.app_context():
        starts = db.session.scalars(sa.select(Slot.starts_at).where(Slot.status == "open")).all()
        return any(instant.date() == day for instant in starts)


@dataclass(frozen=True)
class DateForm:
    """A form with a date: who fills it in, where, its date fields, the rest of a complete form, how to see that the
    date was taken, and a change that makes something else wrong (so the form comes back)."""

    email: str
    url: Callable[[dict], str]
    dates: tuple[str, ...]
    rest: Callable[[dict], dict]
    took_it: Callable[[Flask, dict, object], bool]
    spoil: dict


FORMS = {
    "one-off slot": DateForm(
        "mentor@example.org",
        lambda w: "/mentor/availability/slot",
        ("day",),
        lambda w: {"interview_type": w["type"], "start_time": "10:00"},
        lambda app, w, response: response.status_code == 302 and _slot_on(app, DECEMBER_14),
        {"interview_type": ""},
    ),
    "weekly series": DateForm(
        "mentor@example.org",
        lambda w: "/mentor/availability/series",
        ("first_date", "last_date"),
        lambda w: {
            "interview_type": w["type"],
            "weekdays": ["1"],
            "window_start": "14:00",
            "window_end": "15:00",
            "buffer_minutes": "0",
            "confirm": "1",
        },
        lambda app, w, response: response.status_code == 302 and _slot_on(app, DECEMBER_14),
        {"interview_type": ""},
    ),
    "admin moves a slot": DateForm(
        "admin@example.org",
        lambda w: f"/admin/schedule/slots/{w['slot']}/edit",
        ("day",),
        lambda w: {"interview_type": w["type"], "start_time": "10:00", "version": w["slot_version"]},
        lambda app, w, response: response.status_code == 302 and _slot_on(app, DECEMBER_14),
        {"interview_type": ""},
    ),
    "admin cancels a range": DateForm(
        "admin@example.org",
        lambda w: "/admin/schedule/bulk-cancel",
        ("first_day", "last_day"),
        lambda w: {"mentor": w["mentor"], "reason": "Mentor away."},
        lambda app, w, response: (
            "Cancelled 0 slots of Priya Shah from 14/12/2026 to 14/12/2026" in response.get_data(as_text=True)
        ),
        {"mentor": ""},
    ),
    "waitlist": DateForm(
        "sam@example.org",
        lambda w: "/waitlist/",
        ("first_date", "last_date"),
        lambda w: {"interview_type": w["type"]},
        lambda app, w, response: response.status_code == 302 and _waitlist_from(app) == DECEMBER_14,
        {"interview_type": ""},
    ),
    "live session": DateForm(
        "admin@example.org",
        lambda w: "/live/new",
        ("day",),
        lambda w: {
            "kind": "panel",
            "title": "Hiring ML engineers in 2027",
            "speakers": "Three hiring managers",
            "description": "",
            "start_time": "18:00",
            "end_time": "19:00",
            "capacity": "30",
            "meeting_mode": "video",
            "meeting_url": "",
            "dial_in": "",
            "place": "",
        },
        lambda app, w, response: response.status_code == 302 and _live_session_day(app) == DECEMBER_14,
        {"title": ""},
    ),
    "scheduled article": DateForm(
        "editor@example.org",
        lambda w: f"/insights/{w['article']}/publish",
        ("publish_on",),
        lambda w: {"version": w["article_version"], "publish_time": "09:00"},
        lambda app, w, response: response.status_code == 302 and _publish_day(app, w) == DECEMBER_14,
        {"publish_time": "25:00"},
    ),
}


def _waitlist_from(app) -> date | None:
    with app.app_context():
        return db.session.scalar(sa.select(WaitlistEntry.first_date))


def _live_session_day(app) -> date | None:
    with app.app_context():
        starts = db.session.scalar(sa.select(LiveSession.starts_at))
        return starts.date() if starts else None


def _publish_day(app, world) -> date | None:
    with app.app_context():
        publish_at = db.session.get(InsightArticle, world["article"]).publish_at
        return publish_at.date() if publish_at else None


@pytest.mark.parametrize("typed", ["14/12/2026", "2026-12-14", "14.12.2026"])
@pytest.mark.parametrize("name", FORMS)
def test_every_date_form_takes_day_month_year_and_iso(app, world, name, typed):
    form = FORMS[name]
    response = logged_in(app, form.email).post(
        form.url(world), data={**form.rest(world), **dict.fromkeys(form.dates, typed)}
    )
    assert form.took_it(app, world, response), response.get_data(as_text=True)[:3000]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12/31/2026", REAL_DATE),
        ("31/02/2027", REAL_DATE),
        (HUGE, REAL_DATE),
        ("14/12/26", REAL_DATE),
        ("14/12/2026\r\n", REAL_DATE),
        ("14/12/1999", "Enter a date between 2000 and 2100."),
    ],
)
@pytest.mark.parametrize("name", FORMS)
def test_every_date_form_refuses_other_dates_next_to_the_field(app, world, name, typed, message):
    form = FORMS[name]
    data = {**form.rest(world), **dict.fromkeys(form.dates, "14/12/2026"), form.dates[0]: typed}
    response = logged_in(app, form.email).post(form.url(world), data=data)
    assert_refused_next_to_field(response, form.dates[0], typed, message)


@pytest.mark.parametrize("name", FORMS)
def test_a_date_given_in_iso_comes_back_day_month_year_when_something_else_is_wrong(app, world, name):
    form = FORMS[name]
    data = {**form.rest(world), **dict.fromkeys(form.dates, "2026-12-14"), **form.spoil}
    response = logged_in(app, form.email).post(form.url(world), data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for field_id in form.dates:
        assert_date_input(html, field_id, "14/12/2026")


def test_a_form_read_from_the_database_shows_the_date_day_month_year(app, world):
    html = logged_in(app, "admin@example.org").get(f"/admin/schedule/slots/{world['slot']}/edit").get_data(as_text=True)
    assert 'type="date"' not in html
    assert_date_input(html, "day", "10/12/2026")


# Filters in the address ------------------------------------------------------------------------------------------

FILTERS = [
    ("/admin/reports", "from", "to"),
    ("/admin/audit", "from", "to"),
    ("/admin/schedule/bookings", "f-from", "f-to"),
]


@pytest.mark.parametrize(("url", "from_id", "to_id"), FILTERS)
@pytest.mark.parametrize(("first", "last"), [("14/12/2026", "1/2/2027"), ("2026-12-14", "2027-02-01")])
def test_admin_filters_take_day_month_year_and_iso_and_show_day_month_year(
    app, world, url, from_id, to_id, first, last
):
    response = logged_in(app, "admin@example.org").get(url, query_string={"from": first, "to": last})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'type="date"' not in html and "must be a real date" not in html
    assert_date_input(html, from_id, "14/12/2026")
    assert_date_input(html, to_id, "01/02/2027")


@pytest.mark.parametrize(("url", "from_id", "to_id"), FILTERS)
@pytest.mark.parametrize("typed", ["12/31/2026", "31/02/2027", HUGE, "14/12/2026\x00"])
def test_admin_filters_refuse_other_dates_next_to_the_field(app, world, url, from_id, to_id, typed):
    response = logged_in(app, "admin@example.org").get(url, query_string={"from": typed, "to": "2027-02-01"})
    assert_refused_next_to_field(response, from_id, typed, "From must be a real date, like 14/12/2026.")
    assert_date_input(response.get_data(as_text=True), to_id, "01/02/2027")


def test_a_report_range_far_away_is_refused_next_to_the_field(app, world):
    response = logged_in(app, "admin@example.org").get("/admin/reports?from=2026-12-01&to=31/12/2101")
    assert_refused_next_to_field(response, "to", "31/12/2101", "To must be between 2000 and 2100.")


def test_the_report_range_shows_its_default_dates_day_month_year(app, world):
    html = logged_in(app, "admin@example.org").get("/admin/reports").get_data(as_text=True)
    assert_date_input(html, "from", "06/10/2026")  # eight weeks before today, 1 December 2026
    assert_date_input(html, "to", "01/12/2026")
    assert "from=2026-10-06" in html  # the CSV links keep ISO


def test_the_waitlist_lists_a_places_dates_day_month_year(app, world):
    candidate = logged_in(app, "sam@example.org")
    candidate.post("/waitlist/", data={"interview_type": world["type"], "first_date": "14/12/2026"})
    assert "14/12/2026 to any time" in candidate.get("/waitlist/").get_data(as_text=True)


def test_an_article_is_scheduled_at_the_local_time_on_the_day_typed(app, world):
    """09:00 in London is 09:00 UTC in December."""
    editor = logged_in(app, "editor@example.org")
    editor.post(
        f"/insights/{world['article']}/publish",
        data={"version": world["article_version"], "publish_on": "14/12/2026", "publish_time": "09:00"},
    )
    with app.app_context():
        assert db.session.get(InsightArticle, world["article"]).publish_at == datetime.combine(
            DECEMBER_14, time(9), tzinfo=UTC
        )
