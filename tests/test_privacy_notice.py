"""Privacy-notice versions: what a new account accepted, and acknowledging a newer version once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.privacy import notice
from portal.privacy.models import PrivacyConsent
from tests.conftest import logged_in
from tests.factories import make_user
from tests.races import LockWatch, in_thread
from tests.test_auth import link_in, register

SHIPPED = "2026-11-27"
BANNER = "We have updated our privacy notice"


def consents(app, email: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (row.notice_version, row.how)
            for row in db.session.scalars(
                sa.select(PrivacyConsent).join(User, User.id == PrivacyConsent.user_id).where(User.email == email)
            )
        ]


def publish(admin_client, summary: str = "We now keep CV files for 24 months after your last activity.", **extra):
    data = {
        "title": "Privacy notice",
        "description": "How we use your data",
        "body": "## What we keep\n\nLess than before.",
        "new_version": "y",
        "summary": summary,
        "save": "1",
    }
    data.update(extra)
    return admin_client.post("/admin/content/privacy", data={k: v for k, v in data.items() if v is not None})


@pytest.fixture
def people(app):
    with app.app_context():
        make_user("admin", email="admin@example.org")
        make_user(email="cara@example.org")
        make_user(email="gone@example.org", active=False)


def test_a_new_account_records_the_notice_version_it_accepted_and_when(app, client, outbox):
    assert register(client).status_code == 200
    client.post(link_in(outbox("ada@example.org")[-1].body_text, "/register/confirm/"))
    assert consents(app, "ada@example.org") == [(SHIPPED, "registration")]
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "ada@example.org"))
        assert user.privacy_notice_version == SHIPPED and user.privacy_accepted_at is not None
        assert not user.privacy_ack_due
    assert BANNER not in client.get("/").get_data(as_text=True)


def test_a_new_version_asks_everyone_once_and_acknowledging_it_ends_the_asking(app, people):
    admin = logged_in(app, "admin@example.org")
    response = publish(admin)
    assert response.status_code == 302
    assert "everyone is asked to acknowledge it" in admin.get(response.location).get_data(as_text=True)

    cara = logged_in(app, "cara@example.org")
    home = cara.get("/").get_data(as_text=True)
    assert BANNER in home
    assert BANNER in cara.get("/notifications/").get_data(as_text=True)  # on every page until acknowledged
    page = cara.get("/privacy/updated").get_data(as_text=True)
    assert "We now keep CV files for 24 months after your last activity." in page
    assert "I have read it" in page and BANNER not in page
    with app.app_context():
        label = notice.current_version()
    assert label != SHIPPED and f"version {label}" in page

    response = cara.post("/privacy/updated?next=/notifications/", data={"version": label})
    assert response.status_code == 302 and response.location.endswith("/notifications/")
    assert BANNER not in cara.get("/").get_data(as_text=True)
    assert consents(app, "cara@example.org") == [(label, "acknowledged")]
    with app.app_context():
        gone = db.session.scalar(sa.select(User).where(User.email == "gone@example.org"))
        assert not gone.privacy_ack_due  # deactivated accounts are not asked
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.notice_published"))
        assert event.target_id == label and "asked to acknowledge" in event.summary


def test_acknowledging_a_version_that_was_replaced_meanwhile_shows_the_newer_one(app, people):
    admin = logged_in(app, "admin@example.org")
    publish(admin, summary="First change.")
    cara = logged_in(app, "cara@example.org")
    with app.app_context():
        first = notice.current_version()
    publish(admin, summary="Second change.")
    response = cara.post("/privacy/updated", data={"version": first}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The privacy notice has changed again" in page
    assert "First change." in page and "Second change." in page
    assert consents(app, "cara@example.org") == []
    with app.app_context():
        labels = list(db.session.scalars(sa.select(notice.PrivacyNoticeVersion.label)))
        assert len(set(labels)) == 2 and all(label.startswith(labels[0][:10]) for label in labels)


def test_an_ordinary_edit_asks_nobody_and_a_new_version_needs_its_summary(app, people):
    admin = logged_in(app, "admin@example.org")
    assert publish(admin, new_version=None, summary="").status_code == 302
    cara = logged_in(app, "cara@example.org")
    assert BANNER not in cara.get("/").get_data(as_text=True)

    page = publish(admin, summary="   ").get_data(as_text=True)
    assert "Say in a sentence what changed" in page
    with app.app_context():
        assert notice.current_version() == SHIPPED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(notice.PrivacyNoticeVersion)) == 0
        assert len(list(db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.action == "content.edited")))) == 1


def test_the_editor_shows_the_notice_version_and_its_hostile_summary_is_refused(app, people):
    admin = logged_in(app, "admin@example.org")
    page = admin.get("/admin/content/privacy").get_data(as_text=True)
    assert f"Notice version {SHIPPED}" in page and "ask everyone to read it and acknowledge it" in page
    assert "Notice version" not in admin.get("/admin/content/guide").get_data(as_text=True)
    response = publish(admin, summary="Changed\u202e\r\nBcc: x@example.org")
    assert response.status_code == 200
    with app.app_context():
        assert notice.current_version() == SHIPPED


def test_accepting_an_invitation_records_the_notice_version(app, outbox):
    with app.app_context():
        make_user("admin", email="admin@example.org")
    admin = logged_in(app, "admin@example.org")
    admin.post("/admin/invitations/new", data={"email": "mia@example.org", "name": "Mia Mentor"})
    link = link_in(outbox("mia@example.org")[-1].body_text, "/invitation/")
    passphrase = "a long mentor passphrase"
    response = app.test_client().post(
        link, data={"password": passphrase, "confirm": passphrase, "timezone": "Europe/London"}
    )
    assert response.status_code == 302
    assert consents(app, "mia@example.org") == [(SHIPPED, "invitation")]


def test_an_acknowledgement_and_a_new_version_at_the_same_moment_never_lose_the_new_version(app, people):
    """Both orders, with the second transaction reaching the first's lock while it is held: on PostgreSQL the row
    lock (seen waiting in pg_stat_activity), on SQLite the write lock that BEGIN IMMEDIATE asks for."""
    with app.app_context():
        cara_id = db.session.scalar(sa.select(User.id).where(User.email == "cara@example.org"))
        admin_id = db.session.scalar(sa.select(User.id).where(User.email == "admin@example.org"))

    def publish_now(summary: str):
        return lambda: notice.publish_version(summary, db.session.get(User, admin_id), None)

    with app.app_context(), LockWatch() as watch:
        # 1. The acknowledgement holds the row; the publication waits, then asks again.
        notice.acknowledge(db.session.get(User, cara_id), SHIPPED)
        thread, outcome = in_thread(app, publish_now("Published while Cara acknowledged."))
        assert watch.wait_for(thread) == "waiting"
        db.session.commit()
        thread.join(10)
        assert outcome == ["committed"]
        assert db.session.get(User, cara_id).privacy_ack_due

        # 2. The publication holds the rows; the acknowledgement of the version Cara was shown waits, then is refused.
        shown = notice.current_version()
        publish_now("Published before Cara's click landed.")()
        thread, outcome = in_thread(app, lambda: notice.acknowledge(db.session.get(User, cara_id), shown))
        assert watch.wait_for(thread) == "waiting"
        db.session.commit()
        thread.join(10)
        assert len(outcome) == 1 and "changed again" in str(outcome[0])
        db.session.expire_all()
        assert db.session.get(User, cara_id).privacy_ack_due


def test_accounts_that_existed_before_versions_are_asked_once(tmp_path):
    from flask_migrate import upgrade

    from portal import create_app
    from tests.conftest import app_settings, empty_database

    with empty_database(tmp_path, "notice") as uri:
        app = create_app(app_settings(uri, tmp_path))
        with app.app_context():
            upgrade(revision="d9e0f1a2b3c4")
            db.session.execute(
                sa.text(
                    "INSERT INTO users (email, name, role, timezone, active, session_version, focus_areas, is_editor,"
                    " created_at, updated_at) VALUES ('old@example.org', 'Old Timer', 'candidate', 'Europe/London',"
                    " true, 1, '', false, :now, :now)"
                ),
                {"now": "2026-01-01 00:00:00+00:00"},
            )
            db.session.commit()
            db.session.remove()
            upgrade()
            assert db.session.execute(sa.text("SELECT privacy_ack_due FROM users")).scalar() in (True, 1)
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(
    "settings", [{"RETENTION_CV_MONTHS": 18, "ACCOUNT_ERASURE_GRACE_DAYS": 14, "EXPORT_RETENTION_DAYS": 5}]
)
def test_the_notice_states_the_periods_this_portal_is_configured_with(client, settings):
    page = client.get("/privacy").get_data(as_text=True)
    assert "CV files</strong> and the text read from them: 18 months after your last activity" in page
    assert "erased 14 days after you close it" in page and "For 14 days you can change your mind" in page
    assert "only you can download it, for 5 days" in page
    assert "90 days after they were sent" in page and "6 years" in page and "12 months" in page
    assert "{" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_two_admins_publishing_a_version_at_the_same_moment_publish_one_and_tell_the_other(app, people):
    from tests.test_races import run_together

    with app.app_context():
        make_user("admin", email="second-admin@example.org")
    admins = [logged_in(app, "admin@example.org"), logged_in(app, "second-admin@example.org")]
    for round_number in range(4):
        responses = run_together(
            [
                lambda client=client, text=f"Round {round_number}, admin {n}.": publish(client, summary=text)
                for n, client in enumerate(admins)
            ]
        )
        assert all(response.status_code in (200, 302) for response in responses)
        told = [r for r in responses if r.status_code == 200]
        assert all("Another admin published a version" in r.get_data(as_text=True) for r in told)
    with app.app_context():
        labels = list(db.session.scalars(sa.select(notice.PrivacyNoticeVersion.label)))
        published = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "privacy.notice_published")
        )
    assert len(labels) == len(set(labels)) == published >= 4
