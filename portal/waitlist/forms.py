"""The waitlist's forms: joining a line, taking up an offer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import DayField, MultilineText, to_id
from portal.interviews.forms import FOCUS_HINT, phone_field


class JoinForm(FlaskForm):
    interview_type = SelectField(
        "Interview type", coerce=to_id, validate_choice=False, validators=[DataRequired("Choose an interview type.")]
    )
    mentor = SelectField("Mentor", coerce=to_id, validate_choice=False, validators=[Optional()])
    first_date = DayField("From (optional)", validators=[Optional()])
    last_date = DayField("To (optional)", validators=[Optional()])
    submit = SubmitField("Join the waitlist")


class AcceptForm(FlaskForm):
    focus_note = TextAreaField(
        "Focus for this session",
        description=FOCUS_HINT,
        validators=[Length(max=1000, message="At most 1,000 characters."), MultilineText()],
    )
    phone = phone_field()
    submit = SubmitField("Book this slot")
