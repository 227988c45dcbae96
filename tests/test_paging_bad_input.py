"""Every paginated page answers odd page numbers with a page or a 404, never a 500, for the role that sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import logged_in
from tests.factories import make_booking, make_interview_type, make_slot, make_user

# (who, address, the query-string argument that picks the page); `{booking}` is a future booking of the candidate.
PAGINATED = [
    ("candidate", "/notifications/", "page"),
    ("candidate", "/interviews/slots", "page"),
    ("candidate", "/interviews/bookings", "page"),
    ("candidate", "/interviews/bookings/{booking}/reschedule", "page"),
    ("candidate", "/account/data", "page"),
    ("mentor", "/reviews/queue", "page"),
    ("mentor", "/reviews/queue", "mine"),
    ("mentor", "/feedback/to-write", "page"),
    ("mentor", "/mentor/availability", "page"),
    ("mentor", "/mentor/schedule", "page"),
    ("mentor", "/mentor/schedule", "upcoming"),
    ("admin", "/reviews/all", "page"),
    ("admin", "/admin/users", "page"),
    ("admin", "/admin/mail", "page"),
    ("admin", "/admin/audit", "page"),
    ("admin", "/admin/retention/", "page"),
    ("admin", "/admin/schedule/", "mentors"),
    ("admin", "/admin/schedule/bookings", "page"),
    ("admin", "/admin/schedule/bookings?q=sam", "page"),
]
EMAILS = {"candidate": "sam@example.org", "mentor": "mentor@example.org", "admin": "admin@example.org"}
# What each odd value means: a number far too large is a 404; anything that is not a plain number is page 1.
ODD_PAGES = [("99999999999999999999", 404), ("100001", 404), ("-1", 200), ("abc", 200), ("0", 200), ("１２", 200)]


@pytest.fixture
def booking(app) -> int:
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
        candidate = make_user(email="sam@example.org", name="Sam Taylor")
        make_user("admin", email="admin@example.org")
        kind = make_interview_type()
        soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        make_slot(mentor, soon + timedelta(days=4), kind)
        make_booking(make_slot(mentor, soon - timedelta(days=2), kind), candidate, status="completed")
        return make_booking(make_slot(mentor, soon + timedelta(days=3), kind), candidate).id


@pytest.mark.parametrize(("who", "path", "arg"), PAGINATED, ids=[f"{w}:{p}:{a}" for w, p, a in PAGINATED])
def test_every_paginated_page_answers_odd_page_numbers_without_a_500(app, booking, who, path, arg):
    client = logged_in(app, EMAILS[who])
    address = path.format(booking=booking)
    assert client.get(address).status_code == 200, address
    separator = "&" if "?" in address else "?"
    answers = {value: client.get(f"{address}{separator}{arg}={value}").status_code for value, _ in ODD_PAGES}
    assert answers == dict(ODD_PAGES), address
