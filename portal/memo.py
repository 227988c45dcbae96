"""Values worked out once per request (the viewer's zone, the newest page revisions, the unread count), and a
few figures shared by everyone for some seconds.

They live on `g`, emptied as each request begins: a test client run inside one app context shares `g` across
requests, and nothing may leak from one request into the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g

T = TypeVar("T")
SHARED_KEPT = 512
_shared_lock = threading.Lock()


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


def shared_for(seconds: float, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` at most once every `seconds` in this process for `key` (figures many people see alike, such as
    the days of a month that have open slots); 0 computes every time."""
    if seconds <= 0:
        return compute()
    store: dict = current_app.extensions.setdefault("shared_memo", {})
    now = time.monotonic()
    with _shared_lock:
        kept = store.get(key)
    if kept is not None and now - kept[0] < seconds:
        return kept[1]
    value = compute()
    with _shared_lock:
        if len(store) >= SHARED_KEPT:
            store.clear()
        store[key] = (now, value)
    return value
