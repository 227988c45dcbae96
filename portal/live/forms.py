"""Forms for live sessions: an admin's session form, cancelling, attendance, recording and slides. Rules live in
the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.forms import DayField, MultilineText, PlainText, WholeNumberRange, choices
from portal.live.models import MAX_CAPACITY
from portal.statuses import LIVE_KIND_LABELS, MEETING_MODE_LABELS


class SessionForm(FlaskForm):
    kind = SelectField("Kind of session", choices=choices(LIVE_KIND_LABELS.items()), validate_choice=True)
    title = StringField(
        "Title",
        validators=[DataRequired("Enter a title."), Length(max=200, message="At most 200 characters."), PlainText()],
    )
    speakers = StringField(
        "Speakers",
        description="Names and roles, for example “Priya Shah (ML lead, Example Bank)”.",
        validators=[
            DataRequired("Enter who is speaking."),
            Length(max=300, message="At most 300 characters."),
            PlainText(),
        ],
    )
    description = TextAreaField(
        "Description",
        description="What the session covers and who it is for. At most 5,000 characters.",
        validators=[Length(max=5000, message="At most 5,000 characters."), MultilineText()],
    )
    day = DayField("Date", validators=[InputRequired("Enter the date.")])
    start_time = TimeField("Start time", validators=[InputRequired("Enter the start time.")])
    end_time = TimeField("End time", validators=[InputRequired("Enter the end time.")])
    capacity = IntegerField(
        "Seats",
        description=f"How many people can take part, from 1 to {MAX_CAPACITY:,}. Others join the waitlist.",
        validators=[
            InputRequired("Enter the number of seats as a whole number."),
            WholeNumberRange(1, MAX_CAPACITY, f"Enter a number of seats from 1 to {MAX_CAPACITY:,}."),
        ],
    )
    meeting_mode = SelectField(
        "How the session happens", choices=choices(MEETING_MODE_LABELS.items()), validate_choice=False
    )
    meeting_url = StringField(
        "Video link",
        description="For a video call: the https link of the meeting. Leave it empty to get a room of its own.",
        validators=[Length(max=500, message="The link must be 500 characters or fewer."), PlainText()],
    )
    dial_in = StringField(
        "Number to dial",
        description="For a phone session: the number people dial, like +44 20 7946 0958.",
        validators=[Length(max=30, message="The phone number must be 30 characters or fewer."), PlainText()],
    )
    place = StringField(
        "Place",
        description="For a session in person: the address or room.",
        validators=[Length(max=300, message="The place must be 300 characters or fewer."), PlainText()],
    )
    version = HiddenField()
    submit = SubmitField("Save session")


class CancelSessionForm(FlaskForm):
    reason = TextAreaField(
        "Reason (sent to everyone registered or waiting)",
        validators=[Optional(), Length(max=1000, message="At most 1,000 characters."), MultilineText()],
    )
    submit = SubmitField("Cancel the session")


class MaterialsForm(FlaskForm):
    recording_url = StringField(
        "Recording link",
        description="An https link; only people who held a seat see it.",
        validators=[Length(max=500, message="The link must be 500 characters or fewer."), PlainText()],
    )
    slides_url = StringField(
        "Slides link",
        description="An https link; only people who held a seat see it.",
        validators=[Length(max=500, message="The link must be 500 characters or fewer."), PlainText()],
    )
    submit = SubmitField("Save links")
