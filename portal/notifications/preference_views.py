"""The preferences page, and unsubscribe links from emails (no login needed; RFC 8058 one-click POST)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from portal.auth.models import User
from portal.extensions import csrf, db
from portal.notifications.preferences import CATEGORIES, preferences, read_unsubscribe_token, set_preference

bp = Blueprint("preferences", __name__)


class PreferencesForm(FlaskForm):
    reminders = BooleanField(CATEGORIES["reminders"])
    booking = BooleanField(CATEGORIES["booking"])
    feedback = BooleanField(CATEGORIES["feedback"])
    waitlist = BooleanField(CATEGORIES["waitlist"])
    submit = SubmitField("Save preferences")


@bp.route("/account/emails", methods=["GET", "POST"])
@login_required
def edit():
    form = PreferencesForm(data=preferences(current_user.id) if request.method == "GET" else None)
    if form.validate_on_submit():
        for category in CATEGORIES:
            set_preference(current_user.id, category, bool(form[category].data))
        db.session.commit()
        flash("Email preferences saved. Security emails, such as password resets, are always sent.", "success")
        return redirect(url_for("preferences.edit"))
    return render_template("preferences/edit.html", form=form, categories=CATEGORIES)


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    """GET asks to confirm; POST (the button, or a mail client's one-click request) turns the category off."""
    decoded = read_unsubscribe_token(token)
    user = db.session.get(User, decoded[0]) if decoded else None
    if user is None:
        abort(404)
    category = decoded[1]
    if request.method == "POST":
        set_preference(user.id, category, False)
        db.session.commit()
        return render_template("preferences/unsubscribed.html", label=CATEGORIES[category])
    return render_template("preferences/unsubscribe.html", label=CATEGORIES[category], token=token)
