"""Untrusted text: every single-line field refuses control and bidi characters, text areas keep only line breaks and
tabs, and the cleaning used for email headers and filenames."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
import wtforms
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.fields.core import UnboundField

import portal.app  # noqa: F401 - imports every form module of the portal
from portal.auth.models import Invitation, User
from portal.cvs.models import CVDocument
from portal.extensions import db
from portal.forms import PlainText
from portal.text import one_line, safe_filename
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text

INJECTION = "Eve\r\nBcc: x@example.org"
REFUSED_ON_ONE_LINE = ["\r", "\n", "\x00", "\t", "\x1b", "\x7f", "\x85", "\x9f", "\u2028"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"]
BIDI += ["\u061c"]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _text_fields():
    """(form, field name, field class, validators) of every text field in every form of the portal."""
    forms = {cls for cls in _subclasses(wtforms.Form) if cls.__module__.startswith("portal.")}
    for form in sorted(forms, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}"):
        for name in dir(form):
            unbound = getattr(form, name, None)
            if not isinstance(unbound, UnboundField) or not issubclass(unbound.field_class, StringField):
                continue
            if issubclass(unbound.field_class, PasswordField | HiddenField):  # secrets, and ids parsed as numbers
                continue
            validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
            yield f"{form.__module__}.{form.__qualname__}.{name}", unbound.field_class, validators


def test_every_text_field_of_every_form_refuses_control_characters():
    fields = list(_text_fields())
    assert len(fields) > 30  # the walk found the forms
    missing = []
    for where, field_class, validators in fields:
        plain = [v for v in validators if isinstance(v, PlainText)]
        wanted_multiline = issubclass(field_class, TextAreaField)
        if len(plain) != 1 or plain[0].multiline != wanted_multiline:
            missing.append(where)
    assert missing == []
    assert {cls for _, cls, _ in fields} >= {StringField, EmailField, TextAreaField}


class OneOfEach(wtforms.Form):
    line = StringField(validators=[PlainText()])
    area = TextAreaField(validators=[PlainText(multiline=True)])


def _errors(**data) -> dict:
    form = OneOfEach(MultiDict(data))
    form.validate()
    return form.errors


@pytest.mark.parametrize("character", REFUSED_ON_ONE_LINE + BIDI)
def test_a_single_line_field_refuses_control_and_bidi_characters(character):
    (message,) = _errors(line=f"Eve{character}Smith")["line"]
    assert message.startswith("Remove the control characters") and f"U+{ord(character):04X}" in message


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x85", "\u2028", *BIDI])
def test_a_text_area_refuses_control_and_bidi_characters(character):
    (message,) = _errors(area=f"first line{character}")["area"]
    assert message.startswith("Remove the control characters") and f"U+{ord(character):04X}" in message


def test_a_text_area_keeps_line_breaks_and_tabs_and_plain_text_passes():
    assert _errors(line="Zoë O’Brien-Łukasz (ML) — 日本", area="Point one\r\n\tdetail\nPoint two") == {}


def test_one_line_collapses_control_and_bidi_characters_for_headers():
    assert one_line(" Eve\r\nBcc:\tx@example.org\u202e\u2028 ") == "Eve Bcc: x@example.org"


def test_safe_filename_keeps_the_base_name_without_control_or_bidi_characters():
    assert safe_filename("C:\\Users\\eve\\cv\u202egpj.pdf") == "cvgpj.pdf"
    assert safe_filename("../../etc/pass\r\nwd") == "passwd"
    assert safe_filename("\u202e\x00") == "file"


# The forms people meet --------------------------------------------------------------------------


def test_registration_refuses_a_name_with_a_line_break_and_sends_nothing(app, client, outbox):
    response = client.post(
        "/register",
        data={
            "name": INJECTION,
            "email": "eve@example.org",
            "password": "analytical engine 1843",
            "confirm": "analytical engine 1843",
            "timezone": "Europe/London",
            "privacy": "y",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="name-error"' in body and "Remove the control characters" in body and "U+000D, U+000A" in body
    assert outbox() == []


def test_account_page_refuses_a_name_with_a_bidi_override(app, make, client, auth):
    make.user(email="sam@example.org", name="Sam Taylor")
    auth.login("sam@example.org")
    body = client.post("/account", data={"name": "Sam \u202eroliaT", "timezone": "Europe/London"}).get_data(
        as_text=True
    )
    assert "Remove the control characters" in body and "U+202E" in body
    with app.app_context():
        assert db.session.scalar(sa.select(User.name).where(User.email == "sam@example.org")) == "Sam Taylor"


def test_admin_invitation_refuses_a_name_with_a_line_break(app, make, client, auth, outbox):
    make.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    response = client.post("/admin/invitations/new", data={"name": INJECTION, "email": "eve@example.org"})
    assert response.status_code == 200 and "Remove the control characters" in response.get_data(as_text=True)
    assert outbox("eve@example.org") == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_create_user_command_refuses_a_name_with_a_line_break(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "eve@example.org", "--name", INJECTION, "--password", "long enough passphrase"]
    )
    assert result.exit_code != 0 and "Remove the control characters" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


# CV filenames ----------------------------------------------------------------------------------


def test_a_cv_uploaded_as_a_bidi_filename_downloads_under_a_plain_name(app, make, client, auth):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    response = client.post(
        "/cvs/",
        data={"name": "ML engineer CV", "file": (io.BytesIO(pdf_with_text(GOOD_CV_LINES)), "..\\cv\u202egpj.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        document = db.session.scalars(sa.select(CVDocument)).one()
        assert document.original_filename == "cvgpj.pdf"
    disposition = client.get(f"/cvs/{document.id}/download").headers["Content-Disposition"]
    assert disposition == "attachment; filename=cvgpj.pdf"
    assert "\u202e" not in unquote(disposition)


def test_a_cv_version_name_with_a_bidi_override_is_refused(app, make, client, auth):
    make.user(email="sam@example.org")
    auth.login("sam@example.org")
    response = client.post(
        "/cvs/",
        data={"name": "CV \u202eFDP", "file": (io.BytesIO(pdf_with_text(GOOD_CV_LINES)), "cv.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "Remove the control characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CVDocument.id))) == 0
