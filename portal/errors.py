"""Domain errors raised by services, and the error pages the views fall back to."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.extensions import db, limiter


class DomainError(Exception):
    """A rule said no. `field` names the form field the message belongs next to, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    pass


class NotFound(DomainError):
    pass


ERROR_TITLES = {
    400: "Bad request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "This action is not allowed here",
    409: "Somebody else got there first",
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

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        current_app.logger.exception("unhandled error on %s", request.path)
        return render_error(500)
