"""The rubric feedback form and the candidate's rating form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.feedback.rubric import CRITERIA, READINESS
from portal.forms import MultilineText, choices, to_id

NOT_ASSESSED = 0


def _score_field(criterion) -> RadioField:
    options = [(NOT_ASSESSED, "Not assessed")] + [
        (score, f"{score}: {text}") for score, text in enumerate(criterion.descriptors, start=1)
    ]
    return RadioField(
        criterion.name, coerce=to_id, choices=choices(options), default=NOT_ASSESSED, validators=[Optional()]
    )


def _text(label: str, hint: str) -> TextAreaField:
    return TextAreaField(
        label, description=hint, validators=[Length(max=5000, message="At most 5,000 characters."), MultilineText()]
    )


class FeedbackForm(FlaskForm):
    score_python = _score_field(CRITERIA[0])
    score_ml = _score_field(CRITERIA[1])
    score_data = _score_field(CRITERIA[2])
    score_system_design = _score_field(CRITERIA[3])
    score_communication = _score_field(CRITERIA[4])
    strengths = _text("Strengths", "What went well. Markdown: **bold**, lists with -.")
    improvements = _text("Areas to improve", "The gaps you saw, with examples from the session.")
    next_steps = _text("Recommended next steps", "What to practise before the next session; links are welcome.")
    readiness = RadioField("Overall readiness", choices=choices(READINESS.items()), validators=[Optional()])
    save = SubmitField("Save draft")
    publish = SubmitField("Publish")

    def values(self) -> dict:
        data = {c.column: (self[c.column].data or None) for c in CRITERIA}
        data.update(
            strengths=self.strengths.data,
            improvements=self.improvements.data,
            next_steps=self.next_steps.data,
            readiness=self.readiness.data or None,
        )
        return data


class RatingForm(FlaskForm):
    score = RadioField(
        "How useful was this session?",
        coerce=to_id,
        validators=[InputRequired("Choose a rating.")],
        choices=choices([(5, "5: Excellent"), (4, "4: Good"), (3, "3: Fair"), (2, "2: Poor"), (1, "1: Not useful")]),
    )
    comment = TextAreaField(
        "Comment (optional)",
        description="Only the career services team reads this.",
        validators=[Length(max=2000, message="At most 2,000 characters."), MultilineText()],
    )
    submit = SubmitField("Send rating")
