"""Fixtures: a database per test worker (SQLite file or PostgreSQL), emptied after every test."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.config import normalise_database_url
from portal.extensions import db
from tests.factories import PASSWORD, TOTP_SECRET, current_code, forget_used_codes, make_user

SERVER_URL = normalise_database_url(os.environ.get("DATABASE_URL", ""))
ON_POSTGRES = SERVER_URL.startswith("postgresql")


@contextmanager
def postgres_database(name_hint: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the DATABASE_URL server, dropped afterwards."""
    url = sa.make_url(SERVER_URL)
    name = re.sub(r"[^a-z0-9_]", "_", f"{url.database}_{name_hint}_{uuid.uuid4().hex[:8]}".lower())[:63]
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def empty_database(tmp_dir: Path, name_hint: str) -> Iterator[str]:
    """An empty database of the kind this run tests: PostgreSQL when DATABASE_URL says so, else SQLite."""
    if ON_POSTGRES:
        with postgres_database(name_hint) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_dir / f'{name_hint}.db'}"


def app_settings(database_uri: str, tmp_path: Path, **overrides) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_BACKEND": "console",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PORTAL_ENV": "testing",
        "PUBLIC_PAGES_RECHECK_SECONDS": 0,
        "CALENDAR_FIGURES_SECONDS": 0,  # every public page looks up the newest revisions: counts are exact
        "PUBLIC_URL": "http://localhost",  # the test client's own address, so links in emails open in it
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        **overrides,
    }


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory, worker_id: str) -> Iterator[str]:
    """One database per test worker, with the schema the models describe."""
    with empty_database(tmp_path_factory.mktemp("db"), f"tests_{worker_id}") as uri:
        app = create_app(app_settings(uri, tmp_path_factory.mktemp("setup")))
        with app.app_context():
            if ON_POSTGRES:
                db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
                db.session.commit()
            db.create_all()
            db.engine.dispose()
        yield uri


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if ON_POSTGRES:
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def settings() -> dict:
    """Per-test configuration overrides; a test module can override this fixture."""
    return {}


@pytest.fixture
def app(database_uri: str, tmp_path: Path, settings: dict) -> Iterator[Flask]:
    app = create_app(app_settings(database_uri, tmp_path, **settings))
    yield app
    with app.app_context():
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def appctx(app: Flask) -> Iterator[Flask]:
    """An app context for service-level tests."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def clock(request):
    """The clock pinned at the test module's NOW and ticking from there (modules ask for it with
    `pytestmark = pytest.mark.usefixtures("clock")`)."""
    with time_machine.travel(request.module.NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def ctx(app: Flask, request):
    """An app context for service-level tests, with the clock stopped at the test module's NOW."""
    with app.app_context(), time_machine.travel(request.module.NOW, tick=False) as traveller:
        yield traveller
        db.session.rollback()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def pass_second_step(client: FlaskClient, response, email: str, totp_secret: str = TOTP_SECRET):
    """When the login asks for a security code, enter the one the person's authenticator app shows now (the
    factories give staff tests.factories.TOTP_SECRET); any other response is returned as it is."""
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if not location.startswith("/login/code"):
        return response
    with client.application.app_context():
        forget_used_codes(email)
    return client.post(location, data={"code": current_code(totp_secret)})


def logged_in(app: Flask, email: str, password: str = PASSWORD) -> FlaskClient:
    """A new client (a new browser, as it were) logged in through the real form (both steps for staff)."""
    client = app.test_client()
    response = pass_second_step(client, client.post("/login", data={"email": email, "password": password}), email)
    assert response.status_code == 302
    return client


class AuthActions:
    """Log in and out through the real forms (with the security code for staff)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(
        self,
        email: str,
        password: str = PASSWORD,
        remember: bool = False,
        next_url: str | None = None,
        totp_secret: str = TOTP_SECRET,
    ):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        url = "/login" + (f"?next={next_url}" if next_url else "")
        return pass_second_step(self.client, self.client.post(url, data=data), email, totp_secret)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def make(app: Flask):
    """Factories inside an app context: `make.user(role=...)` returns a detached user with its id loaded."""

    class Make:
        @staticmethod
        def user(role: str = "candidate", **kwargs):
            with app.app_context():
                user = make_user(role, **kwargs)
                db.session.refresh(user)
                db.session.expunge(user)
                return user

    return Make()


@pytest.fixture
def outbox(app: Flask):
    """Read the emails queued so far (newest last)."""
    from portal.mail import OutboxEmail

    def read(to_address: str | None = None) -> list[OutboxEmail]:
        with app.app_context():
            statement = sa.select(OutboxEmail).order_by(OutboxEmail.id)
            if to_address:
                statement = statement.where(OutboxEmail.to_address == to_address)
            rows = db.session.scalars(statement).all()
            db.session.expunge_all()
            return list(rows)

    return read


# Object storage ----------------------------------------------------------------------------------

S3_TEST_REGION = "us-east-1"
# What boto3 reads, in the test process and in the processes it starts: made-up keys, no profile or config file.
S3_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "portal-test-key",
    "AWS_SECRET_ACCESS_KEY": "portal-test-secret",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-protocol server (moto in server mode) on a free loopback port, for this test worker's run."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in S3_TEST_ENVIRONMENT.items():
            patch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@cache
def s3_test_client(endpoint: str):
    """A boto3 client of our own, to look at the bucket behind the app's back."""
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=S3_TEST_REGION)


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the test S3 server."""
    name = f"portal-test-{uuid.uuid4().hex[:16]}"
    s3_test_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str, prefix: str = "cvs", **overrides) -> dict:
    return {
        "STORAGE_URL": f"s3://{bucket}/{prefix}",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": S3_TEST_REGION,
        **overrides,
    }


# Browser tests -----------------------------------------------------------------------------------

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Generous: CI runs two test workers and Chromium on two cores. Waits end as soon as the page is ready.
BROWSER_TIMEOUT_MS = 30_000
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# The app behind each live server's address, for browser helpers that must look at its database.
LIVE_APPS: dict[str, Flask] = {}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a free loopback port in a background thread."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    address = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = address  # links in emails point at this server
    app.extensions.pop("public_links", None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    LIVE_APPS[address] = app
    yield address
    LIVE_APPS.pop(address, None)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; browser tests fail instead of skipping when it is required."""
    if not CHROMIUM.exists():
        if os.environ.get("PORTAL_REQUIRE_BROWSER"):
            pytest.fail(f"Browser tests are required but {CHROMIUM} is missing (apt-get install chromium).")
        pytest.skip(f"{CHROMIUM} is missing; set PORTAL_REQUIRE_BROWSER=1 to make this a failure")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def count_queries(app: Flask):
    """`with count_queries() as counter: ...` counts the SQL statements sent meanwhile."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    return counting
