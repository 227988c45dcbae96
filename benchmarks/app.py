"""The portal as the benchmark serves it: `portal.create_app()` plus a plain `/__hello` route as the baseline.

Every page's speed is reported as a ratio to `/__hello` served by the same workers, so the figures say how much
work a page adds on top of the framework, whatever the machine. The route exists only in this app.

Serve it the way benchmarks/run.py does (settings come from the environment, as in production):

    DATABASE_URL=sqlite:///$PWD/instance/bench/sqlite-large.db SECRET_KEY=... RATELIMIT_ENABLED=0 \
        python -m gunicorn --workers 4 'benchmarks.app:create_bench_app()'
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from portal import create_app

HELLO_TEXT = "Hello from the career-services portal."


def hello() -> tuple[str, int, dict[str, str]]:
    return HELLO_TEXT, 200, {"Content-Type": "text/plain; charset=utf-8"}


def create_bench_app(config: dict[str, Any] | None = None) -> Flask:
    """The portal's app (environment settings, then `config` overrides) with the `/__hello` baseline route."""
    app = create_app(config)
    app.add_url_rule("/__hello", "bench_hello", hello)
    return app
