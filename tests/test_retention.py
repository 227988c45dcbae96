"""The retention policy: what each category removes and keeps (rows on both sides of every boundary, the clock
pinned), the command, the worker's daily run, the admin page, and CV versions whose file was removed."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask_migrate import upgrade

from portal import create_app
from portal.audit.models import AuditEvent, AuditLogReadOnly
from portal.auth.models import User
from portal.config import ConfigError
from portal.cvs.models import CVDocument, CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.interviews.models import Booking
from portal.mail import DeliveryReport, OutboxEmail, deliver_due, retry_now
from portal.notifications.models import Notification
from portal.retention import services
from portal.retention.models import RetentionRun, Trigger
from portal.storage import FileMissing, StorageError, storage_for
from portal.timeutil import months_before
from tests.conftest import app_settings, empty_database, logged_in
from tests.factories import make_booking, make_slot, make_user
from tests.test_races import run_together

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
CV_CUTOFF = months_before(NOW, 24)  # 27 Nov 2024, 12:00
PDF = b"%PDF-1.4 a CV that only the retention tests read"


# --- Building rows at chosen instants -------------------------------------------------------------------------


def email_row(status: str, *, sent_at=None, failed_at=None, created_at=None) -> int:
    row = OutboxEmail(
        to_address="sam@example.org",
        subject=f"{status} email",
        body_text="Hello",
        message_id=f"<{uuid.uuid4()}@example.org>",
        status=status,
        sent_at=sent_at,
        failed_at=failed_at,
        created_at=created_at or sent_at or failed_at or NOW,
        next_attempt_at=created_at or sent_at or failed_at or NOW,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def audit_row(created_at: datetime) -> int:
    event = AuditEvent(
        actor_name="Alex Admin", action="user.x", target_type="user", summary="did a thing", created_at=created_at
    )
    db.session.add(event)
    db.session.commit()
    return event.id


def notification_row(user: User, created_at: datetime) -> int:
    notification = Notification(user_id=user.id, message="Your session is booked", created_at=created_at)
    db.session.add(notification)
    db.session.commit()
    return notification.id


def candidate(email: str, *, created_at: datetime, last_login_at: datetime | None = None) -> User:
    user = make_user(email=email, name=email.partition("@")[0].capitalize())
    user.created_at = created_at
    user.last_login_at = last_login_at
    db.session.commit()
    return user


def cv_version(app, user: User, uploaded_at: datetime, name: str = "My CV") -> CVDocument:
    stored = storage_for(app).save(io.BytesIO(PDF + name.encode()))
    document = CVDocument(
        candidate_id=user.id,
        name=name,
        original_filename="cv.pdf",
        media_type="application/pdf",
        size_bytes=stored.size,
        sha256=stored.sha256,
        storage_key=stored.key,
        page_count=1,
        word_count=400,
        extracted_text="Python SQL machine learning engineer in London",
        links="https://github.com/sam",
        is_current=False,
        created_at=uploaded_at,
    )
    db.session.add(document)
    db.session.commit()
    return document


def remaining(model, ids) -> set[int]:
    return set(db.session.scalars(sa.select(model.id).where(model.id.in_(ids))))


def file_exists(app, key: str) -> bool:
    try:
        storage_for(app).open(key).close()
    except FileMissing:
        return False
    return True


# --- Calendar months and the configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "months", "expected"),
    [
        (datetime(2026, 8, 31, 9, 30, tzinfo=UTC), 6, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
        (datetime(2028, 8, 31, 9, 30, tzinfo=UTC), 6, datetime(2028, 2, 29, 9, 30, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), 72, datetime(2022, 2, 28, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 1, datetime(2025, 12, 15, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), 1, datetime(2026, 11, 30, tzinfo=UTC)),
        (datetime(2026, 11, 27, 12, tzinfo=UTC), 24, datetime(2024, 11, 27, 12, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 0, datetime(2026, 3, 31, tzinfo=UTC)),
    ],
)
def test_months_before_counts_calendar_months_and_ends_on_the_last_day_of_a_shorter_month(instant, months, expected):
    assert months_before(instant, months) == expected


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "two", " ", "1e3", "1201", 0, True])
def test_a_retention_period_that_is_not_a_positive_whole_number_stops_the_app(database_uri, tmp_path, value):
    with pytest.raises(ConfigError, match="RETENTION_CV_MONTHS must be a whole number of months from 1 to 1200"):
        create_app(app_settings(database_uri, tmp_path, RETENTION_CV_MONTHS=value))


def test_retention_periods_come_from_the_environment(database_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("RETENTION_OUTBOX_DAYS", "30")
    monkeypatch.setenv("RETENTION_AUDIT_YEARS", " 7 ")
    app = create_app(app_settings(database_uri, tmp_path))
    assert app.config["RETENTION_OUTBOX_DAYS"] == 30
    assert app.config["RETENTION_AUDIT_YEARS"] == 7
    assert app.config["RETENTION_CV_MONTHS"] == 24 and app.config["RETENTION_NOTIFICATIONS_MONTHS"] == 12
    monkeypatch.setenv("RETENTION_NOTIFICATIONS_MONTHS", "a year")
    with pytest.raises(ConfigError, match="RETENTION_NOTIFICATIONS_MONTHS"):
        create_app(app_settings(database_uri, tmp_path))


def test_the_policy_describes_each_period_and_a_category_registers_once(ctx):
    texts = {category.key: category.period_text for category in services.categories()}
    assert texts == {
        "cv_files": "24 months after the candidate's last activity",
        "outbox_emails": "90 days after they were sent (or failed for good)",
        "audit_log": "6 years after the action",
        "notifications": "12 months after they were sent",
        "data_exports": "7 days after the file is ready",
        "closed_accounts": "30 days after the account is closed",
    }
    with pytest.raises(ValueError, match="already registered"):
        services.register(services.CV_FILES)


# --- Each category, on both sides of its boundary --------------------------------------------------------------


def test_sent_and_failed_emails_go_after_90_days_and_a_queued_one_never(ctx):
    period = timedelta(days=90)
    old_sent = email_row("sent", sent_at=NOW - period - MINUTE)
    young_sent = email_row("sent", sent_at=NOW - period + MINUTE)
    old_failed = email_row("failed", failed_at=NOW - period - MINUTE, created_at=NOW - period - 10 * DAY)
    young_failed = email_row("failed", failed_at=NOW - period + MINUTE, created_at=NOW - period - 10 * DAY)
    old_queued = email_row("queued", created_at=NOW - 400 * DAY)
    ids = [old_sent, young_sent, old_failed, young_failed, old_queued]

    assert services.OUTBOX_EMAILS.count(NOW) == 2
    assert services.OUTBOX_EMAILS.purge(NOW) == 2

    assert remaining(OutboxEmail, ids) == {young_sent, young_failed, old_queued}


class RefusingBackend:
    def send(self, message):
        raise ValueError("the server cannot carry this message")


def test_an_email_that_fails_for_good_records_when_and_a_retry_forgets_it(ctx):
    email_id = email_row("queued", created_at=NOW - DAY)

    assert deliver_due(backend=RefusingBackend()) == DeliveryReport(failed=1)

    row = db.session.get(OutboxEmail, email_id)
    assert (row.status, row.failed_at) == ("failed", NOW)
    assert services.OUTBOX_EMAILS.count(NOW + timedelta(days=90)) == 0
    assert services.OUTBOX_EMAILS.count(NOW + timedelta(days=90, minutes=1)) == 1
    retry_now(row)
    db.session.commit()
    assert row.failed_at is None
    assert services.OUTBOX_EMAILS.count(NOW + timedelta(days=400)) == 0


def test_the_migration_dates_emails_that_failed_before_it_by_their_last_planned_attempt(tmp_path):
    with empty_database(tmp_path, "retention") as uri:
        app = create_app(app_settings(uri, tmp_path))
        with app.app_context():
            upgrade(revision="d9e0f1a2b3c4")
            for status in ("failed", "sent"):
                db.session.execute(
                    sa.text(
                        "INSERT INTO outbox_emails (to_address, subject, body_text, category, message_id, status,"
                        " attempts, next_attempt_at, created_at) VALUES ('a@example.org', 's', 'b', 'general', :id,"
                        " :status, 8, :at, :at)"
                    ),
                    {"id": f"<{status}@example.org>", "status": status, "at": datetime(2026, 5, 1, 9, 30)},
                )
            db.session.commit()
            db.session.remove()

            upgrade(revision="1b2c3d4e5f60")

            failed_at = dict(db.session.execute(sa.select(OutboxEmail.status, OutboxEmail.failed_at)).all())
            assert failed_at == {"failed": datetime(2026, 5, 1, 9, 30, tzinfo=UTC), "sent": None}
            db.session.remove()
            db.engine.dispose()


def test_audit_entries_go_after_6_years(ctx):
    old = audit_row(months_before(NOW, 72) - DAY)
    young = audit_row(months_before(NOW, 72) + DAY)

    assert services.AUDIT_LOG.count(NOW) == 1
    assert services.AUDIT_LOG.purge(NOW) == 1

    assert remaining(AuditEvent, [old, young]) == {young}


def test_nothing_but_the_retention_policy_deletes_audit_entries(ctx):
    entry = audit_row(NOW - 10 * 365 * DAY)
    with pytest.raises(AuditLogReadOnly):
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == entry))
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, entry))
    with pytest.raises(AuditLogReadOnly):
        db.session.commit()
    db.session.rollback()
    assert remaining(AuditEvent, [entry]) == {entry}


def test_notifications_go_after_12_months(ctx):
    user = make_user()
    old = notification_row(user, months_before(NOW, 12) - MINUTE)
    young = notification_row(user, months_before(NOW, 12) + MINUTE)

    assert services.NOTIFICATIONS.count(NOW) == 1
    assert services.NOTIFICATIONS.purge(NOW) == 1

    assert remaining(Notification, [old, young]) == {young}


@pytest.fixture
def cvs(app):
    """Candidates on both sides of the 24 months: (name -> document ids and storage keys)."""
    with app.app_context(), time_machine.travel(NOW, tick=False):
        long_ago = CV_CUTOFF - 300 * DAY
        gone = candidate("gone@example.org", created_at=long_ago, last_login_at=CV_CUTOFF - DAY)
        gone_versions = [cv_version(app, gone, long_ago, "First CV"), cv_version(app, gone, CV_CUTOFF - DAY)]
        mentor = make_user("mentor")
        past_session = make_booking(make_slot(mentor, CV_CUTOFF - 2 * DAY), gone, status="completed")
        past_session.cv_document_id = gone_versions[0].id
        # Signed in 23 months ago, uploaded long before: active within the period.
        signed_in = candidate("recent-login@example.org", created_at=long_ago, last_login_at=months_before(NOW, 23))
        signed_in_versions = [cv_version(app, signed_in, long_ago)]
        # Signed in long ago but uploaded a new version last month: both versions stay.
        uploader = candidate("uploader@example.org", created_at=long_ago, last_login_at=long_ago)
        uploader_versions = [cv_version(app, uploader, long_ago), cv_version(app, uploader, NOW - 30 * DAY)]
        # Signed in long ago, but has a mock interview booked for next week.
        booked = candidate("booked@example.org", created_at=long_ago, last_login_at=long_ago)
        booked_versions = [cv_version(app, booked, long_ago)]
        make_booking(make_slot(mentor, NOW + 7 * DAY), booked)
        # Asked for a review of an old version a day inside the period.
        asker = candidate("asker@example.org", created_at=long_ago, last_login_at=long_ago)
        asker_versions = [cv_version(app, asker, long_ago)]
        db.session.add(
            CVReview(
                candidate_id=asker.id,
                cv_document_id=asker_versions[0].id,
                document_name="My CV",
                target_role="ML engineer",
                status="withdrawn",
                created_at=CV_CUTOFF + DAY,
            )
        )
        db.session.commit()
        return {
            name: [(document.id, document.storage_key) for document in versions]
            for name, versions in {
                "gone": gone_versions,
                "signed_in": signed_in_versions,
                "uploader": uploader_versions,
                "booked": booked_versions,
                "asker": asker_versions,
            }.items()
        }


def test_cv_files_of_a_candidate_inactive_for_24_months_are_removed_and_the_versions_stay(app, ctx, cvs):
    gone_ids = {document_id for document_id, _ in cvs["gone"]}
    assert services.CV_FILES.count(NOW) == 2
    assert services.CV_FILES.purge(NOW) == 2

    for document_id, key in [item for versions in cvs.values() for item in versions]:
        document = db.session.get(CVDocument, document_id)
        if document_id in gone_ids:
            assert not file_exists(app, key)
            assert document.file_removed_at == NOW
            assert document.extracted_text == "" and document.links == ""
            assert document.name and document.sha256  # the version itself stays
        else:
            assert file_exists(app, key)
            assert document.file_removed_at is None
            assert document.extracted_text.startswith("Python")
    assert services.CV_FILES.count(NOW) == 0
    assert services.CV_FILES.purge(NOW) == 0


def test_a_file_the_store_will_not_delete_keeps_its_version_for_the_next_run(app, ctx, cvs, monkeypatch):
    (first_id, first_key), (second_id, second_key) = cvs["gone"]
    storage = storage_for(app)
    real_delete = storage.delete

    def refuse_first(key):
        if key == first_key:
            raise StorageError("the store is down")
        real_delete(key)

    monkeypatch.setattr(storage, "delete", refuse_first)
    assert services.CV_FILES.purge(NOW) == 1
    assert db.session.get(CVDocument, first_id).file_removed_at is None and file_exists(app, first_key)
    assert db.session.get(CVDocument, second_id).file_removed_at == NOW and not file_exists(app, second_key)

    monkeypatch.setattr(storage, "delete", real_delete)
    assert services.CV_FILES.purge(NOW) == 1
    assert db.session.get(CVDocument, first_id).file_removed_at == NOW and not file_exists(app, first_key)


def test_a_candidate_who_signs_in_while_the_run_goes_on_keeps_their_files(app, ctx, cvs, monkeypatch):
    """The run picks the inactive candidates, then takes each one's row lock and checks again: a sign-in that lands
    in between (it writes that row) wins."""
    picked = services.candidates_past

    def picked_then_signed_in(now, after_id, limit):
        candidates = picked(now, after_id, limit)
        db.session.execute(sa.update(User).where(User.email == "gone@example.org").values(last_login_at=NOW - MINUTE))
        db.session.commit()
        return candidates

    monkeypatch.setattr(services, "candidates_past", picked_then_signed_in)
    assert services.CV_FILES.purge(NOW) == 0
    for document_id, key in cvs["gone"]:
        assert db.session.get(CVDocument, document_id).file_removed_at is None and file_exists(app, key)


def test_last_activity_is_the_latest_of_sign_in_upload_review_request_and_booked_session(app, ctx, cvs):
    """Each candidate counts as inactive from just after their last activity, and not at that instant."""
    last = {
        "gone@example.org": CV_CUTOFF - DAY,
        "recent-login@example.org": months_before(NOW, 23),
        "uploader@example.org": NOW - 30 * DAY,
        "booked@example.org": NOW + 7 * DAY,
        "asker@example.org": CV_CUTOFF + DAY,
    }
    ids = {email: db.session.scalar(sa.select(User.id).where(User.email == email)) for email in last}
    for email, instant in last.items():
        assert ids[email] not in set(db.session.scalars(services.inactive_since(instant))), email
        assert ids[email] in set(db.session.scalars(services.inactive_since(instant + timedelta(seconds=1)))), email


def test_a_removed_cv_file_is_explained_on_every_page_that_shows_it(app, clock, cvs):
    with app.app_context():
        services.CV_FILES.purge(NOW)
    (first_id, _), (second_id, _) = cvs["gone"]
    sam = logged_in(app, "gone@example.org")

    listing = sam.get("/cvs/").get_data(as_text=True)
    assert listing.count("File removed") == 2
    detail = sam.get(f"/cvs/{second_id}")
    page = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert "removed on <time" in page and "under the retention policy" in page
    assert f"/cvs/{second_id}/download" not in page and "Ask for a review" not in page
    download = sam.get(f"/cvs/{second_id}/download")
    assert download.status_code == 410
    assert "removed on 27 Nov 2026 under the retention policy" in download.get_data(as_text=True)
    refused = sam.post(f"/cvs/{second_id}", data={"target_role": "ML engineer", "questions": ""})
    assert refused.status_code == 200 and "Upload it again first" in refused.get_data(as_text=True)
    with app.app_context():
        booking_id = db.session.scalar(sa.select(Booking.id).where(Booking.cv_document_id == first_id))
    session = sam.get(f"/interviews/bookings/{booking_id}").get_data(as_text=True)
    assert "First CV (file removed under the retention policy)" in session
    assert f"/cvs/{first_id}/download" not in session

    with app.app_context():
        make_user("admin", email="admin@example.org")
        db.session.add(
            CVReview(
                candidate_id=db.session.get(CVDocument, first_id).candidate_id,
                cv_document_id=first_id,
                document_name="First CV",
                target_role="ML engineer",
                status="withdrawn",
            )
        )
        db.session.commit()
        review_id = db.session.scalar(sa.select(CVReview.id).where(CVReview.cv_document_id == first_id))
    admin = logged_in(app, "admin@example.org")
    review = admin.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "the file was removed under the retention policy" in review
    assert admin.get(f"/cvs/{first_id}/download").status_code == 410


# --- Batches ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{"RETENTION_BATCH_SIZE": 2}])
def test_a_large_purge_is_removed_in_batches_of_the_configured_size(app, ctx, count_queries, cvs):
    user = make_user()
    old = [notification_row(user, NOW - 400 * DAY) for _ in range(5)]
    kept = notification_row(user, NOW - DAY)
    emails = [email_row("sent", sent_at=NOW - 100 * DAY) for _ in range(4)]
    for name in ("third", "fourth", "fifth"):
        cv_version(
            app, db.session.scalar(sa.select(User).where(User.email == "gone@example.org")), CV_CUTOFF - DAY, name
        )

    with count_queries() as statements:
        assert services.NOTIFICATIONS.purge(NOW) == 5
    deletes = [statement for statement in statements if statement.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert remaining(Notification, [*old, kept]) == {kept}
    assert services.OUTBOX_EMAILS.purge(NOW) == 4
    assert remaining(OutboxEmail, emails) == set()
    with count_queries() as statements:
        assert services.CV_FILES.purge(NOW) == 5
    updates = [statement for statement in statements if statement.lstrip().upper().startswith("UPDATE CV_DOCUMENTS")]
    assert len(updates) == 1  # CV files go one candidate at a time: all five versions of theirs in one statement
    assert services.CV_FILES.count(NOW) == 0


# --- The command ---------------------------------------------------------------------------------------------


def old_rows_of_every_kind(app) -> None:
    with app.app_context():
        user = make_user()
        notification_row(user, NOW - 400 * DAY)
        notification_row(user, NOW - DAY)
        email_row("sent", sent_at=NOW - 100 * DAY)
        email_row("sent", sent_at=NOW - 100 * DAY)
        email_row("queued", created_at=NOW - 100 * DAY)
        audit_row(NOW - 7 * 365 * DAY)


def table_sizes(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Notification, OutboxEmail, AuditEvent, RetentionRun, CVDocument)
        }


def test_a_dry_run_prints_what_it_would_remove_and_changes_nothing(app, clock, cvs):
    old_rows_of_every_kind(app)
    before = table_sizes(app)
    keys = {key for versions in cvs.values() for _, key in versions}

    result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.search(r"^CV files +kept 24 months after the candidate's last activity: would remove 2$", lines[0])
    assert lines[1].endswith("kept 90 days after they were sent (or failed for good): would remove 2")
    assert lines[2].endswith("kept 6 years after the action: would remove 1")
    assert lines[3].endswith("kept 12 months after they were sent: would remove 1")
    assert re.search(r"^Data exports +kept 7 days after the file is ready: would remove 0$", lines[4])
    assert re.search(r"^Closed accounts +kept 30 days after the account is closed: would remove 0$", lines[5])
    assert lines[6] == "Total: would remove 6 (dry run: nothing was changed)"
    assert table_sizes(app) == before
    assert all(file_exists(app, key) for key in keys)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(CVDocument.id)).where(CVDocument.file_removed_at.is_not(None)))
            == 0
        )


def test_a_run_removes_prints_and_records_what_it_removed(app, clock, cvs):
    old_rows_of_every_kind(app)

    result = app.test_cli_runner().invoke(args=["retention", "run"])

    assert result.exit_code == 0, result.output
    assert "CV files" in result.output and "removed 2" in result.output
    assert result.output.splitlines()[-1] == "Total: removed 6"
    sizes = table_sizes(app)
    assert (sizes["notifications"], sizes["outbox_emails"], sizes["audit_events"]) == (1, 1, 0)
    with app.app_context():
        run = db.session.scalar(sa.select(RetentionRun))
        assert run.triggered_by == Trigger.COMMAND and run.finished_at is not None
        assert run.counts == {
            "cv_files": 2,
            "outbox_emails": 2,
            "audit_log": 1,
            "notifications": 1,
            "data_exports": 0,
            "closed_accounts": 0,
        }
        assert run.errors == {}
    again = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert again.output.splitlines()[-1] == "Total: would remove 0 (dry run: nothing was changed)"


def test_a_category_that_fails_is_reported_and_the_others_still_run(app, clock):
    old_rows_of_every_kind(app)

    def broken(now):
        raise RuntimeError("the store is down")

    failing = services.Category("broken", "Broken things", "RETENTION_OUTBOX_DAYS", "day", "", broken, broken)
    services.register(failing)
    try:
        result = app.test_cli_runner().invoke(args=["retention", "run"])
    finally:
        services._CATEGORIES.pop("broken")
    assert result.exit_code == 1
    assert "Broken things" in result.output and "FAILED: RuntimeError: the store is down" in result.output
    assert "Total: removed 4" in result.output
    with app.app_context():
        run = db.session.scalar(sa.select(RetentionRun))
        assert run.errors == {"broken": "RuntimeError: the store is down"} and run.total == 4


# --- The worker's daily run ----------------------------------------------------------------------------------


def past_run(app, started_ago: timedelta, finished: bool = True) -> None:
    with app.app_context():
        started = NOW - started_ago
        db.session.add(
            RetentionRun(
                started_at=started,
                finished_at=started + MINUTE if finished else None,
                triggered_by=Trigger.WORKER,
                counts={},
                errors={},
            )
        )
        db.session.commit()


def worker_runs(app) -> list[RetentionRun]:
    with app.app_context():
        runs = list(db.session.scalars(sa.select(RetentionRun).order_by(RetentionRun.started_at)))
        db.session.expunge_all()
        return runs


@pytest.mark.parametrize(
    ("started_ago", "finished", "runs_now"),
    [
        (timedelta(hours=25), True, True),
        (timedelta(hours=2), True, False),
        (timedelta(hours=23, minutes=59), True, False),
        (timedelta(hours=1), False, False),  # still running
        (timedelta(hours=7), False, True),  # stopped halfway long ago
    ],
)
def test_the_worker_runs_retention_once_a_day(app, clock, started_ago, finished, runs_now):
    old_rows_of_every_kind(app)
    past_run(app, started_ago, finished)

    result = app.test_cli_runner().invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    runs = worker_runs(app)
    if runs_now:
        assert len(runs) == 2 and runs[-1].finished_at is not None
        assert runs[-1].counts == {
            "cv_files": 0,
            "outbox_emails": 2,
            "audit_log": 1,
            "notifications": 1,
            "data_exports": 0,
            "closed_accounts": 0,
        }
        assert (
            "retention: CV files 0, Sent and failed emails 2, Audit log entries 1, In-app notifications 1,"
            " Data exports 0, Closed accounts 0; 4 in all" in result.output
        )
        assert table_sizes(app)["notifications"] == 1
    else:
        assert len(runs) == 1 and "retention:" not in result.output
        assert table_sizes(app)["notifications"] == 2


def test_a_first_worker_run_happens_at_once_and_the_next_poll_does_not_repeat_it(app, clock):
    with app.app_context():
        assert services.run_retention_if_due(utcnow()) is not None
        assert services.run_retention_if_due(utcnow() + timedelta(hours=23)) is None
        assert services.run_retention_if_due(utcnow() + timedelta(hours=24, minutes=1)) is not None
        assert db.session.scalar(sa.select(sa.func.count(RetentionRun.id))) == 2


@pytest.mark.parametrize(
    "settings", [{"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5, "max_overflow": 2, "pool_pre_ping": True}}]
)
def test_two_workers_deciding_at_once_run_retention_only_once(app):
    """Real threads, a connection each; PostgreSQL decides under an advisory lock, SQLite under its write lock."""
    user_id = None
    with app.app_context():
        user_id = make_user().id
    for round_number in range(10):
        now = utcnow() + timedelta(days=2 * round_number)
        with app.app_context():
            db.session.add(Notification(user_id=user_id, message="old", created_at=now - 400 * DAY))
            db.session.commit()

        def worker(now=now):
            with app.app_context():
                run = services.run_retention_if_due(now)
                return None if run is None else dict(run.counts)

        results = run_together([worker, worker])
        ran = [result for result in results if result is not None]
        assert len(ran) == 1, (round_number, results)
        assert ran[0]["notifications"] == 1
        with app.app_context():
            started = db.session.scalars(sa.select(RetentionRun.started_at).where(RetentionRun.started_at == now))
            assert len(list(started)) == 1


# --- The admin page --------------------------------------------------------------------------------------------


@pytest.fixture
def people(app):
    with app.app_context():
        make_user("admin", email="admin@example.org", name="Alex Admin")
        make_user("mentor", email="mentor@example.org")
        make_user(email="sam@example.org")


@pytest.mark.parametrize("who", [None, "sam@example.org", "mentor@example.org"])
def test_only_admins_see_the_retention_page_or_run_it(app, clock, people, who):
    client = logged_in(app, who) if who else app.test_client()
    page = client.get("/admin/retention/")
    run = client.post("/admin/retention/run")
    if who is None:
        assert page.status_code == 302 and "/login?next=" in page.headers["Location"]
        assert run.status_code == 302
    else:
        assert page.status_code == 403 and run.status_code == 403
    assert worker_runs(app) == []


def test_an_admin_sees_the_policy_the_preview_and_the_runs_and_can_run_it_now(app, clock, people, cvs):
    old_rows_of_every_kind(app)
    with app.app_context():
        for hours in range(25):
            started = NOW - timedelta(days=30, hours=hours)
            db.session.add(
                RetentionRun(
                    started_at=started,
                    finished_at=started + MINUTE,
                    triggered_by=Trigger.WORKER,
                    counts={"notifications": hours},
                    errors={},
                )
            )
        db.session.commit()
    admin = logged_in(app, "admin@example.org")
    assert "/admin/retention/" in admin.get("/admin/").get_data(as_text=True)

    page = html.unescape(admin.get("/admin/retention/").get_data(as_text=True))
    policy = page.split('id="policy-title"')[1].split('id="last-title"')[0]
    rows = [
        re.sub(r"<[^>]+>|\s+", " ", row).split() for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", policy, re.S)
    ]
    assert [" ".join(row) for row in rows] == [
        "CV files 24 months after the candidate's last activity RETENTION_CV_MONTHS (environment) 2",
        "Sent and failed emails 90 days after they were sent (or failed for good)"
        " RETENTION_OUTBOX_DAYS (environment) 2",
        "Audit log entries 6 years after the action RETENTION_AUDIT_YEARS (environment) 1",
        "In-app notifications 12 months after they were sent RETENTION_NOTIFICATIONS_MONTHS (environment) 1",
        "Data exports 7 days after the file is ready EXPORT_RETENTION_DAYS (environment) 0",
        "Closed accounts 30 days after the account is closed ACCOUNT_ERASURE_GRACE_DAYS (environment) 0",
    ]
    assert "The worker (daily)" in page and "In-app notifications: 0 removed" in page
    assert 'href="/admin/retention/?page=2"' in page
    assert "In-app notifications: 24 removed" in admin.get("/admin/retention/?page=2").get_data(as_text=True)

    done = admin.post("/admin/retention/run", follow_redirects=True)
    page = html.unescape(done.get_data(as_text=True))
    assert done.status_code == 200
    assert "Retention run finished. Removed: CV files 2, Sent and failed emails 2" in page
    last = page.split('id="last-title"')[1].split('id="runs-title"')[0]
    assert "Admin: Alex Admin" in last and "6 in all." in last
    assert "CV files: 2 removed" in last and "Audit log entries: 1 removed" in last
    policy = page.split('id="policy-title"')[1].split('id="last-title"')[0]
    assert re.findall(r'<td data-label="Would remove now">(\d+)</td></tr>', policy) == ["0"] * 6
    with app.app_context():
        entries = list(db.session.scalars(sa.select(AuditEvent)))
        assert [(entry.action, entry.actor_name) for entry in entries] == [("retention.run", "Alex Admin")]
        assert entries[0].after["counts"]["cv_files"] == 2


def test_the_run_button_needs_the_form_token(app, clock, people):
    admin = logged_in(app, "admin@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post("/admin/retention/run").status_code == 400
    assert worker_runs(app) == []


def test_the_retention_page_sends_as_many_queries_for_2_runs_as_for_20_started_by_different_admins(app, count_queries):
    with app.app_context():
        make_user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")

    def add_runs(count: int) -> None:
        with app.app_context():
            for _ in range(count):
                starter = make_user("admin")
                db.session.add(
                    RetentionRun(
                        started_at=utcnow(),
                        finished_at=utcnow(),
                        triggered_by=Trigger.ADMIN,
                        triggered_by_id=starter.id,
                    )
                )
            db.session.commit()

    def statements() -> int:
        with count_queries() as sent:
            assert admin.get("/admin/retention/").status_code == 200
        return len(sent)

    add_runs(2)
    few = statements()
    add_runs(18)
    assert statements() == few
