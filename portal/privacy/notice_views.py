"""Asking signed-in people to acknowledge a new version of the privacy notice."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField

from portal.errors import DomainError
from portal.extensions import db
from portal.forms import PlainText
from portal.privacy import notice
from portal.views import next_or_home

bp = Blueprint("privacy_notice", __name__, url_prefix="/privacy")


class AcknowledgeForm(FlaskForm):
    version = HiddenField(validators=[PlainText()])


@bp.route("/updated", methods=["GET", "POST"])
@login_required
def updated():
    """What changed in the notice since the person last accepted it, and the button that acknowledges it."""
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            notice.acknowledge(current_user, form.version.data or "")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "warning")
            return redirect(url_for("privacy_notice.updated"))
        flash("Thank you: you have acknowledged the current privacy notice.", "success")
        return redirect(next_or_home())
    current = notice.current_version()
    form.version.data = current
    return render_template(
        "privacy/notice_updated.html",
        form=form,
        current=current,
        changes=notice.versions_after(current_user.privacy_notice_version),
        due=current_user.privacy_ack_due,
    )
