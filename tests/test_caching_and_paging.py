"""What keeps pages fast at a bootcamp's size, as people see it: shared-cache headers and 304s on public pages,
fingerprinted static files, lists cut into pages, reads that never wait for a writer, report figures that follow
the data."""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal.auth.models import User
from portal.extensions import db
from portal.interviews.models import Booking
from tests.conftest import ON_POSTGRES, logged_in
from tests.factories import make_booking, make_interview_type, make_slot, make_user

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("clock")


# Public pages and static files ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/guide", "/faq", "/privacy", "/accessibility"])
def test_public_pages_carry_validators_and_answer_a_conditional_get_with_304(client, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_an_edit_changes_the_public_pages_validator(app, make):
    make.user("admin", email="admin@example.org")
    visitor = app.test_client()
    before = visitor.get("/guide").headers["ETag"]
    admin = logged_in(app, "admin@example.org")
    response = admin.post(
        "/admin/content/guide", data={"title": "The guide", "description": "About", "body": "New text.", "save": "y"}
    )
    assert response.status_code == 302
    after = visitor.get("/guide", headers={"If-None-Match": before})
    assert after.status_code == 200 and "New text." in after.get_data(as_text=True)
    assert after.headers["ETag"] != before


def test_signed_in_pages_and_pages_with_a_message_are_never_shared(app, make, client):
    make.user(email="sam@example.org")
    signed_in = logged_in(app, "sam@example.org")
    response = signed_in.get("/")
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    signed_in.post("/logout")  # leaves "You are logged out" waiting for the next page
    with_message = signed_in.get("/")
    assert "public" not in with_message.headers.get("Cache-Control", "")
    assert "ETag" not in with_message.headers


def test_static_files_are_fingerprinted_and_cached_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert urls and all(re.search(r"\?v=[0-9a-f]{12}$", url) for url in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    stale = client.get(urls[0].split("?")[0] + "?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")


# Lists -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["99999999999999999999", "100001", "１２"])
def test_absurd_page_numbers_are_a_404_or_the_first_page_never_a_500(app, make, page):
    make.user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")
    for path in ("/admin/users", "/admin/audit", "/admin/mail", "/admin/schedule/bookings", "/notifications/"):
        status = admin.get(f"{path}?page={page}").status_code
        assert status in (200, 404), (path, status)


def test_a_page_past_the_end_of_a_counted_list_shows_the_last_page(app, make):
    make.user("admin", email="admin@example.org", name="Alex Admin")
    admin = logged_in(app, "admin@example.org")
    response = admin.get("/admin/users?page=40")
    assert response.status_code == 200 and "Alex Admin" in response.get_data(as_text=True)


def _sessions(app, count: int, first_day: int) -> dict:
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
        candidate = make_user(email="sam@example.org", name="Sam Taylor")
        kind = make_interview_type()
        for n in range(count):
            slot = make_slot(mentor, NOW + timedelta(days=first_day, hours=2 * n), kind)
            make_booking(slot, candidate)
        return {"mentor": mentor.id, "candidate": candidate.id}


def test_a_mentors_upcoming_sessions_come_ten_to_a_page(app):
    _sessions(app, 12, first_day=2)
    mentor = logged_in(app, "mentor@example.org")
    first = mentor.get("/mentor/schedule").get_data(as_text=True)
    assert first.count('class="agenda-item"') == 10 and "Upcoming session pages" in first
    second = mentor.get("/mentor/schedule?upcoming=2").get_data(as_text=True)
    assert second.count('class="agenda-item"') == 2


def test_admin_finds_a_candidates_bookings_by_part_of_their_name_or_email(app, make):
    ids = _sessions(app, 2, first_day=2)
    with app.app_context():
        other = make_user(email="jo@example.org", name="Jo Lee")
        mentor = db.session.get(User, ids["mentor"])
        make_booking(make_slot(mentor, NOW + timedelta(days=9)), other)
    make.user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")
    page = admin.get("/admin/schedule/bookings").get_data(as_text=True)
    assert 'name="candidate"' not in page and 'type="search" id="f-q" name="q"' in page  # no list of every candidate
    by_name = admin.get("/admin/schedule/bookings?q=taylor").get_data(as_text=True)
    assert "2 bookings." in by_name and "Jo Lee" not in by_name
    by_email = admin.get("/admin/schedule/bookings?q=JO%40example").get_data(as_text=True)
    assert "1 booking." in by_email and "Jo Lee" in by_email
    assert "0 bookings." in admin.get("/admin/schedule/bookings?q=%25").get_data(as_text=True)  # % is literal


def test_the_week_view_shows_a_few_mentors_at_a_time(app, make):
    with app.app_context():
        kind = make_interview_type()
        for n in range(6):
            mentor = make_user("mentor", email=f"m{n}@example.org", name=f"Mentor {n}")
            make_slot(mentor, NOW + timedelta(days=1, hours=n), kind)
    make.user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")
    first = admin.get("/admin/schedule/?week=2026-09-28").get_data(as_text=True)
    assert "Mentors with slots this week: 1 to 4 of 6" in first
    assert first.count('class="week-slot ') == 4 and ">Mentor 0</h2>" in first and ">Mentor 5</h2>" not in first
    second = admin.get("/admin/schedule/?week=2026-09-28&mentors=2").get_data(as_text=True)
    assert second.count('class="week-slot ') == 2 and ">Mentor 5</h2>" in second


# Reports ----------------------------------------------------------------------------------------------------


def test_report_figures_follow_the_data_and_say_when_they_were_worked_out(app, make):
    ids = _sessions(app, 1, first_day=-3)
    make.user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")
    url = "/admin/reports?from=2026-09-21&to=2026-10-04"
    first = admin.get(url).get_data(as_text=True)
    assert re.search(r'<tr><td data-label="[^"]*">2026-09-28</td><td data-label="[^"]*">1</td></tr>', first)
    assert "figures as of" in first
    with app.app_context():
        mentor = db.session.get(User, ids["mentor"])
        slot = make_slot(mentor, NOW - timedelta(days=2))
        db.session.add(Booking(slot_id=slot.id, candidate_id=ids["candidate"], uid=f"{uuid.uuid4()}@t"))
        db.session.commit()
    second = admin.get(url).get_data(as_text=True)
    assert re.search(r'<tr><td data-label="[^"]*">2026-09-28</td><td data-label="[^"]*">2</td></tr>', second)


def test_a_report_range_longer_than_two_years_is_shortened_with_a_message(app, make):
    make.user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")
    html = admin.get("/admin/reports?from=2015-01-01&to=2026-10-01").get_data(as_text=True)
    assert "Reports cover at most two years, so this one starts on 2024-09-30." in html


# Reads and writes at the same time ----------------------------------------------------------------------------


def test_a_page_is_served_while_another_connection_holds_the_write_lock(app, make):
    """Pages that only read never wait for a writer (SQLite: WAL and no BEGIN IMMEDIATE for reads)."""
    make.user(email="sam@example.org")
    reader = logged_in(app, "sam@example.org")
    with app.app_context():
        engine = db.engine
    holding = threading.Event()
    release = threading.Event()

    def hold_the_write_lock() -> None:
        with engine.connect() as connection:
            if ON_POSTGRES:
                connection.exec_driver_sql("LOCK TABLE slots, bookings IN EXCLUSIVE MODE")
            else:
                connection.exec_driver_sql("DELETE FROM slots WHERE id < 0")  # takes SQLite's write lock
            holding.set()
            release.wait(timeout=30)
            connection.rollback()

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    try:
        assert holding.wait(timeout=10)
        began = time.monotonic()
        for path in ("/interviews/slots", "/interviews/bookings", "/"):
            assert reader.get(path).status_code == 200
        assert time.monotonic() - began < 5
    finally:
        release.set()
        thread.join(timeout=10)
