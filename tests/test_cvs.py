"""CV versions and the review workflow, through the pages."""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
import time_machine

from portal.cvs.models import CVDocument, CVReview
from portal.extensions import db
from tests.conftest import logged_in as as_user
from tests.cv_samples import GOOD_CV_LINES, docx_with_text, encrypted_pdf, exe_bytes, html_as_pdf, pdf_with_text
from tests.factories import make_slot, make_user


@pytest.fixture
def people(app):
    with app.app_context():
        ids = {
            "candidate": make_user(email="sam@example.org", name="Sam Taylor").id,
            "other": make_user(email="jo@example.org", name="Jo Lee").id,
            "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah").id,
            "other_mentor": make_user("mentor", email="tom@example.org", name="Tom Okafor").id,
            "admin": make_user("admin", email="admin@example.org", name="Alex Admin").id,
        }
    return ids


def upload(client, data: bytes, filename: str = "cv.pdf", name: str = "ML engineer CV, November"):
    return client.post(
        "/cvs/", data={"name": name, "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"]) / "cvs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def document_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(CVDocument.id).order_by(CVDocument.id)))


# Upload ------------------------------------------------------------------------------------------------


def test_pdf_upload_makes_a_current_version_and_shows_the_check(app, people, auth, client):
    auth.login("sam@example.org")
    response = upload(client, pdf_with_text(GOOD_CV_LINES), "Sam Taylor CV.pdf")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Instant check" in html and "Why it matters" in html and "Current" in html
    with app.app_context():
        document = db.session.scalar(sa.select(CVDocument))
        assert document.media_type == "application/pdf" and document.page_count == 1 and document.is_current
        assert document.original_filename == "Sam Taylor CV.pdf" and "Python" in document.extracted_text
        assert document.storage_key not in document.original_filename
    files = stored_files(app)
    assert len(files) == 1 and files[0].name == document.storage_key and files[0].suffix == ""
    assert not any("static" in part for part in files[0].parts[-3:])


def test_docx_upload_and_versions_list(app, people, auth, client):
    auth.login("sam@example.org")
    upload(client, pdf_with_text(GOOD_CV_LINES), "first.pdf", name="Alpha version")
    upload(client, docx_with_text(GOOD_CV_LINES), "second.docx", name="Beta version")
    html = client.get("/cvs/").get_data(as_text=True).split("<tbody>")[1]
    assert html.index("Beta version") < html.index("Alpha version")  # newest first
    assert html.count(">Current</span>") == 1 and "Word · second.docx" in html
    with app.app_context():
        current = db.session.scalars(sa.select(CVDocument.name).where(CVDocument.is_current)).all()
    assert current == ["Beta version"]


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (exe_bytes(), "cv.pdf", "Only PDF and Word (.docx) files are accepted."),
        (html_as_pdf(), "cv.pdf", "Only PDF and Word (.docx) files are accepted."),
        (b"", "cv.pdf", "The file is empty."),
        (encrypted_pdf(), "cv.pdf", "password-protected"),
    ],
)
def test_bad_files_are_refused_next_to_the_field_and_nothing_is_stored(
    app, people, auth, client, data, filename, message
):
    auth.login("sam@example.org")
    response = upload(client, data, filename)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and 'href="#file"' in html
    assert stored_files(app) == [] and document_ids(app) == []


def test_missing_name_and_file_are_explained(people, auth, client):
    auth.login("sam@example.org")
    html = client.post("/cvs/", data={"name": ""}, content_type="multipart/form-data").get_data(as_text=True)
    assert "Name this version" in html and "Choose a file to upload." in html


def test_file_over_the_limit_is_refused_and_a_body_over_the_limit_gets_413(app, people, auth, client):
    auth.login("sam@example.org")
    app.config["CV_MAX_BYTES"] = 100_000
    big_pdf = pdf_with_text(GOOD_CV_LINES) + b"%" + b"0" * 200_000
    assert "The file is larger than 97 KB." in upload(client, big_pdf).get_data(as_text=True)
    app.config["CV_MAX_BYTES"] = 5 * 1024 * 1024
    response = upload(client, b"%PDF-" + b"0" * (7 * 1024 * 1024))
    assert response.status_code == 413 and "The file is too large" in response.get_data(as_text=True)
    assert stored_files(app) == []


def test_a_failed_save_to_the_database_leaves_no_file(app, people, auth, client, monkeypatch):
    auth.login("sam@example.org")
    original_flush = db.session.flush

    def failing_flush(*args, **kwargs):
        if any(isinstance(obj, CVDocument) for obj in db.session.new):
            raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))
        return original_flush(*args, **kwargs)

    with app.app_context():
        monkeypatch.setattr(db.session, "flush", failing_flush)
        response = upload(client, pdf_with_text(GOOD_CV_LINES))
    assert response.status_code == 500
    monkeypatch.undo()
    assert stored_files(app) == [] and document_ids(app) == []


# Download ----------------------------------------------------------------------------------------------


def uploaded_document(app, client) -> int:
    assert upload(client, pdf_with_text(GOOD_CV_LINES), "Zoë Ångström – CV (final).pdf").status_code == 302
    return document_ids(app)[-1]


@pytest.mark.parametrize(
    "who, status",
    [
        ("sam@example.org", 200),
        ("jo@example.org", 404),
        ("mentor@example.org", 200),
        ("tom@example.org", 404),
        ("admin@example.org", 200),
        (None, 302),
    ],
)
def test_download_permission_matrix(app, people, who, status):
    owner = as_user(app, "sam@example.org")
    document_id = uploaded_document(app, owner)
    response = owner.post(f"/cvs/{document_id}", data={"target_role": "ML engineer", "questions": ""})
    review_id = int(response.headers["Location"].rsplit("/", 1)[1])
    as_user(app, "mentor@example.org").post(f"/reviews/{review_id}/claim")
    client = as_user(app, who) if who else app.test_client()
    assert client.get(f"/cvs/{document_id}/download").status_code == status


def test_download_headers_and_safe_unicode_filename(app, people, auth, client):
    auth.login("sam@example.org")
    document_id = uploaded_document(app, client)
    response = client.get(f"/cvs/{document_id}/download")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Zoë Ångström – CV (final).pdf"
    ascii_part = re.search(r'filename="?([^";]*)"?', disposition).group(1)
    assert ascii_part.isascii() and "/" not in ascii_part and "\\" not in ascii_part
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data.startswith(b"%PDF-")


def test_mentor_of_a_booking_with_the_cv_attached_may_download_it(app, people, auth, client):
    auth.login("sam@example.org")
    document_id = uploaded_document(app, client)
    with app.app_context():
        from portal.auth.models import User

        mentor = db.session.get(User, people["mentor"])
        slot = make_slot(mentor, datetime.now(UTC) + timedelta(days=3))
        slot_id = slot.id
    page = client.get(f"/interviews/slots/{slot_id}/book").get_data(as_text=True)
    assert "CV to share with the mentor" in page
    assert (
        client.post(
            f"/interviews/slots/{slot_id}/book", data={"focus_note": "", "cv_document": document_id}
        ).status_code
        == 302
    )
    mentor_client = as_user(app, "mentor@example.org")
    assert "ML engineer CV, November" in mentor_client.get("/mentor/schedule").get_data(as_text=True)
    assert mentor_client.get(f"/cvs/{document_id}/download").status_code == 200
    assert as_user(app, "tom@example.org").get(f"/cvs/{document_id}/download").status_code == 404


def test_booking_with_someone_elses_cv_is_refused(app, people, auth, client):
    other = as_user(app, "jo@example.org")
    foreign = uploaded_document(app, other)
    auth.login("sam@example.org")
    with app.app_context():
        from portal.auth.models import User

        slot_id = make_slot(db.session.get(User, people["mentor"]), datetime.now(UTC) + timedelta(days=3)).id
    html = client.post(f"/interviews/slots/{slot_id}/book", data={"cv_document": foreign}).get_data(as_text=True)
    assert "Choose one of your own CV versions." in html


def test_other_candidates_cannot_see_or_touch_a_version(app, people):
    document_id = uploaded_document(app, as_user(app, "sam@example.org"))
    other = as_user(app, "jo@example.org")
    assert other.get(f"/cvs/{document_id}").status_code == 404
    assert other.post(f"/cvs/{document_id}/delete").status_code == 404
    assert other.post(f"/cvs/{document_id}/current").status_code == 404


def test_delete_removes_the_file_and_keeps_written_feedback(app, people, auth, client):
    auth.login("sam@example.org")
    document_id = uploaded_document(app, client)
    with app.app_context():
        document = db.session.get(CVDocument, document_id)
        db.session.add(
            CVReview(
                candidate_id=people["candidate"],
                cv_document_id=document_id,
                document_name=document.name,
                target_role="MLE",
                status="completed",
                reviewer_id=people["mentor"],
                verdict="approved",
                strengths="Clear impact",
            )
        )
        db.session.commit()
    response = client.post(f"/cvs/{document_id}/delete", follow_redirects=True)
    assert "deleted. Feedback already written about it stays" in response.get_data(as_text=True)
    assert stored_files(app) == [] and document_ids(app) == []
    with app.app_context():
        review = db.session.scalar(sa.select(CVReview))
        assert review.cv_document_id is None and review.strengths == "Clear impact"
    assert "This version was deleted; the feedback stays." in client.get(f"/reviews/{review.id}").get_data(as_text=True)


def test_a_version_waiting_for_review_cannot_be_deleted(app, people, auth, client):
    auth.login("sam@example.org")
    document_id = uploaded_document(app, client)
    client.post(f"/cvs/{document_id}", data={"target_role": "MLE"})
    html = client.post(f"/cvs/{document_id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Withdraw the request first" in html and len(stored_files(app)) == 1


# Review workflow -----------------------------------------------------------------------------------------


def request_review(app, client, document_id, role="Junior ML engineer") -> int:
    response = client.post(f"/cvs/{document_id}", data={"target_role": role, "questions": "Is it too long?"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


FEEDBACK = {
    "verdict": "changes_suggested",
    "comment_summary": "Lead with deployment work.",
    "comment_experience": "Quantify the pipeline.",
    "comment_skills": "",
    "comment_projects": "Link the repo.",
    "comment_presentation": "",
    "strengths": "Clear and short.",
    "improvement_1": "Add numbers",
    "improvement_2": "Link GitHub",
    "improvement_3": "",
}


def test_full_review_cycle_with_revision_and_diff(app, people, outbox):
    candidate = as_user(app, "sam@example.org")
    first_id = uploaded_document(app, candidate)
    review_id = request_review(app, candidate, first_id)
    mentor = as_user(app, "mentor@example.org")
    queue = mentor.get("/reviews/queue").get_data(as_text=True)
    assert "Sam Taylor" in queue and "Junior ML engineer" in queue and "0 days" in queue
    assert mentor.post(f"/reviews/{review_id}/claim").status_code == 302
    draft = mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "save": "1"}, follow_redirects=True)
    assert "Draft saved" in draft.get_data(as_text=True)
    waiting = candidate.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "A mentor is reviewing your CV now." in waiting and "Lead with deployment work." not in waiting
    published = mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"}, follow_redirects=True)
    assert "Feedback published" in published.get_data(as_text=True)
    email = outbox("sam@example.org")[-1]
    assert email.subject == "Your CV review is ready: Changes suggested" and "Add numbers" in email.body_text
    page = candidate.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Lead with deployment work." in page and "Changes suggested" in page and "Add numbers" in page

    revised = upload(
        candidate, pdf_with_text([*GOOD_CV_LINES, "Deployed a FastAPI service on AWS."]), "revised.pdf", name="Revised"
    )
    assert revised.status_code == 302
    second_id = document_ids(app)[-1]
    second_review = request_review(app, candidate, second_id)
    with app.app_context():
        assert db.session.get(CVReview, second_review).previous_review_id == review_id
    mentor.post(f"/reviews/{second_review}/claim")
    page = mentor.get(f"/reviews/{second_review}").get_data(as_text=True)
    assert "What changed since the last review" in page and "Deployed a FastAPI service on AWS." in page
    assert "1 line added, 0 removed." in page and "Lead with deployment work." in page


def test_publishing_needs_a_verdict_and_an_improvement(app, people):
    candidate = as_user(app, "sam@example.org")
    review_id = request_review(app, candidate, uploaded_document(app, candidate))
    mentor = as_user(app, "mentor@example.org")
    mentor.post(f"/reviews/{review_id}/claim")
    html = mentor.post(f"/reviews/{review_id}", data={"publish": "1"}).get_data(as_text=True)
    assert "Choose an overall verdict before publishing." in html
    html = mentor.post(f"/reviews/{review_id}", data={"verdict": "approved", "publish": "1"}).get_data(as_text=True)
    assert "Give at least one improvement before publishing." in html
    with app.app_context():
        assert db.session.get(CVReview, review_id).status == "claimed"


def test_withdraw_until_claimed_then_refused(app, people):
    candidate = as_user(app, "sam@example.org")
    document_id = uploaded_document(app, candidate)
    review_id = request_review(app, candidate, document_id)
    assert "already has a review request in progress" in candidate.post(
        f"/cvs/{document_id}", data={"target_role": "Again"}
    ).get_data(as_text=True)
    candidate.post(f"/reviews/{review_id}/withdraw")
    with app.app_context():
        assert db.session.get(CVReview, review_id).status == "withdrawn"
    review_id = request_review(app, candidate, document_id)
    as_user(app, "mentor@example.org").post(f"/reviews/{review_id}/claim")
    html = candidate.post(f"/reviews/{review_id}/withdraw", follow_redirects=True).get_data(as_text=True)
    assert "can no longer be withdrawn" in html


def test_every_illegal_transition_is_refused(app, people):
    candidate = as_user(app, "sam@example.org")
    mentor = as_user(app, "mentor@example.org")
    other_mentor = as_user(app, "tom@example.org")
    review_id = request_review(app, candidate, uploaded_document(app, candidate))

    def status():
        with app.app_context():
            return db.session.get(CVReview, review_id).status

    # requested: no feedback, no release
    assert mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "save": "1"}).status_code == 403
    mentor.post(f"/reviews/{review_id}/release")
    assert status() == "requested"
    # claimed: no second claim, no withdraw, others cannot write or release
    mentor.post(f"/reviews/{review_id}/claim")
    assert "claimed this review a moment ago" in other_mentor.post(
        f"/reviews/{review_id}/claim", follow_redirects=True
    ).get_data(as_text=True)
    assert other_mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"}).status_code == 404
    assert other_mentor.post(f"/reviews/{review_id}/release").status_code == 404
    candidate.post(f"/reviews/{review_id}/withdraw")
    assert status() == "claimed"
    # completed: no claim, no release, no second publish, no withdraw
    mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"})
    assert status() == "completed"
    mentor.post(f"/reviews/{review_id}/release")
    candidate.post(f"/reviews/{review_id}/withdraw")
    assert mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"}).status_code == 403
    assert status() == "completed"


def test_release_returns_to_the_queue_and_admin_assigns(app, people):
    candidate = as_user(app, "sam@example.org")
    review_id = request_review(app, candidate, uploaded_document(app, candidate))
    mentor = as_user(app, "mentor@example.org")
    mentor.post(f"/reviews/{review_id}/claim")
    mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "save": "1"})
    mentor.post(f"/reviews/{review_id}/release")
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        assert review.status == "requested" and review.reviewer_id is None and review.strengths == ""
    admin = as_user(app, "admin@example.org")
    admin.post(f"/reviews/{review_id}/assign", data={"mentor": people["other_mentor"]})
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        assert review.status == "claimed" and review.reviewer_id == people["other_mentor"]
    assert "assigned you a CV review" in as_user(app, "tom@example.org").get("/notifications/").get_data(as_text=True)


def test_admin_list_highlights_requests_waiting_over_three_days(app, people):
    with time_machine.travel(datetime.now(UTC) - timedelta(days=4), tick=True):
        earlier = as_user(app, "sam@example.org")  # signed cookies are only valid from when they were made
        old_id = request_review(app, earlier, uploaded_document(app, earlier), role="Old request")
    candidate = as_user(app, "sam@example.org")
    request_review(app, candidate, uploaded_document(app, candidate), role="New request")
    html = as_user(app, "admin@example.org").get("/reviews/all").get_data(as_text=True)
    rows = re.findall(r"<tr( class=\"table-warning\")?>\s*<td [^>]*><a href=\"/reviews/(\d+)\"", html)
    assert (' class="table-warning"', str(old_id)) in rows
    assert sum(1 for highlight, _ in rows if highlight) == 1
    assert "Over 3 days" in html


def test_two_mentors_claiming_at_once_exactly_one_wins(app, people, settings):
    candidate = as_user(app, "sam@example.org")
    review_id = request_review(app, candidate, uploaded_document(app, candidate))
    clients = [as_user(app, "mentor@example.org"), as_user(app, "tom@example.org")]
    barrier = threading.Barrier(2)
    results = []

    def claim(client):
        barrier.wait(timeout=10)
        results.append(client.post(f"/reviews/{review_id}/claim", follow_redirects=True).get_data(as_text=True))

    threads = [threading.Thread(target=claim, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [html for html in results if "You are reviewing this CV" in html]
    losers = [html for html in results if "claimed this review a moment ago" in html]
    assert len(winners) == 1 and len(losers) == 1
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        assert review.status == "claimed" and review.reviewer_id in (people["mentor"], people["other_mentor"])


def test_reviewer_and_candidate_only_see_their_reviews(app, people):
    candidate = as_user(app, "sam@example.org")
    review_id = request_review(app, candidate, uploaded_document(app, candidate))
    assert as_user(app, "jo@example.org").get(f"/reviews/{review_id}").status_code == 404
    as_user(app, "mentor@example.org").post(f"/reviews/{review_id}/claim")
    assert as_user(app, "tom@example.org").get(f"/reviews/{review_id}").status_code == 404
    assert as_user(app, "admin@example.org").get(f"/reviews/{review_id}").status_code == 200
