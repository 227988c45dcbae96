"""Copies of people's data: asked for from the account page (or by an admin for a person), downloaded by whoever
asked for them while they last."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.auth.models import User
from portal.db import utcnow, write_from_here
from portal.errors import DomainError, render_error
from portal.extensions import db
from portal.forms import EmptyForm
from portal.pagination import paginate
from portal.privacy import exports
from portal.privacy.models import DataExport, ExportStatus
from portal.security import role_required
from portal.statuses import Role
from portal.views import flash_refusal, stored_file_response

bp = Blueprint("privacy", __name__)

ZIP_TYPE = "application/zip"
EXPORTS_PER_PAGE = 20
GONE_MESSAGE = "This file is no longer available. Ask for a new copy of the data."


@bp.route("/account/data")
@login_required
def mine():
    return render_template(
        "privacy/mine.html",
        pagination=paginate(exports.own_exports_query(current_user), EXPORTS_PER_PAGE),
        now=utcnow(),
        per_day=exports.requests_per_day(),
        retention_days=exports.retention().days,
    )


@bp.route("/account/data/exports", methods=["POST"])
@login_required
def request_mine():
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        exports.request_export(current_user, current_user)
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
    else:
        flash("We are preparing your file; we'll email you when it is ready (usually within minutes).", "success")
    return redirect(url_for("privacy.mine"))


@bp.route("/admin/users/<int:user_id>/data-exports")
@role_required(Role.ADMIN)
def admin_exports(user_id: int):
    person = db.get_or_404(User, user_id)
    return render_template(
        "privacy/admin_exports.html",
        person=person,
        pagination=paginate(exports.exports_about_query(person), EXPORTS_PER_PAGE),
        now=utcnow(),
        retention_days=exports.retention().days,
    )


@bp.route("/admin/users/<int:user_id>/data-exports", methods=["POST"])
@role_required(Role.ADMIN)
def admin_request(user_id: int):
    person = db.get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        exports.request_export(person, current_user)
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
    else:
        flash(
            f"We are preparing the export of the data of {person.name}; we'll email you when it is ready. "
            "Only you can download it, from this page.",
            "success",
        )
    return redirect(url_for("privacy.admin_exports", user_id=user_id))


@bp.route("/account/data/exports/<int:export_id>/download")
@login_required
def download(export_id: int):
    export = exports.load_download(export_id, current_user)
    if export is None:
        current_app.logger.warning("data export download refused: user %s, export %s", current_user.id, export_id)
        abort(404)
    if not export.is_downloadable(utcnow()):
        return render_error(404, GONE_MESSAGE if export.status == ExportStatus.READY else "This file is not ready yet.")
    response = stored_file_response(
        exports.export_storage(current_app._get_current_object()), export.storage_key, export.download_name, ZIP_TYPE
    )
    if response is None:
        current_app.logger.error("data export %s: no stored file under its key", export.id)
        return render_error(404, GONE_MESSAGE)
    _note_download(export.id)
    return response


def _note_download(export_id: int) -> None:
    """Record the download in a transaction of its own that may write: this GET read under a read-only one."""
    write_from_here(db.session)
    export = db.session.get(DataExport, export_id)
    if export is not None:
        exports.record_download(export, current_user)
    db.session.commit()
