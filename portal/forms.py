"""Form pieces shared by every domain."""

from __future__ import annotations

from functools import lru_cache

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import Select, TextInput, html_params

from portal.text import describe_characters, forbidden_characters
from portal.timeutil import DAY_HINT, DEFAULT_TIMEZONE, format_day, parse_day, timezone_names


class WholeNumberRange:
    """`low` to `high` for an IntegerField, compared as integers. WTForms' NumberRange turns the number into a float
    first, which raises OverflowError (a 500) for a number of hundreds of digits."""

    def __init__(self, low: int, high: int, message: str) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, form, field) -> None:
        if field.data is not None and not self.low <= field.data <= self.high:
            raise ValidationError(self.message)


class EmptyForm(FlaskForm):
    """A button that changes state: a CSRF-protected POST with no fields."""

    submit = SubmitField("Submit")


MAX_ID = 2**31 - 1  # the largest id a database integer column holds


def to_id(value) -> int:
    """A database id from form or query text: ASCII digits, within the integer column's range (ValueError else)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"not an id: {value!r}")
        number = int(text)
    if not 0 <= number <= MAX_ID:
        raise ValueError(f"id out of range: {value!r}")
    return number


def optional_id(value) -> int | None:
    """An id, or None for anything that is not one (query strings people may edit by hand)."""
    try:
        return to_id(value) or None
    except ValueError:
        return None


class DayField(Field):
    """A date typed as day/month/year (14/12/2026; ISO 2026-12-14 too), whatever language the browser speaks: a
    text input showing the date as dd/mm/yyyy under the hint. Anything else, or a year outside the service's life
    (timeutil.FIRST_YEAR..LAST_YEAR), is the field's own error; an empty field is None (InputRequired or Optional
    decides)."""

    widget = TextInput()

    def __init__(self, label: str | None = None, validators=None, **kwargs) -> None:
        kwargs.setdefault("description", DAY_HINT)
        kwargs.setdefault("render_kw", {"autocomplete": "off", "spellcheck": "false"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        if valuelist and valuelist[0]:
            self.data = parse_day(valuelist[0])  # its ValueError's message is shown next to the field

    def _value(self) -> str:
        if self.data is not None:
            return format_day(self.data)
        return self.raw_data[0] if self.raw_data else ""


class PlainText:
    """A validator for a single-line field: refuses control characters (CR, LF, NUL, TAB, C0 and C1) and the
    invisible marks that change the direction text is shown in. With `multiline=True` (text areas) line breaks and
    tabs are kept."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        if not isinstance(field.data, str):
            return
        found = forbidden_characters(field.data, multiline=self.multiline)
        if found:
            kinds = (
                "non-printing characters and invisible text-direction marks"
                if self.multiline
                else "line breaks, tabs and invisible text-direction marks"
            )
            raise ValidationError(
                f"Remove the control characters ({kinds}) from this field: it holds {describe_characters(found)}."
            )


def MultilineText() -> PlainText:  # noqa: N802 - reads as a validator class in a field's list
    """A validator for a text area: line breaks and tabs are fine, other control characters and bidi marks are not."""
    return PlainText(multiline=True)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def timezone_choices() -> list[SelectChoice]:
    return [SelectChoice(name, name.replace("_", " ")) for name in timezone_names()]


@lru_cache(maxsize=32)
def _zone_options(selected: str) -> Markup:
    """The ~600 <option>s of the zone list with `selected` chosen, built once per zone (building them anew cost
    about 9 ms a page)."""
    return Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            name, Markup(" selected") if name == selected else "", name.replace("_", " ")
        )
        for name in timezone_names()
    )


class _ZoneSelect(Select):
    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", []):
            kwargs["required"] = True
        return (
            Markup("<select {}>").format(Markup(html_params(name=field.name, **kwargs)))  # noqa: S704 - escaped by html_params
            + _zone_options(str(field.data))
            + Markup("</select>")
        )


class TimezoneField(SelectField):
    """An IANA time zone, chosen from the full list."""

    widget = _ZoneSelect()

    def __init__(self, label: str = "Time zone", **kwargs) -> None:
        kwargs.setdefault("default", DEFAULT_TIMEZONE)
        kwargs.setdefault("description", "Times are shown to you in this zone.")
        super().__init__(label, choices=timezone_choices(), **kwargs)

    def pre_validate(self, form) -> None:
        if self.data not in timezone_names():
            raise ValidationError("Choose a time zone from the list.")
