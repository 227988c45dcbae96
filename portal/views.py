"""Helpers shared by the views of every domain."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, flash, g, redirect, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field

from portal.auth import services as auth_services
from portal.auth import throttle
from portal.auth.models import User
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.forms import optional_id
from portal.security import is_safe_next
from portal.storage import FileMissing, Storage, attachment_disposition
from portal.timeutil import DAY_EXAMPLE, FIRST_YEAR, LAST_YEAR, DayOutOfRange, parse_day


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Roll back the request's changes and put the message next to its field (or at the top of the form).

    A conflict, a missing object or a refused permission is not about the form: it goes on to its error page.
    """
    if isinstance(error, Conflict | NotFound | PermissionDenied):
        raise error
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def flash_refusal(error: DomainError) -> None:
    """For a one-button action: roll back and say why it was refused at the top of the next page (conflicts,
    missing objects and refused permissions go on to their error pages)."""
    if isinstance(error, Conflict | NotFound | PermissionDenied):
        raise error
    db.session.rollback()
    flash(error.message, "danger")


def int_arg(name: str) -> int | None:
    """An id from the query string, or None when it is missing or not an id."""
    return optional_id(request.args.get(name, ""))


class FieldProblem(str):
    """A problem with one field of a query string: reads as its message, and names the field (`.field`) so that a
    page can show it next to that field as well as in its list of problems."""

    field: str

    def __new__(cls, message: str, field: str) -> FieldProblem:
        problem = super().__new__(cls, message)
        problem.field = field
        return problem


def date_arg(name: str, problems: list[str], label: str) -> date | None:
    """A date from the query string, typed day/month/year (14/12/2026) or ISO (the portal's links); a bad one is
    reported in `problems` as a FieldProblem of `name` and ignored."""
    value = request.args.get(name, "")
    if not value.strip(" "):
        return None
    try:
        return parse_day(value)
    except DayOutOfRange:
        problems.append(FieldProblem(f"{label} must be between {FIRST_YEAR} and {LAST_YEAR}.", name))
    except ValueError:
        problems.append(FieldProblem(f"{label} must be a real date, like {DAY_EXAMPLE}.", name))
    return None


def attempt_failed(response) -> bool:
    """For rate limits that count failed attempts only: the view marks a failure with `g.login_failed = True`."""
    return bool(g.get("login_failed"))


def signed_in_account(prefix: str):
    """A rate-limit key function: the signed-in account's id after `prefix` (codes and passwords asked again)."""
    return lambda: prefix + (current_user.get_id().partition(":")[0] if current_user.is_authenticated else "")


def _wait_in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def password_again_wait(field: Field, what: str = "password") -> int:
    """Before checking a password (or code) a signed-in person gives again: 0 when it may be checked now; else how
    many seconds this address must wait (too many wrong ones lately), with a message saying so next to `field`."""
    wait = throttle.password_again_wait(current_user.id)
    if wait:
        current_app.logger.warning(
            "password asked again: limited for user %s from %s", current_user.id, request.remote_addr
        )
        field.errors = [
            *field.errors,
            f"You have entered a wrong {what} too many times. Wait {_wait_in_words(wait)}, then try again.",
        ]
    return wait


def wrong_password_again(user: User) -> None:
    """A wrong password (or code) given again: it counts toward the limit of this account and address and, as a failed
    login, toward the owner's alert. Commits, after the caller rolled its changes back (show_error)."""
    current_app.logger.warning("wrong password given again: user %s from %s", user.id, request.remote_addr)
    throttle.record_password_again_failure(user.id)
    auth_services.note_failed_login(user.email)
    db.session.commit()


def show_password_again_error(form: FlaskForm, error: DomainError, user: User) -> None:
    """show_error for a form that asks for the password again; a wrong password also counts (wrong_password_again)."""
    show_error(form, error)
    if isinstance(error, auth_services.WrongPassword):
        wrong_password_again(user)


def limited(page: str, wait: int):
    """A form page as it is, or with 429 and Retry-After while its password checks are limited."""
    return (page, 429, {"Retry-After": str(wait)}) if wait else page


def next_or_home() -> str:
    """Where to go after a step the person was sent to: the query string's `next` when it is a page of this site,
    else their home."""
    target = request.args.get("next")
    return target if is_safe_next(target) else url_for("pages.home")


def stored_file_response(storage: Storage, key: str, name: str, media_type: str) -> Response | None:
    """A private download of a stored file named `name`: a short-lived address at the object store (which sends it
    with the same name and type), or the file itself, as an attachment, never sniffed; never cached either way.
    None when the store has no file under `key`."""
    try:
        url = storage.download_url(key, name, media_type)
        stream = None if url else storage.open(key)
    except FileMissing:
        return None
    if url:
        response = redirect(url)
    else:
        response = send_file(stream, mimetype=media_type, max_age=0, conditional=False, etag=False)
        response.headers["Content-Disposition"] = attachment_disposition(name)
        response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
