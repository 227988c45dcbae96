"""Admin console forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.auth.models import ROLE_LABELS
from portal.forms import MultilineText, PlainText, WholeNumberRange, choices
from portal.statuses import MEETING_MODE_LABELS, MeetingMode


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=choices(ROLE_LABELS.items()))
    submit = SubmitField("Change role")


class PageForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200), PlainText()])
    description = StringField(
        "Meta description",
        validators=[Length(max=300, message="At most 300 characters."), PlainText()],
        description="What search engines show under the title (120–160 characters is ideal).",
    )
    body = TextAreaField(
        "Content (Markdown)",
        validators=[DataRequired("The page cannot be empty."), MultilineText()],
        description="## for headings, - for lists, **bold**, [text](https://link). No HTML. {RETENTION_CV_MONTHS},"
        " {RETENTION_OUTBOX_DAYS}, {RETENTION_AUDIT_YEARS}, {RETENTION_NOTIFICATIONS_MONTHS},"
        " {EXPORT_RETENTION_DAYS} and {ACCOUNT_ERASURE_GRACE_DAYS} show the periods this portal is configured with;"
        " {CONTACT_EMAIL} the address people write to.",
        render_kw={"rows": 24},
    )
    preview = SubmitField("Preview")
    save = SubmitField("Save")


class PrivacyPageForm(PageForm):
    """The privacy notice: a material change becomes a new version that everyone is asked to acknowledge."""

    new_version = BooleanField(
        "This is a new version: ask everyone to read it and acknowledge it",
        description="Leave unticked for a typo fix or a rewording that changes nothing for anyone.",
    )
    summary = StringField(
        "What changed",
        validators=[Length(max=300, message="At most 300 characters."), PlainText()],
        description="One or two sentences people see when they next sign in.",
    )


class QuestionForm(Form):
    section = StringField(
        "Section",
        description="Questions with the same section are shown together under it.",
        validators=[Optional(), Length(max=100, message="At most 100 characters."), PlainText()],
    )
    question = StringField(
        "Question", validators=[Optional(), Length(max=300, message="At most 300 characters."), PlainText()]
    )
    answer = TextAreaField("Answer (Markdown)", validators=[Optional(), MultilineText()], render_kw={"rows": 4})
    position = IntegerField(
        "Position", validators=[Optional(), WholeNumberRange(1, 100, "Enter a position from 1 to 100.")]
    )


class FaqForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200), PlainText()])
    description = StringField("Meta description", validators=[Length(max=300), PlainText()])
    questions = FieldList(FormField(QuestionForm), min_entries=1)
    preview = SubmitField("Preview")
    save = SubmitField("Save")


def _hours(label: str, low: int, high: int) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(f"Enter a whole number from {low} to {high}."),
            WholeNumberRange(low, high, f"Enter a whole number from {low} to {high}."),
        ],
    )


class PolicyForm(FlaskForm):
    min_notice_hours = _hours("Minimum notice (hours)", 0, 168)
    horizon_days = _hours("Booking horizon (days)", 1, 365)
    max_upcoming = _hours("Upcoming bookings a candidate may hold", 1, 20)
    cancel_cutoff_hours = _hours("Cancellation and reschedule cutoff (hours before the start)", 0, 168)
    max_reschedules = _hours("Reschedules allowed per booking", 0, 10)
    submit = SubmitField("Save policy")


class InterviewTypeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120), PlainText()])
    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[
            InputRequired("Enter the duration in minutes."),
            WholeNumberRange(15, 240, "The duration must be from 15 to 240 minutes."),
        ],
    )
    description = TextAreaField("Description", validators=[Length(max=1000), MultilineText()])
    meeting_mode = SelectField(
        "How sessions happen",
        choices=choices(MEETING_MODE_LABELS.items()),
        default=MeetingMode.VIDEO,
        validate_choice=False,
        description=(
            "Video: the mentor's own meeting link, or a room made for each booking. Phone: the mentor calls the "
            "number the candidate gives. A mentor or an admin can choose another way for a slot."
        ),
    )
    place = StringField(
        "Place, for sessions in person",
        validators=[Length(max=300, message="The place must be 300 characters or fewer."), PlainText()],
        description="The address and room, on one line. Required when sessions happen in person.",
    )
    preparation = TextAreaField(
        "Preparation notes",
        validators=[Length(max=2000, message="At most 2,000 characters."), MultilineText()],
        description="What candidates should have ready. Shown when they book, and in the reminder the day before.",
        render_kw={"rows": 5},
    )
    active = BooleanField("Offered for new slots", default=True)
    submit = SubmitField("Save")
