"""Two web processes (gunicorn) and two workers that share only what a scaled-out deployment shares: the database,
Redis for rate limits, the object store and the SECRET_KEY. No shared disk: each web process has its own UPLOAD_DIR.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa

from portal.db import utcnow
from portal.extensions import db
from portal.mail import OutboxEmail
from tests.conftest import S3_TEST_ENVIRONMENT, S3_TEST_REGION
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text
from tests.factories import PASSWORD, make_user
from tests.mailserver import SMTPServer, free_port

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 30.0
QUEUED_DIRECTLY = 24


@dataclass
class Instance:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_instance(name: str, env: dict[str, str], tmp_path: Path) -> Instance:
    port = free_port()
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4"]
            + ["--graceful-timeout", "2", "wsgi:app"],
            cwd=ROOT,
            env={**env, "UPLOAD_DIR": str(tmp_path / f"{name}-own-disk")},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Instance(name, f"http://127.0.0.1:{port}", process, log)


def wait_until_ready(instances: list[Instance]) -> None:
    """Poll /readyz on each instance until it answers 200; fail early with its log if it exits."""
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(instances)
    while waiting:
        instance = waiting[0]
        if instance.process.poll() is not None:
            pytest.fail(f"instance {instance.name} exited:\n{instance.output()}")
        try:
            if requests.get(f"{instance.url}/readyz", timeout=5).status_code == 200:
                waiting.pop(0)
                continue
        except requests.RequestException:
            pass  # not listening yet, or still starting up
        if time.monotonic() > deadline:
            pytest.fail(f"instance {instance.name} not ready after {START_TIMEOUT} s:\n{instance.output()}")
        time.sleep(0.1)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)


def json_log_lines(instance: Instance) -> list[dict]:
    """The instance's JSON log lines (gunicorn's own start-up lines are plain text)."""
    return [json.loads(line) for line in instance.output().splitlines() if line.startswith("{")]


@pytest.fixture
def shared_redis():
    """A key prefix of its own on the local Redis, removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis must run on {REDIS_URL} for this test (.ci/run starts it): {error}")
    prefix = f"portal-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = list(client.scan_iter(match=f"*{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def smtp():
    server = SMTPServer().start()
    yield server
    server.stop()


def test_two_web_processes_and_two_workers_share_sessions_limits_files_and_the_outbox(
    app, database_uri, s3_endpoint, s3_bucket, shared_redis, smtp, tmp_path
):
    with app.app_context():
        candidate_id = make_user(email="sam@example.org", name="Sam Taylor").id
        for n in range(QUEUED_DIRECTLY):
            db.session.add(
                OutboxEmail(
                    to_address=f"person{n}@example.org",
                    subject=f"Queued email {n}",
                    body_text=f"Email number {n}.",
                    message_id=make_msgid(domain="example.org"),
                    next_attempt_at=utcnow(),
                )
            )
        db.session.commit()
        db.engine.dispose()
    env = {
        **os.environ,
        **S3_TEST_ENVIRONMENT,
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "wsgi.py",
        "PORTAL_ENV": "development",
        "SECRET_KEY": "shared-secret-key-for-both-instances-0123456789",
        "DATABASE_URL": database_uri,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": shared_redis,
        "STORAGE_URL": f"s3://{s3_bucket}/cvs",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": S3_TEST_REGION,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "PUBLIC_URL": "http://portal.test",
        "LOG_FORMAT": "json",
    }
    a = start_instance("a", env, tmp_path)
    b = start_instance("b", env, tmp_path)
    processes = [a.process, b.process]
    try:
        wait_until_ready([a, b])

        # Signed in on A, recognised on B.
        browser = requests.Session()
        token = csrf_token(browser, f"{a.url}/login")
        response = browser.post(
            f"{a.url}/login", data={"csrf_token": token, "email": "sam@example.org", "password": PASSWORD}, timeout=10
        )
        assert response.history and response.history[0].status_code == 302
        on_b = requests.get(f"{b.url}/cvs/", cookies={"session": browser.cookies["session"]}, timeout=10)
        assert on_b.status_code == 200 and "Sam Taylor" in on_b.text
        assert requests.get(f"{b.url}/cvs/", allow_redirects=False, timeout=10).status_code == 302

        # Failed logins for one account, alternating between A and B: the limit (5 a minute) counts them all.
        stranger = requests.Session()
        token = csrf_token(stranger, f"{b.url}/login")
        statuses = [
            stranger.post(
                f"{(a, b)[n % 2].url}/login",
                data={"csrf_token": token, "email": "target@example.org", "password": "not the password"},
                timeout=10,
            ).status_code
            for n in range(7)
        ]
        assert statuses == [200] * 5 + [429, 429]

        # A CV uploaded through A's form is downloaded from B, byte for byte.
        data = pdf_with_text(GOOD_CV_LINES)
        token = csrf_token(browser, f"{a.url}/cvs/")
        response = browser.post(
            f"{a.url}/cvs/",
            data={"csrf_token": token, "name": "ML engineer CV"},
            files={"file": ("Sam Taylor CV.pdf", data, "application/pdf")},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text
        document_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        download = browser.get(
            f"{b.url}/cvs/{document_id}/download", headers={"X-Request-ID": "download-from-b"}, timeout=10
        )
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["Content-Disposition"] == 'attachment; filename="Sam Taylor CV.pdf"'
        assert download.headers["X-Request-ID"] == "download-from-b"
        assert not (tmp_path / "a-own-disk").exists() and not (tmp_path / "b-own-disk").exists()

        # Emails asked for on both instances join the outbox.
        for instance, email in ((a, "sam@example.org"), (b, "sam@example.org")):
            visitor = requests.Session()
            token = csrf_token(visitor, f"{instance.url}/password/forgot")
            sent = visitor.post(
                f"{instance.url}/password/forgot", data={"csrf_token": token, "email": email}, timeout=10
            )
            assert sent.status_code == 200

        # Two workers at once deliver the outbox to a real SMTP server: every email exactly once.
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "flask", "worker", "--once"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        processes += workers
        outputs = [worker.communicate(timeout=60) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], outputs

        expected = QUEUED_DIRECTLY + 2
        received = smtp.wait_for(expected, timeout=10)
        with app.app_context():
            rows = db.session.scalars(sa.select(OutboxEmail)).all()
            assert len(rows) == expected
            assert all(row.status == "sent" and row.attempts == 1 for row in rows)
            message_ids = sorted(row.message_id for row in rows)
            assert sum(1 for row in rows if row.user_id == candidate_id) == 2
        assert sorted(message["Message-ID"] for message in received) == message_ids  # none twice, none missing
    finally:
        stop(processes)

    # Each instance wrote its own JSON access lines; B's carries the request id we sent.
    assert any(
        line.get("path") == "/login" and line.get("status") == 429 for line in json_log_lines(a) + json_log_lines(b)
    )
    download_lines = [line for line in json_log_lines(b) if line.get("request_id") == "download-from-b"]
    assert [(line["path"], line["status"]) for line in download_lines if line["logger"] == "portal.access"] == [
        (f"/cvs/{document_id}/download", 200)
    ]
