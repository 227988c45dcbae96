"""Interview feedback, ratings, the progress page with its SVG chart, the mentor to-do list, the admin overview."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.feedback import chart
from portal.feedback.models import FeedbackRevision, SessionFeedback, SessionRating
from portal.interviews.models import Booking
from tests.conftest import logged_in as as_user
from tests.factories import make_booking, make_interview_type, make_slot, make_user
from tests.test_admin import without_labels

NOW = datetime(2026, 10, 20, 12, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def world(app):
    with app.app_context():
        mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
        other_mentor = make_user("mentor", email="tom@example.org", name="Tom Okafor")
        candidate = make_user(email="sam@example.org", name="Sam Taylor")
        make_user(email="jo@example.org", name="Jo Lee")
        make_user("admin", email="admin@example.org")
        kind = make_interview_type()
        past = make_booking(make_slot(mentor, NOW - timedelta(days=3), kind), candidate, focus_note="System design")
        future = make_booking(make_slot(mentor, NOW + timedelta(days=3), kind), candidate)
        cancelled = make_booking(make_slot(mentor, NOW - timedelta(days=5), kind), candidate, status="cancelled")
        other = make_booking(make_slot(other_mentor, NOW - timedelta(days=2), kind), candidate)
        return {
            "past": past.id,
            "future": future.id,
            "cancelled": cancelled.id,
            "other": other.id,
            "mentor": mentor.id,
            "candidate": candidate.id,
        }


FORM = {
    "score_python": "4",
    "score_ml": "3",
    "score_data": "0",
    "score_system_design": "2",
    "score_communication": "5",
    "strengths": "**Clear** reasoning",
    "improvements": "Monitoring",
    "next_steps": "- Read about drift\n- <script>alert(1)</script>",
    "readiness": "nearly",
}


def test_mentor_drafts_then_publishes_and_the_candidate_reads_it(app, world, outbox):
    mentor = as_user(app, "mentor@example.org")
    candidate = as_user(app, "sam@example.org")
    url = f"/feedback/sessions/{world['past']}"
    page = mentor.get(url).get_data(as_text=True)
    assert "Python and coding" in page and "Clean, idiomatic, tested code" in page and "Not assessed" in page
    draft = mentor.post(url, data={**FORM, "save": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Draft saved" in draft
    assert "has not published feedback on this session yet" in candidate.get(url).get_data(as_text=True)
    published = mentor.post(url, data={**FORM, "publish": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Feedback published" in published
    with app.app_context():
        feedback = db.session.scalar(sa.select(SessionFeedback))
        assert feedback.status == "published" and feedback.score_data is None and feedback.score_python == 4
        assert db.session.get(Booking, world["past"]).status == "completed"
    html = candidate.get(url).get_data(as_text=True)
    assert "Nearly ready" in html and "<strong>Clear</strong> reasoning" in html and "<script>" not in html
    assert "Not assessed in this session." in html and "Solved the tasks with readable code" not in html
    assert outbox("sam@example.org")[-1].subject.startswith("Your interview feedback")


def test_an_edit_keeps_the_earlier_version_and_says_edited(app, world, clock):
    mentor = as_user(app, "mentor@example.org")
    url = f"/feedback/sessions/{world['past']}"
    mentor.post(url, data={**FORM, "publish": "1"})
    clock.shift(timedelta(days=1))
    mentor.post(url, data={**FORM, "score_python": "5", "publish": "1"})
    with app.app_context():
        revision = db.session.scalar(sa.select(FeedbackRevision))
        assert revision.version == 1 and revision.score_python == 4
        assert db.session.scalar(sa.select(SessionFeedback.version)) == 2
    mentor_page = mentor.get(url).get_data(as_text=True)
    assert "Earlier versions" in mentor_page and "Version 1" in mentor_page
    candidate_page = as_user(app, "sam@example.org").get(url).get_data(as_text=True)
    assert "<strong>edited</strong>" in candidate_page and "Earlier versions" not in candidate_page
    assert "Earlier versions" in as_user(app, "admin@example.org").get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {
                "score_python": "0",
                "score_ml": "0",
                "score_data": "0",
                "score_system_design": "0",
                "score_communication": "0",
            },
            "Score at least one criterion",
        ),
        ({"readiness": ""}, "Choose how ready the candidate is"),
        ({"score_python": "7"}, "Not a valid choice"),
    ],
)
def test_publishing_refuses_incomplete_or_out_of_range_scores(app, world, changes, message):
    mentor = as_user(app, "mentor@example.org")
    html = mentor.post(f"/feedback/sessions/{world['past']}", data={**FORM, **changes, "publish": "1"}).get_data(
        as_text=True
    )
    assert message in html
    with app.app_context():
        assert db.session.scalar(sa.select(SessionFeedback.status).limit(1)) in (None, "draft")


def test_the_database_refuses_a_score_outside_one_to_five(app, world):
    with app.app_context():
        db.session.add(SessionFeedback(booking_id=world["past"], score_python=6))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()


def test_no_feedback_on_future_or_cancelled_sessions_or_by_another_mentor(app, world):
    mentor = as_user(app, "mentor@example.org")
    future = mentor.get(f"/feedback/sessions/{world['future']}").get_data(as_text=True)
    assert "once the session has started" in future
    assert mentor.post(f"/feedback/sessions/{world['future']}", data={**FORM, "publish": "1"}).status_code == 403
    assert "cancelled" in mentor.get(f"/feedback/sessions/{world['cancelled']}").get_data(as_text=True)
    assert mentor.get(f"/feedback/sessions/{world['other']}").status_code == 404
    assert mentor.post(f"/feedback/sessions/{world['other']}", data=FORM).status_code == 404
    assert mentor.get("/feedback/sessions/999999").status_code == 404


def test_permissions_on_feedback_pages(app, world):
    url = f"/feedback/sessions/{world['past']}"
    assert app.test_client().get(url).status_code == 302
    assert as_user(app, "jo@example.org").get(url).status_code == 404
    assert as_user(app, "tom@example.org").get(url).status_code == 404
    assert as_user(app, "admin@example.org").get(url).status_code == 200
    candidate = as_user(app, "sam@example.org")
    assert candidate.post(url, data={**FORM, "publish": "1"}).status_code == 403
    for path, allowed in (
        ("/feedback/progress", "sam@example.org"),
        ("/feedback/to-write", "mentor@example.org"),
        ("/feedback/overview", "admin@example.org"),
    ):
        for email in ("sam@example.org", "mentor@example.org", "admin@example.org"):
            assert as_user(app, email).get(path).status_code == (200 if email == allowed else 403), (path, email)


def test_candidate_rates_once_after_the_session_and_only_admins_read_the_comment(app, world):
    candidate = as_user(app, "sam@example.org")
    future = candidate.post(
        f"/feedback/sessions/{world['future']}/rate", data={"score": "5"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "once it is over" in future
    url = f"/feedback/sessions/{world['past']}"
    assert "Rate this session" in candidate.get(url).get_data(as_text=True)
    bad = candidate.post(url + "/rate", data={"score": "9"}, follow_redirects=True).get_data(as_text=True)
    assert "Not a valid choice" in bad
    empty = candidate.post(url + "/rate", data={"comment": "Kept while I choose"})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 400 and "<title>Error: Feedback:" in page
    summary = page[page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))]
    assert "There is a problem" in summary and '<a href="#score" class="alert-link">Choose a rating.</a>' in summary
    assert 'id="score-error"' in page and "Kept while I choose</textarea>" in page
    candidate.post(url + "/rate", data={"score": "4", "comment": "Useful, a bit rushed"})
    again = candidate.post(url + "/rate", data={"score": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "already rated this session" in again
    with app.app_context():
        assert db.session.scalars(sa.select(SessionRating.score)).all() == [4]
    assert "You rated this session 4 out of 5." in candidate.get(url).get_data(as_text=True)
    assert "a bit rushed" not in as_user(app, "mentor@example.org").get(url).get_data(as_text=True)
    assert "a bit rushed" in as_user(app, "admin@example.org").get(url).get_data(as_text=True)
    assert as_user(app, "jo@example.org").post(url + "/rate", data={"score": "5"}).status_code == 404


def test_mentor_to_do_lists_sessions_waiting_oldest_first(app, world):
    mentor = as_user(app, "mentor@example.org")
    with app.app_context():
        from portal.auth.models import User

        older = make_booking(
            make_slot(db.session.get(User, world["mentor"]), NOW - timedelta(days=9)),
            db.session.get(User, world["candidate"]),
        )
        older_id = older.id
    html = mentor.get("/feedback/to-write").get_data(as_text=True)
    assert html.index(f"/feedback/sessions/{older_id}") < html.index(f"/feedback/sessions/{world['past']}")
    assert f"/feedback/sessions/{world['future']}" not in html and f"/sessions/{world['cancelled']}" not in html
    mentor.post(f"/feedback/sessions/{world['past']}", data={**FORM, "publish": "1"})
    assert f'/feedback/sessions/{world["past"]}"' not in mentor.get("/feedback/to-write").get_data(as_text=True)


def test_admin_overview_figures(app, world):
    as_user(app, "mentor@example.org").post(f"/feedback/sessions/{world['past']}", data={**FORM, "publish": "1"})
    as_user(app, "sam@example.org").post(f"/feedback/sessions/{world['past']}/rate", data={"score": "4"})
    html = without_labels(as_user(app, "admin@example.org").get("/feedback/overview").get_data(as_text=True))
    overdue = html.split("Mentor ratings")[0]
    assert "Tom Okafor" in overdue  # 2 days without feedback
    assert re.search(r"<td>Priya Shah</td><td>4.00</td><td>1</td>", html)
    assert re.search(r"<td>Python and coding</td><td>4.00</td><td>1</td>", html)
    assert re.search(r"<td>Data and SQL</td><td>—</td><td>0</td>", html)


# Progress and the chart ------------------------------------------------------------------------------------


def publish_series_of_feedback(app, world, scores: list[int], first_days_ago: int = 40) -> None:
    with app.app_context():
        from portal.auth.models import User

        mentor = db.session.get(User, world["mentor"])
        candidate = db.session.get(User, world["candidate"])
        for index, score in enumerate(scores):
            booking = make_booking(
                make_slot(mentor, NOW - timedelta(days=first_days_ago - 7 * index)), candidate, status="completed"
            )
            db.session.add(
                SessionFeedback(
                    booking_id=booking.id,
                    mentor_id=mentor.id,
                    status="published",
                    published_at=NOW,
                    score_python=score,
                    score_ml=max(score - 1, 1),
                    score_communication=5,
                    readiness="nearly",
                )
            )
        db.session.commit()


def test_chart_is_valid_svg_whose_points_match_the_data(app, world):
    publish_series_of_feedback(app, world, [2, 3, 5])
    html = as_user(app, "sam@example.org").get("/feedback/progress").get_data(as_text=True)
    wide, narrow = (
        ET.fromstring(
            re.search(
                rf'<svg xmlns="http://www.w3.org/2000/svg"[^>]*class="progress-chart progress-chart-{name}".*?</svg>',
                html,
                re.S,
            ).group(0)
        )
        for name in ("wide", "narrow")
    )
    narrow_python = narrow.find(f".//{SVG}g[@data-criterion='python']")
    ys = [float(point.split(",")[1]) for point in narrow_python.find(f"{SVG}polyline").get("points").split()]
    assert ys == [chart.score_y(2, chart.NARROW), chart.score_y(3, chart.NARROW), chart.score_y(5, chart.NARROW)]
    root = wide
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Interview scores over time"
    python = root.find(f".//{SVG}g[@data-criterion='python']")
    ys = [float(point.split(",")[1]) for point in python.find(f"{SVG}polyline").get("points").split()]
    assert ys == [chart.score_y(2), chart.score_y(3), chart.score_y(5)]
    labels = [c.find(f"{SVG}title").text for c in python.findall(f"{SVG}circle")]
    assert [label.rsplit(": ", 1)[1] for label in labels] == ["2", "3", "5"]
    assert root.find(f".//{SVG}g[@data-criterion='data']") is None  # never assessed
    table = re.search(r'<table class="table table-sm table-stack" id="scores-table">.*?</table>', html, re.S).group(0)
    table = without_labels(table)
    assert [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", table)][:5] == [
        "2",
        "1",
        "—",
        "—",
        "5",
    ]


def test_progress_shows_readiness_timeline_and_what_to_practise(app, world):
    publish_series_of_feedback(app, world, [2, 3, 4])
    html = as_user(app, "sam@example.org").get("/feedback/progress").get_data(as_text=True)
    assert "Latest readiness" in html and "Nearly ready" in html
    practise = re.search(r'<ol class="practise-list">.*?</ol>', html, re.S).group(0)
    assert practise.index("ML fundamentals") < practise.index("Python and coding")
    assert "Communication" in practise  # only three criteria were ever scored
    assert html.count('<span class="badge bg-primary">Interview</span>') == 3


def test_progress_empty_state(world, app):
    html = as_user(app, "sam@example.org").get("/feedback/progress").get_data(as_text=True)
    assert "No feedback yet." in html and "progress-chart" not in html


def test_chart_with_no_data_is_empty():
    assert str(chart.progress_chart({}, "Europe/London")) == ""


def test_the_narrow_chart_labels_a_few_dates_and_keeps_its_text_large():
    dates = [NOW - timedelta(days=7 * week) for week in range(10, 0, -1)]
    drawn = str(chart.progress_chart({"python": [(when, 3) for when in dates]}, "Europe/London"))
    wide, narrow = (ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", drawn, re.S))

    def date_labels(root):
        return [text.text for text in root.iter(f"{SVG}text") if not text.text.isdigit()]

    assert len(date_labels(wide)) == 10
    assert date_labels(narrow) == ["11 Aug", "1 Sep", "22 Sep", "13 Oct"]
    # Drawn at 296 px (a 320 px phone) or wider, 13 units of text stay at 12 px or more.
    assert {text.get("font-size") for text in narrow.iter(f"{SVG}text")} == {"13"}
    assert chart.NARROW.font * 296 / chart.NARROW.width >= 12


def test_progress_page_queries_do_not_grow_with_feedback(app, world, count_queries):
    publish_series_of_feedback(app, world, [3] * 3)
    client = as_user(app, "sam@example.org")
    with count_queries() as few:
        assert client.get("/feedback/progress").status_code == 200
    publish_series_of_feedback(app, world, [4] * 40, first_days_ago=400)
    with count_queries() as many:
        assert client.get("/feedback/progress").status_code == 200
    assert len(few) == len(many) and len(many) <= 6
