"""Forms for writing, publishing and finding insight articles."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import DayField, MultilineText, PlainText


class CheckboxesField(SelectMultipleField):
    """Tick boxes for several choices (each with its own label)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ArticleForm(FlaskForm):
    version = HiddenField(validators=[PlainText()])
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200), PlainText()])
    summary = StringField(
        "Summary",
        validators=[Length(max=300, message="At most 300 characters."), PlainText()],
        description="One or two sentences shown in lists, the feed and search engines.",
    )
    body = TextAreaField(
        "Article (Markdown)",
        validators=[DataRequired("The article cannot be empty."), Length(max=100_000), MultilineText()],
        description="## for headings, - for lists, **bold**, [text](https://link). No HTML.",
        render_kw={"rows": 20},
    )
    tags = CheckboxesField("Tags", coerce=int, validate_choice=True)
    preview = SubmitField("Preview")
    save = SubmitField("Save")


class PublishForm(FlaskForm):
    """Publish now (no date), or at a date and time in the editor's time zone."""

    version = HiddenField(validators=[PlainText()])
    publish_on = DayField("Publish on (optional)", validators=[Optional()])
    publish_time = TimeField("Time", validators=[Optional()])
    submit = SubmitField("Publish")


class VersionForm(FlaskForm):
    """A one-button change carrying the version of the article it was read at."""

    version = HiddenField(validators=[PlainText()])
    submit = SubmitField("Submit")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: searching changes nothing

    q = StringField(
        "Search articles, the guide and the FAQ",
        validators=[Optional(), PlainText()],
        description="Type a few words, for example “interview London”.",
        render_kw={"type": "search", "maxlength": 200},
    )


class InterestsForm(FlaskForm):
    tags = CheckboxesField("Sectors and cities", coerce=int, validate_choice=True)
    submit = SubmitField("Save")


TAG_NAME_CHECKS = [
    DataRequired("Enter a name for the tag."),
    Length(max=60, message="At most 60 characters."),
    PlainText(),
]


class TagForm(FlaskForm):
    """A new tag on one of the managed lists, or a new name for one."""

    kind = SelectField("List", choices=[], validate_choice=True)
    name = StringField(
        "Name",
        validators=TAG_NAME_CHECKS,
    )
    submit = SubmitField("Add the tag")


class RenameTagForm(FlaskForm):
    name = StringField(
        "New name",
        validators=TAG_NAME_CHECKS,
    )
    submit = SubmitField("Rename")
