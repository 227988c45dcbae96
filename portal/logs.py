"""Request ids, and JSON log lines when LOG_FORMAT=json: one access line per request plus every application line.

Every response carries an `X-Request-ID`: the caller's own when it is sane (a proxy or load balancer may set one),
otherwise a new random one. The access line costs a dictionary and one `json.dumps`: no database query.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from portal.config import ConfigError

LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # uuids, hex, ALB/nginx ids; nothing that could forge a line
MAX_LOGGED_PATH = 1000
access_logger = logging.getLogger("portal.access")


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id` attribute (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (UTC), level, logger, message, request_id, and for access
    lines method, path, status, duration_ms, remote_addr and user_id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update(getattr(record, "access", None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (a server or a test may have replaced it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def use_json_logs(app: Flask) -> None:
    """Send every log record, as JSON, to stderr (replacing an earlier app's JSON handler in this process)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    app.logger.removeHandler(default_handler)  # its plain-text lines would interleave with the JSON ones
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the development server's access lines repeat ours
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def _signed_in_user_id() -> int | None:
    """The id of the user Flask-Login already loaded for this request, read without touching the database."""
    user = g.get("_login_user")  # where Flask-Login keeps the loaded user; absent when nothing asked for it
    state = sa.inspect(user, raiseerr=False) if user is not None else None
    identity = state.identity if state is not None else None
    return identity[0] if identity else None


def _loggable_path() -> str:
    """The path without its query string, with secret tokens in the URL (reset, invitation, feed links) hidden."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "[redacted]")
    return path[:MAX_LOGGED_PATH]


def init_request_logging(app: Flask) -> None:
    """Request ids on every request; one JSON access line per request when LOG_FORMAT=json.

    Raises ConfigError for an unknown LOG_FORMAT.
    """
    log_format = app.config.get("LOG_FORMAT") or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}.")
    log_access = log_format == "json"

    def start_request() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else secrets.token_hex(16)
        g.request_started = time.perf_counter()

    def finish_request(response: Response) -> Response:
        if "request_id" not in g:  # a hook before ours stopped the request
            g.request_id = secrets.token_hex(16)
        response.headers[REQUEST_ID_HEADER] = g.request_id
        if log_access:
            started = g.get("request_started")
            duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
            path = _loggable_path()
            access_logger.info(
                "%s %s %s",
                request.method,
                path,
                response.status_code,
                extra={
                    "access": {
                        "method": request.method,
                        "path": path,
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                        "remote_addr": request.remote_addr,
                        "user_id": _signed_in_user_id(),
                    }
                },
            )
        return response

    # First before every other hook (so a rate limit or a refused host is logged with its id too), and last after
    # the others (so the status is final and the user, if any, already loaded).
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request_funcs.setdefault(None, []).insert(0, finish_request)
