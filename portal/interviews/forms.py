"""Forms for availability, booking, cancelling and rescheduling. Rules live in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from portal.forms import (
    MAX_ID,
    DayField,
    MultilineText,
    PlainText,
    TimezoneField,
    WholeNumberRange,
    choices,
    to_id,
)
from portal.statuses import MEETING_MODE_LABELS, MeetingMode
from portal.timeutil import WEEKDAY_NAMES

FOCUS_HINT = (
    "What would you like to practise? For example: 'explaining bias and variance', 'designing a "
    "feature store', 'my career-change story'. At most 1,000 characters."
)


PHONE_HINT = (
    "This is a phone session: your mentor calls you on this number. Digits, spaces, +, brackets and hyphens, "
    "like +44 20 7946 0958."
)


def phone_field() -> StringField:
    return StringField(
        "Phone number to call",
        description=PHONE_HINT,
        validators=[Length(max=30, message="The phone number must be 30 characters or fewer."), PlainText()],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


def _meeting_mode_field() -> SelectField:
    return SelectField(
        "How the session happens",
        choices=choices([("", "As its interview type says"), *MEETING_MODE_LABELS.items()]),
        default="",
        validate_choice=False,
    )


def type_ways_hint(types) -> str:
    """What "as its interview type says" means, type by type."""
    ways = "; ".join(
        f"{t.name}: {MEETING_MODE_LABELS[t.meeting_mode].lower()}"
        + (f" at {t.place}" if t.meeting_mode == MeetingMode.IN_PERSON else "")
        for t in types
    )
    return f"Each interview type has its usual way ({ways}). Choose another for this slot only."


def _place_field() -> StringField:
    return StringField(
        "Place, for a session in person",
        description="The address or room. Leave it empty to use the interview type's place.",
        validators=[Length(max=300, message="The place must be 300 characters or fewer."), PlainText()],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _type_field() -> SelectField:
    return SelectField(
        "Interview type", coerce=to_id, validators=[DataRequired("Choose an interview type.")], validate_choice=False
    )


def _mentor_field() -> SelectField:
    return SelectField("Mentor", coerce=to_id, validators=[Optional()], validate_choice=False)


class SlotForm(FlaskForm):
    mentor = _mentor_field()
    interview_type = _type_field()
    day = DayField("Date", validators=[InputRequired("Enter the date.")])
    start_time = TimeField(
        "Start time",
        validators=[InputRequired("Enter the start time.")],
        description="In your time zone. The session lasts as long as its type.",
    )
    meeting_mode = _meeting_mode_field()
    place = _place_field()
    submit = SubmitField("Publish slot")


class SeriesForm(FlaskForm):
    mentor = _mentor_field()
    interview_type = _type_field()
    weekdays = MultiCheckboxField(
        "Weekdays", coerce=to_id, validate_choice=False, choices=choices(enumerate(WEEKDAY_NAMES, start=1))
    )
    window_start = TimeField("Daily window starts", validators=[InputRequired("Enter when the window starts.")])
    window_end = TimeField("Daily window ends", validators=[InputRequired("Enter when the window ends.")])
    first_date = DayField("First date", validators=[InputRequired("Enter the first date.")])
    last_date = DayField("Last date", validators=[InputRequired("Enter the last date.")])
    buffer_minutes = IntegerField(
        "Break between sessions (minutes)",
        default=15,
        validators=[
            InputRequired("Enter the break in minutes (0 for none)."),
            WholeNumberRange(0, 240, "The break must be between 0 and 240 minutes."),
        ],
    )
    meeting_mode = _meeting_mode_field()
    place = _place_field()
    preview = SubmitField("Preview slots")
    confirm = SubmitField("Publish these slots")
    skip_clashes = SubmitField("Publish the slots that do not clash")

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one weekday.")

    def validate_window_end(self, field) -> None:
        if self.window_start.data and field.data and field.data <= self.window_start.data:
            raise ValidationError("The end of the window must be after its start.")

    def validate_last_date(self, field) -> None:
        if self.first_date.data and field.data and field.data < self.first_date.data:
            raise ValidationError("The last date must be on or after the first date.")


class EditSlotForm(FlaskForm):
    version = HiddenField()  # the slot's version when the form was read: a slot changed since is not touched
    interview_type = _type_field()
    day = DayField("Date", validators=[InputRequired("Enter the date.")])
    start_time = TimeField("Start time", validators=[InputRequired("Enter the start time.")])
    meeting_mode = _meeting_mode_field()
    place = _place_field()
    submit = SubmitField("Save changes")


class CancelSlotForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[Length(max=1000, message="At most 1,000 characters."), MultilineText()],
        description="Required when the slot is booked: the candidate reads it.",
    )
    submit = SubmitField("Cancel slot")


class BulkCancelForm(FlaskForm):
    mentor = SelectField("Mentor", coerce=to_id, validators=[DataRequired("Choose a mentor.")], validate_choice=False)
    first_day = DayField("From", validators=[InputRequired("Enter the first date.")])
    last_day = DayField("To", validators=[InputRequired("Enter the last date.")])
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired("Give a reason: every affected candidate reads it."),
            Length(max=1000, message="At most 1,000 characters."),
            MultilineText(),
        ],
    )
    submit = SubmitField("Cancel these slots")


class BookingForm(FlaskForm):
    version = HiddenField()  # the slot's version when the page was read: a slot moved since is not booked
    cv_document = SelectField(
        "CV to share with the mentor",
        coerce=to_id,
        validate_choice=False,
        description="The mentor of this session can read the version you choose.",
    )
    focus_note = TextAreaField(
        "Focus for this session",
        description=FOCUS_HINT,
        validators=[Length(max=1000, message="The focus note must be 1,000 characters or fewer."), MultilineText()],
    )
    phone = phone_field()
    submit = SubmitField("Confirm booking")


class CancelBookingForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional)",
        description="Your mentor sees this.",
        validators=[Length(max=1000, message="At most 1,000 characters."), MultilineText()],
    )
    override = BooleanField("Override the cancellation cutoff (admin)")
    submit = SubmitField("Cancel booking")


class RescheduleForm(FlaskForm):
    version = HiddenField()  # the booking's version when the page was read
    slot_id = IntegerField(
        "New slot", validators=[DataRequired("Choose a new slot."), WholeNumberRange(1, MAX_ID, "Choose a new slot.")]
    )
    override = BooleanField("Override the cutoff and the reschedule limit (admin)")
    submit = SubmitField("Move my booking here")


class PhoneForm(FlaskForm):
    phone = phone_field()
    submit = SubmitField("Save the number")


class MeetingLinkForm(FlaskForm):
    meeting_url = StringField(
        "Your video meeting link",
        description=(
            "The address of your own meeting room (Zoom, Microsoft Teams, Google Meet …), starting with https://. "
            "Your video sessions use it, those already booked included. Leave it empty and each session gets a "
            "room of its own."
        ),
        validators=[Length(max=500, message="The link must be 500 characters or fewer."), PlainText()],
        render_kw={"inputmode": "url", "autocomplete": "url", "spellcheck": "false"},
    )
    submit = SubmitField("Save meeting link")


class OutcomeForm(FlaskForm):
    outcome = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Save")


class TimezoneSwitchForm(FlaskForm):
    """The slot browser's time-zone switcher: times are shown in this zone from now on, on every page."""

    timezone = TimezoneField("Show times in", description=None)
