"""The admin console: people, content, policy, interview types, reports, CSV exports and the audit log."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.admin.reports import neutralise, stream_csv
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.interviews.models import Booking, BookingPolicy, InterviewType, Slot
from portal.pages.models import PageRevision
from tests.conftest import logged_in as as_user
from tests.factories import PASSWORD, make_booking, make_interview_type, make_slot, make_user

NOW = datetime(2026, 10, 21, 12, tzinfo=UTC)  # a Wednesday


def without_labels(html: str) -> str:
    """The page without the column names that stacked table cells carry for phones."""
    return re.sub(r' data-label="[^"]*"', "", html)


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def people(app):
    with app.app_context():
        ids = {
            "admin": make_user("admin", email="admin@example.org", name="Alex Admin").id,
            "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah").id,
            "candidate": make_user(email="sam@example.org", name="Sam Taylor").id,
            "other": make_user(email="jo@example.org", name="Jo Lee").id,
        }
    return ids


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


ADMIN_URLS = [
    "/admin/",
    "/admin/users",
    "/admin/users/1",
    "/admin/users/1/deactivate",
    "/admin/content",
    "/admin/content/guide",
    "/admin/content/faq",
    "/admin/content/guide/revisions",
    "/admin/policy",
    "/admin/interview-types",
    "/admin/interview-types/new",
    "/admin/reports",
    "/admin/reports/bookings.csv",
    "/admin/audit",
    "/admin/invitations/new",
]


@pytest.mark.parametrize("who", [None, "sam@example.org", "mentor@example.org", "admin@example.org"])
def test_only_admins_open_the_console(app, people, who):
    client = as_user(app, who) if who else app.test_client()
    for url in ADMIN_URLS:
        response = client.get(url)
        if who is None:
            assert response.status_code == 302 and "/login?next=" in response.headers["Location"], url
        elif who.startswith("admin"):
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
    if who and not who.startswith("admin"):
        assert client.post("/admin/policy", data={"max_upcoming": "9"}).status_code == 403
        assert client.post(f"/admin/users/{people['candidate']}/role", data={"role": "admin"}).status_code == 403


# People -------------------------------------------------------------------------------------------------


def test_search_filter_sort_and_paginate_users(app, people):
    with app.app_context():
        for n in range(60):
            make_user(email=f"learner{n:02d}@example.org", name=f"Learner {n:02d}", active=n % 10 != 0)
    admin = as_user(app, "admin@example.org")
    html = admin.get("/admin/users?q=SAM").get_data(as_text=True)
    assert "1 person." in html and "Sam Taylor" in html
    html = admin.get("/admin/users?q=learner&status=deactivated").get_data(as_text=True)
    assert "6 people." in html and "Learner 10" in html and "Learner 11" not in html
    html = admin.get("/admin/users?role=candidate&sort=name&order=desc").get_data(as_text=True)
    names = re.findall(r'/admin/users/\d+">([^<]+)</a>', html)
    assert names[0] == "Sam Taylor" and names == sorted(names, reverse=True) and len(names) == 50
    assert 'aria-label="People pages"' in html
    assert "Learner 00" in admin.get("/admin/users?role=candidate&sort=name&order=desc&page=2").get_data(as_text=True)
    assert "Nobody matches." in admin.get("/admin/users?q=%25_nobody").get_data(as_text=True)


def test_user_page_shows_activity(app, people):
    with app.app_context():
        slot = make_slot(db.session.get(User, people["mentor"]), NOW - timedelta(days=2))
        make_booking(slot, db.session.get(User, people["candidate"]), status="no_show")
    html = as_user(app, "admin@example.org").get(f"/admin/users/{people['candidate']}").get_data(as_text=True)
    assert re.search(r"No-shows</dt><dd[^>]*>1<", html) and "No-show" in html and "Priya Shah" in html


def test_role_change_is_audited_and_ends_the_users_sessions(app, people):
    mentor_session = as_user(app, "mentor@example.org")
    admin = as_user(app, "admin@example.org")
    response = admin.post(f"/admin/users/{people['mentor']}/role", data={"role": "admin"}, follow_redirects=True)
    assert "Priya Shah is now admin." in response.get_data(as_text=True)
    assert mentor_session.get("/account").status_code == 302
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent))
        assert (event.action, event.before, event.after) == ("user.role_changed", {"role": "mentor"}, {"role": "admin"})
        assert event.actor_id == people["admin"] and event.target_id == str(people["mentor"])


def test_the_last_active_admin_cannot_demote_or_deactivate_themself(app, people):
    admin = as_user(app, "admin@example.org")
    demote = admin.post(f"/admin/users/{people['admin']}/role", data={"role": "mentor"}, follow_redirects=True)
    assert "This is the only active admin" in demote.get_data(as_text=True)
    deactivate = admin.post(f"/admin/users/{people['admin']}/deactivate", follow_redirects=True)
    assert "This is the only active admin" in deactivate.get_data(as_text=True)
    with app.app_context():
        me = db.session.get(User, people["admin"])
        assert me.role == "admin" and me.active
    admin.post(f"/admin/users/{people['mentor']}/role", data={"role": "admin"})
    admin = as_user(app, "admin@example.org")
    assert admin.post(f"/admin/users/{people['admin']}/role", data={"role": "mentor"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, people["admin"]).role == "mentor"
    assert audit_actions(app) == ["user.role_changed", "user.role_changed"]


def test_deactivation_lists_cancels_future_bookings_and_ends_sessions(app, people, outbox):
    with app.app_context():
        mentor, candidate = db.session.get(User, people["mentor"]), db.session.get(User, people["candidate"])
        future = make_booking(make_slot(mentor, NOW + timedelta(days=3)), candidate).id
        make_booking(make_slot(mentor, NOW - timedelta(days=3)), candidate, status="completed")
    candidate_session = as_user(app, "sam@example.org")
    admin = as_user(app, "admin@example.org")
    confirm = admin.get(f"/admin/users/{people['candidate']}/deactivate").get_data(as_text=True)
    assert "These 1 future booking will be cancelled" in confirm or "1 future booking" in confirm
    done = admin.post(f"/admin/users/{people['candidate']}/deactivate", follow_redirects=True).get_data(as_text=True)
    assert "Sam Taylor is deactivated and logged out everywhere; 1 future booking was cancelled" in done
    assert candidate_session.get("/account").status_code == 302
    assert app.test_client().post("/login", data={"email": "sam@example.org", "password": PASSWORD}).status_code == 200
    with app.app_context():
        assert db.session.get(Booking, future).status == "cancelled"
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.deactivated"))
        assert event.after["cancelled_bookings"] == [future]
    assert "closed by the career services team" in outbox("mentor@example.org")[-1].body_text
    admin.post(f"/admin/users/{people['candidate']}/reactivate")
    assert as_user(app, "sam@example.org").get("/account").status_code == 200
    assert audit_actions(app)[-1] == "user.reactivated"


def test_deactivating_a_mentor_cancels_their_sessions_and_open_slots(app, people, outbox):
    with app.app_context():
        mentor, candidate = db.session.get(User, people["mentor"]), db.session.get(User, people["candidate"])
        booked = make_booking(make_slot(mentor, NOW + timedelta(days=3)), candidate).id
        free = make_slot(mentor, NOW + timedelta(days=4)).id
    as_user(app, "admin@example.org").post(f"/admin/users/{people['mentor']}/deactivate")
    with app.app_context():
        assert db.session.get(Booking, booked).status == "cancelled"
        assert db.session.get(Slot, free).status == "cancelled"
    assert "closed by the career services team" in outbox("sam@example.org")[-1].body_text


def test_invitations_resend_and_revoke(app, people, outbox):
    admin = as_user(app, "admin@example.org")
    admin.post("/admin/invitations/new", data={"name": "Tom Okafor", "email": "tom@example.org"})
    first = re.search(r"/invitation/\S+", outbox("tom@example.org")[-1].body_text).group(0)
    with app.app_context():
        invitation_id = db.session.scalar(sa.text("SELECT id FROM invitations"))
    admin.post(f"/admin/invitations/{invitation_id}/resend")
    second = re.search(r"/invitation/\S+", outbox("tom@example.org")[-1].body_text).group(0)
    visitor = app.test_client()
    assert visitor.get(first).status_code == 400 and visitor.get(second).status_code == 200
    admin.post(f"/admin/invitations/{invitation_id}/revoke")
    assert visitor.get(second).status_code == 400
    assert audit_actions(app) == ["invitation.sent", "invitation.resent", "invitation.revoked"]


# Content -------------------------------------------------------------------------------------------------


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="https://x" onclick="steal()">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "[x](JAVASCRIPT:alert(1))",
    "<svg onload=alert(1)>",
]


def test_guide_edit_with_preview_goes_live_and_is_sanitized(app, people):
    admin = as_user(app, "admin@example.org")
    body = "## New section\n\nFresh words.\n\n" + "\n\n".join(XSS)
    preview = admin.post(
        "/admin/content/guide", data={"title": "What does an MLE do?", "description": "d", "body": body, "preview": "1"}
    ).get_data(as_text=True)
    assert "<h2>New section</h2>" in preview
    assert "Fresh words." not in app.test_client().get("/guide").get_data(as_text=True)  # nothing saved yet
    admin.post(
        "/admin/content/guide", data={"title": "What does an MLE do?", "description": "d", "body": body, "save": "1"}
    )
    html = app.test_client().get("/guide").get_data(as_text=True)
    assert "Fresh words." in html and '<h1 class="mb-2">What does an MLE do?</h1>' in html
    from tests.test_pages import Elements

    parser = Elements()
    parser.feed(re.search(r"<article.*?</article>", html, re.S).group(0))
    for tag, attributes in parser.found:
        assert tag not in {"script", "iframe", "img", "svg"}, tag
        assert not any(name.startswith("on") for name in attributes), attributes
        assert not attributes.get("href", "").lower().startswith("javascript"), attributes
    assert audit_actions(app) == ["content.edited"]


def test_faq_editor_reorders_removes_and_refuses_half_pairs(app, people):
    admin = as_user(app, "admin@example.org")
    html = admin.get("/admin/content/faq").get_data(as_text=True)
    assert html.count('class="border rounded p-3 mb-3 faq-entry"') == 14  # thirteen questions and an empty one
    assert 'value="Using our career service"' in html  # each question's section, and the empty one follows the last
    data = {
        "title": "FAQ",
        "description": "Answers.",
        "questions-0-question": "Second?",
        "questions-0-answer": "Answer two",
        "questions-0-position": "2",
        "questions-1-section": "Basics",
        "questions-0-section": "Basics",
        "questions-1-question": "First?",
        "questions-1-answer": "Answer **one**",
        "questions-1-position": "1",
        "questions-2-question": "",
        "questions-2-answer": "",
        "questions-2-position": "3",
        "save": "1",
    }
    assert admin.post("/admin/content/faq", data=data).status_code == 302
    public = app.test_client().get("/faq").get_data(as_text=True)
    assert re.findall(r'<h3 class="d-inline h5 mb-0">([^<]+)</h3>', public) == ["First?", "Second?"]
    assert public.count('<h2 class="h4 mt-4" id="section-basics">Basics</h2>') == 1
    assert "<strong>one</strong>" in public
    half = admin.post("/admin/content/faq", data={**data, "questions-2-question": "Orphan?"}).get_data(as_text=True)
    assert "Give both a question and its answer, or leave both empty." in half


def test_revisions_can_be_restored(app, people):
    admin = as_user(app, "admin@example.org")
    for words in ("Version one words.", "Version two words."):
        admin.post(
            "/admin/content/privacy", data={"title": "Privacy notice", "description": "d", "body": words, "save": "1"}
        )
    assert "Version two words." in app.test_client().get("/privacy").get_data(as_text=True)
    with app.app_context():
        first = db.session.scalar(sa.select(PageRevision.id).order_by(PageRevision.id))
    page = admin.get("/admin/content/privacy/revisions").get_data(as_text=True)
    assert "Live" in page and f'Restore<span class="visually-hidden"> revision {first}' in page
    admin.post(f"/admin/content/revisions/{first}/restore")
    assert "Version one words." in app.test_client().get("/privacy").get_data(as_text=True)
    with app.app_context():
        newest = db.session.scalar(sa.select(PageRevision).order_by(PageRevision.id.desc()).limit(1))
        assert newest.restored_from_id == first and newest.author_id == people["admin"]
    assert audit_actions(app)[-1] == "content.restored"


def test_public_pages_are_rendered_once_until_an_edit(app, people, monkeypatch):
    from portal.pages import services

    calls = []
    original = services.render_page

    def counting(source):
        calls.append(source.revision_id)
        return original(source)

    monkeypatch.setattr(services, "render_page", counting)
    visitor = app.test_client()
    for _ in range(3):
        visitor.get("/accessibility")
    rendered_before_edit = len(calls)
    assert rendered_before_edit <= 1
    as_user(app, "admin@example.org").post(
        "/admin/content/accessibility",
        data={"title": "Accessibility statement", "description": "d", "body": "Updated statement.", "save": "1"},
    )
    for _ in range(3):
        assert "Updated statement." in visitor.get("/accessibility").get_data(as_text=True)
    assert len(calls) == rendered_before_edit + 1


# Policy and interview types ---------------------------------------------------------------------------------


POLICY = {
    "min_notice_hours": "2",
    "horizon_days": "30",
    "max_upcoming": "1",
    "cancel_cutoff_hours": "6",
    "max_reschedules": "0",
}


def test_policy_is_validated_audited_and_applies_to_new_bookings(app, people):
    admin = as_user(app, "admin@example.org")
    bad = admin.post("/admin/policy", data={**POLICY, "max_upcoming": "0", "horizon_days": "x"}).get_data(as_text=True)
    assert bad.count("Enter a whole number from") >= 2 and 'href="#max_upcoming"' in bad
    assert admin.post("/admin/policy", data=POLICY).status_code == 302
    with app.app_context():
        policy = db.session.get(BookingPolicy, 1)
        assert (policy.max_upcoming, policy.min_notice_hours) == (1, 2)
        event = db.session.scalar(sa.select(AuditEvent))
        assert event.before["max_upcoming"] == 2 and event.after["max_upcoming"] == 1
        mentor = db.session.get(User, people["mentor"])
        first, second = make_slot(mentor, NOW + timedelta(hours=3)).id, make_slot(mentor, NOW + timedelta(days=1)).id
    candidate = as_user(app, "sam@example.org")
    assert "Hold up to 1 upcoming session at a time" in candidate.get("/interviews/slots").get_data(as_text=True)
    assert candidate.post(f"/interviews/slots/{first}/book", data={}).status_code == 302
    refused = candidate.post(f"/interviews/slots/{second}/book", data={}).get_data(as_text=True)
    assert "the most you can hold at once (1)" in refused


def test_interview_types_are_validated_and_audited(app, people):
    admin = as_user(app, "admin@example.org")
    with app.app_context():
        make_interview_type("Behavioural and career story", 45)
    duplicate = admin.post(
        "/admin/interview-types/new",
        data={"name": "behavioural and career story", "duration_minutes": "30", "active": "y"},
    )
    assert "Another interview type already has this name." in duplicate.get_data(as_text=True)
    short = admin.post("/admin/interview-types/new", data={"name": "Lightning", "duration_minutes": "5"})
    assert "from 15 to 240 minutes" in short.get_data(as_text=True)
    assert (
        admin.post(
            "/admin/interview-types/new", data={"name": "Take-home review", "duration_minutes": "30", "active": "y"}
        ).status_code
        == 302
    )
    with app.app_context():
        created = db.session.scalar(sa.select(InterviewType).where(InterviewType.name == "Take-home review"))
    admin.post(f"/admin/interview-types/{created.id}", data={"name": "Take-home review", "duration_minutes": "45"})
    with app.app_context():
        assert db.session.get(InterviewType, created.id).active is False
    assert audit_actions(app) == ["interview_type.created", "interview_type.changed"]


# Reports and CSV ------------------------------------------------------------------------------------------


def fixed_data(app, people) -> None:
    """Week of 5 Oct: 2 bookings (1 completed, 1 no-show); week of 12 Oct: 2 (1 completed, 1 late-cancelled);
    mentor has 5 open slots in the range, 3 of them booked."""
    from portal.cvs.models import CVReview
    from portal.feedback.models import SessionFeedback, SessionRating

    with app.app_context():
        mentor, sam, jo = (db.session.get(User, people[key]) for key in ("mentor", "candidate", "other"))
        at = lambda day, hour=10: datetime(2026, 10, day, hour, tzinfo=UTC)  # noqa: E731
        b1 = make_booking(make_slot(mentor, at(6)), sam, status="completed")
        make_booking(make_slot(mentor, at(7)), jo, status="no_show")
        b3 = make_booking(make_slot(mentor, at(13)), sam, status="completed")
        late = make_booking(make_slot(mentor, at(14)), jo, status="cancelled")
        late.late_cancellation = True
        make_slot(mentor, at(15))
        make_booking(make_slot(mentor, at(16)), sam, status="cancelled")  # a cancelled slot is not offered
        db.session.get(
            Slot, db.session.scalar(sa.select(Booking.slot_id).order_by(Booking.id.desc()))
        ).status = "cancelled"
        db.session.add_all(
            [
                SessionFeedback(
                    booking_id=b1.id,
                    mentor_id=mentor.id,
                    status="published",
                    score_python=2,
                    score_ml=3,
                    readiness="not_yet",
                    published_at=at(6, 12),
                ),
                SessionFeedback(
                    booking_id=b3.id,
                    mentor_id=mentor.id,
                    status="published",
                    score_python=4,
                    score_ml=None,
                    readiness="nearly",
                    published_at=at(13, 12),
                ),
                SessionRating(booking_id=b1.id, candidate_id=sam.id, score=5),
                SessionRating(booking_id=b3.id, candidate_id=sam.id, score=4),
                CVReview(
                    candidate_id=sam.id,
                    document_name="CV",
                    target_role='=HYPERLINK("http://evil")',
                    status="completed",
                    reviewer_id=mentor.id,
                    created_at=at(8, 10),
                    completed_at=at(9, 10),
                ),
                CVReview(
                    candidate_id=jo.id,
                    document_name="CV",
                    target_role="MLE",
                    status="completed",
                    reviewer_id=mentor.id,
                    created_at=at(8, 10),
                    completed_at=at(8, 16),
                ),
                CVReview(
                    candidate_id=jo.id,
                    document_name="CV 2",
                    target_role="MLE",
                    status="completed",
                    reviewer_id=mentor.id,
                    created_at=at(9, 10),
                    completed_at=at(11, 10),
                ),
            ]
        )
        db.session.commit()


def test_report_figures_match_hand_computed_values(app, people):
    fixed_data(app, people)
    html = as_user(app, "admin@example.org").get("/admin/reports?from=2026-10-05&to=2026-10-18").get_data(as_text=True)
    weeks = re.search(
        r'<table class="table table-sm table-stack" id="weeks-table">.*?</table>', without_labels(html), re.S
    ).group(0)
    assert re.findall(r"<tr><td>([\d-]+)</td><td>(\d+)</td></tr>", weeks) == [("2026-10-05", "2"), ("2026-10-12", "3")]
    html = without_labels(html)
    utilisation = re.search(r'id="utilisation-table">.*?</table>', html, re.S).group(0)
    assert "<td>Priya Shah</td><td>3</td><td>5</td>" in utilisation  # 5 open slots in range, 3 live bookings
    assert re.search(r'id="completion-rate">67%<', html)  # 2 completed of 3 held
    assert re.search(r'id="no-show-rate">33%<', html)
    assert re.search(r'id="late-cancel-rate">20%<', html)  # 1 of 5 bookings
    assert re.search(r'id="turnaround">24.0 h<', html)  # median of 24 h, 6 h, 48 h
    assert re.search(r"<td>Python and coding</td><td>3.00</td><td>2</td>", html)
    assert re.search(r"<td>ML fundamentals</td><td>3.00</td><td>1</td>", html)
    assert "<td>Priya Shah</td><td>4.50</td><td>2</td>" in html
    assert html.count('class="bar-chart"') == 4


def test_csv_exports_have_headers_utc_times_and_no_formulas(app, people):
    fixed_data(app, people)
    admin = as_user(app, "admin@example.org")
    response = admin.get("/admin/reports/bookings.csv?from=2026-10-05&to=2026-10-18")
    assert response.mimetype == "text/csv" and response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="bookings-2026-10-05-to-2026-10-18.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["booking_id", "session_start_utc", "session_end_utc"] and len(rows) == 6
    assert rows[1][1] == "2026-10-06T10:00:00Z"
    reviews = list(
        csv.reader(
            io.StringIO(admin.get("/admin/reports/cv-reviews.csv?from=2026-10-05&to=2026-10-18").get_data(as_text=True))
        )
    )
    assert '\'=HYPERLINK("http://evil")' in [row[4] for row in reviews]
    feedback = list(
        csv.reader(
            io.StringIO(admin.get("/admin/reports/feedback.csv?from=2026-10-05&to=2026-10-18").get_data(as_text=True))
        )
    )
    assert feedback[0][6] == "score_python" and [row[6] for row in feedback[1:]] == ["2", "4"]
    assert admin.get("/admin/reports/passwords.csv").status_code == 404


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (None, ""),
        (3, "3"),
    ],
)
def test_cells_that_look_like_formulas_are_neutralised(value, expected):
    assert neutralise(value) == expected


def test_csv_export_streams_100000_rows_in_constant_memory(app, people):
    with app.app_context():
        type_id = make_interview_type().id
        start = datetime(2020, 1, 1, tzinfo=UTC)
        mentors = [make_user("mentor", email=f"bulk-mentor{n}@example.org").id for n in range(10)]
        slots = [
            {
                "mentor_id": mentors[n % 10],
                "interview_type_id": type_id,
                "status": "open",
                "starts_at": start + timedelta(hours=n // 10),
                "ends_at": start + timedelta(hours=n // 10, minutes=45),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(100_000)
        ]
        db.session.execute(sa.insert(Slot), slots)
        slot_ids = db.session.scalars(
            sa.select(Slot.id).where(Slot.starts_at < datetime(2030, 1, 1, tzinfo=UTC)).order_by(Slot.id)
        ).all()
        db.session.execute(
            sa.insert(Booking),
            [
                {
                    "slot_id": slot_id,
                    "candidate_id": people["candidate"],
                    "status": "completed",
                    "uid": f"b{slot_id}",
                    "focus_note": "Practise pipelines " * 3,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "sequence": 0,
                    "reschedule_count": 0,
                    "late_cancellation": False,
                }
                for slot_id in slot_ids
            ],
        )
        db.session.commit()
        del slots, slot_ids
    with app.test_request_context():
        from flask_login import login_user

        with app.app_context():
            login_user(db.session.get(User, people["admin"]))
            tracemalloc.start()
            total_rows = 0
            size = 0
            for chunk in stream_csv("bookings", start, datetime(2031, 1, 1, tzinfo=UTC)):
                total_rows += chunk.count("\n")
                size += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert total_rows == 100_001
    assert size > 15_000_000  # the whole export
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB while streaming {size / 1e6:.1f} MB"


# Audit log -----------------------------------------------------------------------------------------------


def test_admin_actions_on_others_behalf_are_audited(app, people):
    from portal.cvs.models import CVReview

    with app.app_context():
        mentor, sam = db.session.get(User, people["mentor"]), db.session.get(User, people["candidate"])
        booking = make_booking(make_slot(mentor, NOW + timedelta(hours=10)), sam)
        review = CVReview(candidate_id=sam.id, document_name="CV", target_role="MLE")
        db.session.add(review)
        db.session.commit()
        ids = {
            "booking": booking.id,
            "slot": booking.slot_id,
            "review": review.id,
            "type": db.session.scalar(sa.select(InterviewType.id)),
        }
    admin = as_user(app, "admin@example.org")
    admin.post(
        "/mentor/availability/slot",
        data={"mentor": people["mentor"], "interview_type": ids["type"], "day": "2026-10-30", "start_time": "09:00"},
    )
    admin.post(f"/interviews/bookings/{ids['booking']}/cancel", data={"reason": "Phoned", "override": "y"})
    admin.post(f"/mentor/slots/{ids['slot']}/cancel", data={"reason": "Mentor ill"})
    admin.post(f"/reviews/{ids['review']}/assign", data={"mentor": people["mentor"]})
    assert audit_actions(app) == ["slot.created", "booking.cancelled", "slot.cancelled", "review.assigned"]
    with app.app_context():
        cancelled = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking.cancelled"))
        assert cancelled.after["override"] is True and "rule overridden" in cancelled.summary
    # A mentor acting on their own slots leaves no admin audit trail.
    as_user(app, "mentor@example.org").post(
        "/mentor/availability/slot", data={"interview_type": ids["type"], "day": "2026-10-31", "start_time": "09:00"}
    )
    assert len(audit_actions(app)) == 4


def test_audit_page_filters_and_cannot_be_edited(app, people):
    admin = as_user(app, "admin@example.org")
    admin.post("/admin/policy", data=POLICY)
    admin.post(f"/admin/users/{people['mentor']}/role", data={"role": "admin"})
    html = admin.get("/admin/audit?action=policy.changed").get_data(as_text=True)
    assert "Booking policy: " in html and "role mentor" not in html
    assert "Priya Shah: role mentor → admin" in admin.get(f"/admin/audit?actor={people['admin']}").get_data(
        as_text=True
    )
    assert "No entries match." in admin.get("/admin/audit?from=2020-01-01&to=2020-01-02").get_data(as_text=True)
    assert admin.post("/admin/audit").status_code == 405
    assert not [
        rule for rule in app.url_map.iter_rules() if "audit" in rule.rule and rule.methods - {"GET", "HEAD", "OPTIONS"}
    ]


def test_a_failed_action_leaves_no_audit_row(app, people):
    admin = as_user(app, "admin@example.org")
    admin.post(f"/admin/users/{people['admin']}/role", data={"role": "mentor"})  # refused: last admin
    admin.post("/admin/policy", data={**POLICY, "max_upcoming": "99"})
    assert audit_actions(app) == []


def test_console_pages_send_the_same_number_of_queries_for_5_and_500_rows(app, people, count_queries):
    admin = as_user(app, "admin@example.org")

    def add(first, last):
        with app.app_context():
            db.session.add_all(
                User(email=f"u{n}@example.org", name=f"User {n}", password_hash="x") for n in range(first, last)
            )
            db.session.add_all(
                AuditEvent(
                    actor_id=people["admin"],
                    actor_name="Alex Admin",
                    action="user.x",
                    target_type="user",
                    summary=f"event {n}",
                )
                for n in range(first, last)
            )
            db.session.commit()

    urls = ["/admin/users", "/admin/users?q=user&sort=joined&order=desc", "/admin/audit", "/admin/reports"]

    def measure():
        result = {}
        for url in urls:
            with count_queries() as statements:
                assert admin.get(url).status_code == 200
            result[url] = len(statements)
        return result

    add(0, 5)
    few = measure()
    add(5, 500)
    assert measure() == few


def test_reports_count_bookings_not_waitlist_offers(app, people):
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 10, day, hour, tzinfo=UTC)

    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        make_booking(make_slot(mentor, at(6, 10)), candidate, status="completed")
        make_booking(make_slot(mentor, at(6, 12)), candidate, status="held")
        make_booking(make_slot(mentor, at(7, 12)), candidate, status="lapsed")
        late = make_booking(make_slot(mentor, at(7, 14)), candidate, status="cancelled")
        late.late_cancellation = True
        db.session.commit()
    html = as_user(app, "admin@example.org").get("/admin/reports?from=2026-10-05&to=2026-10-11").get_data(as_text=True)
    weeks = re.search(
        r'<table class="table table-sm table-stack" id="weeks-table">.*?</table>', without_labels(html), re.S
    ).group(0)
    assert re.findall(r"<tr><td>([\d-]+)</td><td>(\d+)</td></tr>", weeks) == [("2026-10-05", "2")]
    assert re.search(r'id="late-cancel-rate">50%<', html)  # 1 late of 2 bookings; the offers are not bookings


def test_faq_sections_keep_their_questions_together_in_the_order_they_first_appear():
    from portal.admin.content import faq_markdown
    from portal.content import parse_faq_sections

    markdown = faq_markdown([("Service", "Cost?", "Free."), ("", "Loose?", "Yes."), ("Service", "Join?", "A link.")])
    assert markdown.startswith("## Loose?\n\nYes.\n\n# Service\n\n## Cost?\n\nFree.\n\n## Join?")
    assert parse_faq_sections("# FAQ\n" + markdown) == [
        ("", "Loose?", "Yes."),
        ("Service", "Cost?", "Free."),
        ("Service", "Join?", "A link."),
    ]


def test_active_mentors_is_every_active_mentor_by_name_and_no_one_else(app):
    from portal.auth.models import User
    from portal.extensions import db
    from tests.factories import make_user

    with app.app_context():
        make_user("mentor", email="zoe@example.org", name="Zoe Mentor")
        make_user("mentor", email="amy@example.org", name="Amy Mentor")
        gone = make_user("mentor", email="gone@example.org", name="Gone Mentor")
        gone.active = False
        make_user("admin", email="alex@example.org", name="Alex Admin")
        make_user(email="sam@example.org", name="Sam Candidate")
        db.session.commit()
        names = [user.name for user in db.session.scalars(User.active_mentors())]
        assert names == ["Amy Mentor", "Zoe Mentor"]
