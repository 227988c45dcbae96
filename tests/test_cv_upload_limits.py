"""A refused upload answers 422 with the form and its messages; a candidate keeps at most CV_MAX_VERSIONS versions,
even when uploads arrive at the same moment."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.cvs.models import CVDocument
from portal.extensions import db
from tests.conftest import logged_in as as_user
from tests.cv_samples import GOOD_CV_LINES, exe_bytes, pdf_with_text
from tests.factories import make_user
from tests.test_cvs import document_ids, stored_files, upload

LIMIT = 3
RACERS = 4
ROUNDS = 5


@pytest.fixture
def settings() -> dict:
    return {
        "CV_MAX_VERSIONS": LIMIT,
        "UPLOAD_RATE_LIMIT": "1000 per hour",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 5, "max_overflow": 5, "pool_pre_ping": True},
    }


@pytest.fixture
def candidate(app) -> int:
    with app.app_context():
        return make_user(email="sam@example.org", name="Sam Taylor").id


def versions(app, candidate_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(CVDocument.id)).where(CVDocument.candidate_id == candidate_id))


def test_a_refused_file_answers_422_with_the_other_fields_kept(app, candidate):
    client = as_user(app, "sam@example.org")
    response = upload(client, exe_bytes(), "cv.pdf", name="My November CV")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Only PDF and Word (.docx) files are accepted." in html and 'href="#file"' in html
    assert 'value="My November CV"' in html
    assert document_ids(app) == []


def test_a_form_missing_its_file_answers_422(app, candidate):
    client = as_user(app, "sam@example.org")
    response = client.post("/cvs/", data={"name": "x"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file to upload." in response.get_data(as_text=True)
    assert client.get("/cvs/").status_code == 200


def test_uploads_beyond_the_version_limit_are_refused_with_a_way_out(app, candidate):
    client = as_user(app, "sam@example.org")
    for number in range(LIMIT):
        assert upload(client, pdf_with_text(GOOD_CV_LINES), name=f"Version {number}").status_code == 302
    assert f"You have {LIMIT} versions, the most we keep." in client.get("/cvs/").get_data(as_text=True)
    files_before = stored_files(app)
    response = upload(client, pdf_with_text(GOOD_CV_LINES), name="One too many")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"You already have {LIMIT} CV versions, the most we keep. Delete a version you no longer need" in html
    assert versions(app, candidate) == LIMIT and stored_files(app) == files_before
    # Deleting one makes room again.
    oldest = document_ids(app)[0]
    assert client.post(f"/cvs/{oldest}/delete").status_code == 302
    assert 'id="version-limit"' not in client.get("/cvs/").get_data(as_text=True)
    assert upload(client, pdf_with_text(GOOD_CV_LINES), name="Room again").status_code == 302
    assert versions(app, candidate) == LIMIT


def test_uploads_at_the_same_moment_never_exceed_the_limit(app, candidate):
    """Every round: one place left, several uploads race for it; exactly one wins and nobody gets a 500."""
    clients = [as_user(app, "sam@example.org") for _ in range(RACERS)]
    data = pdf_with_text(GOOD_CV_LINES)
    for round_number in range(ROUNDS):
        while versions(app, candidate) < LIMIT - 1:
            assert upload(clients[0], data, name=f"Filler {round_number}").status_code == 302
        barrier = threading.Barrier(RACERS)

        def race(client, number, round_number=round_number, barrier=barrier):
            barrier.wait(timeout=30)
            return client.post(
                "/cvs/",
                data={"name": f"Racer {round_number}.{number}", "file": (io.BytesIO(data), "cv.pdf")},
                content_type="multipart/form-data",
            ).status_code

        with ThreadPoolExecutor(max_workers=RACERS) as pool:
            statuses = list(pool.map(race, clients, range(RACERS)))
        assert sorted(statuses) == [302] + [422] * (RACERS - 1), statuses
        assert versions(app, candidate) == LIMIT
        with app.app_context():
            assert db.session.get(User, candidate).is_candidate
            newest = db.session.scalar(
                sa.select(CVDocument).where(CVDocument.candidate_id == candidate).order_by(CVDocument.id.desc())
            )
            db.session.delete(newest)  # make room for the next round (the file itself is left: only rows count)
            db.session.commit()
