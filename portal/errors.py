"""Domain errors raised by services, and the error pages the views fall back to."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.extensions import db, limiter


class DomainError(Exception):
    """A rule said no. `field` names the form field the message belongs next to, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    """The person may not do this: a 403 page unless the view says otherwise."""


class NotFound(DomainError):
    """No such thing, or not one this person may see: a 404 page unless the view says otherwise."""


class Conflict(DomainError):
    """Somebody changed this a moment ago (a stale form, a row changed under us): a 409 page."""


# Deadlock detected, serialization failure, lock not available: the transaction can be tried again.
RETRYABLE_SQLSTATES = {"40P01", "40001", "55P03"}

ERROR_TITLES = {
    400: "Bad request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "This action is not allowed here",
    409: "Somebody else got there first",
    410: "This is no longer kept",
    413: "The file is too large",
    429: "Too many attempts",
    500: "Sorry, something went wrong on our side",
    503: "The service is unavailable",
}

ERROR_MESSAGES = {
    400: "The request could not be understood. Go back, reload the page and try again.",
    403: "Your account does not have permission to open this page.",
    404: "If you typed the web address, check it is correct. If you pasted it, check you copied all of it.",
    405: "The page does not accept this kind of request. Use the links and buttons on the site.",
    409: "The thing you tried to change was changed by someone else a moment ago.",
    413: "The upload is larger than we accept. Choose a smaller file and try again.",
    429: "You have tried this too many times in a short period.",
    500: "We could not finish your request. Nothing was changed. Try again in a few minutes.",
    503: "The service is temporarily unavailable. Try again in a few minutes.",
}


def _retry_after_text() -> str | None:
    """When the current rate limit resets, in words, if Flask-Limiter knows."""
    limit = limiter.current_limit
    if limit is None:
        return None
    seconds = max(int(limit.reset_at - datetime.now().timestamp()), 1)
    if seconds < 90:
        return f"Try again in {seconds} seconds."
    minutes = round(seconds / 60)
    return f"Try again in {minutes} minutes."


def render_error(status: int, message: str | None = None):
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=ERROR_TITLES.get(status, "Error"),
            message=message or ERROR_MESSAGES.get(status, ""),
        ),
        status,
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        current_app.logger.warning("CSRF failure on %s: %s", request.path, error.description)
        return render_error(400, "The form had expired or was sent from another site. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if status == 429:
            retry = _retry_after_text()
            response, status = render_error(429, f"{ERROR_MESSAGES[429]} {retry or 'Try again later.'}")
            return response, 429
        if status == 404 and request.path.startswith("/static/"):
            return "Not found", 404
        return render_error(status)

    @app.errorhandler(NotFound)
    def domain_not_found(error: NotFound):
        db.session.rollback()
        return render_error(404)

    @app.errorhandler(PermissionDenied)
    def domain_permission_denied(error: PermissionDenied):
        db.session.rollback()
        current_app.logger.warning("permission denied on %s: %s", request.path, error.message)
        return render_error(403, error.message)

    @app.errorhandler(Conflict)
    def domain_conflict(error: Conflict):
        db.session.rollback()
        return render_error(409, f"{error.message} Nothing was changed. Reload the page to see it as it is now.")

    @app.errorhandler(StaleDataError)
    def stale_row(error: StaleDataError):
        db.session.rollback()
        current_app.logger.info("stale update refused on %s: %s", request.path, error)
        return domain_conflict(Conflict("Somebody changed this a moment ago."))

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        """Two transactions waiting for each other (PostgreSQL breaks the deadlock by failing one): a 409, as for
        any other conflict; anything else is the 500 it is."""
        if getattr(error.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
            return unexpected_error(error)
        db.session.rollback()
        current_app.logger.warning("transaction conflict on %s: %s", request.path, error.orig)
        return domain_conflict(Conflict("Somebody else was changing this at the same moment."))

    @app.errorhandler(DomainError)
    def domain_refusal(error: DomainError):
        """A rule said no and the view had no form to put the message in."""
        db.session.rollback()
        return render_error(400, error.message)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        current_app.logger.exception("unhandled error on %s", request.path)
        return render_error(500)
