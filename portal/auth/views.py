"""Registration, login (password, then a second factor) and logout, password reset and change, profile, two-factor
sign-in, invitations."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from portal import rules
from portal.auth import services, throttle, totp
from portal.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    EnrolSecondFactorForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordAgainForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    SecondStepForm,
)
from portal.errors import DomainError
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.security import is_safe_next, no_store
from portal.views import (
    attempt_failed,
    limited,
    next_or_home,
    password_again_wait,
    show_error,
    show_password_again_error,
    signed_in_account,
)

bp = Blueprint("auth", __name__)

# Between the password and the second factor the session holds only this: who, whether to remember them, since when.
SECOND_STEP = "second_step"
SECOND_STEP_SECONDS = 5 * 60
# The secret being set up, encrypted, until the first code from the app confirms it.
ENROLMENT = "second_factor_enrolment"


def _form_email() -> str:
    """Rate-limit key for per-account limits: the email typed into the form."""
    return "account:" + (request.form.get("email") or "").strip().lower()


def _form_email_and_address() -> str:
    """Rate-limit key for failed logins: the account typed into the form together with the client's address."""
    return f"{_form_email()}|{get_remote_address()}"


def _limit(setting: str):
    return lambda: current_app.config[setting]


def start_session(user, remember: bool = False) -> None:
    """A fresh session for this user: nothing from the anonymous session survives (no fixation). The browser is
    remembered as one this account logs in from."""
    session.clear()
    login_user(user, remember=remember)
    throttle.remember_device(user.email)
    current_app.logger.info("login: user %s", user.id)


@bp.route("/register", methods=["GET", "POST"])
@no_store
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
@no_store
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(
    _limit("LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT"),
    key_func=_form_email_and_address,
    methods=["POST"],
    deduct_when=attempt_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(next_or_home())
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
            if user.has_second_factor:
                session.clear()
                session[SECOND_STEP] = {
                    "user": user.get_id(),
                    "remember": bool(form.remember.data),
                    "since": int(time.time()),
                }
                return redirect(url_for("auth.login_code", next=_safe_next()))
            start_session(user, remember=form.remember.data)
            return redirect(next_or_home())
    return render_template("auth/login.html", form=form)


def _safe_next() -> str | None:
    target = request.args.get("next")
    return target if is_safe_next(target) else None


def _user_at_second_step():
    """The user who passed the password step in this browser in the last few minutes, or None."""
    waiting = session.get(SECOND_STEP)
    if not isinstance(waiting, dict) or not isinstance(waiting.get("since"), int):
        return None
    if time.time() - waiting["since"] > SECOND_STEP_SECONDS:
        return None
    return services.user_waiting_for_second_step(str(waiting.get("user", "")))


def _second_step_account() -> str:
    """Rate-limit key for codes: the account waiting at the second step."""
    waiting = session.get(SECOND_STEP)
    identity = waiting.get("user", "") if isinstance(waiting, dict) else ""
    return "code:" + str(identity).partition(":")[0]


@bp.route("/login/code", methods=["GET", "POST"])
@no_store
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"])
@limiter.limit(
    _limit("LOGIN_CODE_RATE_LIMIT"), key_func=_second_step_account, methods=["POST"], deduct_when=attempt_failed
)
def login_code():
    """The second step: a code from the authenticator app (each works once) or a recovery code (used up)."""
    if current_user.is_authenticated:
        return redirect(next_or_home())
    user = _user_at_second_step()
    if user is None:
        session.pop(SECOND_STEP, None)
        flash("Log in again: too much time passed since you entered your password.", "info")
        return redirect(url_for("auth.login", next=_safe_next()))
    form = SecondStepForm()
    if form.validate_on_submit():
        try:
            kind = services.check_second_factor(user, form.code.data)
        except DomainError as error:
            current_app.logger.warning("wrong second-factor code: user %s from %s", user.id, request.remote_addr)
            g.login_failed = True
            services.note_failed_login(user.email)
            db.session.commit()
            form.code.errors = [*form.code.errors, error.message]
        else:
            db.session.commit()
            start_session(user, remember=bool(session[SECOND_STEP].get("remember")))
            if kind == "recovery":
                left = services.recovery_codes_left(user)
                flash(
                    f"You used a recovery code: {left} left. If your phone is lost, make new codes and set up "
                    "the app again from your account page.",
                    "warning",
                )
            return redirect(next_or_home())
    return render_template("auth/login_code.html", form=form)


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
@no_store
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
    form = ProfileForm(obj=current_user, role=current_user.role)
    if form.validate_on_submit():
        try:
            services.update_profile(
                current_user,
                form.name.data,
                form.timezone.data,
                focus_areas=form.focus_areas.data if current_user.is_mentor else None,
            )
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash("Your profile has been saved.", "success")
            return redirect(url_for("auth.profile"))
    codes_left = services.recovery_codes_left(current_user) if current_user.has_second_factor else 0
    return render_template("auth/profile.html", form=form, recovery_codes_left=codes_left)


# Two-factor sign-in -----------------------------------------------------------------------------------------------

# What a signed-in admin or mentor without a second factor may still open.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {"auth.second_factor_setup", "auth.logout", "static", "pages.healthz", "pages.readyz"}
)


def second_factor_first():
    """Before every request: an admin or mentor without a second factor is sent to set one up, whatever they ask
    for (logging out still works). Registered by the application factory after the per-request memo is reset."""
    if request.endpoint is None or request.endpoint in OPEN_BEFORE_SECOND_FACTOR:
        return None
    if rules.must_set_up_second_factor(current_user):
        return redirect(url_for("auth.second_factor_setup"))
    return None


def _enrolment_secret(user) -> str:
    """The secret this browser is setting up: kept (encrypted) in the session until confirmed, so a reload shows
    the same QR code."""
    pending = session.get(ENROLMENT)
    if isinstance(pending, dict) and pending.get("user") == user.id:
        try:
            return totp.decrypt_secret(str(pending.get("secret", "")))
        except totp.UnreadableSecret:
            pass
    secret = totp.new_secret()
    session[ENROLMENT] = {"user": user.id, "secret": totp.encrypt_secret(secret)}
    return secret


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
@no_store
@login_required
@limiter.limit(
    _limit("LOGIN_CODE_RATE_LIMIT"), key_func=signed_in_account("code:"), methods=["POST"], deduct_when=attempt_failed
)
def second_factor_setup():
    user = current_user._get_current_object()
    if user.has_second_factor:
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for("auth.profile"))
    secret = _enrolment_secret(user)
    form = EnrolSecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = services.enable_second_factor(user, secret, form.code.data)
            db.session.commit()
        except DomainError as error:
            g.login_failed = True
            show_error(form, error)
        else:
            session.pop(ENROLMENT, None)
            return render_template("auth/recovery_codes.html", codes=codes, first_time=True)
    return render_template(
        "auth/second_factor_setup.html",
        form=form,
        secret=totp.grouped(secret),
        qr_code=totp.qr_svg(totp.provisioning_uri(secret, user.email)),
        required=rules.second_factor_required(user),
    )


@bp.route("/account/two-factor/recovery-codes", methods=["GET", "POST"])
@no_store
@login_required
def recovery_codes():
    """New recovery codes, after the password again; the old ones stop working."""
    if not current_user.has_second_factor:
        return redirect(url_for("auth.profile"))
    user = current_user._get_current_object()
    form = PasswordAgainForm()
    wait = 0
    if form.validate_on_submit() and not (wait := password_again_wait(form.password)):
        try:
            codes = services.regenerate_recovery_codes(user, form.password.data)
            db.session.commit()
        except DomainError as error:
            show_password_again_error(form, error, user)
        else:
            return render_template("auth/recovery_codes.html", codes=codes, first_time=False)
    return limited(render_template("auth/password_again.html", form=form, action="recovery_codes"), wait)


@bp.route("/account/two-factor/turn-off", methods=["GET", "POST"])
@no_store
@login_required
def turn_off_second_factor():
    """Candidates only, after the password again."""
    if not rules.can_turn_off_second_factor(current_user):
        return redirect(url_for("auth.profile"))
    user = current_user._get_current_object()
    form = PasswordAgainForm()
    wait = 0
    if form.validate_on_submit() and not (wait := password_again_wait(form.password)):
        try:
            services.turn_off_second_factor(user, form.password.data)
            db.session.commit()
        except DomainError as error:
            show_password_again_error(form, error, user)
        else:
            flash("Two-factor sign-in is off. Logging in now needs only your password.", "success")
            return redirect(url_for("auth.profile"))
    return limited(render_template("auth/password_again.html", form=form, action="turn_off"), wait)


@bp.route("/account/password", methods=["GET", "POST"])
@no_store
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    wait = 0
    if form.validate_on_submit() and not (wait := password_again_wait(form.current_password)):
        try:
            services.change_password(user, form.current_password.data, form.password.data)
            db.session.commit()
        except DomainError as error:
            show_password_again_error(form, error, user)
        else:
            start_session(user)
            flash("Your password has been changed. You have been logged out everywhere else.", "success")
            return redirect(url_for("auth.profile"))
    return limited(render_template("auth/change_password.html", form=form), wait)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@no_store
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
