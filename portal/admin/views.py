"""Minimal admin pages: the user list and mentor invitations."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.forms import InviteForm
from portal.auth.models import ROLE_LABELS
from portal.auth.services import invite_user
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.security import role_required
from portal.views import show_error

from . import services

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


@bp.route("/users")
@role_required("admin")
def users():
    role = request.args.get("role") if request.args.get("role") in ROLE_LABELS else None
    pagination = db.paginate(services.users_query(role), per_page=PER_PAGE, error_out=False)
    invitations = db.session.scalars(services.recent_invitations_query()).all()
    return render_template("admin/users.html", pagination=pagination, role=role, roles=ROLE_LABELS,
                           invitations=invitations, now=utcnow())


@bp.route("/invitations/new", methods=["GET", "POST"])
@role_required("admin")
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = invite_user(current_user, form.email.data, form.name.data, "mentor")
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(f"Invitation sent to {invitation.email}. The link works for "
                  f"{current_app.config['INVITATION_DAYS']} days.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)
