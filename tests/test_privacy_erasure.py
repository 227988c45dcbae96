"""Closing an account and erasing a person's data: what the person, their mentor, admins and reports see."""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar, Event
from markupsafe import escape

from portal.admin.reports import dashboard, stream_csv
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.auth.models import Invitation, PasswordReset, Registration, User
from portal.auth.services import request_password_reset
from portal.cvs.models import CVDocument, CVReview
from portal.cvs.services import claim_review, release_reviews_of, request_review, save_feedback, upload_cv
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from portal.insights import services as insight_services
from portal.insights.models import InsightTag, SavedArticle, candidate_interests
from portal.interviews.models import Booking, MeetingLink, Slot
from portal.interviews.services import cancel_booking
from portal.live.models import LiveRegistration, LiveSession
from portal.live.reports import live_figures
from portal.live.services import register
from portal.mail import OutboxEmail, OutgoingEmail, build_message, queue_email
from portal.notifications import messages
from portal.notifications.models import Notification, NotificationPreference
from portal.privacy import erasure
from portal.privacy.erasure import (
    close_account,
    count_erasure_due,
    erase_due,
    erase_user,
    placeholder_email,
    unfold_calendar,
)
from portal.storage import StorageError, storage_for
from portal.waitlist.models import WaitlistEntry
from tests.conftest import forget_used_codes
from tests.conftest import logged_in as as_user
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text
from tests.factories import PASSWORD, TOTP_SECRET, current_code, make_booking, make_slot, make_user

NOW = datetime(2026, 10, 21, 12, tzinfo=UTC)  # a Wednesday

NAME = "Quentin D'Erasmus-Tester"  # HTML escapes the apostrophe: the erasure finds it all the same
EMAIL = "quentin.erasmus@example.org"
# Words only the person typed (a focus note, a reason for cancelling): copied into their mentor's emails and notices.
FOCUS_MARK = "zanzibar-tulip-4711"
REASON_MARK = "kumquat-orchard-0815"
# Fragments that must not survive an erasure anywhere in the database (lower case).
TRACES = ("erasmus", "quentin", FOCUS_MARK, REASON_MARK)

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def settings() -> dict:
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 5, "pool_pre_ping": True}}


@pytest.fixture
def people(app):
    with app.app_context():
        return {
            "admin": make_user("admin", email="admin@example.org", name="Alex Admin").id,
            "mentor": make_user("mentor", email="mentor@example.org", name="Priya Shah").id,
            "candidate": make_user(email=EMAIL, name=NAME).id,
            "other": make_user(email="jo@example.org", name="Jo Lee").id,
        }


def get(model, ident):
    return db.session.get(model, ident)


def make_live_session(starts_at: datetime) -> LiveSession:
    session = LiveSession(
        kind="talk",
        title="Hiring in ML",
        speakers="A. Speaker",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        capacity=20,
        meeting_mode="video",
    )
    db.session.add(session)
    db.session.commit()
    return session


def build_history(people) -> dict:
    """The candidate's life in the portal: a future booking, a completed one with feedback and a rating, a CV with a
    published review, a waitlist place, a live seat, a reset link, email choices, queued and sent emails, audit
    entries about them. Returns the ids the tests look at."""
    mentor, candidate, admin = get(User, people["mentor"]), get(User, people["candidate"]), get(User, people["admin"])
    future = make_booking(
        make_slot(mentor, NOW + timedelta(days=3)), candidate, focus_note=f"{NAME} wants to practise {FOCUS_MARK}"
    )
    messages.booking_made(future)  # the mentor's email carries the focus note, in both parts and the calendar file
    past = make_booking(make_slot(mentor, NOW - timedelta(days=3)), candidate, status="completed")
    feedback = SessionFeedback(
        booking_id=past.id,
        mentor_id=mentor.id,
        status="published",
        published_at=NOW - timedelta(days=2),
        score_python=4,
        score_ml=3,
        score_data=5,
        score_system_design=2,
        score_communication=4,
        readiness="nearly",
        strengths=f"{NAME} explained gradient descent well.",
        improvements="Practise system design.",
        next_steps="Mock again in two weeks.",
    )
    rating = SessionRating(booking_id=past.id, candidate_id=candidate.id, score=5, comment="Priya was great - Quentin")
    db.session.add_all([feedback, rating])
    db.session.commit()
    document = upload_cv(candidate, "Quentin CV", "quentin-erasmus-cv.pdf", io.BytesIO(pdf_with_text(GOOD_CV_LINES)))
    db.session.commit()
    review = request_review(candidate, document, "ML engineer at Erasmus Labs", f"Is this good, asks {NAME}?")
    db.session.commit()
    claim_review(review, mentor)
    save_feedback(
        review,
        mentor,
        {"verdict": "approved", "comment_summary": f"Strong CV, {NAME}.", "improvement_1": "Quantify impact."},
        publish=True,
    )
    db.session.commit()
    entry = WaitlistEntry(candidate_id=candidate.id, interview_type_id=future.slot.interview_type_id, status="waiting")
    db.session.add(entry)
    seat = register(make_live_session(NOW + timedelta(days=5)), candidate)
    db.session.add(NotificationPreference(user_id=candidate.id, category="reminders", email_enabled=False))
    request_password_reset(EMAIL)
    article = insight_services.create_article(admin, insight_services.ArticleText("Hiring now", "", "Body"))
    insight_services.publish_article(article, admin)
    tag = InsightTag(kind="sector", name="Fintech", slug="fintech")
    db.session.add_all([tag, SavedArticle(user_id=candidate.id, article_id=article.id)])
    db.session.flush()
    db.session.execute(sa.insert(candidate_interests).values(user_id=candidate.id, tag_id=tag.id))
    db.session.add(MeetingLink(mentor_id=mentor.id, url="https://meet.example.org/priya-shah"))
    db.session.add(
        Registration(
            email=EMAIL,
            name=NAME,
            password_hash="x",
            token_digest="d" * 64,
            expires_at=NOW + timedelta(days=1),
        )
    )
    db.session.add(Invitation(email=EMAIL, name=NAME, token_digest="e" * 64, invited_by_id=admin.id, expires_at=NOW))
    record(admin, "user.note", "user", candidate.id, f"Spoke to {NAME} <{EMAIL}>", None, {"who": NAME})
    db.session.commit()
    return {
        "future": future.id,
        "past": past.id,
        "feedback": feedback.id,
        "rating": rating.id,
        "document": document.id,
        "storage_key": document.storage_key,
        "review": review.id,
        "entry": entry.id,
        "seat": seat.id,
    }


def text_columns() -> list[tuple[sa.Table, sa.Column]]:
    kinds = (sa.String, sa.Text, sa.JSON)
    return [
        (table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, kinds) or isinstance(getattr(column.type, "impl", None), kinds)
    ]


def binary_columns() -> list[tuple[sa.Table, sa.Column]]:
    return [
        (table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.LargeBinary) or isinstance(getattr(column.type, "impl", None), sa.LargeBinary)
    ]


def holds_a_trace(value: str) -> bool:
    """Whether the text holds the person's name, email or words, calendar files read with folded lines joined."""
    text = unfold_calendar(value).lower()
    return any(fragment in text for fragment in (*TRACES, EMAIL))


def traces_left() -> list[str]:
    """Every table.column in which some row still holds the erased person's name, email or words (any case): every
    text column (an email's bodies and calendar attachment included, its folded lines joined, where a word may be cut
    in two) and every binary one (decoded)."""
    found = []
    for table, column in text_columns():
        text = sa.func.lower(sa.cast(column, sa.Text))
        condition = sa.or_(*(text.contains(fragment) for fragment in (*TRACES, EMAIL)))
        calendars = db.session.scalars(sa.select(column).where(text.like("%begin:vcalendar%")))
        if db.session.scalar(sa.select(sa.func.count()).select_from(table).where(condition)) or any(
            holds_a_trace(str(value)) for value in calendars
        ):
            found.append(f"{table.name}.{column.name}")
    for table, column in binary_columns():
        values = db.session.scalars(sa.select(column).where(column.is_not(None)))
        if any(holds_a_trace(bytes(value).decode("utf-8", "replace")) for value in values):
            found.append(f"{table.name}.{column.name}")
    return found


def outbox_of(address: str) -> list[OutboxEmail]:
    return list(db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by("id")))


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    return {
        table.name: sorted(
            (tuple(str(value) for value in row) for row in db.session.execute(sa.select(table)).all()),
        )
        for table in db.metadata.sorted_tables
    }


def report_figures() -> dict:
    start, end = NOW - timedelta(days=60), NOW + timedelta(days=60)
    csv_rows = {kind: sum(chunk.count("\n") for chunk in stream_csv(kind, start, end)) for kind in CSV_KINDS}
    live = live_figures(start, end)
    return {"dashboard": dashboard(start, end, "Europe/London"), "csv_rows": csv_rows, "live": repr(live)}


CSV_KINDS = ("bookings", "cv-reviews", "feedback")


# Closing one's own account ------------------------------------------------------------------------------------


def test_closing_cancels_sessions_tells_the_mentor_and_ends_every_session(app, people, outbox):
    with app.app_context():
        ids = build_history(people)
    candidate = as_user(app, EMAIL)
    assert "Close my account" in candidate.get("/account").get_data(as_text=True)
    page = candidate.get("/account/close").get_data(as_text=True)
    assert "Your 1 session to come is cancelled" in page and "Priya Shah" in page
    assert "your personal data is erased" in page
    done = candidate.post("/account/close", data={"password": PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/closed")
    assert "Your account is closed" in candidate.get("/account/closed").get_data(as_text=True)
    # The old session cookie no longer opens the account.
    assert candidate.get("/account").status_code == 302
    refused = app.test_client().post("/login", data={"email": EMAIL, "password": PASSWORD}).get_data(as_text=True)
    assert "This account has been closed. To reopen it, email the career services team." in refused
    wrong = app.test_client().post("/login", data={"email": EMAIL, "password": "not the password"})
    assert "closed" not in wrong.get_data(as_text=True)  # the wrong password learns nothing about the account
    with app.app_context():
        user = get(User, people["candidate"])
        assert not user.active and user.closed_at is not None and user.erased_at is None
        assert user.erase_after - user.closed_at == timedelta(days=30)
        assert get(Booking, ids["future"]).status == "cancelled"
        assert get(Booking, ids["past"]).status == "completed"
        assert get(WaitlistEntry, ids["entry"]).status == "left"
        assert get(LiveRegistration, ids["seat"]).status == "cancelled"
        notices = db.session.scalars(sa.select(Notification.message).where(Notification.user_id == people["mentor"]))
        assert any(message.startswith(f"{NAME} cancelled the") for message in notices)
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.closed"))
        assert event.actor_id == user.id and event.after["cancelled_bookings"] == [ids["future"]]
    mentor_email = outbox("mentor@example.org")[-1]
    assert f"{NAME} cancelled the" in mentor_email.body_text and "closed their account" in mentor_email.body_text
    goodbye = outbox(EMAIL)[-1]
    assert goodbye.subject == "Your account is closed"
    assert "will be erased on 20 Nov 2026" in goodbye.body_text and "careers@example.org" in goodbye.body_text


def test_closing_ignores_the_cancellation_cutoff_for_a_session_tomorrow_morning(app, people, outbox):
    with app.app_context():
        mentor, candidate = get(User, people["mentor"]), get(User, people["candidate"])
        soon = make_booking(make_slot(mentor, NOW + timedelta(hours=3)), candidate).id
    as_user(app, EMAIL).post("/account/close", data={"password": PASSWORD})
    with app.app_context():
        assert get(Booking, soon).status == "cancelled"
        assert get(User, people["candidate"]).closed_at is not None


def test_a_wrong_password_or_code_changes_nothing(app, people):
    with app.app_context():
        user = make_user(email="two@example.org", name="Tess Two", second_factor=True)
        booking = make_booking(make_slot(get(User, people["mentor"]), NOW + timedelta(days=2)), user).id
        user_id, version = user.id, user.session_version
    client = as_user(app, "two@example.org")
    page = client.get("/account/close").get_data(as_text=True)
    assert 'name="code"' in page
    wrong = client.post("/account/close", data={"password": "wrong password", "code": current_code()})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and 'id="password-error"' in html and "Your password is not correct." in html
    no_code = client.post("/account/close", data={"password": PASSWORD}).get_data(as_text=True)
    assert 'id="code-error"' in no_code
    bad_code = client.post("/account/close", data={"password": PASSWORD, "code": "000000"}).get_data(as_text=True)
    assert 'id="code-error"' in bad_code
    with app.app_context():
        user = get(User, user_id)
        assert user.active and user.closed_at is None and user.session_version == version
        assert get(Booking, booking).status == "booked"
        assert not db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "account.closed"))
    assert client.get("/account").status_code == 200
    with app.app_context():
        forget_used_codes("two@example.org")
    done = client.post("/account/close", data={"password": PASSWORD, "code": current_code(TOTP_SECRET)})
    assert done.status_code == 302
    with app.app_context():
        assert get(User, user_id).closed_at is not None
        assert get(Booking, booking).status == "cancelled"


def test_password_attempts_are_rate_limited(app, people):
    client = as_user(app, EMAIL)
    codes = [client.post("/account/close", data={"password": "wrong"}).status_code for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    with app.app_context():
        assert get(User, people["candidate"]).active


def test_the_last_active_admin_cannot_close_their_account(app, people):
    admin = as_user(app, "admin@example.org")
    with app.app_context():
        forget_used_codes("admin@example.org")
    html = admin.post("/account/close", data={"password": PASSWORD, "code": current_code()}).get_data(as_text=True)
    assert "This is the only active admin account, so it cannot be closed or erased" in html
    with app.app_context():
        assert get(User, people["admin"]).active and get(User, people["admin"]).closed_at is None
    erase = admin.post(f"/admin/users/{people['admin']}/erase", data={"email": "admin@example.org"})
    assert "This is the only active admin" in erase.get_data(as_text=True)
    with app.app_context():
        assert get(User, people["admin"]).erased_at is None and get(User, people["admin"]).name == "Alex Admin"


def test_an_admin_reopens_a_closed_account_before_erasure(app, people):
    as_user(app, EMAIL).post("/account/close", data={"password": PASSWORD})
    admin = as_user(app, "admin@example.org")
    page = admin.get(f"/admin/users/{people['candidate']}").get_data(as_text=True)
    assert "Closed" in page and "to be erased" in page and "Reopen account" in page
    done = admin.post(f"/admin/users/{people['candidate']}/reopen", follow_redirects=True).get_data(as_text=True)
    assert f"{escape(NAME)}&#39;s account is open again" in done
    with app.app_context():
        user = get(User, people["candidate"])
        assert user.active and user.closed_at is None and user.erase_after is None
        assert db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "account.reopened"
        assert count_erasure_due(NOW + timedelta(days=400)) == 0
    assert as_user(app, EMAIL).get("/account").status_code == 200


# Erasure ----------------------------------------------------------------------------------------------------


def test_erase_due_takes_only_accounts_past_their_grace_period(app, people):
    with app.app_context():
        admin = get(User, people["admin"])
        early, late = make_user(name="Early Bird"), make_user(name="Late Owl")
        for user in (early, late):
            close_account(user, admin)
        early.erase_after = NOW - timedelta(seconds=1)
        late.erase_after = NOW + timedelta(seconds=1)
        db.session.commit()
        early_id, late_id = early.id, late.id
        pinned = NOW
        assert count_erasure_due(pinned) == 1
        assert erase_due(pinned) == [early_id]
        assert get(User, early_id).erased_at is not None and get(User, early_id).name == "Former member"
        untouched = get(User, late_id)
        assert untouched.erased_at is None and untouched.name == "Late Owl"
        assert count_erasure_due(pinned) == 0 and erase_due(pinned) == []
        assert erase_due(NOW + timedelta(seconds=1)) == [late_id]


def test_an_admin_erases_a_candidate_and_nothing_of_them_is_left(app, people, outbox):
    with app.app_context():
        ids = build_history(people)
        assert traces_left()  # the scan finds the person before erasure
        queued_to_them = db.session.scalar(
            sa.select(sa.func.count(OutboxEmail.id)).where(
                OutboxEmail.to_address == EMAIL, OutboxEmail.status == "queued"
            )
        )
        assert queued_to_them >= 1
        storage = storage_for(app)
        assert storage.open(ids["storage_key"]).read(4) == b"%PDF"
    # A sent email to the person keeps its metadata only.
    with app.app_context():
        db.session.execute(
            sa.update(OutboxEmail)
            .where(
                OutboxEmail.id
                == sa.select(sa.func.min(OutboxEmail.id)).where(OutboxEmail.to_address == EMAIL).scalar_subquery()
            )
            .values(status="sent", sent_at=utcnow())
        )
        # The mentor's "New booking" email was sent; it carries the focus note in each part.
        new_booking = db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.to_address == "mentor@example.org"))
        new_booking.status, new_booking.sent_at = "sent", utcnow()
        assert FOCUS_MARK in new_booking.body_text and FOCUS_MARK in new_booking.body_html
        assert FOCUS_MARK in unfold_calendar(new_booking.attachment_text)
        db.session.commit()
        new_booking_id = new_booking.id
    admin = as_user(app, "admin@example.org")
    confirm = admin.get(f"/admin/users/{people['candidate']}/erase").get_data(as_text=True)
    assert "This cannot be undone" in confirm and EMAIL in confirm
    wrong = admin.post(f"/admin/users/{people['candidate']}/erase", data={"email": "someone@example.org"})
    assert "This is not the person&#39;s email address" in wrong.get_data(as_text=True)
    with app.app_context():
        assert get(User, people["candidate"]).erased_at is None
    done = admin.post(f"/admin/users/{people['candidate']}/erase", data={"email": EMAIL.upper()}, follow_redirects=True)
    assert f"Account {people['candidate']} has been erased." in done.get_data(as_text=True)
    with app.app_context():
        assert traces_left() == []
        user = get(User, people["candidate"])
        assert user.name == "Former member" and user.email == placeholder_email(user.id)
        assert user.password_hash is None and user.erased_at is not None and not user.active
        # The CV file is gone from storage; its row keeps no detail.
        with pytest.raises(Exception):  # noqa: B017 - the storage's own "missing file" error
            storage_for(app).open(ids["storage_key"])
        document = get(CVDocument, ids["document"])
        assert document.original_filename == "erased" and document.extracted_text == "" and document.links == ""
        # What was written about them is blank; the scores and the rating stay.
        feedback = get(SessionFeedback, ids["feedback"])
        assert (feedback.strengths, feedback.improvements, feedback.score_data) == ("", "", 5)
        assert get(SessionRating, ids["rating"]).score == 5 and get(SessionRating, ids["rating"]).comment == ""
        review = get(CVReview, ids["review"])
        assert review.comment_summary == "" and review.verdict == "approved" and review.status == "completed"
        assert get(Booking, ids["past"]).status == "completed" and get(Booking, ids["future"]).focus_note == ""
        # Email: nothing still waits for them; the sent one keeps only metadata, addressed to the placeholder.
        theirs = db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.user_id == user.id)).all()
        assert theirs and all(row.status != "queued" for row in theirs)
        assert all(row.to_address == user.email and row.body_text == "" for row in theirs)
        # The mentor's sent email keeps its delivery record only; the cancellation queued while erasing still goes
        # out, whole but for the focus note, in each part and in the calendar file.
        sent = get(OutboxEmail, new_booking_id)
        assert (sent.status, sent.to_address, sent.subject) == ("sent", "mentor@example.org", sent.subject)
        assert sent.subject.startswith("New booking: Former member") and sent.sent_at is not None
        assert (sent.body_text, sent.body_html, sent.attachment_text) == ("", None, None)
        cancelled = outbox_of("mentor@example.org")[-1]
        assert cancelled.status == "queued" and cancelled.subject.startswith("Session cancelled: Former member")
        assert "Focus:     (erased)" in cancelled.body_text and "<td>(erased)</td>" in cancelled.body_html
        event = Calendar.from_ical(cancelled.attachment_text).walk("VEVENT")[0]
        assert "Focus: (erased)" in str(event["description"]) and str(event["status"]) == "CANCELLED"
        assert build_message(cancelled, utcnow())["To"] == "mentor@example.org"
        assert not db.session.scalar(sa.select(PasswordReset.id).where(PasswordReset.user_id == user.id))
        for table in (SavedArticle.__table__, candidate_interests):
            assert not db.session.scalar(
                sa.select(sa.func.count()).select_from(table).where(table.c.user_id == user.id)
            )
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0
        assert not db.session.scalar(
            sa.select(NotificationPreference.id).where(NotificationPreference.user_id == user.id)
        )
        # The audit log keeps the fact, without the person.
        erased = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.erased"))
        assert erased.target_id == str(user.id) and erased.summary == f"Account {user.id} erased"
        assert erased.before is None and erased.after is None and erased.actor_name == "Alex Admin"
        note = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.note"))
        assert note.summary == f"Spoke to Former member <{user.email}>" and note.after == {"who": "Former member"}
    assert app.test_client().post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 200
    page = admin.get(f"/admin/users/{people['candidate']}").get_data(as_text=True)
    assert "Erased" in page and "Erase now" not in page and "Reopen account" not in page


def test_report_totals_are_the_same_after_an_erasure(app, people):
    """A closed candidate with a completed session, rubric scores, a rating, a reviewed CV and a live seat is erased
    when the grace period ends: every figure and export row count of the admin reports stays as it was."""
    with app.app_context():
        ids = build_history(people)
        seat = get(LiveRegistration, ids["seat"])
        seat.session.starts_at = NOW - timedelta(days=1)  # attended a live session already
        seat.session.ends_at = NOW - timedelta(hours=23)
        seat.attended = True
        close_account(get(User, people["candidate"]), get(User, people["candidate"]))
        db.session.commit()
        before = report_figures()
        assert before["dashboard"]["ratings"] and before["csv_rows"]["feedback"] == 2
        assert erase_due(NOW + timedelta(days=30, minutes=1)) == [people["candidate"]]
        assert report_figures() == before
    admin = as_user(app, "admin@example.org")
    assert admin.get("/admin/reports").status_code == 200


def test_erasing_twice_gives_the_same_result(app, people):
    with app.app_context():
        build_history(people)
        admin = get(User, people["admin"])
        assert erase_user(get(User, people["candidate"]), by=admin) is True
        db.session.commit()
        first = snapshot()
        assert erase_user(get(User, people["candidate"]), by=admin) is False
        db.session.commit()
        assert snapshot() == first


def test_an_interrupted_erasure_is_completed_by_the_next_call(app, people, monkeypatch):
    with app.app_context():
        ids = build_history(people)
        admin = get(User, people["admin"])
        close_account(get(User, people["candidate"]), admin)
        db.session.commit()

        def power_cut(user):
            raise RuntimeError("the worker was killed")

        steps = list(erasure.ERASURE_STEPS)
        monkeypatch.setattr(erasure, "ERASURE_STEPS", [*steps[:2], power_cut, *steps[2:]])
        with pytest.raises(RuntimeError):
            erase_user(get(User, people["candidate"]))
        db.session.rollback()
        half = get(User, people["candidate"])
        assert half.erased_at is None and half.name == NAME  # not marked erased: the next run picks it up
        with pytest.raises(Exception):  # noqa: B017 - the files went before the interruption
            storage_for(app).open(ids["storage_key"])
        assert count_erasure_due(NOW + timedelta(days=31)) == 1
        monkeypatch.setattr(erasure, "ERASURE_STEPS", steps)
        assert erase_due(NOW + timedelta(days=31)) == [people["candidate"]]
        assert traces_left() == []


def test_an_erased_mentor_keeps_their_slots_and_what_they_wrote_under_no_name(app, people):
    with app.app_context():
        ids = build_history(people)
        mentor_id = people["mentor"]
        mentor = get(User, mentor_id)
        mentor.focus_areas = "MLOps"
        db.session.commit()
        erase_user(mentor, by=get(User, people["admin"]))
        db.session.commit()
        mentor = get(User, mentor_id)
        assert mentor.name == "Former member" and mentor.focus_areas == "" and mentor.totp_secret is None
        assert get(MeetingLink, mentor_id) is None
        assert get(Booking, ids["past"]).slot.mentor_id == mentor_id
        assert get(CVReview, ids["review"]).comment_summary == f"Strong CV, {NAME}."
        assert get(SessionFeedback, ids["feedback"]).strengths.startswith(NAME)
        assert get(Booking, ids["future"]).status == "cancelled"  # their future session was called off


# Races (PostgreSQL runs them truly in parallel; SQLite serialises the writers) ------------------------------------


def run_together(functions):
    barrier = threading.Barrier(len(functions))

    def go(function):
        barrier.wait(timeout=30)
        return function()

    with ThreadPoolExecutor(max_workers=len(functions)) as pool:
        return list(pool.map(go, functions))


def in_own_session(app, function):
    def run():
        with app.app_context():
            try:
                return function()
            finally:
                db.session.remove()

    return run


def test_two_erasures_of_one_person_at_once_erase_once(app, people):
    for round_number in range(8):
        with app.app_context():
            user = make_user(name=f"Racer {round_number}")
            close_account(user, user)
            db.session.commit()
            user_id = user.id

        def erase_it(user_id=user_id):
            done = erase_user(db.session.get(User, user_id))
            db.session.commit()
            return done

        results = run_together([in_own_session(app, erase_it), in_own_session(app, erase_it)])
        assert sorted(results) == [False, True]
        with app.app_context():
            count = db.session.scalar(
                sa.select(sa.func.count(AuditEvent.id)).where(
                    AuditEvent.action == "account.erased", AuditEvent.target_id == str(user_id)
                )
            )
            assert count == 1


def test_two_workers_running_erase_due_share_the_accounts(app, people):
    for _ in range(4):
        with app.app_context():
            admin = get(User, people["admin"])
            ids = []
            for _ in range(6):
                user = make_user()
                close_account(user, admin)
                user.erase_after = NOW - timedelta(days=1)
                ids.append(user.id)
            db.session.commit()
        results = run_together([in_own_session(app, lambda: erase_due(NOW)) for _ in range(2)])
        assert sorted(results[0] + results[1]) == sorted(ids)
        with app.app_context():
            erased = db.session.scalars(
                sa.select(AuditEvent.target_id).where(
                    AuditEvent.action == "account.erased", AuditEvent.target_id.in_([str(i) for i in ids])
                )
            ).all()
            assert sorted(erased) == sorted(str(i) for i in ids)


def test_a_mentor_closing_their_account_tells_their_candidates(app, people, outbox):
    with app.app_context():
        mentor, candidate = get(User, people["mentor"]), get(User, people["candidate"])
        booked = make_booking(make_slot(mentor, NOW + timedelta(days=2)), candidate).id
        free = make_slot(mentor, NOW + timedelta(days=4)).id
    client = as_user(app, "mentor@example.org")
    with app.app_context():
        forget_used_codes("mentor@example.org")
    assert client.post("/account/close", data={"password": PASSWORD, "code": current_code()}).status_code == 302
    with app.app_context():
        assert get(Booking, booked).status == "cancelled"
        assert get(Booking, booked).slot.status == "cancelled" and get(Slot, free).status == "cancelled"
    assert "Your mentor closed their account." in outbox(EMAIL)[-1].body_text


def test_what_the_person_typed_leaves_the_emails_and_notices_of_others_not_yet_sent_or_sent(app, people):
    """A phone session: the number, the focus note and the reason the candidate gave when cancelling went into the
    mentor's emails (one failed, one queued) and notices. After erasure none is left; the emails can still be sent."""
    phone = "+44 7700 900461"
    with app.app_context():
        mentor, candidate = get(User, people["mentor"]), get(User, people["candidate"])
        slot = make_slot(mentor, NOW + timedelta(days=3), meeting_mode="phone")
        booking = make_booking(slot, candidate, focus_note=f"Practise {FOCUS_MARK}, please; and SQL")
        booking.phone = phone
        messages.booking_made(booking)
        failed = outbox_of("mentor@example.org")[-1]
        assert phone in failed.body_text and phone in failed.attachment_text
        failed.status, failed.failed_at, failed.last_error = "failed", utcnow(), "SMTPDataError: 554"
        cancel_booking(booking, candidate, f"Found a job - {REASON_MARK}")
        db.session.commit()
        failed_id, queued_id = failed.id, outbox_of("mentor@example.org")[-1].id
        assert REASON_MARK in get(OutboxEmail, queued_id).body_text
        erase_user(get(User, people["candidate"]), by=get(User, people["admin"]))
        db.session.commit()
        assert traces_left() == []
        for row in (get(OutboxEmail, failed_id), get(OutboxEmail, queued_id)):
            parts = (row.body_text, row.body_html, unfold_calendar(row.attachment_text))
            assert all(phone not in part and "(erased)" in part for part in parts)
            assert "SQL" not in row.body_text and "Former member" in row.body_text
            assert build_message(row, utcnow())["To"] == "mentor@example.org"
        assert get(OutboxEmail, failed_id).status == "failed" and get(OutboxEmail, queued_id).status == "queued"
        assert "Reason: (erased)" in get(OutboxEmail, queued_id).body_text
        notices = db.session.scalars(sa.select(Notification.message).where(Notification.user_id == mentor.id)).all()
        assert any(notice.startswith("Former member cancelled the") for notice in notices)
        assert any(notice.endswith("Reason: (erased)") for notice in notices)


def test_audit_entries_about_an_erased_person_keep_no_words_written_about_them(app, people):
    with app.app_context():
        ids = build_history(people)
        mentor, admin = get(User, people["mentor"]), get(User, people["admin"])
        candidate = get(User, people["candidate"])
        second = upload_cv(candidate, "", "second.pdf", io.BytesIO(pdf_with_text(GOOD_CV_LINES)))
        db.session.commit()
        review = request_review(candidate, second, "Data scientist", "")
        claim_review(review, mentor)
        save_feedback(review, mentor, {"comment_skills": "Weak on statistics, frankly."}, publish=False)
        release_reviews_of(mentor, admin, "was deactivated")
        cancel_booking(get(Booking, ids["future"]), admin, "Told us about a family emergency", override=True)
        db.session.commit()
        erase_user(candidate, by=admin)
        db.session.commit()
        released = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "review.released"))
        assert released.before["draft"] == {} and released.after["status"] == "requested"
        cancelled = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking.cancelled"))
        assert cancelled.after["reason"] == "" and cancelled.after["status"] == "cancelled"
        assert "Former member" in cancelled.summary
        texts = " ".join(str(row) for row in db.session.execute(sa.select(AuditEvent.before, AuditEvent.after)))
        assert "statistics" not in texts and "emergency" not in texts


def test_nothing_is_queued_to_an_erased_account(app, people):
    with app.app_context():
        user = get(User, people["candidate"])
        erase_user(user, by=get(User, people["admin"]))
        db.session.commit()
        assert queue_email(user.email, OutgoingEmail("Hello", "welcome", {"user": user}), user_id=user.id) is None
        assert not db.session.scalar(sa.select(OutboxEmail.id).where(OutboxEmail.user_id == user.id))


@pytest.mark.parametrize(
    ("who", "expected"),
    [(None, 302), ("candidate", 403), ("mentor", 403)],
)
def test_only_admins_reopen_or_erase(app, people, who, expected):
    emails = {"candidate": "jo@example.org", "mentor": "mentor@example.org"}
    client = as_user(app, emails[who]) if who else app.test_client()
    target = people["candidate"]
    assert client.get(f"/admin/users/{target}/erase").status_code == expected
    assert client.post(f"/admin/users/{target}/erase", data={"email": EMAIL}).status_code == expected
    assert client.post(f"/admin/users/{target}/reopen").status_code == expected
    with app.app_context():
        assert get(User, target).name == NAME and get(User, target).erased_at is None


def test_bad_requests_get_their_pages_not_500(app, people):
    admin = as_user(app, "admin@example.org")
    assert admin.get("/admin/users/999999/erase").status_code == 404
    assert admin.post("/admin/users/999999/reopen").status_code == 404
    assert admin.get("/admin/users/99999999999999999999/erase").status_code == 404
    reopen_open = admin.post(f"/admin/users/{people['candidate']}/reopen", follow_redirects=True)
    assert "account is not closed" in reopen_open.get_data(as_text=True)
    control = admin.post(f"/admin/users/{people['candidate']}/erase", data={"email": "a\u202eb@example.org"})
    assert control.status_code == 200 and "Remove the control characters" in control.get_data(as_text=True)
    assert as_user(app, EMAIL).get("/account/closed").status_code == 200
    assert app.test_client().get("/account/close").status_code == 302
    candidate = as_user(app, EMAIL)
    long_code = candidate.post("/account/close", data={"password": PASSWORD, "code": "1" * 500})
    assert long_code.status_code == 200
    with app.app_context():
        assert get(User, people["candidate"]).active


def test_a_calendar_invitation_to_someone_else_loses_the_name_even_across_folded_lines(app, people):
    calendar, event = Calendar(), Event()
    event.add("summary", f"Mock interview: Technical: Python and ML fundamentals, with {NAME}")
    event.add("attendee", f"mailto:{EMAIL}")
    event.add("description", "x" * 60 + f" {NAME}, {EMAIL}")
    calendar.add_component(event)
    folded = calendar.to_ical().decode()
    assert NAME not in folded  # icalendar folded a line through the name
    with app.app_context():
        make_booking(make_slot(get(User, people["mentor"]), NOW + timedelta(days=2)), get(User, people["candidate"]))
        db.session.add(
            OutboxEmail(
                to_address="mentor@example.org",
                user_id=people["mentor"],
                subject=f"Session cancelled: {NAME}",
                body_text=f"{NAME} cancelled.",
                message_id="<calendar@example.org>",
                status="sent",
                attachment_filename="invite.ics",
                attachment_content_type="text/calendar",
                attachment_text=folded,
            )
        )
        db.session.commit()
        erase_user(get(User, people["candidate"]), by=get(User, people["admin"]))
        db.session.commit()
        assert traces_left() == []
        row = db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.message_id == "<calendar@example.org>"))
        assert "with Former member" in row.attachment_text and row.to_address == "mentor@example.org"


def test_when_the_file_store_fails_nothing_is_erased_and_the_admin_is_told(app, people, monkeypatch):
    with app.app_context():
        build_history(people)
        storage = storage_for(app)

    def unreachable(self, key):
        raise StorageError("the object store did not answer")

    monkeypatch.setattr(type(storage), "delete", unreachable)
    admin = as_user(app, "admin@example.org")
    refused = admin.post(f"/admin/users/{people['candidate']}/erase", data={"email": EMAIL})
    assert refused.status_code == 200
    assert "The CV file store could not be reached, so the erasure stopped: the account is not erased" in (
        refused.get_data(as_text=True)
    )
    with app.app_context():
        user = get(User, people["candidate"])
        assert user.erased_at is None and user.closed_at is None and user.name == NAME
        # The retention run leaves a failing account for the next run and goes on with the others.
        other = make_user(name="Olive Other")
        for person in (user, other):
            close_account(person, person)
        db.session.commit()
        user_id, other_id = user.id, other.id
        later = NOW + timedelta(days=400)
        assert erase_due(later) == [other_id]  # Olive has no CV: her erasure needs no file store
        assert get(User, user_id).erased_at is None and count_erasure_due(later) == 1
        monkeypatch.undo()
        assert erase_due(later) == [user_id] and count_erasure_due(later) == 0


def test_the_retention_run_erases_closed_accounts_past_their_grace_period_and_no_other(app, people):
    with app.app_context():
        admin = get(User, people["admin"])
        early, late = make_user(name="Early Bird"), make_user(name="Late Owl")
        for user in (early, late):
            close_account(user, admin)
        early.erase_after = NOW - timedelta(seconds=1)
        late.erase_after = NOW + timedelta(seconds=1)
        db.session.commit()
        early_id, late_id = early.id, late.id

    dry = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert re.search(r"^Closed accounts +kept 30 days after the account is closed: would remove 1$", dry.output, re.M)
    with app.app_context():
        assert get(User, early_id).name == "Early Bird"

    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^Closed accounts +kept 30 days after the account is closed: removed 1$", result.output, re.M)
    with app.app_context():
        assert get(User, early_id).erased_at is not None and get(User, early_id).name == "Former member"
        assert get(User, late_id).erased_at is None and get(User, late_id).name == "Late Owl"
        assert get(User, people["candidate"]).name == NAME  # never closed: untouched


def test_erasing_someone_leaves_a_namesake_and_ordinary_words_in_other_texts_alone(app, people):
    """A name is not unique: only texts linked to the erased person lose it; their email address goes everywhere."""
    with app.app_context():
        admin, mentor = get(User, people["admin"]), get(User, people["mentor"])
        namesake = make_user(email="jo.lee2@example.org", name="Jo Lee")  # shares a name with people["other"]
        python = make_user(email="py@example.org", name="Python")  # a name that is also a word
        booking = make_booking(make_slot(mentor, NOW + timedelta(days=3)), get(User, people["other"]))
        texts = {
            "namesake": "Jo Lee booked a session with you.",
            "word": "Technical: Python and ML fundamentals is on Monday.",
            "email": "A message from jo.lee2@example.org about nothing.",
        }
        for message in texts.values():
            db.session.add(Notification(user_id=mentor.id, message=message, link=f"/mentor/sessions/{booking.id}"))
        db.session.commit()
        for person in (namesake, python):
            assert erase_user(person, by=admin) is True
            db.session.commit()
        kept = set(db.session.scalars(sa.select(Notification.message).where(Notification.user_id == mentor.id)))
        assert texts["namesake"] in kept and texts["word"] in kept
        assert f"A message from {placeholder_email(namesake.id)} about nothing." in kept
        assert get(User, people["other"]).name == "Jo Lee"


def test_an_erased_account_shows_its_removed_cvs_and_can_be_neither_changed_nor_exported(app, people):
    with app.app_context():
        build_history(people)
        assert erase_user(get(User, people["candidate"]), by=get(User, people["admin"])) is True
        db.session.commit()
        documents = db.session.scalars(sa.select(CVDocument).where(CVDocument.candidate_id == people["candidate"]))
        assert all(document.file_removed_at is not None for document in documents)
    admin = as_user(app, "admin@example.org")
    url = f"/admin/users/{people['candidate']}"
    page = admin.get(url).get_data(as_text=True)
    assert "Erased" in page and "file removed" in page and "/download" not in page
    assert "Change role" not in page and "Export this person&#39;s data" not in page and "Reactivate" not in page
    refused = admin.post(f"{url}/role", data={"role": "admin"}, follow_redirects=True).get_data(as_text=True)
    assert "This account has been erased: its role cannot change." in refused
    refused = admin.post(f"{url}/data-exports", follow_redirects=True).get_data(as_text=True)
    assert "This account has been erased: there is no personal data left to export." in refused
    refused = admin.post(f"{url}/reactivate", follow_redirects=True).get_data(as_text=True)
    assert "reopen it instead" in refused
    with app.app_context():
        user = get(User, people["candidate"])
        assert user.role == "candidate" and not user.active


def test_a_reopened_account_is_asked_about_a_notice_published_while_it_was_closed(app, people):
    from portal.privacy import notice

    closer = as_user(app, EMAIL)
    page = closer.get("/account/close").get_data(as_text=True)
    assert 'href="/account/data"' in page and "Download it first" in page
    closer.post("/account/close", data={"password": PASSWORD})
    with app.app_context():
        notice.publish_version("Retention periods changed.", get(User, people["admin"]), None)
        db.session.commit()
        assert not get(User, people["candidate"]).privacy_ack_due  # closed: not asked
    as_user(app, "admin@example.org").post(f"/admin/users/{people['candidate']}/reopen")
    with app.app_context():
        assert get(User, people["candidate"]).privacy_ack_due
    assert "We have updated our privacy notice" in as_user(app, EMAIL).get("/").get_data(as_text=True)


def test_an_erasure_and_a_reactivation_at_the_same_moment_never_leave_an_erased_account_active(app, people):
    from portal.admin import services as admin_services

    for round_number in range(6):
        with app.app_context():
            admin = get(User, people["admin"])
            user = make_user(name=f"Both Ways {round_number}")
            admin_services.deactivate(user, admin)
            db.session.commit()
            user_id = user.id

        def erase_it(user_id=user_id):
            return erase_user(get(User, user_id), by=get(User, people["admin"]))

        def reactivate_it(user_id=user_id):
            admin_services.reactivate(get(User, user_id), get(User, people["admin"]))

        def committed(work):
            def run():
                try:
                    work()
                    db.session.commit()
                    return "done"
                except DomainError as error:
                    db.session.rollback()
                    return error.message

            return run

        outcomes = run_together(
            [in_own_session(app, committed(erase_it)), in_own_session(app, committed(reactivate_it))]
        )
        with app.app_context():
            user = get(User, user_id)
            assert user.erased_at is not None and not user.active, outcomes
            assert outcomes[0] == "done"
