"""File storage: one contract on local disk and on an S3-protocol server (moto in server mode), through the store
and through the CV pages."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import create_environ
from werkzeug.utils import send_file

from portal import create_app
from portal.config import ConfigError, storage_location
from portal.cvs.models import CVDocument
from portal.extensions import db
from portal.storage import FileMissing, LocalStorage, S3Storage, StorageError, attachment_disposition, storage_for
from tests.conftest import app_settings, s3_settings, s3_test_client
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text
from tests.factories import make_user

FILENAME = "Zoë Ångström – CV (final).pdf"


@pytest.fixture(params=["file", "s3"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def settings(backend: str, request, tmp_path: Path) -> dict:
    if backend.startswith("s3"):
        presigned = {"S3_PRESIGNED_SECONDS": 60} if backend == "s3-presigned" else {}
        return s3_settings(request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket"), **presigned)
    return {"STORAGE_URL": (tmp_path / "store" / "cvs").as_uri()}


@pytest.fixture
def storage(app: Flask):
    return storage_for(app)


def stored_names(storage) -> list[str]:
    """Everything in the store, temporary files included: a file name on disk, an object name in the bucket."""
    if isinstance(storage, LocalStorage):
        return sorted(path.name for path in storage.root.iterdir())
    listing = storage.client.list_objects_v2(Bucket=storage.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def name_of(storage, key: str) -> str:
    return key if isinstance(storage, LocalStorage) else storage.object_name(key)


def remove_behind_the_apps_back(storage, key: str) -> None:
    if isinstance(storage, LocalStorage):
        storage.path(key).unlink()
    else:
        s3_test_client(storage.client.meta.endpoint_url).delete_object(
            Bucket=storage.bucket, Key=storage.object_name(key)
        )


class BrokenStream:
    """Gives one chunk, then fails as a dropped connection would."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise OSError("connection reset by peer")
        return b"x" * (size if size > 0 else 1024)


# --- The store's contract ---------------------------------------------------------------------------------------


def test_the_backend_is_the_one_storage_url_names(backend, storage):
    assert isinstance(storage, LocalStorage if backend == "file" else S3Storage)


def test_saved_file_round_trips_then_is_deleted_once_and_for_all(storage):
    data = pdf_with_text(GOOD_CV_LINES) * 40  # several chunks

    stored = storage.save(BytesIO(data))

    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored_names(storage) == [name_of(storage, stored.key)]
    with storage.open(stored.key) as handle:
        assert handle.read() == data

    storage.delete(stored.key)
    assert stored_names(storage) == []
    with pytest.raises(FileMissing):
        storage.open(stored.key)
    storage.delete(stored.key)  # already gone: not an error


def test_missing_file_is_one_clear_error_that_is_also_a_file_not_found(storage):
    with pytest.raises(FileMissing) as caught:
        storage.open("n0-such-key-0123456789")
    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.key == "n0-such-key-0123456789"


def test_stream_that_fails_halfway_leaves_nothing_behind(storage):
    with pytest.raises(OSError, match="connection reset"):
        storage.save(BrokenStream())

    assert stored_names(storage) == []


def test_stream_over_the_limit_is_refused_and_leaves_nothing_behind(storage):
    with pytest.raises(StorageError):
        storage.save(BytesIO(b"x" * 1001), max_bytes=1000)

    assert stored_names(storage) == []
    assert storage.save(BytesIO(b"x" * 1000), max_bytes=1000).size == 1000


@pytest.mark.parametrize("key", ["../x", "a/b", "../../etc/passwd", "short", "", "abcdefghijklmnop.pdf"])
def test_keys_that_are_not_plain_tokens_never_reach_the_store(storage, key):
    with pytest.raises(ValueError):
        storage.open(key)
    with pytest.raises(ValueError):
        storage.delete(key)


def test_the_store_is_built_once_per_app(app, storage):
    assert storage_for(app) is storage
    if isinstance(storage, S3Storage):
        assert storage_for(app).client is storage.client


def test_the_store_reports_itself_ready(storage):
    storage.check()


def test_s3_objects_live_under_the_prefix(s3_endpoint, s3_bucket, tmp_path):
    app = create_app(app_settings("sqlite://", tmp_path, **s3_settings(s3_endpoint, s3_bucket, prefix="portal/cvs")))

    stored = storage_for(app).save(BytesIO(b"%PDF-1.4 test"))

    objects = s3_test_client(s3_endpoint).list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert [item["Key"] for item in objects] == [f"portal/cvs/{stored.key}"]


def test_s3_upload_into_a_missing_bucket_is_a_storage_error_and_leaves_nothing(s3_endpoint, tmp_path):
    app = create_app(app_settings("sqlite://", tmp_path, **s3_settings(s3_endpoint, "portal-no-such-bucket")))

    with pytest.raises(StorageError):
        storage_for(app).save(BytesIO(b"%PDF-1.4 test"))
    with pytest.raises(StorageError):
        storage_for(app).open("n0-such-key-0123456789")


# --- Through the CV pages ---------------------------------------------------------------------------------------


@pytest.fixture
def candidate(app, auth):
    with app.app_context():
        make_user(email="sam@example.org", name="Sam Taylor")
    auth.login("sam@example.org")


def upload(client, data: bytes, filename: str = FILENAME) -> int:
    response = client.post(
        "/cvs/",
        data={"name": "ML engineer CV", "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def stored_key(app, document_id: int) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(CVDocument.storage_key).where(CVDocument.id == document_id))


def assert_download_headers(headers, data: bytes, body: bytes) -> None:
    disposition = headers["Content-Disposition"]
    assert disposition == attachment_disposition(FILENAME)
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == FILENAME
    assert headers["Content-Type"] == "application/pdf"
    assert "no-store" in headers["Cache-Control"]
    assert body == data


def test_upload_then_download_through_the_views(app, storage, candidate, client):
    data = pdf_with_text(GOOD_CV_LINES)

    document_id = upload(client, data)

    key = stored_key(app, document_id)
    assert stored_names(storage) == [name_of(storage, key)]
    response = client.get(f"/cvs/{document_id}/download")
    assert response.status_code == 200
    assert_download_headers(response.headers, data, response.data)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_deleting_a_version_removes_its_file(app, storage, candidate, client):
    document_id = upload(client, pdf_with_text(GOOD_CV_LINES))

    assert client.post(f"/cvs/{document_id}/delete").status_code == 302

    assert stored_names(storage) == []
    assert client.get(f"/cvs/{document_id}/download").status_code == 404


def test_download_of_a_file_missing_from_storage_is_a_clear_404_page(app, storage, candidate, client, caplog):
    document_id = upload(client, pdf_with_text(GOOD_CV_LINES))
    remove_behind_the_apps_back(storage, stored_key(app, document_id))

    response = client.get(f"/cvs/{document_id}/download")

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "could not be found in storage" in page and "upload the file again" in page
    assert f"CV {document_id}: no stored file under its key" in caplog.text


def test_a_broken_store_on_delete_still_deletes_the_version(app, storage, candidate, client, monkeypatch):
    document_id = upload(client, pdf_with_text(GOOD_CV_LINES))

    def unreachable(key):
        raise StorageError("The object store could not delete it: connection refused")

    monkeypatch.setattr(storage, "delete", unreachable)
    response = client.post(f"/cvs/{document_id}/delete")

    assert response.status_code == 302 and response.headers["Location"].endswith("/cvs/")
    assert client.get(f"/cvs/{document_id}/download").status_code == 404


# --- Presigned downloads (S3 only) ------------------------------------------------------------------------------


PRESIGNED = pytest.mark.parametrize("backend", ["s3-presigned"])


@PRESIGNED
def test_presigned_download_redirects_to_the_store_which_sends_the_same_headers(candidate, client, s3_endpoint):
    data = pdf_with_text(GOOD_CV_LINES)
    document_id = upload(client, data)

    response = client.get(f"/cvs/{document_id}/download")

    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "private, no-store"
    location = response.headers["Location"]
    assert location.startswith(s3_endpoint + "/")
    assert "X-Amz-Expires=60" in urlsplit(location).query
    with urllib.request.urlopen(location, timeout=10) as fetched:  # noqa: S310 - our own test server
        assert fetched.status == 200
        assert_download_headers(fetched.headers, data, fetched.read())
        assert fetched.headers["Cache-Control"] == "private, no-store"


@PRESIGNED
def test_presigned_download_of_a_missing_object_is_a_clear_404_page(app, storage, candidate, client):
    document_id = upload(client, pdf_with_text(GOOD_CV_LINES))
    remove_behind_the_apps_back(storage, stored_key(app, document_id))

    response = client.get(f"/cvs/{document_id}/download")

    assert response.status_code == 404
    assert "could not be found in storage" in response.get_data(as_text=True)


@pytest.mark.parametrize("filename", ["cv.pdf", "Sam Taylor CV.pdf", FILENAME, 'odd "quoted" name;.pdf', "日本語.pdf"])
def test_presigned_content_disposition_is_the_one_send_file_writes(filename):
    streamed = send_file(BytesIO(b"x"), create_environ(), as_attachment=True, download_name=filename, mimetype="x/y")

    assert attachment_disposition(filename) == streamed.headers["Content-Disposition"]


# --- Settings -----------------------------------------------------------------------------------------------------


def test_without_storage_url_files_stay_under_upload_dir():
    location = storage_location({"STORAGE_URL": None, "UPLOAD_DIR": "/srv/portal/uploads"})

    assert location.kind == "file" and location.path == Path("/srv/portal/uploads/cvs")


@pytest.mark.parametrize(
    ("url", "kind", "where"),
    [
        ("file:///srv/portal/cvs", "file", "/srv/portal/cvs"),
        ("file://localhost/srv/my%20cvs", "file", "/srv/my cvs"),
        ("s3://portal-files", "s3", ("portal-files", "")),
        ("s3://portal-files/prod/cvs/", "s3", ("portal-files", "prod/cvs")),
    ],
)
def test_storage_url_names_the_backend_and_where(url, kind, where):
    location = storage_location({"STORAGE_URL": url, "UPLOAD_DIR": "/unused"})

    assert location.kind == kind
    assert (str(location.path) if kind == "file" else (location.bucket, location.prefix)) == where


@pytest.mark.parametrize(
    "url",
    [
        "s3:///cvs",
        "s3://",
        "file://server/share/cvs",
        "file:relative/cvs",
        "/srv/portal/cvs",
        "gs://bucket",
        "s3://b?x=1",
    ],
)
def test_unusable_storage_url_refuses_to_start(url, tmp_path):
    with pytest.raises(ConfigError, match="STORAGE_URL"):
        create_app(app_settings("sqlite://", tmp_path, STORAGE_URL=url))


def test_production_with_s3_storage_needs_the_bucket(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "0f3a9c1e7b5d24680f3a9c1e7b5d2468a1b2c3d4e5f60718")
    monkeypatch.setenv("PUBLIC_URL", "https://careers.example.org")
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("STORAGE_URL", "s3:///cvs")

    with pytest.raises(ConfigError, match="must name the bucket"):
        create_app()


@pytest.mark.parametrize("seconds", [-1, 7 * 24 * 3600 + 1])
def test_presigned_lifetime_beyond_what_s3_allows_refuses_to_start(seconds, tmp_path):
    with pytest.raises(ConfigError, match="S3_PRESIGNED_SECONDS"):
        create_app(app_settings("sqlite://", tmp_path, STORAGE_URL="s3://bucket-name", S3_PRESIGNED_SECONDS=seconds))
