"""Whatever people type into addresses and forms gets a page, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import logged_in
from tests.factories import make_booking, make_interview_type, make_slot, make_user

HUGE = "99999999999999999999"


@pytest.fixture
def ids(app):
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
        candidate = make_user(email="sam@example.org")
        make_user("admin", email="admin@example.org")
        kind = make_interview_type()
        past = make_booking(make_slot(mentor, datetime.now(UTC) - timedelta(days=2), kind), candidate, status="no_show")
        make_slot(mentor, datetime.now(UTC) + timedelta(days=3), kind)
        return {"mentor": mentor.id, "type": kind.id, "no_show": past.id}


@pytest.mark.parametrize(
    "path",
    [
        f"/interviews/bookings/{HUGE}",
        f"/interviews/bookings/{HUGE}/calendar.ics",
        f"/cvs/{HUGE}",
        f"/reviews/{HUGE}",
        f"/feedback/sessions/{HUGE}",
        f"/waitlist/offers/{HUGE}",
        f"/admin/users/{HUGE}",
        f"/interviews/slots/{HUGE}/book",
    ],
)
def test_ids_too_big_for_the_database_are_not_found(app, ids, path):
    for email in ("sam@example.org", "admin@example.org"):
        assert logged_in(app, email).get(path).status_code in (403, 404), (email, path)


@pytest.mark.parametrize(
    "query",
    ["type=%C2%B2", f"mentor={HUGE}", "type=-1", "from=9999-12-31&to=9999-12-31", "to=0001-01-01", "from=2026-02-30"],
)
def test_odd_query_strings_still_show_the_slot_browser(app, ids, query):
    response = logged_in(app, "sam@example.org").get(f"/interviews/slots?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/schedule/?week=9999-12-31",
        "/admin/schedule/?week=0001-01-01",
        f"/admin/schedule/bookings?candidate={HUGE}&to=9999-12-31",
        "/admin/reports?from=0001-01-01&to=9999-12-31",
        "/admin/audit?actor=%C2%B2",
        f"/mentor/availability?mentor={HUGE}",
        "/waitlist/?type=%C2%B2",
    ],
)
def test_odd_query_strings_on_admin_pages(app, ids, url):
    email = "sam@example.org" if url.startswith("/waitlist") else "admin@example.org"
    assert logged_in(app, email).get(url).status_code in (200, 302)


def test_dates_far_away_are_refused_next_to_the_field(app, ids):
    mentor = logged_in(app, "mentor@example.org")
    html = mentor.post(
        "/mentor/availability/slot", data={"interview_type": ids["type"], "day": "9999-12-31", "start_time": "23:30"}
    ).get_data(as_text=True)
    assert "Enter a date between 2000 and 2100." in html
    html = mentor.post(
        "/mentor/availability/series",
        data={
            "interview_type": ids["type"],
            "weekdays": ["1"],
            "window_start": "09:00",
            "window_end": "10:00",
            "first_date": "9999-12-20",
            "last_date": "9999-12-31",
            "buffer_minutes": "0",
            "preview": "1",
        },
    ).get_data(as_text=True)
    assert "Enter a date between 2000 and 2100." in html
    html = (
        logged_in(app, "admin@example.org")
        .post(
            "/admin/schedule/bulk-cancel",
            data={"mentor": ids["mentor"], "first_day": "2026-01-01", "last_day": "9999-12-31", "reason": "x"},
        )
        .get_data(as_text=True)
    )
    assert "Enter a date between 2000 and 2100." in html


def test_huge_ids_in_forms_are_refused(app, ids):
    candidate = logged_in(app, "sam@example.org")
    with app.app_context():
        slot_id = db.session.scalar(sa.select(sa.text("id")).select_from(sa.text("slots")).order_by(sa.text("id DESC")))
    assert candidate.post(f"/interviews/slots/{slot_id}/book", data={"cv_document": HUGE}).status_code == 200
    assert candidate.post("/waitlist/", data={"interview_type": HUGE, "mentor": HUGE}).status_code == 200
    admin = logged_in(app, "admin@example.org")
    assert (
        admin.post(
            "/mentor/availability/slot",
            data={"mentor": HUGE, "interview_type": ids["type"], "day": "2026-12-01", "start_time": "10:00"},
        ).status_code
        == 200
    )


def test_a_mentor_with_open_slots_keeps_the_role_until_they_are_cancelled(app, ids):
    admin = logged_in(app, "admin@example.org")
    html = admin.post(f"/admin/users/{ids['mentor']}/role", data={"role": "candidate"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "still has 1 open future slot" in html
    with app.app_context():
        assert db.session.get(User, ids["mentor"]).role == "mentor"


def test_a_no_show_cannot_be_rated(app, ids):
    candidate = logged_in(app, "sam@example.org")
    assert "Rate this session" not in candidate.get(f"/feedback/sessions/{ids['no_show']}").get_data(as_text=True)
    html = candidate.post(
        f"/feedback/sessions/{ids['no_show']}/rate", data={"score": "1"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Only a session that took place can be rated." in html


def test_saving_a_page_without_a_description_field_works(app, ids):
    response = logged_in(app, "admin@example.org").post(
        "/admin/content/guide", data={"title": "Guide", "body": "Words.", "save": "1"}
    )
    assert response.status_code == 302


def test_opening_an_invitation_link_does_not_log_anyone_out(app, ids, outbox):
    import re

    admin = logged_in(app, "admin@example.org")
    admin.post("/admin/invitations/new", data={"name": "Tom", "email": "tom@example.org"})
    link = re.search(r"/invitation/\S+", outbox("tom@example.org")[-1].body_text).group(0)
    assert admin.get(link).status_code == 200
    assert admin.get("/admin/").status_code == 200


NUMBER_OF_400_DIGITS = "9" * 400


def test_numbers_of_hundreds_of_digits_are_refused_next_to_the_field(app, ids):
    """WTForms' own range check turns the number into a float and fails with an OverflowError; ours compares whole
    numbers, so each form shows its message."""
    admin = logged_in(app, "admin@example.org")
    policy = {
        "min_notice_hours": NUMBER_OF_400_DIGITS,
        "horizon_days": "30",
        "max_upcoming": "1",
        "cancel_cutoff_hours": "6",
        "max_reschedules": "0",
    }
    answer = admin.post("/admin/policy", data=policy)
    assert answer.status_code == 200
    assert "Enter a whole number from 0 to 168." in answer.get_data(as_text=True)

    answer = admin.post(
        "/admin/interview-types/new",
        data={"name": "Pairing", "duration_minutes": NUMBER_OF_400_DIGITS, "description": "x", "active": "y"},
    )
    assert answer.status_code == 200
    assert "The duration must be from 15 to 240 minutes." in answer.get_data(as_text=True)

    mentor = logged_in(app, "mentor@example.org")
    answer = mentor.post(
        "/mentor/availability/series",
        data={
            "interview_type": ids["type"],
            "weekdays": ["1"],
            "window_start": "09:00",
            "window_end": "10:00",
            "first_date": "2026-12-01",
            "last_date": "2026-12-20",
            "buffer_minutes": NUMBER_OF_400_DIGITS,
            "preview": "1",
        },
    )
    assert answer.status_code == 200
    assert "The break must be between 0 and 240 minutes." in answer.get_data(as_text=True)
