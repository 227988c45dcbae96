"""Readiness: can this process serve requests now? Database, Redis (when rate limits use it), file storage."""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis
import sqlalchemy as sa
from flask import Flask

from portal.extensions import db
from portal.storage import storage_for

REDIS_TIMEOUT_SECONDS = 2.0
REDIS_EXTENSION_KEY = "portal.readiness_redis"
_build_lock = threading.Lock()


def check_database(app: Flask) -> None:
    try:
        db.session.execute(sa.select(1))
    finally:
        db.session.rollback()


def uses_redis(app: Flask) -> bool:
    return str(app.config.get("RATELIMIT_STORAGE_URI") or "").startswith(("redis://", "rediss://"))


def check_redis(app: Flask) -> None:
    """Ping the rate-limit Redis with a short timeout, through one client kept for the app's lifetime."""
    client = app.extensions.get(REDIS_EXTENSION_KEY)
    if client is None:
        with _build_lock:
            client = app.extensions.get(REDIS_EXTENSION_KEY)
            if client is None:
                client = app.extensions[REDIS_EXTENSION_KEY] = redis.Redis.from_url(
                    app.config["RATELIMIT_STORAGE_URI"],
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                )
    client.ping()


def check_storage(app: Flask) -> None:
    storage_for(app).check()


def readiness(app: Flask) -> dict[str, str]:
    """Each dependency this app uses, "ok" or "failed"; a failure is logged with its reason."""
    checks: dict[str, Callable[[Flask], None]] = {"database": check_database}
    if uses_redis(app):
        checks["redis"] = check_redis
    checks["storage"] = check_storage
    results = {}
    for name, check in checks.items():
        try:
            check(app)
        except Exception as error:
            app.logger.warning("readiness: %s failed: %s: %s", name, type(error).__name__, error)
            results[name] = "failed"
        else:
            results[name] = "ok"
    return results
