"""The CV upload page: a version named after its file when left unnamed, how long reviews take, and a scan that the
instant check admits it cannot read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.cvs.models import CVDocument, CVReview
from portal.cvs.services import version_name_from
from portal.db import utcnow
from portal.extensions import db
from tests.conftest import logged_in as as_user
from tests.cv_samples import GOOD_CV_LINES, blank_pdf, docx_with_text, pdf_with_text
from tests.factories import make_user
from tests.test_cvs import upload


@pytest.fixture
def people(app) -> dict:
    with app.app_context():
        return {
            "candidate": make_user(email="sam@example.org", name="Sam Taylor").id,
            "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah").id,
        }


def newest_document(app) -> CVDocument:
    with app.app_context():
        return db.session.scalar(sa.select(CVDocument).order_by(CVDocument.id.desc()))


# A name from the file -------------------------------------------------------------------------------------------


def test_a_version_left_unnamed_is_named_after_its_file(app, people):
    client = as_user(app, "sam@example.org")
    response = upload(client, pdf_with_text(GOOD_CV_LINES), "Sam_Taylor_ML_CV__Nov.pdf", name="  ")
    assert response.status_code == 302
    assert newest_document(app).name == "Sam Taylor ML CV Nov"
    assert "“Sam Taylor ML CV Nov” uploaded" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_name_given_is_kept_as_typed(app, people):
    client = as_user(app, "sam@example.org")
    upload(client, docx_with_text(GOOD_CV_LINES), "my_cv.docx", name="For fintech roles")
    assert newest_document(app).name == "For fintech roles"


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("cv.pdf", "cv"),
        ("C:\\Users\\sam\\Desktop\\Final_CV_v2.docx", "Final CV v2"),
        ("folder/Résumé – 2026.final.pdf", "Résumé – 2026.final"),
        ("line\u202ebreak\x00_name.pdf", "linebreak name"),
        ("____.pdf", "CV"),
        ("", "CV"),
        ("A_" * 100 + ".pdf", ("A " * 40).strip()),
    ],
)
def test_a_name_from_a_file_has_no_extension_no_underscores_and_a_sensible_length(filename, name):
    made = version_name_from(filename)
    assert made == name and len(made) <= 80


# How long a review takes ------------------------------------------------------------------------------------------


def add_published_reviews(app, people, durations_days: list[float], published_days_ago: float = 1) -> None:
    with app.app_context():
        now = utcnow()
        for days in durations_days:
            completed = now - timedelta(days=published_days_ago)
            db.session.add(
                CVReview(
                    candidate_id=people["candidate"],
                    document_name="CV",
                    target_role="ML engineer",
                    status="completed",
                    reviewer_id=people["mentor"],
                    verdict="approved",
                    created_at=completed - timedelta(days=days),
                    claimed_at=completed - timedelta(days=days),
                    completed_at=completed,
                )
            )
        db.session.commit()


def turnaround_text(app) -> str | None:
    html = as_user(app, "sam@example.org").get("/cvs/").get_data(as_text=True)
    found = re.search(r'<p class="small" id="review-turnaround">(.*?)</p>', html, re.DOTALL)
    return found.group(1) if found else None


def test_the_upload_page_says_how_long_reviews_usually_take(app, people):
    add_published_reviews(app, people, [1, 2, 3, 4, 9])
    add_published_reviews(app, people, [30, 30, 30], published_days_ago=120)  # older than 90 days: not counted
    assert turnaround_text(app) == (
        "When you ask for a mentor's review, feedback usually arrives in about 3 days "
        "(the median over the last 90 days)."
    )


def test_the_median_of_an_even_number_of_reviews_is_between_the_middle_two(app, people):
    add_published_reviews(app, people, [0.25, 0.25, 0.5, 1, 20, 20])
    assert "usually arrives in about 18 hours" in turnaround_text(app)


def test_fewer_than_five_recent_reviews_promise_nothing(app, people):
    add_published_reviews(app, people, [1, 2, 3, 4])
    add_published_reviews(app, people, [1], published_days_ago=95)
    assert turnaround_text(app) is None


# A scan ------------------------------------------------------------------------------------------------------------


def check_section(app, client, data: bytes) -> str:
    response = upload(client, data, "scan.pdf")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    return html


@pytest.mark.parametrize(
    "data",
    [blank_pdf(pages=1), pdf_with_text(["Scanned with CamScanner"] * 2, pages=2)],
    ids=["no text at all", "a scanner's watermark only"],
)
def test_a_scanned_pdf_is_said_to_be_unreadable_and_not_judged_on_length(app, people, data):
    html = check_section(app, as_user(app, "sam@example.org"), data)
    assert "Readable text: <span" in html and "it is most likely a scan" in html
    assert "Length:" not in html and "looks good" not in html
    assert "Contact details" not in html and "Python:" not in html


def test_a_real_cv_still_gets_every_check(app, people):
    html = check_section(app, as_user(app, "sam@example.org"), pdf_with_text(GOOD_CV_LINES))
    assert "Length:" in html and "Contact details" in html and "Readable text" not in html
