"""The signed-in home page is each role's workspace: what is next, what is waiting, what to do about it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.auth.models import User
from portal.cvs.models import CVDocument, CVReview
from portal.extensions import db
from portal.mail import OutboxEmail
from portal.timeutil import countdown
from portal.waitlist.models import WaitlistEntry
from tests.conftest import logged_in as as_user
from tests.factories import make_booking, make_interview_type, make_slot, make_user

NOW = datetime(2026, 10, 20, 9, tzinfo=UTC)  # a Tuesday, 10:00 in London

pytestmark = pytest.mark.usefixtures("clock")


def text(response) -> str:
    """The page as a person reads it: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def people(app):
    with app.app_context():
        ids = {
            "mentor": make_user("mentor", email="priya@example.org", name="Priya Shah").id,
            "tom": make_user("mentor", email="tom@example.org", name="Tom Okafor").id,
            "candidate": make_user(email="sam@example.org", name="Sam Taylor").id,
            "jo": make_user(email="jo@example.org", name="Jo Lee").id,
            "admin": make_user("admin", email="alex@example.org", name="Alex Morgan").id,
        }
        ids["technical"] = make_interview_type("Technical: Python and ML fundamentals").id
        ids["design"] = make_interview_type("ML system design").id
        return ids


def add_cv(candidate_id: int, name: str = "ML engineer CV") -> int:
    document = CVDocument(
        candidate_id=candidate_id,
        name=name,
        original_filename="cv.pdf",
        media_type="application/pdf",
        size_bytes=1000,
        sha256="0" * 64,
        storage_key=f"key-{candidate_id}-{name}",
        is_current=True,
    )
    db.session.add(document)
    db.session.flush()
    return document.id


def test_a_new_candidate_is_told_to_upload_a_cv_and_book_a_session(app, people):
    page = text(as_user(app, "sam@example.org").get("/"))
    assert "Your career workspace" in page and "Signed in as Sam Taylor" in page
    assert "You have no session booked." in page
    assert "Upload your CV: you get an instant check, and a mentor can review it. Upload a CV" in page
    assert "Book a mock interview with a mentor. See open sessions" in page
    assert "Feedback from your mock interviews appears here" in page


def test_the_candidate_sees_the_next_session_with_a_countdown_and_the_cv_review(app, people):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        later = make_booking(make_slot(mentor, NOW + timedelta(days=5)), candidate)
        soon = make_booking(make_slot(mentor, NOW + timedelta(days=1, hours=3)), candidate)
        document_id = add_cv(candidate.id)
        db.session.add(
            CVReview(
                candidate_id=candidate.id,
                cv_document_id=document_id,
                document_name="ML engineer CV",
                target_role="MLE",
                status="requested",
            )
        )
        db.session.commit()
        soon_id, later_id = soon.id, later.id
    response = as_user(app, "sam@example.org").get("/")
    page = text(response)
    body = response.get_data(as_text=True)
    assert "Technical: Python and ML fundamentals with Priya Shah" in page
    assert "In 1 day and 3 hours." in page
    assert f'href="/interviews/bookings/{soon_id}"' in body and f"/interviews/bookings/{later_id}/" not in body
    assert f'href="/interviews/bookings/{soon_id}/reschedule"' in body
    assert "All 2 upcoming sessions" in page
    assert "Current version: ML engineer CV" in page and "Review of “ML engineer CV”: Waiting for a mentor" in page
    assert "Upload a CV" not in page and "See open sessions" not in page


def test_feedback_brings_the_top_improvement_and_the_weakest_area_with_a_session_to_practise_it(app, people):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        past = make_booking(make_slot(mentor, NOW - timedelta(days=3)), candidate)
        past_id = past.id
    as_user(app, "priya@example.org").post(
        f"/feedback/sessions/{past_id}",
        data={
            "score_python": "4",
            "score_ml": "4",
            "score_data": "3",
            "score_system_design": "1",
            "score_communication": "4",
            "strengths": "Clear code",
            "improvements": "- Draw the serving path before the model\n- Name a metric",
            "next_steps": "Practise design",
            "readiness": "nearly",
            "publish": "1",
        },
    )
    response = as_user(app, "sam@example.org").get("/")
    page = text(response)
    assert "Top improvement: Draw the serving path before the model" in page
    assert "Weakest area lately: ML system design and production (1.0 of 5)." in page
    assert f'href="/interviews/slots?type={people["design"]}"' in response.get_data(as_text=True)
    assert "Follow your scores over time. See your progress" in page


def test_the_mentor_sees_the_week_by_day_the_queue_and_overdue_feedback_first(app, people):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        sam = db.session.get(User, people["candidate"])
        jo = db.session.get(User, people["jo"])
        make_booking(make_slot(mentor, NOW + timedelta(hours=4)), sam, focus_note="Gradient boosting")
        make_booking(make_slot(mentor, NOW + timedelta(days=2)), jo)
        make_booking(make_slot(mentor, NOW + timedelta(days=9)), jo)  # beyond the week
        make_booking(make_slot(mentor, NOW - timedelta(days=4)), jo)  # overdue feedback
        make_booking(make_slot(mentor, NOW - timedelta(hours=5)), sam)  # feedback due, not overdue
        add_cv(sam.id)
        db.session.add(
            CVReview(
                candidate_id=sam.id,
                cv_document_id=add_cv(jo.id),
                document_name="Jo's CV",
                target_role="Data scientist",
                status="requested",
            )
        )
        db.session.commit()
    page = text(as_user(app, "priya@example.org").get("/"))
    assert "Your mentoring workspace" in page
    assert "Today, Tuesday 20 October" in page and "Thursday 22 October" in page
    assert page.index("Today, Tuesday 20 October") < page.index("Sam Taylor") < page.index("Thursday 22 October")
    assert "Gradient boosting" in page
    assert "Thursday 29 October" not in page
    assert "Feedback to write 2" in page
    overdue = page.index("4 days ago, overdue")
    assert overdue < page.index("0 days ago") and "0 days ago, overdue" not in page
    assert "CV reviews waiting 1" in page and "Sam Taylor: Data scientist" in page


def test_the_admin_sees_today_unclaimed_reviews_overdue_feedback_failed_email_and_demand(app, people):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        tom = db.session.get(User, people["tom"])
        sam = db.session.get(User, people["candidate"])
        jo = db.session.get(User, people["jo"])
        make_booking(make_slot(mentor, NOW + timedelta(hours=2)), sam)
        make_booking(make_slot(tom, NOW + timedelta(hours=3)), jo)
        make_booking(make_slot(tom, NOW + timedelta(days=1)), jo)  # tomorrow
        make_booking(make_slot(tom, NOW - timedelta(days=3)), sam)  # no feedback after 72 hours
        make_booking(make_slot(mentor, NOW - timedelta(hours=20)), jo)  # still within 48 hours
        db.session.add(
            CVReview(
                candidate_id=jo.id,
                cv_document_id=add_cv(jo.id),
                document_name="Jo's CV",
                target_role="ML engineer",
                status="requested",
                created_at=NOW - timedelta(days=4),
            )
        )
        db.session.add(
            CVReview(
                candidate_id=sam.id,
                cv_document_id=add_cv(sam.id),
                document_name="Sam's CV",
                target_role="Recent",
                status="requested",
                created_at=NOW - timedelta(days=1),
            )
        )
        db.session.add(
            OutboxEmail(
                to_address="x@example.org", subject="s", body_text="b", message_id="<m1@example.org>", status="failed"
            )
        )
        db.session.add(WaitlistEntry(candidate_id=sam.id, interview_type_id=people["design"]))
        db.session.add(WaitlistEntry(candidate_id=jo.id, interview_type_id=people["design"]))
        db.session.add(WaitlistEntry(candidate_id=jo.id, interview_type_id=people["technical"]))
        db.session.commit()
    page = text(as_user(app, "alex@example.org").get("/"))
    assert "Career services at a glance" in page
    assert "Today across all mentors 2" in page
    assert "Sam Taylor with Priya Shah" in page and "Jo Lee with Tom Okafor" in page
    assert "Sessions without feedback after 48 hours 1" in page and "Tom Okafor: Sam Taylor" in page
    assert "CV reviews unclaimed for over 3 days 1" in page
    assert "Jo Lee: ML engineer" in page and "Recent" not in page
    assert "Failed emails 1" in page and "Some emails could not be delivered." in page
    assert re.search(r"ML system design 2 Technical: Python and ML fundamentals 1", page)


def test_signed_in_people_keep_the_guide_and_faq_in_the_navigation(app, people):
    for email in ("sam@example.org", "priya@example.org", "alex@example.org"):
        body = as_user(app, email).get("/").get_data(as_text=True)
        nav = body[body.index('aria-label="Main"') : body.index("</nav>")]
        assert 'href="/guide"' in nav and 'href="/faq"' in nav, email


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(seconds=-5), "Happening now."),
        (timedelta(seconds=50), "In 1 minute."),
        (timedelta(minutes=14, seconds=40), "In 15 minutes."),
        (timedelta(hours=2, minutes=15), "In 2 h 15 min."),
        (timedelta(hours=2, minutes=59, seconds=50), "In 3 hours."),
        (timedelta(days=1, hours=2, minutes=59, seconds=58), "In 1 day and 3 hours."),
        (timedelta(days=3, minutes=10), "In 3 days."),
    ],
)
def test_the_countdown_rounds_as_a_person_would(delta, said):
    assert countdown(delta) == said


# Joining from the dashboard -----------------------------------------------------------------------------------


def test_the_candidate_home_gives_the_video_link_in_full_and_join_now_from_the_join_window(app, people, clock):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        booking = make_booking(make_slot(mentor, NOW + timedelta(hours=2)), candidate)
        room = booking.meeting_room
    client = as_user(app, "sam@example.org")
    page = text(client.get("/"))
    link = f"{app.config['MEETING_BASE_URL'].rstrip('/')}/{room}"
    assert f"Video call: {link}" in page
    assert "join-link" not in client.get("/").get_data(as_text=True)
    assert "“Join now” appears here 15 minutes before the start." in page

    clock.move_to(NOW + timedelta(hours=1, minutes=46))  # 14 minutes before the start
    body = client.get("/").get_data(as_text=True)
    assert re.search(rf'<a class="btn btn-success btn-lg join-link" href="{re.escape(link)}"', body)
    assert "appears here 15 minutes before" not in body


def test_the_candidate_home_gives_the_number_the_mentor_will_call_or_asks_for_it(app, people):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        booking = make_booking(make_slot(mentor, NOW + timedelta(days=1), meeting_mode="phone"), candidate)
        booking_id = booking.id
    client = as_user(app, "sam@example.org")
    page = text(client.get("/"))
    assert "Phone call: Priya Shah needs your number. Add it" in page
    assert f'href="/interviews/bookings/{booking_id}#how-to-join-title"' in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.get(type(booking), booking_id).phone = "+44 20 7946 0958"
        db.session.commit()
    assert "Phone call: Priya Shah will call you on +44 20 7946 0958" in text(client.get("/"))


def test_the_candidate_home_gives_the_place_of_an_in_person_session(app, people):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        slot = make_slot(mentor, NOW + timedelta(days=1), meeting_mode="in_person", place="Room 4.02, 1 Kings Cross")
        make_booking(slot, candidate)
    assert "In person: Room 4.02, 1 Kings Cross" in text(as_user(app, "sam@example.org").get("/"))


def test_the_mentor_agenda_says_how_each_session_happens_with_links_numbers_and_places(app, people, clock):
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        sam = db.session.get(User, people["candidate"])
        jo = db.session.get(User, people["jo"])
        video = make_booking(make_slot(mentor, NOW + timedelta(hours=3)), sam)
        phone = make_booking(make_slot(mentor, NOW + timedelta(hours=5), meeting_mode="phone"), jo)
        phone.phone = "07700 900123"
        waiting = make_booking(make_slot(mentor, NOW + timedelta(days=1), meeting_mode="phone"), sam)
        make_booking(make_slot(mentor, NOW + timedelta(days=2), meeting_mode="in_person", place="Studio B"), jo)
        db.session.commit()
        room, waiting_id = video.meeting_room, waiting.id
    client = as_user(app, "priya@example.org")
    response = client.get("/")
    page, body = text(response), response.get_data(as_text=True)
    link = f"{app.config['MEETING_BASE_URL'].rstrip('/')}/{room}"
    assert f"Video call: {link}" in page
    assert "Phone call: call Jo Lee on 07700 900123" in page and 'href="tel:07700900123"' in body
    assert "Phone call: Sam Taylor has not given a number yet" in page
    assert "In person: Studio B" in page
    assert f"/interviews/bookings/{waiting_id}" in body
    assert "Join now" not in page

    clock.move_to(NOW + timedelta(hours=2, minutes=50))
    assert f'href="{link}" target="_blank" rel="noopener">Join now' in client.get("/").get_data(as_text=True)


def test_the_mentor_agenda_uses_the_mentors_own_link_looked_up_once(app, people, count_queries):
    """The agenda costs the same number of statements with one video session or five, link or no link."""
    from portal.interviews.models import MeetingLink

    client = as_user(app, "priya@example.org")

    def statements_for_home() -> int:
        with count_queries() as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        sam = db.session.get(User, people["candidate"])
        make_booking(make_slot(mentor, NOW + timedelta(hours=2)), sam)
    one = statements_for_home()
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        sam = db.session.get(User, people["candidate"])
        for hours in (4, 6, 8, 10):
            make_booking(make_slot(mentor, NOW + timedelta(hours=hours)), sam)
    assert statements_for_home() == one
    with app.app_context():
        db.session.add(MeetingLink(mentor_id=people["mentor"], url="https://zoom.us/j/1234567890"))
        db.session.commit()
    assert text(client.get("/")).count("Video call: https://zoom.us/j/1234567890") == 5
    assert statements_for_home() == one


def test_the_candidate_home_looks_up_the_mentors_link_once_in_the_join_window(app, people, clock, count_queries):
    """Join now, the link in full and the hint share one lookup of the mentor's link."""
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        make_booking(make_slot(mentor, NOW + timedelta(hours=2)), db.session.get(User, people["candidate"]))
    client = as_user(app, "sam@example.org")

    def link_lookups() -> int:
        with count_queries() as statements:
            assert client.get("/").status_code == 200
        return sum("meeting_links" in statement for statement in statements)

    assert link_lookups() == 1
    clock.move_to(NOW + timedelta(hours=1, minutes=50))  # in the join window: Join now shows too
    assert link_lookups() == 1
