"""Passwords, one-time tokens, role checks, safe redirects and security headers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import cache, wraps
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, abort, current_app, request
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - an algorithm name

F = TypeVar("F", bound=Callable[..., Any])


@cache
def common_passwords() -> frozenset[str]:
    """The 10,000 most common passwords, lower-cased, from the shipped data file."""
    text = resources.files("portal").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line and not line.startswith("#"))


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why a new password is refused, or None when it is acceptable (length and commonness only)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer."
    lowered = password.lower()
    if lowered in common_passwords():
        return "This password is one of the most commonly used passwords. Choose one that is harder to guess."
    if email and lowered == email.strip().lower():
        return "Password must not be your email address."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    return check_password_hash(password_hash, password)


# A hash to compare against when the account does not exist, so both paths cost the same time.
@cache
def dummy_password_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> tuple[str, str]:
    """A random URL-safe token and the sha256 digest stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return parts.scheme == "" and parts.netloc == ""


def role_required(*roles: str) -> Callable[[F], F]:
    """Anonymous users go to login (with a safe `next`); a signed-in user of another role gets 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                current_app.logger.warning(
                    "permission denied: user %s (%s) on %s", current_user.id, current_user.role, request.path
                )
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def no_store(view: F) -> F:
    """Marks a view whose pages carry a form with a password or a code: every answer it gives (the form, the form
    again after a refusal, an error page) is sent with `Cache-Control: no-store`, signed in or not."""
    view.no_store = True  # type: ignore[attr-defined]
    return view


def _view_is_no_store() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return bool(getattr(view, "no_store", False))


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def apply_security_headers(response: Response) -> Response:
    """Headers every response carries; pages behind login, and pages of views marked `no_store`, are never cached."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    signed_in_page = request.endpoint != "static" and current_user.is_authenticated and "Cache-Control" not in headers
    if signed_in_page or _view_is_no_store():
        headers["Cache-Control"] = "no-store"
    return response
