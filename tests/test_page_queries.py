"""Every page of the speed benchmark sends the same few SQL statements with a little data and with a lot, and the
queries behind the busiest pages use their indexes on both databases."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.cvs.models import CVDocument, CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from portal.interviews import services
from portal.interviews.models import Booking, Slot
from portal.notifications.models import Notification
from tests.conftest import ON_POSTGRES, pass_second_step
from tests.factories import make_booking, make_interview_type, make_slot, make_user

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
MOST_STATEMENTS = 10


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def people(app):
    with app.app_context():
        ids = {
            "admin": make_user("admin", email="admin@example.org").id,
            "mentor": make_user("mentor", email="mentor@example.org").id,
            "other_mentor": make_user("mentor", email="other@example.org").id,
            "candidate": make_user(email="sam@example.org").id,
            "type": make_interview_type().id,
            "second_type": make_interview_type("Behavioural", 45).id,
        }
    return ids


_numbers = itertools.count()


def add_rows(app, people: dict, count: int) -> None:
    """`count` of everything the benchmarked pages list: slots past and future (a third booked, in every status),
    published feedback with ratings, CV versions with reviews waiting and done, notifications, other candidates."""
    with app.app_context():
        emails = [f"learner{next(_numbers)}@example.org" for _ in range(count)]
        db.session.execute(
            sa.insert(User),
            [{"email": email, "name": email.split("@")[0].title(), "password_hash": "x"} for email in emails],
        )
        candidates = [people["candidate"], *db.session.scalars(sa.select(User.id).where(User.email.in_(emails)))]
        for index in range(count):
            n = next(_numbers)
            mentor = (people["mentor"], people["other_mentor"])[index % 2]
            kind = (people["type"], people["second_type"])[index % 2]
            starts = NOW + timedelta(days=-30 + (index % 60), hours=n % 11, minutes=7 * (n % 5))
            slot = Slot(mentor_id=mentor, interview_type_id=kind, starts_at=starts, ends_at=starts + timedelta(hours=1))
            db.session.add(slot)
            db.session.flush()
            candidate = candidates[index % len(candidates)]
            if index % 3 == 0:
                past = starts < NOW
                status = ("completed", "no_show", "cancelled")[index % 9 // 3] if past else "booked"
                booking = Booking(slot_id=slot.id, candidate_id=candidate, status=status, uid=f"{uuid.uuid4()}@test")
                db.session.add(booking)
                db.session.flush()
                if status == "completed":
                    db.session.add(
                        SessionFeedback(
                            booking_id=booking.id,
                            mentor_id=mentor,
                            status="published",
                            score_python=1 + n % 5,
                            readiness="nearly",
                            published_at=starts + timedelta(hours=2),
                        )
                    )
                    db.session.add(SessionRating(booking_id=booking.id, candidate_id=candidate, score=1 + n % 5))
            document = CVDocument(
                candidate_id=candidate,
                name=f"Version {n}",
                original_filename="cv.pdf",
                media_type="application/pdf",
                size_bytes=1000,
                sha256="0" * 64,
                storage_key=f"key{n:08d}abcdefghij",
                extracted_text="Python " * 200,
            )
            db.session.add(document)
            db.session.flush()
            status = ("requested", "claimed", "completed")[index % 3]
            db.session.add(
                CVReview(
                    candidate_id=candidate,
                    cv_document_id=document.id,
                    document_name=document.name,
                    target_role="MLE",
                    status=status,
                    reviewer_id=None if status == "requested" else people["mentor"],
                    completed_at=utcnow() if status == "completed" else None,
                )
            )
            for user in (people["candidate"], people["mentor"], people["admin"]):
                db.session.add(Notification(user_id=user, message=f"Notice {n}"))
        db.session.commit()


PAGES = {
    None: ["/", "/guide", "/faq"],
    "sam@example.org": [
        "/",
        "/interviews/slots",
        "/interviews/slots?type={type}&from=2026-10-02&to=2026-10-16&mentor={mentor}",
        "/interviews/bookings",
        "/feedback/progress",
    ],
    "mentor@example.org": ["/", "/mentor/schedule", "/reviews/queue"],
    "admin@example.org": [
        "/",
        "/admin/schedule/?week=2026-09-01",
        "/admin/reports",
        "/admin/reports?from=2024-10-01&to=2026-10-01",
        "/admin/users",
        "/admin/schedule/bookings",
        "/admin/schedule/bookings?q=learner",
    ],
}


def statements_per_page(app, people, count_queries) -> dict[str, int]:
    counts = {}
    for email, urls in PAGES.items():
        client = app.test_client()
        if email:
            response = client.post("/login", data={"email": email, "password": "correct horse battery"})
            assert pass_second_step(client, response, email).status_code == 302
        for template in urls:
            url = template.format(**people)
            with count_queries() as statements:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[f"{email}: {url}"] = len([s for s in statements if not s.startswith(("BEGIN", "PRAGMA"))])
    return counts


def add_sessions_this_week(app, people: dict) -> None:
    """A session booked this week and a slot still open, so that even the small data set has something in the
    mentor's agenda and on the slot browser's first day (a list that is empty sends no statement for its rows)."""
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        make_booking(make_slot(mentor, NOW + timedelta(days=1, hours=3)), db.session.get(User, people["candidate"]))
        make_slot(mentor, NOW + timedelta(days=2, hours=3))


def test_every_benchmarked_page_sends_the_same_few_statements_with_5_and_300_rows(app, people, count_queries):
    add_sessions_this_week(app, people)
    add_rows(app, people, 5)
    few = statements_per_page(app, people, count_queries)
    add_rows(app, people, 295)
    many = statements_per_page(app, people, count_queries)
    assert few == many
    assert max(many.values()) <= MOST_STATEMENTS, many


def test_long_lists_show_one_page_and_a_link_to_the_next(app, people):
    add_rows(app, people, 180)
    admin = app.test_client()
    pass_second_step(
        admin,
        admin.post("/login", data={"email": "admin@example.org", "password": "correct horse battery"}),
        "admin@example.org",
    )
    first = admin.get("/admin/schedule/bookings").get_data(as_text=True)
    assert "bookings on this page; there are more on the next page." in first
    assert "page=2" in first
    assert admin.get("/admin/schedule/bookings?page=2").status_code == 200
    assert admin.get("/admin/schedule/bookings?page=99").status_code == 404
    mentor = app.test_client()
    pass_second_step(
        mentor,
        mentor.post("/login", data={"email": "mentor@example.org", "password": "correct horse battery"}),
        "mentor@example.org",
    )
    queue = mentor.get("/reviews/queue").get_data(as_text=True)
    assert queue.count('action="/reviews/') <= 25 and "Queue pages" in queue


# Query plans ----------------------------------------------------------------------------------------


def plan_of(statement: sa.Select) -> str:
    """The database's plan for a statement as sent, as text; on PostgreSQL with sequential scans discouraged, so
    that the plan shows whether an index *can* serve the query (with a handful of test rows a scan is cheaper)."""
    sent: list = []

    def capture(conn, cursor, text, parameters, context, executemany):
        sent.append((text, parameters))

    connection = db.session.connection()
    if ON_POSTGRES:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        connection.execute(statement).all()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    text, parameters = sent[-1]
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.execute(("EXPLAIN " if ON_POSTGRES else "EXPLAIN QUERY PLAN ") + text, parameters)
    return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_the_slot_browser_finds_taken_slots_through_an_index(app, people):
    add_rows(app, people, 30)
    with app.app_context():
        plan = plan_of(services.bookable_slots_query(services.get_policy(), NOW))
        assert "ix_bookings_slot_status" in plan or "uq_bookings_live_slot" in plan, plan
        assert "SCAN bookings" not in plan and "Seq Scan on bookings" not in plan, plan


def test_reports_and_the_bookings_list_read_sessions_by_time_through_an_index(app, people):
    add_rows(app, people, 30)
    with app.app_context():
        in_range = sa.select(sa.func.count(Booking.id)).join(Slot, Slot.id == Booking.slot_id)
        in_range = in_range.where(Slot.starts_at >= NOW - timedelta(days=7), Slot.starts_at < NOW)
        plan = plan_of(in_range)
        assert "ix_slots_starts_at" in plan, plan
        latest = sa.select(Slot.id).where(sa.exists().where(Booking.slot_id == Slot.id))
        plan = plan_of(latest.order_by(Slot.starts_at.desc(), Slot.id.desc()).limit(51))
        assert "ix_slots_starts_at" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan and "Sort" not in plan.split("\n")[0], plan
