"""Values worked out once per request (the viewer's zone, the newest page revisions, the unread count).

They live on `g`, emptied as each request begins: a test client run inside one app context shares `g` across
requests, and nothing may leak from one request into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g

T = TypeVar("T")


def remembered(name: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time `name` is asked for in this request; the same value afterwards."""
    memo = g.setdefault("request_memo", {})
    if name not in memo:
        memo[name] = compute()
    return memo[name]


def remember(name: str, value: Any) -> None:
    g.setdefault("request_memo", {})[name] = value


def forget(name: str) -> None:
    g.setdefault("request_memo", {}).pop(name, None)


def init_app(app: Flask) -> None:
    @app.before_request
    def fresh_memo() -> None:
        g.request_memo = {}
