"""Helpers shared by the views of every domain."""

from __future__ import annotations

from flask_wtf import FlaskForm

from portal.errors import DomainError
from portal.extensions import db


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Roll back the request's changes and put the message next to its field (or at the top of the form)."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
