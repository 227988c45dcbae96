"""Subject access: asking for a copy of one's data, the worker building the zip, downloading it (by its owner only),
admins' exports for a person, and exports being deleted when their time is up."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.auth.models import User
from portal.cvs.models import CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from portal.insights.services import ArticleText, create_article
from portal.mail import OutboxEmail
from portal.notifications.services import notify
from portal.privacy import exports
from portal.privacy.exports import (
    LEASE,
    MAX_ATTEMPTS,
    build_due_exports,
    delete_exports_for,
    export_storage,
    purge_expired_exports,
)
from portal.privacy.models import DataExport, ExportStatus
from portal.storage import new_key
from portal.waitlist.models import WaitlistEntry
from tests.conftest import ON_POSTGRES, s3_settings, s3_test_client
from tests.conftest import logged_in as as_user
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text
from tests.factories import make_booking, make_interview_type, make_slot, make_user

PREPARING = "We are preparing your file; we&#39;ll email you when it is ready (usually within minutes)."
CV_BYTES = pdf_with_text(GOOD_CV_LINES)
FOCUS_NOTE = "Please push me on feature stores"
FEEDBACK_STRENGTHS = "Explained the trade-offs of batch and online features clearly."
REVIEW_STRENGTHS = "Your projects section is concrete."
DRAFT_TEXT = "Half-written thought the candidate must not see"
EMAIL_BODY = "The body of an email, which the export leaves out"
EMAILS = {"candidate": "sam@example.org", "other": "jo@example.org", "mentor": "priya@example.org"}


@pytest.fixture
def settings() -> dict:
    return {"LOGIN_RATE_LIMIT": "1000 per minute", "UPLOAD_RATE_LIMIT": "1000 per hour"}


@pytest.fixture
def people(app):
    with app.app_context():
        return {
            "candidate": make_user(email="sam@example.org", name="Sam Taylor").id,
            "other": make_user(email="jo@example.org", name="Jo Lee").id,
            "mentor": make_user("mentor", email="priya@example.org", name="Priya Shah").id,
            "admin": make_user("admin", email="alex@example.org", name="Alex Morgan").id,
            "other_admin": make_user("admin", email="kim@example.org", name="Kim Admin").id,
        }


def upload_cv(client, data: bytes = CV_BYTES, filename: str = "Sam Taylor CV.pdf") -> None:
    response = client.post(
        "/cvs/", data={"name": "November CV", "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )
    assert response.status_code == 302


def add_history(app, people) -> None:
    """A past session with the candidate's focus note, published feedback and their rating; a CV review; a waitlist
    place; a notification; an audit entry about them; a draft the mentor has not published."""
    with app.app_context():
        candidate = db.session.get(User, people["candidate"])
        mentor = db.session.get(User, people["mentor"])
        admin = db.session.get(User, people["admin"])
        other = db.session.get(User, people["other"])
        past = utcnow().replace(microsecond=0) - timedelta(days=3)
        booking = make_booking(make_slot(mentor, past), candidate, status="completed", focus_note=FOCUS_NOTE)
        db.session.add(
            SessionFeedback(
                booking_id=booking.id,
                mentor_id=mentor.id,
                status="published",
                published_at=past + timedelta(hours=2),
                score_python=4,
                score_ml=3,
                strengths=FEEDBACK_STRENGTHS,
                improvements="Practise window functions.",
                next_steps="Book a system design session.",
                readiness="nearly",
            )
        )
        db.session.add(SessionRating(booking_id=booking.id, candidate_id=candidate.id, score=5, comment="Very useful"))
        # Another candidate's session with the same mentor: a draft that is nobody's business but the mentor's.
        other_booking = make_booking(make_slot(mentor, past - timedelta(days=1)), other, status="completed")
        db.session.add(
            SessionFeedback(booking_id=other_booking.id, mentor_id=mentor.id, status="draft", strengths=DRAFT_TEXT)
        )
        db.session.add(
            CVReview(
                candidate_id=candidate.id,
                document_name="November CV",
                target_role="Junior ML engineer",
                status="completed",
                reviewer_id=mentor.id,
                verdict="approved",
                strengths=REVIEW_STRENGTHS,
                improvement_1="Add links",
                completed_at=past,
            )
        )
        db.session.add(WaitlistEntry(candidate_id=candidate.id, interview_type_id=make_interview_type().id))
        notify(candidate, "Your session was moved.")
        db.session.add(
            OutboxEmail(
                to_address=candidate.email,
                subject="Your session has moved",
                body_text=EMAIL_BODY,
                message_id="<moved-1@example.org>",
                user_id=candidate.id,
                status="sent",
                sent_at=past,
            )
        )
        record(admin, "user.role_changed", "user", candidate.id, "Alex changed Sam's role")
        db.session.commit()


def run_worker(app) -> int:
    with app.app_context():
        return build_due_exports()


def export_rows(app) -> list[DataExport]:
    with app.app_context():
        rows = db.session.scalars(sa.select(DataExport).order_by(DataExport.id)).all()
        db.session.expunge_all()
        return list(rows)


def stored_exports(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"]) / "cvs" / "exports"
    return sorted(path for path in root.iterdir() if path.is_file()) if root.exists() else []


def download_link(html: str) -> str:
    links = re.findall(r'href="(/account/data/exports/\d+/download)"', html)
    assert len(links) == 1, html
    return links[0]


def opened(response) -> tuple[zipfile.ZipFile, dict]:
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    return archive, json.loads(archive.read("data.json"))


def ready_export_of(app, people, who: str = "candidate") -> int:
    """A ready export of `who`'s own data; returns its id."""
    client = as_user(app, EMAILS[who])
    assert client.post("/account/data/exports").status_code == 302
    assert run_worker(app) == 1
    return export_rows(app)[-1].id


# The whole journey ---------------------------------------------------------------------------------------------


def test_candidate_asks_gets_one_email_and_downloads_a_zip_of_their_data(app, people, outbox):
    candidate = as_user(app, "sam@example.org")
    upload_cv(candidate)
    add_history(app, people)
    assert 'href="/account/data"' in candidate.get("/account").get_data(as_text=True)

    page = candidate.get("/account/data").get_data(as_text=True)
    assert "Download my data" in page and "You have not asked for a copy yet." in page
    response = candidate.post("/account/data/exports", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert PREPARING in html and "Being prepared" in html and "/download" not in html

    assert run_worker(app) == 1
    assert run_worker(app) == 0  # nothing left to do: no second file, no second email
    emails = [email for email in outbox("sam@example.org") if "data export" in email.subject]
    assert [email.subject for email in emails] == ["Your data export is ready"]
    assert "http://localhost/account/data" in emails[0].body_text
    assert len(stored_exports(app)) == 1

    html = candidate.get("/account/data").get_data(as_text=True)
    assert "Ready" in html
    response = candidate.get(download_link(html))
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert re.fullmatch(
        r"attachment; filename=career-portal-data-\d{4}-\d\d-\d\d\.zip", response.headers["Content-Disposition"]
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    archive, data = opened(response)
    assert sorted(archive.namelist()) == ["README.txt", "cv/1-Sam Taylor CV.pdf", "data.json"]
    assert archive.read("cv/1-Sam Taylor CV.pdf") == CV_BYTES
    readme = archive.read("README.txt").decode()
    assert "data.json" in readme and "cv_versions" in readme and "not included" in readme
    assert list(data)[:4] == ["format", "generated_at", "account", "consents"]
    for key in (
        "bookings",
        "waitlist_entries",
        "live_sessions",
        "cv_versions",
        "cv_reviews_received",
        "interview_feedback_received",
        "ratings_given",
        "notifications",
        "emails",
        "audit_entries",
    ):
        assert key in data
    assert "interview_feedback_written" not in data  # candidates wrote none
    assert data["account"]["email"] == "sam@example.org" and data["account"]["name"] == "Sam Taylor"
    assert data["account"]["role"] == "candidate" and data["account"]["time_zone"] == "Europe/London"
    assert data["account"]["last_login_at"] is not None
    assert "password_hash" not in json.dumps(data) and "totp" not in json.dumps(data["account"])
    assert {p["category"] for p in data["consents"]["email_preferences"]} >= {"reminders", "booking"}
    [booking] = data["bookings"]
    assert (
        booking["focus_note"] == FOCUS_NOTE and booking["mentor"] == "Priya Shah" and booking["status"] == "completed"
    )
    assert len(data["waitlist_entries"]) == 1
    [cv] = data["cv_versions"]
    assert cv["file_in_this_zip"] == "cv/1-Sam Taylor CV.pdf" and cv["filename"] == "Sam Taylor CV.pdf"
    assert "Python" in cv["extracted_text"] and cv["checks"] and {"check", "passed", "detail"} <= set(cv["checks"][0])
    [feedback] = data["interview_feedback_received"]
    assert feedback["strengths"] == FEEDBACK_STRENGTHS and feedback["rubric_scores_1_to_5"]["Python and coding"] == 4
    [review] = data["cv_reviews_received"]
    assert review["strengths"] == REVIEW_STRENGTHS and review["reviewer"] == "Priya Shah"
    assert data["ratings_given"][0]["score_1_to_5"] == 5 and data["ratings_given"][0]["comment"] == "Very useful"
    assert any(n["message"] == "Your session was moved." for n in data["notifications"])
    [email] = data["emails"]
    assert (
        email["subject"] == "Your session has moved" and email["to"] == "sam@example.org" and email["status"] == "sent"
    )
    assert all(
        set(e) == {"to", "subject", "category", "status", "attempts", "queued_at", "sent_at"} for e in data["emails"]
    )
    assert [a["action"] for a in data["audit_entries"]] == ["user.role_changed"]
    text = json.dumps(data)
    assert EMAIL_BODY not in text
    assert DRAFT_TEXT not in text and "jo@example.org" not in text and "Jo Lee" not in text

    with app.app_context():
        assert db.session.get(DataExport, export_rows(app)[0].id).downloaded_at is not None


def test_a_mentors_export_includes_what_they_wrote_without_the_candidates_details(app, people):
    add_history(app, people)
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        create_article(mentor, ArticleText("Interviews at fintechs", "What they ask", "Expect **SQL**.", ()))
        db.session.commit()
    ready_export_of(app, people, "mentor")
    client = as_user(app, "priya@example.org")
    archive, data = opened(client.get(download_link(client.get("/account/data").get_data(as_text=True))))
    assert data["account"]["role"] == "mentor" and "focus_areas" in data["account"]
    written = {item["strengths"]: item["status"] for item in data["interview_feedback_written"]}
    assert written == {FEEDBACK_STRENGTHS: "published", DRAFT_TEXT: "draft"}
    assert [r["strengths"] for r in data["cv_reviews_written"]] == [REVIEW_STRENGTHS]
    assert [a["title"] for a in data["articles_written"]] == ["Interviews at fintechs"]
    assert len(data["availability_slots"]) == 2
    text = json.dumps(data)
    assert "Sam Taylor" not in text and FOCUS_NOTE not in text and "sam@example.org" not in text
    assert not [name for name in archive.namelist() if name.startswith("cv/")]


# Who may download -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("sam@example.org", 200),
        ("jo@example.org", 404),
        ("priya@example.org", 404),
        ("alex@example.org", 404),
        (None, 302),
    ],
)
def test_only_the_person_downloads_their_own_export(app, people, who, status):
    export_id = ready_export_of(app, people)
    client = as_user(app, who) if who else app.test_client()
    response = client.get(f"/account/data/exports/{export_id}/download")
    assert response.status_code == status
    if who is None:
        assert response.headers["Location"].startswith("/login")
    if status == 404:
        assert "PK" not in response.get_data(as_text=True)[:2]
    assert client.get(f"/account/data/exports/{export_id + 1000}/download").status_code == (302 if who is None else 404)


def test_an_admins_export_is_audited_emailed_to_them_and_downloadable_by_them_alone(app, people, outbox):
    as_user(app, "sam@example.org")  # Sam has logged in once
    admin = as_user(app, "alex@example.org")
    page = admin.get(f"/admin/users/{people['candidate']}").get_data(as_text=True)
    assert "Export this person&#39;s data" in page
    response = admin.post(f"/admin/users/{people['candidate']}/data-exports", follow_redirects=True)
    assert "We are preparing the export of the data of Sam Taylor" in response.get_data(as_text=True)
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.export_requested")).all()
        assert event.actor_id == people["admin"] and event.target_id == str(people["candidate"])
    assert run_worker(app) == 1
    assert [e.subject for e in outbox("alex@example.org")] == ["The data export you asked for is ready"]
    assert not [e for e in outbox("sam@example.org") if "data export" in e.subject]

    page = admin.get(f"/admin/users/{people['candidate']}/data-exports").get_data(as_text=True)
    link = download_link(page)
    for other in ("sam@example.org", "kim@example.org", "priya@example.org"):
        assert as_user(app, other).get(link).status_code == 404
    other_admins_view = as_user(app, "kim@example.org").get(f"/admin/users/{people['candidate']}/data-exports")
    assert "/download" not in other_admins_view.get_data(as_text=True)
    assert "Only Alex Morgan can download it" in other_admins_view.get_data(as_text=True)
    assert "/download" not in as_user(app, "sam@example.org").get("/account/data").get_data(as_text=True)
    response = admin.get(link)
    assert response.status_code == 200
    _, data = opened(response)
    assert data["account"]["email"] == "sam@example.org"
    assert [a["action"] for a in data["audit_entries"]] == ["user.export_requested"]
    with app.app_context():
        downloads = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.export_downloaded")).all()
        assert [(d.actor_id, d.target_id) for d in downloads] == [(people["admin"], str(people["candidate"]))]
    # Only admins run exports for someone else.
    assert as_user(app, "priya@example.org").post(f"/admin/users/{people['candidate']}/data-exports").status_code == 403


def test_not_ready_and_expired_exports_cannot_be_downloaded(app, people):
    client = as_user(app, "sam@example.org")
    client.post("/account/data/exports")
    [export] = export_rows(app)
    response = client.get(f"/account/data/exports/{export.id}/download")
    assert response.status_code == 404 and "This file is not ready yet." in response.get_data(as_text=True)
    run_worker(app)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=7, minutes=1)):
        client = as_user(app, "sam@example.org")
        response = client.get(f"/account/data/exports/{export.id}/download")
        assert response.status_code == 404 and "no longer available" in response.get_data(as_text=True)
        assert "Expired" in client.get("/account/data").get_data(as_text=True)


# One at a time, a few a day ---------------------------------------------------------------------------------------


def test_one_export_at_a_time_and_three_a_day(app, people):
    client = as_user(app, "sam@example.org")
    client.post("/account/data/exports")
    html = client.post("/account/data/exports", follow_redirects=True).get_data(as_text=True)
    assert "We are already preparing a copy of your data." in html
    assert len(export_rows(app)) == 1
    for _ in range(2):
        run_worker(app)
        assert PREPARING in client.post("/account/data/exports", follow_redirects=True).get_data(as_text=True)
    run_worker(app)
    html = client.post("/account/data/exports", follow_redirects=True).get_data(as_text=True)
    assert "You have asked for 3 copies of your data in the last 24 hours" in html
    assert len(export_rows(app)) == 3
    # An admin is not limited by the person's own requests.
    admin = as_user(app, "alex@example.org")
    admin.post(f"/admin/users/{people['candidate']}/data-exports")
    assert len(export_rows(app)) == 4
    run_worker(app)
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=24, minutes=1)):
        client = as_user(app, "sam@example.org")
        assert PREPARING in client.post("/account/data/exports", follow_redirects=True).get_data(as_text=True)


def test_the_database_refuses_a_second_export_in_progress(app, people):
    with app.app_context():
        db.session.add(
            DataExport(subject_id=people["candidate"], requested_by_id=people["candidate"], storage_key=new_key())
        )
        db.session.commit()
        db.session.add(
            DataExport(
                subject_id=people["candidate"],
                requested_by_id=people["admin"],
                status="building",
                storage_key=new_key(),
            )
        )
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()


@pytest.mark.parametrize("round_", range(5 if ON_POSTGRES else 1))
def test_requests_at_the_same_moment_make_one_export(app, people, round_):
    clients = [as_user(app, "sam@example.org") for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def ask(client):
        barrier.wait(timeout=10)
        response = client.post("/account/data/exports", follow_redirects=True)
        statuses.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=ask, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [code for code, _ in statuses] == [200] * len(clients)
    assert sum(PREPARING in html for _, html in statuses) == 1
    assert sum("We are already preparing a copy of your data." in html for _, html in statuses) == len(clients) - 1
    assert len(export_rows(app)) == 1


# The worker -------------------------------------------------------------------------------------------------------


def test_a_worker_stopped_halfway_is_taken_over_after_its_lease(app, people, outbox):
    upload_cv(as_user(app, "sam@example.org"))
    client = as_user(app, "sam@example.org")
    client.post("/account/data/exports")
    with app.app_context():
        export = db.session.scalar(sa.select(DataExport))
        # A worker claimed it, wrote part of a file and was killed.
        export.status, export.claimed_at, export.attempts = "building", utcnow(), 1
        key = export.storage_key
        db.session.commit()
        export_storage(app).save_as(key, io.BytesIO(b"PK\x03\x04 half a zip"))
    assert run_worker(app) == 0  # its lease still holds: nobody else builds it meanwhile
    assert export_rows(app)[0].status == "building"
    with time_machine.travel(datetime.now(UTC) + LEASE + timedelta(seconds=5)):
        assert run_worker(app) == 1
    [export] = export_rows(app)
    assert export.status == "ready" and export.attempts == 2 and export.claimed_at is None
    assert stored_exports(app) == [Path(app.config["UPLOAD_DIR"]) / "cvs" / "exports" / key]
    archive, data = opened(client.get(f"/account/data/exports/{export.id}/download"))
    assert archive.testzip() is None and data["account"]["email"] == "sam@example.org"
    assert archive.read("cv/1-Sam Taylor CV.pdf") == CV_BYTES
    assert len([e for e in outbox("sam@example.org") if e.subject == "Your data export is ready"]) == 1


def test_a_slow_worker_finishing_after_another_adds_no_file_and_no_email(app, people, outbox):
    as_user(app, "sam@example.org").post("/account/data/exports")
    with app.app_context():
        slow = exports._claim_next()
        slow_file = exports._build_and_store(slow[0])
    with time_machine.travel(datetime.now(UTC) + LEASE + timedelta(seconds=5)):
        assert run_worker(app) == 1  # the next run takes it over and finishes it
        with app.app_context():
            assert exports._finish(*slow, slow_file) is False
    assert len(stored_exports(app)) == 1
    assert len([e for e in outbox("sam@example.org") if e.subject == "Your data export is ready"]) == 1
    assert export_rows(app)[0].status == "ready"


def test_an_export_that_cannot_be_built_is_retried_then_failed_and_others_go_on(app, people, monkeypatch, outbox):
    as_user(app, "jo@example.org").post("/account/data/exports")
    as_user(app, "sam@example.org").post("/account/data/exports")
    real = exports.write_export

    def broken_for_jo(subject, target):
        if subject.email == "jo@example.org":
            raise RuntimeError("the disk is full")
        real(subject, target)

    monkeypatch.setattr(exports, "write_export", broken_for_jo)
    assert run_worker(app) == 1
    jo, sam = export_rows(app)
    assert sam.status == "ready" and jo.status == "building" and jo.error == "RuntimeError: the disk is full"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with time_machine.travel(datetime.now(UTC) + (LEASE + timedelta(seconds=5)) * attempt):
            assert run_worker(app) == 0
    [jo] = [row for row in export_rows(app) if row.subject_id == people["other"]]
    assert jo.status == "failed" and jo.attempts == MAX_ATTEMPTS and "disk is full" in jo.error
    assert [e.subject for e in outbox("jo@example.org")] == ["We could not prepare your data export"]
    assert "http://localhost/account/data" in outbox("jo@example.org")[0].body_text
    html = as_user(app, "jo@example.org").get("/account/data").get_data(as_text=True)
    assert "Something went wrong; ask again" in html
    # A failed export does not count against the day's requests, and a new one may be asked for.
    monkeypatch.setattr(exports, "write_export", real)
    client = as_user(app, "jo@example.org")
    assert PREPARING in client.post("/account/data/exports", follow_redirects=True).get_data(as_text=True)
    assert run_worker(app) == 1


def test_the_worker_command_builds_exports_and_says_how_many(app, people):
    as_user(app, "sam@example.org").post("/account/data/exports")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "data exports ready: 1" in result.output
    assert export_rows(app)[0].status == "ready"


# Removing exports ---------------------------------------------------------------------------------------------------

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_purge_removes_exactly_the_exports_whose_time_is_up(app, people):
    with time_machine.travel(NOW - timedelta(days=7), tick=False):
        ready_export_of(app, people, "candidate")
        ready_export_of(app, people, "other")
    with app.app_context():
        sam, jo = db.session.scalars(sa.select(DataExport).order_by(DataExport.id)).all()
        sam.expires_at = NOW - timedelta(seconds=1)
        jo.expires_at = NOW + timedelta(seconds=1)
        kept_key = jo.storage_key
        db.session.commit()
    assert len(stored_exports(app)) == 2
    with app.app_context():
        assert purge_expired_exports(NOW, dry_run=True) == 1
        db.session.commit()
    assert len(export_rows(app)) == 2 and len(stored_exports(app)) == 2
    with app.app_context():
        assert purge_expired_exports(NOW, dry_run=False) == 1
        db.session.commit()
    assert [row.subject_id for row in export_rows(app)] == [people["other"]]
    assert [path.name for path in stored_exports(app)] == [kept_key]
    with app.app_context():
        assert purge_expired_exports(NOW + timedelta(seconds=1), dry_run=False) == 1
        db.session.commit()
    assert export_rows(app) == [] and stored_exports(app) == []


def test_deleting_a_persons_exports_removes_theirs_and_those_they_asked_for(app, people):
    ready_export_of(app, people, "candidate")
    ready_export_of(app, people, "other")
    as_user(app, "alex@example.org").post(f"/admin/users/{people['other']}/data-exports")  # queued, no file yet
    with app.app_context():
        assert delete_exports_for(db.session.get(User, people["candidate"])) == 1
        db.session.commit()
    assert len(export_rows(app)) == 2 and len(stored_exports(app)) == 1
    with app.app_context():
        assert delete_exports_for(db.session.get(User, people["admin"])) == 1
        assert delete_exports_for(db.session.get(User, people["other"])) == 1
        db.session.commit()
    assert export_rows(app) == [] and stored_exports(app) == []


def test_an_export_deleted_while_it_was_built_leaves_no_file(app, people):
    as_user(app, "sam@example.org").post("/account/data/exports")
    with app.app_context():
        claim = exports._claim_next()
        stored = exports._build_and_store(claim[0])
        assert delete_exports_for(db.session.get(User, people["candidate"])) == 1
        db.session.commit()
        assert exports._finish(*claim, stored) is False
    assert export_rows(app) == [] and stored_exports(app) == []


# Safety and scale ---------------------------------------------------------------------------------------------------


def test_asking_needs_the_forms_token(app, people):
    client = as_user(app, "sam@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/account/data/exports").status_code == 400
    assert client.get("/account/data/exports").status_code == 405
    assert export_rows(app) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/data").get_data(as_text=True))[1]
    assert client.post("/account/data/exports", data={"csrf_token": token}).status_code == 302
    assert len(export_rows(app)) == 1


def test_building_an_export_sends_as_many_queries_for_3_and_30_sessions(app, people, count_queries):
    def history(sessions: int, first_day: int) -> None:
        with app.app_context():
            candidate = db.session.get(User, people["candidate"])
            mentor = db.session.get(User, people["mentor"])
            start = utcnow().replace(microsecond=0) - timedelta(days=400)
            for number in range(sessions):
                slot = make_slot(mentor, start + timedelta(days=first_day + number))
                booking = make_booking(slot, candidate, "completed")
                db.session.add(
                    SessionFeedback(booking_id=booking.id, mentor_id=mentor.id, status="published", strengths="Good")
                )
                db.session.add(SessionRating(booking_id=booking.id, candidate_id=candidate.id, score=4))
                notify(candidate, f"Feedback {number} is ready.")
            db.session.commit()

    def queries_to_build() -> int:
        as_user(app, "sam@example.org").post("/account/data/exports")
        with count_queries() as statements:
            assert run_worker(app) == 1
        return len(statements)

    history(3, first_day=0)
    few = queries_to_build()
    with app.app_context():
        db.session.execute(sa.delete(DataExport))
        db.session.commit()
    history(27, first_day=3)
    assert queries_to_build() == few


def test_exports_are_kept_apart_from_the_cvs_in_an_object_store(app, people, s3_endpoint, s3_bucket):
    app.config.update(s3_settings(s3_endpoint, s3_bucket))
    client = as_user(app, "sam@example.org")
    upload_cv(client)
    export_id = ready_export_of(app, people)
    [export] = export_rows(app)
    names = sorted(item["Key"] for item in s3_test_client(s3_endpoint).list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert f"cvs/exports/{export.storage_key}" in names and len(names) == 2
    archive, _ = opened(client.get(f"/account/data/exports/{export_id}/download"))
    assert archive.read("cv/1-Sam Taylor CV.pdf") == CV_BYTES
    with app.app_context():
        assert delete_exports_for(db.session.get(User, people["candidate"])) == 1
        db.session.commit()
    names = [item["Key"] for item in s3_test_client(s3_endpoint).list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert len(names) == 1 and not names[0].startswith("cvs/exports/")


def test_the_retention_run_deletes_the_exports_whose_time_is_up_and_no_other(app, people):
    with time_machine.travel(NOW - timedelta(days=7), tick=False):
        ready_export_of(app, people, "candidate")
        ready_export_of(app, people, "other")
    with app.app_context():
        sam, jo = db.session.scalars(sa.select(DataExport).order_by(DataExport.id)).all()
        sam.expires_at = NOW - timedelta(seconds=1)
        jo.expires_at = NOW + timedelta(seconds=1)
        kept_key = jo.storage_key
        db.session.commit()
    with time_machine.travel(NOW, tick=False):
        dry = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
        assert re.search(r"^Data exports +kept 7 days after the file is ready: would remove 1$", dry.output, re.M)
        assert len(stored_exports(app)) == 2
        result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^Data exports +kept 7 days after the file is ready: removed 1$", result.output, re.M)
    assert [row.subject_id for row in export_rows(app)] == [people["other"]]
    assert [path.name for path in stored_exports(app)] == [kept_key]


def test_a_persons_exports_are_listed_twenty_to_a_page(app, people):
    with app.app_context():
        for _ in range(21):
            db.session.add(
                DataExport(
                    subject_id=people["candidate"],
                    requested_by_id=people["candidate"],
                    status=ExportStatus.FAILED,
                    storage_key=new_key(),
                )
            )
        db.session.commit()
    client = as_user(app, "sam@example.org")
    first = client.get("/account/data").get_data(as_text=True)
    assert first.count("Something went wrong; ask again") == 20 and 'href="/account/data?page=2"' in first
    assert client.get("/account/data?page=2").get_data(as_text=True).count("Something went wrong; ask again") == 1
    admin = as_user(app, "alex@example.org")
    page = admin.get(f"/admin/users/{people['candidate']}/data-exports").get_data(as_text=True)
    assert page.count("Something went wrong; ask again") == 20
    assert f'href="/admin/users/{people["candidate"]}/data-exports?page=2"' in page
