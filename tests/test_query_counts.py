"""A page sends the same number of SQL statements for 5 rows as for 500."""

from __future__ import annotations

from portal.auth.models import User
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import make_user


def add_rows(app, owner_email: str, count: int, start: int = 0) -> None:
    with app.app_context():
        owner = db.session.scalar(db.select(User).where(User.email == owner_email))
        db.session.add_all(Notification(user_id=owner.id, message=f"Message {n}") for n in range(start, count))
        db.session.add_all(
            User(email=f"bulk{owner.id}-{n}@example.org", name=f"Bulk {n}", password_hash="x", role="candidate")
            for n in range(start, count)
        )
        db.session.commit()


def statements_for(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def statements_per_page(client, auth, count_queries, pages: dict[str, list[str]]) -> dict[str, int]:
    """SQL statements sent by each page, each list of URLs opened by the user whose email is its key."""
    counts = {}
    for email, urls in pages.items():
        auth.login(email)
        for url in urls:
            counts[url] = statements_for(client, count_queries, url)
        auth.logout()
    return counts


def test_pages_send_the_same_number_of_queries_for_5_and_500_rows(app, client, auth, count_queries):
    with app.app_context():
        make_user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    urls = ["/notifications/", "/admin/users", "/admin/users?page=2", "/"]
    add_rows(app, "admin@example.org", 5)
    few = {url: statements_for(client, count_queries, url) for url in urls}
    add_rows(app, "admin@example.org", 500, start=5)
    many = {url: statements_for(client, count_queries, url) for url in urls}
    assert few == many
    assert max(many.values()) <= 10


def test_interview_pages_send_the_same_number_of_queries_for_5_and_500_slots(app, client, auth, count_queries):
    from datetime import UTC, datetime, timedelta

    from portal.interviews.models import Booking, InterviewType, Slot

    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=1)
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org")
        candidate = make_user(email="sam@example.org")
        make_user("admin", email="admin@example.org")
        kind = InterviewType(name="Technical", duration_minutes=15)
        db.session.add(kind)
        db.session.commit()
        ids = (mentor.id, candidate.id, kind.id)

    def add_slots(first: int, last: int) -> None:
        """Slots every 20 minutes from tomorrow on, every third one booked (past ones too)."""
        mentor_id, candidate_id, type_id = ids
        with app.app_context():
            for n in range(first, last):
                begins = start + timedelta(minutes=20 * n) - (timedelta(days=30) if n % 5 == 0 else timedelta())
                slot = Slot(
                    mentor_id=mentor_id,
                    interview_type_id=type_id,
                    starts_at=begins,
                    ends_at=begins + timedelta(minutes=15),
                )
                db.session.add(slot)
                if n % 3 == 0:
                    db.session.add(
                        Booking(
                            slot=slot, candidate_id=candidate_id, uid=f"u{n}", status="booked" if n % 5 else "completed"
                        )
                    )
            db.session.commit()

    week = start.date().isoformat()
    pages = {
        "sam@example.org": ["/interviews/slots", "/interviews/bookings"],
        "mentor@example.org": ["/mentor/schedule", "/mentor/availability"],
        "admin@example.org": [f"/admin/schedule/?week={week}", "/admin/schedule/bookings"],
    }

    add_slots(0, 5)
    few = statements_per_page(client, auth, count_queries, pages)
    add_slots(5, 500)
    many = statements_per_page(client, auth, count_queries, pages)
    assert few == many
    assert max(many.values()) <= 10


def test_cv_pages_send_the_same_number_of_queries_for_5_and_500_rows(app, client, auth, count_queries):
    from portal.cvs.models import CVDocument, CVReview

    with app.app_context():
        candidate = make_user(email="sam@example.org")
        mentor = make_user("mentor", email="mentor@example.org")
        make_user("admin", email="admin@example.org")
        ids = (candidate.id, mentor.id)

    def add_versions(first: int, last: int) -> None:
        """CV versions, each with a review: waiting, claimed by the mentor, or completed."""
        candidate_id, mentor_id = ids
        with app.app_context():
            for n in range(first, last):
                document = CVDocument(
                    candidate_id=candidate_id,
                    name=f"Version {n}",
                    original_filename="cv.pdf",
                    media_type="application/pdf",
                    size_bytes=1000,
                    sha256="0" * 64,
                    storage_key=f"key{n:05d}abcdefghijkl",
                    word_count=300,
                )
                db.session.add(document)
                status = ("requested", "claimed", "completed")[n % 3]
                db.session.add(
                    CVReview(
                        candidate_id=candidate_id,
                        document=document,
                        document_name=document.name,
                        target_role="MLE",
                        status=status,
                        reviewer_id=None if status == "requested" else mentor_id,
                    )
                )
            db.session.commit()

    pages = {
        "sam@example.org": ["/cvs/"],
        "mentor@example.org": ["/reviews/queue"],
        "admin@example.org": ["/reviews/all", "/reviews/all?status=requested"],
    }

    add_versions(0, 5)
    few = statements_per_page(client, auth, count_queries, pages)
    add_versions(5, 500)
    many = statements_per_page(client, auth, count_queries, pages)
    assert few == many
    assert max(many.values()) <= 8
