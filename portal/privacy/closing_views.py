"""Closing one's own account (password and second factor again), the page after it, and the admin's reopen and
erase-now actions."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.admin.services import future_bookings
from portal.auth.forms import PasswordAgainForm
from portal.auth.models import User
from portal.errors import DomainError
from portal.extensions import db
from portal.forms import EmptyForm, PlainText
from portal.privacy import erasure
from portal.rules import contact
from portal.security import no_store, role_required
from portal.statuses import Role
from portal.storage import StorageError
from portal.views import flash_refusal, limited, password_again_wait, show_error, wrong_password_again

bp = Blueprint("account_closing", __name__)


class CloseAccountForm(PasswordAgainForm):
    """The password again and, where two-factor sign-in is on, a code."""

    code = StringField(
        "Security code",
        validators=[Optional(), Length(max=40, message="Enter a 6-digit code or a recovery code."), PlainText()],
        description="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"},
    )


class EraseForm(FlaskForm):
    """An admin types the person's email address to confirm an erasure."""

    email = StringField(
        "Type the person's email address to confirm",
        validators=[DataRequired("Type the email address shown above."), Length(max=254), PlainText()],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"},
    )


@bp.route("/account/close", methods=["GET", "POST"])
@no_store
@login_required
def close():
    """Explain what closing does, ask for the password (and code) again, then close and log out. Wrong passwords and
    codes count like those of the other forms that ask again (limited per account and address)."""
    user = current_user._get_current_object()
    form = CloseAccountForm()
    wait = 0
    if form.validate_on_submit() and not (wait := password_again_wait(form.password, "password or code")):
        try:
            erasure.confirm_identity(user, form.password.data, form.code.data)
        except DomainError as error:
            current_app.logger.warning("account closing: wrong password or code for user %s", user.id)
            show_error(form, error)
            wrong_password_again(user)
        else:
            try:
                erasure.close_account(user, user)
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            else:
                current_app.logger.info("account closed by its owner: user %s", user.id)
                logout_user()
                session.clear()
                return redirect(url_for("account_closing.closed"))
    page = render_template("privacy/close.html", form=form, **erasure.closing_summary(user), contact=contact())
    return limited(page, wait)


@bp.route("/account/closed")
def closed():
    return render_template(
        "privacy/closed.html", grace_days=current_app.config["ACCOUNT_ERASURE_GRACE_DAYS"], contact=contact()
    )


@bp.route("/admin/users/<int:user_id>/reopen", methods=["POST"])
@role_required(Role.ADMIN)
def reopen(user_id: int):
    person = db.get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        erasure.reopen_account(person, current_user)
        db.session.commit()
        flash(f"{person.name}'s account is open again: they can log in.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/erase", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def erase(user_id: int):
    """Erase a person's data now, after the admin types their email address."""
    person = db.get_or_404(User, user_id)
    if person.erased_at is not None:
        flash("This account has already been erased.", "info")
        return redirect(url_for("admin.user", user_id=user_id))
    form = EraseForm()
    if form.validate_on_submit():
        if form.email.data.strip().lower() != person.email:
            form.email.errors = [*form.email.errors, "This is not the person's email address. Type it as shown above."]
        else:
            try:
                erasure.erase_user(person, by=current_user._get_current_object())
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            except StorageError:
                db.session.rollback()
                current_app.logger.exception("erasure stopped: the file store failed for user %s", user_id)
                form.form_errors.append(
                    "The CV file store could not be reached, so the erasure stopped: the account is not erased (some"
                    " CV files may already be gone). Try again in a few minutes."
                )
            else:
                flash(f"Account {user_id} has been erased.", "success")
                return redirect(url_for("admin.user", user_id=user_id))
    bookings = [] if person.closed_at else future_bookings(person)
    return render_template("admin/erase.html", person=person, form=form, bookings=bookings)
