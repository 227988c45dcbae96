"""The notifications page and mark-as-read."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal import rules
from portal.extensions import db
from portal.forms import EmptyForm
from portal.notifications import services
from portal.notifications.models import Notification
from portal.pagination import paginate
from portal.security import is_safe_next

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 20


@bp.route("/")
@login_required
def index():
    pagination = paginate(services.notifications_page_query(current_user), PER_PAGE)
    return render_template("notifications/index.html", pagination=pagination, form=EmptyForm())


def _own_notification(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or not rules.can_view_notification(current_user, notification):
        abort(404)
    return notification


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    notification = _own_notification(notification_id)
    services.mark_read(notification)
    db.session.commit()
    if notification.link and is_safe_next(notification.link):
        return redirect(notification.link)
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all_read():
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user)
    db.session.commit()
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.", "success")
    return redirect(url_for("notifications.index"))
