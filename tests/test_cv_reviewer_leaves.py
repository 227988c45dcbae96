"""A mentor who stops being one (a role change or a closed account) no longer holds CV reviews or writes feedback."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.cvs.models import CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.feedback.models import SessionFeedback
from tests import test_cvs
from tests.conftest import logged_in as as_user
from tests.factories import make_booking, make_slot
from tests.test_cvs import FEEDBACK, request_review, uploaded_document

CLAIMED_FEEDBACK = {**FEEDBACK, "save": "1"}


@pytest.fixture
def settings() -> dict:
    return {"LOGIN_RATE_LIMIT": "1000 per minute", "UPLOAD_RATE_LIMIT": "1000 per hour"}


people = test_cvs.people  # the same people as the other CV tests


def claimed_review_with_draft(app) -> int:
    candidate = as_user(app, "sam@example.org")
    review_id = request_review(app, candidate, uploaded_document(app, candidate))
    mentor = as_user(app, "mentor@example.org")
    assert mentor.post(f"/reviews/{review_id}/claim").status_code == 302
    assert mentor.post(f"/reviews/{review_id}", data=CLAIMED_FEEDBACK).status_code == 302
    return review_id


def released_audit(app, review_id: int) -> AuditEvent:
    with app.app_context():
        return db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "review.released", AuditEvent.target_id == str(review_id))
        )


def test_a_mentor_made_candidate_loses_their_claimed_review_to_the_queue(app, people):
    review_id = claimed_review_with_draft(app)
    admin = as_user(app, "admin@example.org")
    assert admin.post(f"/admin/users/{people['mentor']}/role", data={"role": "candidate"}).status_code == 302
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        assert review.status == "requested" and review.reviewer_id is None
        assert review.verdict is None and review.strengths == "" and review.draft_saved_at is None
    event = released_audit(app, review_id)
    assert event is not None and "Priya Shah is no longer a mentor (now candidate)" in event.summary
    assert event.before["draft"]["strengths"] == "Clear and short."  # the discarded draft stays readable for admins
    # The next mentor finds it waiting; the former mentor can neither see nor publish it.
    assert "Sam Taylor" in as_user(app, "tom@example.org").get("/reviews/queue").get_data(as_text=True)
    former = as_user(app, "mentor@example.org")
    assert former.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"}).status_code == 404
    with app.app_context():
        assert db.session.get(CVReview, review_id).status == "requested"


def test_a_mentor_made_admin_also_hands_back_their_claimed_review(app, people):
    review_id = claimed_review_with_draft(app)
    as_user(app, "admin@example.org").post(f"/admin/users/{people['mentor']}/role", data={"role": "admin"})
    with app.app_context():
        assert db.session.get(CVReview, review_id).status == "requested"
    assert "now admin" in released_audit(app, review_id).summary


def test_deactivating_a_mentor_releases_their_claimed_review(app, people):
    review_id = claimed_review_with_draft(app)
    as_user(app, "admin@example.org").post(f"/admin/users/{people['mentor']}/deactivate")
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        assert review.status == "requested" and review.reviewer_id is None
        assert not db.session.get(User, people["mentor"]).active
    assert "Priya Shah was deactivated" in released_audit(app, review_id).summary


def test_a_published_review_stays_with_its_mentor_after_a_role_change(app, people):
    review_id = claimed_review_with_draft(app)
    as_user(app, "mentor@example.org").post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"})
    as_user(app, "admin@example.org").post(f"/admin/users/{people['mentor']}/role", data={"role": "candidate"})
    with app.app_context():
        review = db.session.get(CVReview, review_id)
        assert review.status == "completed" and review.reviewer_id == people["mentor"]
    assert released_audit(app, review_id) is None


def test_publishing_needs_the_mentor_role_at_that_moment(app, people):
    """A reviewer whose role changed without the release (a change landing mid-request) is refused, not served."""
    review_id = claimed_review_with_draft(app)
    mentor = as_user(app, "mentor@example.org")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == people["mentor"]).values(role="candidate"))
        db.session.commit()
    response = mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"})
    assert response.status_code == 403
    assert "Only mentors can write and publish CV reviews" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CVReview, review_id).status == "claimed"


def session_awaiting_feedback(app, people) -> int:
    with app.app_context():
        mentor = db.session.get(User, people["mentor"])
        candidate = db.session.get(User, people["candidate"])
        slot = make_slot(mentor, utcnow() - timedelta(days=1))
        return make_booking(slot, candidate).id


def test_a_former_mentor_cannot_write_session_feedback_and_admins_see_what_waits(app, people):
    booking_id = session_awaiting_feedback(app, people)
    mentor = as_user(app, "mentor@example.org")
    draft = {"strengths": "Clear reasoning", "save": "1"}
    assert mentor.post(f"/feedback/sessions/{booking_id}", data=draft).status_code == 302
    as_user(app, "admin@example.org").post(f"/admin/users/{people['mentor']}/role", data={"role": "candidate"})
    former = as_user(app, "mentor@example.org")
    page = former.get(f"/feedback/sessions/{booking_id}").get_data(as_text=True)
    assert "Only mentors write session feedback" in page
    assert former.post(f"/feedback/sessions/{booking_id}", data={"publish": "1"}).status_code == 403
    with app.app_context():
        feedback = db.session.scalar(sa.select(SessionFeedback).where(SessionFeedback.booking_id == booking_id))
        assert feedback.status == "draft" and feedback.strengths == "Clear reasoning"  # kept with the session
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "feedback.left_unwritten"))
        assert event.after == {"booking_ids": [booking_id]} and "1 session(s) still await" in event.summary


ROUNDS = 5


def test_publishing_and_a_demotion_at_the_same_moment_end_one_way_or_the_other(app, people):
    """Each round the mentor publishes while an admin makes them a candidate: either the review is published by a
    mentor and stays theirs, or it is back in the queue and the publish was refused; never both, never a 500."""
    candidate = as_user(app, "sam@example.org")
    admin = as_user(app, "admin@example.org")
    outcomes = []
    for _ in range(ROUNDS):
        review_id = request_review(app, candidate, uploaded_document(app, candidate))
        mentor = as_user(app, "mentor@example.org")
        assert mentor.post(f"/reviews/{review_id}/claim").status_code == 302
        barrier = threading.Barrier(2)

        def publish(mentor=mentor, review_id=review_id, barrier=barrier):
            barrier.wait(timeout=30)
            return mentor.post(f"/reviews/{review_id}", data={**FEEDBACK, "publish": "1"}).status_code

        def demote(barrier=barrier):
            barrier.wait(timeout=30)
            return admin.post(f"/admin/users/{people['mentor']}/role", data={"role": "candidate"}).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            published, demoted = (future.result() for future in [pool.submit(publish), pool.submit(demote)])
        assert demoted == 302 and published in (302, 403, 404), (published, demoted)
        with app.app_context():
            review = db.session.get(CVReview, review_id)
            status, reviewer_id, strengths = review.status, review.reviewer_id, review.strengths
        released = released_audit(app, review_id)
        if status == "completed":
            assert published == 302 and reviewer_id == people["mentor"] and released is None
        else:
            assert (status, reviewer_id, strengths) == ("requested", None, "") and released is not None
        outcomes.append(status)
        assert admin.post(f"/admin/users/{people['mentor']}/role", data={"role": "mentor"}).status_code == 302
    assert len(outcomes) == ROUNDS
