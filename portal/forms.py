"""Form pieces shared by every domain."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from portal.timeutil import DEFAULT_TIMEZONE, timezone_names


class EmptyForm(FlaskForm):
    """A button that changes state: a CSRF-protected POST with no fields."""

    submit = SubmitField("Submit")


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def timezone_choices() -> list[SelectChoice]:
    return [SelectChoice(name, name.replace("_", " ")) for name in timezone_names()]


class TimezoneField(SelectField):
    """An IANA time zone, chosen from the full list."""

    def __init__(self, label: str = "Time zone", **kwargs) -> None:
        kwargs.setdefault("default", DEFAULT_TIMEZONE)
        kwargs.setdefault("description", "Times are shown to you in this zone.")
        super().__init__(label, choices=timezone_choices(), **kwargs)

    def pre_validate(self, form) -> None:
        if self.data not in timezone_names():
            raise ValidationError("Choose a time zone from the list.")
