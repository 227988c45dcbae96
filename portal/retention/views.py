"""The admin page of the retention policy: the periods, the last run and earlier ones, what a run would remove now."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from portal.db import utcnow
from portal.forms import EmptyForm
from portal.pagination import paginate
from portal.retention import services
from portal.retention.models import Trigger
from portal.security import role_required
from portal.statuses import Role

bp = Blueprint("retention", __name__, url_prefix="/admin/retention")
RUNS_PER_PAGE = 20


@bp.before_request
@role_required(Role.ADMIN)
def admins_only():
    return None


@bp.route("/")
def index():
    runs = paginate(services.runs_query(), RUNS_PER_PAGE)
    last = runs.items[0] if runs.page == 1 and runs.items else services.last_run()
    return render_template(
        "admin/retention.html",
        policy=list(zip(services.categories(), services.preview(utcnow()), strict=True)),
        last=last,
        last_lines=services.lines_of(last) if last else [],
        runs=runs,
        lines_of=services.lines_of,
        form=EmptyForm(),
    )


@bp.route("/run", methods=["POST"])
def run_now():
    if not EmptyForm().validate_on_submit():
        abort(400)
    run = services.run_retention(utcnow(), Trigger.ADMIN, current_user)
    if run.errors:
        flash(f"The retention run finished with failures: {services.summary(run)}. See the log.", "warning")
    else:
        flash(f"Retention run finished. Removed: {services.summary(run)}.", "success")
    return redirect(url_for("retention.index"))
