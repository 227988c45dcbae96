"""Request ids on every response, and JSON log lines on stderr with LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import re

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db
from tests.conftest import app_settings, logged_in
from tests.factories import make_user

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def restore_logging():
    """JSON logging configures the root logger; put it back as it was for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    werkzeug_level = logging.getLogger("werkzeug").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(werkzeug_level)


@pytest.fixture
def settings() -> dict:
    return {"LOG_FORMAT": "json"}


def json_lines(capsys) -> list[dict]:
    """Every line written to stderr so far, each parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "portal.access"]


def test_each_request_writes_one_json_access_line_without_the_query_string(client, capsys):
    capsys.readouterr()

    response = client.get("/faq?email=sam@example.org&token=s3cret", environ_base={"REMOTE_ADDR": "203.0.113.7"})

    lines = json_lines(capsys)
    [access] = access_lines(lines)
    assert access["level"] == "INFO"
    assert access["request_id"] == response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(access["request_id"])
    assert {key: access[key] for key in ("method", "path", "status", "remote_addr", "user_id")} == {
        "method": "GET",
        "path": "/faq",
        "status": 200,
        "remote_addr": "203.0.113.7",
        "user_id": None,
    }
    assert isinstance(access["duration_ms"], float) and 0 <= access["duration_ms"] < 60_000
    assert access["time"].endswith("+00:00") and access["message"] == "GET /faq 200"
    assert "s3cret" not in json.dumps(lines) and "sam@example.org" not in json.dumps(lines)


def test_access_line_names_the_signed_in_user(app, capsys):
    with app.app_context():
        user_id = make_user(email="sam@example.org").id
    client = logged_in(app, "sam@example.org")
    capsys.readouterr()

    client.get("/cvs/")

    [access] = access_lines(json_lines(capsys))
    assert access["user_id"] == user_id and access["status"] == 200


def test_application_lines_carry_the_request_id_of_their_request(app, client, capsys):
    with app.app_context():
        make_user(email="sam@example.org")
    capsys.readouterr()

    response = client.post("/login", data={"email": "sam@example.org", "password": "wrong password"})

    lines = json_lines(capsys)
    [warning] = [line for line in lines if line["message"].startswith("failed login")]
    [access] = access_lines(lines)
    assert warning["level"] == "WARNING" and warning["logger"] == "portal"
    assert warning["request_id"] == access["request_id"] == response.headers["X-Request-ID"]


def test_each_request_gets_its_own_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]

    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second) and first != second


@pytest.mark.parametrize("incoming", ["7d0c1e52-3b4a-4c53-9d7a-8f4f2b0f6a11", "nginx.1f2e3d4c5b6a", "Root:1-abc_DEF"])
def test_a_sane_incoming_request_id_is_kept_logged_and_echoed(client, capsys, incoming):
    capsys.readouterr()

    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    assert response.headers["X-Request-ID"] == incoming
    assert access_lines(json_lines(capsys))[0]["request_id"] == incoming


@pytest.mark.parametrize(
    "incoming", ["", "a" * 129, "abc def", 'abc"},{"level":"ERROR', "abc\\u000a", "id/../x", "<script>", "é"]
)
def test_an_unsafe_incoming_request_id_is_replaced(client, capsys, incoming):
    capsys.readouterr()

    response = client.get("/healthz", headers={"X-Request-ID": incoming})

    replaced = response.headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(replaced) and replaced != incoming
    assert access_lines(json_lines(capsys))[0]["request_id"] == replaced


def test_secret_tokens_in_the_path_are_not_logged(client, capsys):
    token = "Zq3vY1xK9sLr0pTn-7fWb4uA2mDc8eHg"
    capsys.readouterr()

    client.get(f"/password/reset/{token}")
    client.get(f"/interviews/calendar/{token}.ics")

    lines = json_lines(capsys)
    assert [line["path"] for line in access_lines(lines)] == [
        "/password/reset/[redacted]",
        "/interviews/calendar/[redacted].ics",
    ]
    assert token not in json.dumps(lines)


def test_errors_are_logged_as_json_with_the_traceback_on_one_line(app, client, capsys):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    capsys.readouterr()
    response = client.get("/boom")

    lines = json_lines(capsys)
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert response.status_code == 500
    assert "RuntimeError: kaboom" in error["exception"]
    assert error["request_id"] == access_lines(lines)[0]["request_id"] == response.headers["X-Request-ID"]
    assert access_lines(lines)[0]["status"] == 500


def test_rate_limited_requests_are_logged_with_their_id(app, client, capsys):
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    client.post("/login", data={"email": "a@example.org", "password": "x"})
    capsys.readouterr()

    response = client.post("/login", data={"email": "b@example.org", "password": "x"})

    assert response.status_code == 429
    [access] = access_lines(json_lines(capsys))
    assert access["status"] == 429 and access["request_id"] == response.headers["X-Request-ID"]


def test_json_logs_cost_no_database_query(app, database_uri, tmp_path, count_queries):
    with app.app_context():
        make_user(email="sam@example.org")
    json_client = logged_in(app, "sam@example.org")
    text_app = create_app(app_settings(database_uri, tmp_path, LOG_FORMAT="text"))
    text_client = logged_in(text_app, "sam@example.org")
    with text_app.app_context():
        text_engine = db.engine
    text_statements: list[str] = []
    sa.event.listen(text_engine, "before_cursor_execute", lambda *args: text_statements.append(args[2]))

    with count_queries() as json_statements:
        json_client.get("/cvs/")
    text_client.get("/cvs/")

    assert json_statements and len(json_statements) == len(text_statements)
    text_engine.dispose()


def test_text_logs_still_echo_a_request_id(tmp_path):
    app = create_app(app_settings("sqlite://", tmp_path, LOG_FORMAT="text"))

    assert GENERATED_ID.fullmatch(app.test_client().get("/healthz").headers["X-Request-ID"])


def test_an_unknown_log_format_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        create_app(app_settings("sqlite://", tmp_path, LOG_FORMAT="xml"))
