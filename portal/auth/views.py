"""Registration, login and logout, password reset and change, profile, invitations."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import services, throttle
from portal.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
)
from portal.errors import DomainError
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.security import is_safe_next
from portal.views import show_error

bp = Blueprint("auth", __name__)


def _form_email() -> str:
    """Rate-limit key for per-account limits: the email typed into the form."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def _form_email_and_address() -> str:
    """Rate-limit key for failed logins: the account typed into the form together with the client's address."""
    return f"{_form_email()}|{get_remote_address()}"


def _limit(setting: str):
    return lambda: current_app.config[setting]


def _attempt_failed(response) -> bool:
    """Only failed attempts count towards the limits that use this (the view sets the flag)."""
    return bool(g.get("login_failed"))


def start_session(user, remember: bool = False) -> None:
    """A fresh session for this user: nothing from the anonymous session survives (no fixation). The browser is
    remembered as one this account logs in from."""
    session.clear()
    login_user(user, remember=remember)
    throttle.remember_device(user.email)
    current_app.logger.info("login: user %s", user.id)


def _after_login_target() -> str:
    target = request.args.get("next")
    return target if is_safe_next(target) else url_for("pages.home")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("REGISTER_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("REGISTER_ACCOUNT_RATE_LIMIT"), key_func=_form_email, methods=["POST"])
def register():
    """Step one: the same answer whether or not the address has an account (the email says which)."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            services.start_registration(form.email.data, form.name.data, form.password.data, form.timezone.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            return render_template("auth/registration_sent.html", email=form.email.data)
    return render_template("auth/register.html", form=form)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("REGISTER_RATE_LIMIT"), methods=["POST"])
def confirm_registration(token: str):
    """Step two, from the emailed link: a button (a POST, so that mail scanners opening links change nothing)."""
    try:
        registration = services.usable_registration(token)
    except DomainError as error:
        return _link_not_valid(error)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = services.confirm_registration(token)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return _link_not_valid(error)
        start_session(user)
        flash("Your account is ready. Welcome!", "success")
        return redirect(url_for("pages.home"))
    return render_template("auth/confirm_registration.html", registration=registration, form=form)


def _link_not_valid(error: DomainError):
    return render_template("auth/token_invalid.html", message=error.message, title="Link not valid"), 400


def _slowed_down(template: str, seconds: int, **context):
    """The form again, saying how long to wait: the account has had too many failed attempts lately."""
    context["form"].form_errors.append(
        "There have been too many failed attempts to log in to this account. "
        f"Wait {seconds} second{'s' if seconds != 1 else ''}, then try again."
    )
    return render_template(template, **context), 429, {"Retry-After": str(seconds)}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(
    _limit("LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT"),
    key_func=_form_email_and_address,
    methods=["POST"],
    deduct_when=_attempt_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        wait = throttle.seconds_to_wait(form.email.data)
        if wait:
            current_app.logger.warning("login slowed down for an account from %s", request.remote_addr)
            return _slowed_down("auth/login.html", wait, form=form)
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            current_app.logger.warning("failed login from %s", request.remote_addr)
            g.login_failed = True
            services.note_failed_login(form.email.data)
            db.session.commit()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            start_session(user, remember=form.remember.data)
            return redirect(_after_login_target())
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out everywhere this session's cookies went: the session version moves on."""
    current_user.end_all_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have logged out.", "success")
    return redirect(url_for("pages.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT"), methods=["POST"])
@limiter.limit(_limit("RESET_ACCOUNT_RATE_LIMIT"), key_func=_form_email, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT"), methods=["POST"])
def reset_password(token: str):
    try:
        services.check_reset_token(token)
    except DomainError as error:
        return render_template(
            "auth/token_invalid.html", message=error.message, title="Password reset link not valid"
        ), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash("Your password has been changed. Log in with your new password.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, form.name.data, form.timezone.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash("Your profile has been saved.", "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            start_session(user)
            flash("Your password has been changed. You have been logged out everywhere else.", "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = services.usable_invitation(token)
    except DomainError as error:
        return render_template("auth/token_invalid.html", message=error.message, title="Invitation link not valid"), 400
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, form.password.data, form.timezone.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            start_session(user)
            flash(f"Welcome, {user.name}. Your {user.role} account is ready.", "success")
            return redirect(url_for("pages.home"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)
