"""Forms for CV uploads, review requests and reviewer feedback."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.cvs.models import SECTIONS, VERDICTS
from portal.forms import MultilineText, PlainText, choices, to_id


class UploadForm(FlaskForm):
    name = StringField(
        "Name this version (optional)",
        validators=[Optional(), Length(max=120, message="At most 120 characters."), PlainText()],
        description="For example: ML engineer CV, November. Left blank, the file's name is used.",
    )
    file = FileField(
        "CV file", validators=[FileRequired("Choose a file to upload.")], description="PDF or Word (.docx), up to 5 MB."
    )
    submit = SubmitField("Upload")


class ReviewRequestForm(FlaskForm):
    target_role = StringField(
        "Role you are applying for",
        validators=[
            DataRequired("Say which role you are aiming for."),
            Length(max=200, message="At most 200 characters."),
            PlainText(),
        ],
        description="For example: Junior ML engineer at a fintech in London.",
    )
    questions = TextAreaField(
        "Questions for the reviewer (optional)",
        validators=[Length(max=2000, message="At most 2,000 characters."), MultilineText()],
    )
    submit = SubmitField("Ask for a review")


def _comment(label: str) -> TextAreaField:
    return TextAreaField(
        label, validators=[Optional(), Length(max=5000, message="At most 5,000 characters."), MultilineText()]
    )


def _improvement(label: str) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=500, message="At most 500 characters."), PlainText()])


class FeedbackForm(FlaskForm):
    verdict = RadioField(
        "Overall verdict", choices=choices(VERDICTS.items()), validators=[Optional()], validate_choice=True
    )
    comment_summary = _comment(dict(SECTIONS)["comment_summary"])
    comment_experience = _comment(dict(SECTIONS)["comment_experience"])
    comment_skills = _comment(dict(SECTIONS)["comment_skills"])
    comment_projects = _comment(dict(SECTIONS)["comment_projects"])
    comment_presentation = _comment(dict(SECTIONS)["comment_presentation"])
    strengths = _comment("Strengths")
    improvement_1 = _improvement("Improvement 1")
    improvement_2 = _improvement("Improvement 2")
    improvement_3 = _improvement("Improvement 3")
    save = SubmitField("Save draft")
    publish = SubmitField("Publish to the candidate")


class AssignForm(FlaskForm):
    mentor = SelectField("Mentor", coerce=to_id, validate_choice=False)
    submit = SubmitField("Assign")
