"""/readyz for a load balancer: the database, Redis (when rate limits use it) and file storage."""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from portal import create_app
from portal.storage import storage_for
from tests.conftest import app_settings, s3_settings
from tests.mailserver import free_port

REDIS_URL = "redis://127.0.0.1:6379/0"


def app_with(tmp_path, **settings):
    """An app of its own for a dependency set up differently (its database only needs to answer SELECT 1)."""
    return create_app(app_settings("sqlite://", tmp_path, **settings))


def test_ready_with_local_storage_and_in_memory_rate_limits(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "failed": [], "database": "ok", "storage": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_checks_redis_when_rate_limits_use_it(tmp_path):
    app = app_with(tmp_path, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX="portal-readyz-test")

    response = app.test_client().get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "failed": [], "database": "ok", "redis": "ok", "storage": "ok"}


def test_redis_on_a_closed_port_is_503_naming_redis(tmp_path, caplog):
    app = app_with(tmp_path, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "failed": ["redis"],
        "database": "ok",
        "redis": "failed",
        "storage": "ok",
    }
    assert "readiness: redis failed: ConnectionError" in caplog.text


def test_ready_with_s3_storage(s3_endpoint, s3_bucket, tmp_path):
    response = app_with(tmp_path, **s3_settings(s3_endpoint, s3_bucket)).test_client().get("/readyz")

    assert response.status_code == 200
    assert response.get_json()["storage"] == "ok"


def test_a_bucket_that_does_not_exist_is_503_naming_storage(s3_endpoint, tmp_path, caplog):
    s3_app = create_app(app_settings("sqlite://", tmp_path, **s3_settings(s3_endpoint, "portal-no-such-bucket")))

    response = s3_app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "failed": ["storage"],
        "database": "ok",
        "storage": "failed",
    }
    assert "readiness: storage failed: ClientError" in caplog.text


def test_an_upload_directory_that_is_gone_is_503_naming_storage(app, client):
    shutil.rmtree(storage_for(app).root)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["failed"] == ["storage"]


def test_an_unreachable_database_is_503_naming_the_database(app, client, monkeypatch):
    from portal.extensions import db

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database"]


def test_healthz_stays_a_liveness_check_that_ignores_storage(app, client):
    shutil.rmtree(storage_for(app).root)

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
