"""Account forms. Password rules live in portal.security; these check presence and shape."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from portal.forms import PlainText, TimezoneField
from portal.security import MAX_PASSWORD_LENGTH, password_problem

NAME_HINTS = {
    "candidate": "The name mentors will see.",
    "mentor": "The name candidates see when they book with you, and on the public home page.",
    "admin": "The name mentors and candidates see on your messages, and in the audit log.",
}
NAME_HINT = NAME_HINTS["candidate"]


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    """A new password and its confirmation, created where the form places them (fields keep creation order)."""
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter a password.")],
        description="At least 8 characters. A few unrelated words make a strong, memorable password.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[DataRequired("Enter the password again."), EqualTo("password", "The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class NewPasswordMixin:
    """Checks the new password against the policy in portal.security."""

    def validate_password(self, field) -> None:
        email = getattr(getattr(self, "email", None), "data", None)
        problem = password_problem(field.data or "", email=email)
        if problem:
            raise ValidationError(problem)


def _email_field(label: str = "Email address") -> EmailField:
    return EmailField(
        label,
        validators=[
            DataRequired("Enter your email address."),
            Length(max=254, message="Email address must be 254 characters or fewer."),
            Email("Enter an email address in the correct format, like name@example.com.", check_deliverability=False),
            PlainText(),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _name_field() -> StringField:
    return StringField(
        "Full name",
        validators=[
            DataRequired("Enter your name."),
            Length(max=120, message="Name must be 120 characters or fewer."),
            PlainText(),
        ],
        description=NAME_HINT,
        render_kw={"autocomplete": "name"},
    )


class RegistrationForm(NewPasswordMixin, FlaskForm):
    name = _name_field()
    email = _email_field()
    password, confirm = _new_password_fields()
    timezone = TimezoneField()
    privacy = BooleanField(
        "I have read the privacy notice and agree to my data being used as it describes",
        validators=[DataRequired("You must agree to the privacy notice to create an account.")],
    )
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH * 4)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me logged in on this device for 30 days")
    submit = SubmitField("Log in")


class ForgotPasswordForm(FlaskForm):
    email = _email_field()
    submit = SubmitField("Send reset link")


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    password, confirm = _new_password_fields()
    submit = SubmitField("Set new password")


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = _new_password_fields()
    submit = SubmitField("Change password")


class ProfileForm(FlaskForm):
    name = _name_field()
    timezone = TimezoneField()
    focus_areas = StringField(
        "Focus areas",
        description="What you help with most, shown with your name on the public home page, like "
        "“Computer vision, MLOps, behavioural interviews”.",
        validators=[Optional(), Length(max=200, message="At most 200 characters."), PlainText()],
    )
    submit = SubmitField("Save changes")

    def __init__(self, *args, role: str = "candidate", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name.description = NAME_HINTS.get(role, NAME_HINT)


class AcceptInvitationForm(NewPasswordMixin, FlaskForm):
    password, confirm = _new_password_fields()
    timezone = TimezoneField()
    submit = SubmitField("Create account")


class InviteForm(FlaskForm):
    name = _name_field()
    email = _email_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name.description = "Their full name, as candidates will see it."

    submit = SubmitField("Send invitation")


class SecondStepForm(FlaskForm):
    """The login's second step: a code from the authenticator app or a recovery code, in one field."""

    code = StringField(
        "Security code",
        validators=[DataRequired("Enter the code from your authenticator app."), Length(max=40), PlainText()],
        description="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )
    submit = SubmitField("Continue")


class EnrolSecondFactorForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired("Enter the 6-digit code your app shows."), Length(max=20), PlainText()],
        description="6 digits. A new code appears every 30 seconds.",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"},
    )
    submit = SubmitField("Turn on two-factor sign-in")


class PasswordAgainForm(FlaskForm):
    """Asks for the password again before a change to how the account is protected."""

    password = PasswordField(
        "Your password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH * 4)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Continue")
