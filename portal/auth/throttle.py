"""Limits on logging in that slow guessing down without letting a stranger lock a person out.

The password step has three limits (settings in portal.app's DEFAULT_RATE_LIMITS):

- per address (`LOGIN_RATE_LIMIT`): every attempt from one address, whatever the account;
- per account and address (`LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT`): failed attempts on one account from one address,
  a hard stop for that pair only, so the owner elsewhere is not blocked;
- per account (`LOGIN_ACCOUNT_FAILURES`, then `LOGIN_ACCOUNT_SLOWDOWN`): once an account has had that many failed
  attempts from anywhere, attempts on it are slowed to the second limit. A browser that logged in to the account
  before carries a signed cookie and is never slowed; the owner is emailed once per window.

Forms that ask a signed-in person for their password again (new recovery codes, turning two-factor sign-in off,
changing the password, closing the account) share one count of wrong answers per account and address, with the same
limit as failed logins (`LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT`): while it is reached even the right password is refused,
from that address only, so a stolen session cannot lock the owner out of changing their password elsewhere. Each wrong
answer also counts as a failed login on the account (see `record_failure`), so the owner's alert covers them too.

Counters live in the rate limiter's storage (Redis in production), so every web process counts the same.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Response, after_this_request, current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, RateLimitItemPerSecond, parse, parse_many

from portal.extensions import limiter

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_SECONDS = 365 * 24 * 60 * 60
KNOWN_DEVICE_ACCOUNTS = 5  # a shared computer remembers this many accounts at most


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _account(email: str) -> str:
    return email.strip().lower()


def _keys(kind: str, email: str) -> list[str]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return [part for part in (prefix, kind, _account(email)) if part]


def _setting(name: str) -> RateLimitItem:
    return parse(current_app.config[name])


def seconds_to_wait(email: str) -> int:
    """0 when an attempt on this account may go ahead now; else how many seconds this browser must wait first.

    Only an account with too many recent failures is slowed, and never for a browser that logged in to it before.
    An attempt that goes ahead takes its place in the slowed rate.
    """
    if not _enabled() or is_known_device(email):
        return 0
    if limiter.limiter.test(_setting("LOGIN_ACCOUNT_FAILURES"), *_keys("login-failures", email)):
        return 0
    slowdown = _setting("LOGIN_ACCOUNT_SLOWDOWN")
    keys = _keys("login-slowdown", email)
    if limiter.limiter.hit(slowdown, *keys):
        return 0
    reset_at, _ = limiter.limiter.get_window_stats(slowdown, *keys)
    return max(1, math.floor(reset_at - time.time()) + 1)  # the window frees its place just after reset_at


def failure_threshold() -> tuple[int, int]:
    """How many failed attempts on one account, within how many seconds, make it slow down."""
    failures = _setting("LOGIN_ACCOUNT_FAILURES")
    return failures.amount, failures.get_expiry()


def record_failure(email: str) -> bool:
    """Count a failed attempt on this account. True once per window, when the failures reach the limit: the moment
    to tell the owner."""
    if not _enabled():
        return False
    failures = _setting("LOGIN_ACCOUNT_FAILURES")
    keys = _keys("login-failures", email)
    limiter.limiter.hit(failures, *keys)
    if limiter.limiter.test(failures, *keys):
        return False
    once_per_window = RateLimitItemPerSecond(1, failures.get_expiry())
    return limiter.limiter.hit(once_per_window, *_keys("login-warning", email))


# The password asked again ---------------------------------------------------------------------------------------


def _password_again_keys(user_id: int) -> list[str]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return [part for part in (prefix, "password-again", str(user_id), get_remote_address()) if part]


def password_again_wait(user_id: int) -> int:
    """0 when this address may give the account's password again now; else how many seconds it must wait first
    (too many wrong answers from here lately, on any of the forms that ask again)."""
    if not _enabled():
        return 0
    keys = _password_again_keys(user_id)
    now = time.time()
    waits = [
        math.floor(limiter.limiter.get_window_stats(limit, *keys)[0] - now) + 1
        for limit in parse_many(current_app.config["LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT"])
        if not limiter.limiter.test(limit, *keys)
    ]
    return max([1, *waits]) if waits else 0


def record_password_again_failure(user_id: int) -> None:
    """Count a wrong password (or code) given again on this account from this address."""
    if not _enabled():
        return
    keys = _password_again_keys(user_id)
    for limit in parse_many(current_app.config["LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT"]):
        limiter.limiter.hit(limit, *keys)


# Browsers that logged in to an account before ---------------------------------------------------------------


def _device_tag(email: str) -> str:
    return hashlib.sha256(b"known-device:" + _account(email).encode("utf-8")).hexdigest()[:24]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="known-device")


def _known_tags() -> list[str]:
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return []
    try:
        tags = _serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(tags, list):
        return []
    return [tag for tag in tags if isinstance(tag, str)][:KNOWN_DEVICE_ACCOUNTS]


def is_known_device(email: str) -> bool:
    """Whether this browser logged in to the account with this email before (a signed cookie says so)."""
    return _device_tag(email) in _known_tags()


def remember_device(email: str) -> None:
    """Mark this browser as one the account's owner logs in from (the response sets the cookie)."""
    tag = _device_tag(email)
    value = _serializer().dumps([tag, *[known for known in _known_tags() if known != tag]][:KNOWN_DEVICE_ACCOUNTS])

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            KNOWN_DEVICE_COOKIE,
            value,
            max_age=KNOWN_DEVICE_SECONDS,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response
