"""The admin console: people, invitations, content, booking policy, interview types, reports, audit log."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from portal.admin import content, reports, services
from portal.admin.charts import bar_chart
from portal.admin.forms import FaqForm, InterviewTypeForm, PageForm, PolicyForm, PrivacyPageForm, RoleForm
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.auth.forms import InviteForm
from portal.auth.models import ROLE_LABELS, Invitation, User
from portal.content import render_markdown
from portal.db import utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.forms import EmptyForm, optional_id
from portal.insights import reports as insight_reports
from portal.interviews.models import InterviewType
from portal.interviews.services import local_day_bounds
from portal.live.reports import live_figures
from portal.mail import STATUSES, OutboxEmail, retry_now
from portal.pages.models import CONTENT_SLUGS, PageRevision
from portal.pages.services import faq_items_from, faq_sections, fill_settings, page_source
from portal.pagination import paginate
from portal.privacy import notice
from portal.security import role_required
from portal.statuses import MEETING_MODE_LABELS, EmailStatus, Role
from portal.timeutil import to_local
from portal.views import date_arg, flash_refusal, show_error

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50


@bp.before_request
@role_required(Role.ADMIN)
def admins_only():
    """Every page of the console is for admins only."""
    return None


@bp.route("/")
def index():
    return render_template("admin/index.html")


# People ----------------------------------------------------------------------------------------------------


@bp.route("/users")
def users():
    args = request.args
    filters = {
        "q": args.get("q", "")[:100],
        "role": args.get("role") if args.get("role") in ROLE_LABELS else None,
        "status": args.get("status") if args.get("status") in services.USER_STATUSES else None,
        "sort": args.get("sort") if args.get("sort") in services.USER_SORTS else "name",
        "order": "desc" if args.get("order") == "desc" else "asc",
    }
    statement = services.users_query(
        filters["q"], filters["role"], filters["status"], filters["sort"], filters["order"] == "desc"
    )
    pagination = paginate(statement, PER_PAGE, count=True)
    invitations = db.session.scalars(services.recent_invitations_query()).all()
    return render_template(
        "admin/users.html",
        pagination=pagination,
        filters=filters,
        roles=ROLE_LABELS,
        invitations=invitations,
        now=utcnow(),
        form=EmptyForm(),
        query_args={k: v for k, v in filters.items() if v},
    )


def _user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.route("/users/<int:user_id>")
def user(user_id: int):
    person = _user(user_id)
    form = RoleForm(role=person.role)
    return render_template("admin/user.html", person=person, form=form, **services.user_activity(person))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def change_role(user_id: int):
    person = _user(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            services.change_role(person, form.role.data, current_user)
            db.session.commit()
            flash(f"{person.name} is now {ROLE_LABELS[person.role].lower()}.", "success")
        except DomainError as error:
            flash_refusal(error)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
def deactivate(user_id: int):
    person = _user(user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            cancelled = services.deactivate(person, current_user)
            db.session.commit()
        except DomainError as error:
            flash_refusal(error)
        else:
            flash(
                f"{person.name} is deactivated and logged out everywhere; {cancelled} future booking"
                f"{'s were' if cancelled != 1 else ' was'} cancelled with a notice.",
                "success",
            )
        return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/deactivate.html", person=person, bookings=services.future_bookings(person), form=form)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int):
    person = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.reactivate(person, current_user)
        db.session.commit()
        flash(f"{person.name} can log in again.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/second-factor/reset", methods=["POST"])
def reset_second_factor(user_id: int):
    person = _user(user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.reset_second_factor(person, current_user)
        db.session.commit()
        flash(f"Two-factor sign-in of {person.name} is reset; they have been logged out and emailed.", "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/invitations/new", methods=["GET", "POST"])
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = services.invite(current_user, form.email.data, form.name.data, Role.MENTOR)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(
                f"Invitation sent to {invitation.email}. The link works for "
                f"{current_app.config['INVITATION_DAYS']} days.",
                "success",
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)


def _invitation_action(invitation_id: int, action, message: str):
    invitation = db.get_or_404(Invitation, invitation_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(invitation, current_user)
        db.session.commit()
        flash(message.format(email=invitation.email), "success")
    except DomainError as error:
        flash_refusal(error)
    return redirect(url_for("admin.users"))


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
def resend_invitation(invitation_id: int):
    return _invitation_action(invitation_id, services.resend_invitation, "A new invitation link was sent to {email}.")


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: int):
    return _invitation_action(invitation_id, services.revoke_invitation, "The invitation to {email} was revoked.")


# Content ---------------------------------------------------------------------------------------------------


@bp.route("/content")
def content_list():
    return render_template("admin/content_list.html", pages=CONTENT_SLUGS, last=content.last_edits())


def _slug(slug: str) -> str:
    if slug not in CONTENT_SLUGS:
        abort(404)
    return slug


@bp.route("/content/<slug>", methods=["GET", "POST"])
def edit_page(slug: str):
    if _slug(slug) == "faq":
        return edit_faq()
    source = page_source(slug)
    form_class = PrivacyPageForm if slug == "privacy" else PageForm
    form = form_class(
        data={"title": source.title, "description": source.description, "body": source.body}
        if request.method == "GET"
        else None
    )
    preview = None
    if form.validate_on_submit():
        if form.save.data:
            try:
                revision = content.save_page(slug, form.title.data, form.description.data, form.body.data, current_user)
                saved = f"{CONTENT_SLUGS[slug]} saved. Visitors see the new version now."
                if slug == "privacy" and form.new_version.data:
                    version = notice.publish_version(form.summary.data, current_user, revision.id)
                    saved = f"{saved} It is notice version {version.label}: everyone is asked to acknowledge it."
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            else:
                flash(saved, "success")
                return redirect(url_for("admin.edit_page", slug=slug))
        preview = render_markdown(fill_settings(form.body.data))
    return render_template(
        "admin/content_edit.html",
        slug=slug,
        label=CONTENT_SLUGS[slug],
        form=form,
        preview=preview,
        source=source,
        notice_version=notice.current_version() if slug == "privacy" else None,
    )


def edit_faq():
    source = page_source("faq")
    if request.method == "GET":
        entries = content.faq_entries(source)
        form = FaqForm(
            data={
                "title": source.title,
                "description": source.description,
                "questions": [
                    {"section": s, "question": q, "answer": a, "position": i}
                    for i, (s, q, a) in enumerate(entries, start=1)
                ],
            }
        )
        form.questions.append_entry({"section": entries[-1][0] if entries else "", "position": len(entries) + 1})
    else:
        form = FaqForm()
    preview = None
    if form.validate_on_submit():
        entries = [entry.form for entry in form.questions.entries]
        incomplete = [
            f for f in entries if bool((f.question.data or "").strip()) != bool((f.answer.data or "").strip())
        ]
        for item in incomplete:
            item.question.errors = [*item.question.errors, "Give both a question and its answer, or leave both empty."]
        ordered = sorted(
            (
                (f.position.data or 100, index, f)
                for index, f in enumerate(entries)
                if (f.question.data or "").strip() and (f.answer.data or "").strip()
            ),
            key=lambda triple: triple[:2],
        )
        pairs = [
            ((f.section.data or "").strip(), f.question.data.strip(), f.answer.data.strip()) for _, _, f in ordered
        ]
        body = content.faq_markdown(pairs) if pairs else ""
        if not pairs:
            form.form_errors.append("The FAQ needs at least one question and its answer.")
        elif not incomplete and form.save.data:
            try:
                content.save_page("faq", form.title.data, form.description.data, body, current_user)
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            else:
                flash("FAQ saved. Visitors see the new version now.", "success")
                return redirect(url_for("admin.edit_page", slug="faq"))
        preview = faq_sections(faq_items_from(body)) if pairs else None
    return render_template("admin/faq_edit.html", form=form, preview=preview, source=source)


@bp.route("/content/<slug>/revisions")
def revisions(slug: str):
    return render_template(
        "admin/revisions.html",
        slug=_slug(slug),
        label=CONTENT_SLUGS[slug],
        revisions=content.revisions(slug),
        form=EmptyForm(),
        current=page_source(slug).revision_id,
    )


@bp.route("/content/revisions/<int:revision_id>/restore", methods=["POST"])
def restore_revision(revision_id: int):
    revision = db.get_or_404(PageRevision, revision_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    restored = content.restore_revision(revision, current_user)
    db.session.commit()
    flash(f"Revision {revision.id} restored as revision {restored.id}; visitors see it now.", "success")
    return redirect(url_for("admin.revisions", slug=revision.slug))


# Booking policy and interview types ----------------------------------------------------------------------------


@bp.route("/policy", methods=["GET", "POST"])
def policy():
    form = PolicyForm(data=services.policy_values() if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.update_policy({name: form[name].data for name in services.POLICY_LIMITS}, current_user)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash("Booking policy saved. It applies to new bookings, cancellations and reschedules.", "success")
            return redirect(url_for("admin.policy"))
    return render_template("admin/policy.html", form=form)


@bp.route("/interview-types")
def interview_types():
    types = db.session.scalars(sa.select(InterviewType).order_by(InterviewType.active.desc(), InterviewType.name))
    return render_template("admin/interview_types.html", types=types.all(), meeting_labels=MEETING_MODE_LABELS)


@bp.route("/interview-types/new", methods=["GET", "POST"])
@bp.route("/interview-types/<int:type_id>", methods=["GET", "POST"])
def interview_type(type_id: int | None = None):
    item = db.get_or_404(InterviewType, type_id) if type_id else None
    form = InterviewTypeForm(obj=item if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            saved, changed = services.save_interview_type(
                item,
                {
                    "name": form.name.data,
                    "active": form.active.data,
                    "duration_minutes": form.duration_minutes.data,
                    "description": form.description.data,
                    "meeting_mode": form.meeting_mode.data,
                    "place": form.place.data,
                    "preparation": form.preparation.data,
                },
                current_user,
            )
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            told = len({booking.candidate_id for booking in changed})
            flash(
                f"Interview type “{saved.name}” saved."
                + (f" We have sent new joining details to {told} candidate{'s' if told != 1 else ''}." if told else ""),
                "success",
            )
            return redirect(url_for("admin.interview_types"))
    return render_template("admin/interview_type.html", form=form, item=item)


# Reports -----------------------------------------------------------------------------------------------------


def _report_range() -> tuple[date, date, list[str]]:
    problems: list[str] = []
    today = to_local(utcnow(), current_user.timezone).date()

    first = date_arg("from", problems, "From") or today - timedelta(weeks=8)
    last = date_arg("to", problems, "To") or today
    if last < first:
        problems.append("'To' is before 'From'; the dates were swapped.")
        first, last = last, first
    return first, last, problems


@bp.route("/reports")
def report_dashboard():
    first, last, problems = _report_range()
    if last - first > reports.LONGEST_RANGE:
        first = last - reports.LONGEST_RANGE
        problems.append(f"Reports cover at most two years, so this one starts on {first.isoformat()}.")
    start, end = local_day_bounds(first, last, current_user.timezone)
    figures = reports.figures(start, end, current_user.timezone)
    data = figures.data
    charts = {
        "weeks": bar_chart(
            "chart-weeks",
            "Bookings per week",
            [(f"Week of {monday.day} {monday:%b}", count, str(count)) for monday, count in data["weeks"]],
        ),
        "utilisation": bar_chart(
            "chart-utilisation",
            "Slot utilisation per mentor",
            [
                (
                    name,
                    booked / offered if offered else 0,
                    f"{booked}/{offered} ({booked / offered:.0%})" if offered else "no slots",
                )
                for name, booked, offered in data["utilisation"]
            ],
            maximum=1,
        ),
        "rubric": bar_chart(
            "chart-rubric",
            "Average rubric score per criterion (1 to 5)",
            [
                (name, average or 0, f"{average:.2f}" if average is not None else "not scored")
                for name, average, _ in data["rubric"]
            ],
            maximum=5,
        ),
        "ratings": bar_chart(
            "chart-ratings",
            "Average rating per mentor (1 to 5)",
            [(name, average, f"{average:.2f} ({count})") for name, average, count in data["ratings"]],
            maximum=5,
        ),
    }
    week_rows = [(monday.isoformat(), count) for monday, count in data["weeks"]]
    rating_rows = [(name, f"{average:.2f}", count) for name, average, count in data["ratings"]]
    rubric_rows = [
        (name, f"{average:.2f}" if average is not None else "—", count) for name, average, count in data["rubric"]
    ]
    return render_template(
        "admin/reports.html",
        first=first,
        last=last,
        problems=problems,
        charts=charts,
        week_rows=week_rows,
        rating_rows=rating_rows,
        rubric_rows=rubric_rows,
        computed_at=figures.computed_at,
        live=live_figures(start, end),
        insights=insight_reports.figures(start, end, current_user.timezone),
        **data,
    )


@bp.route("/reports/<kind>.csv")
def export_csv(kind: str):
    if kind not in reports.EXPORTS:
        abort(404)
    first, last, _ = _report_range()
    start, end = local_day_bounds(first, last, current_user.timezone)
    filename = f"{kind}-{first.isoformat()}-to-{last.isoformat()}.csv"
    return Response(
        stream_with_context(reports.stream_csv(kind, start, end)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )


# Mail ------------------------------------------------------------------------------------------------------


@bp.route("/mail")
def mail():
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    statement = sa.select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    if status:
        statement = statement.where(OutboxEmail.status == status)
    counts = dict(
        db.session.execute(
            sa.select(OutboxEmail.status, sa.func.count(OutboxEmail.id)).group_by(OutboxEmail.status)
        ).all()
    )
    pagination = paginate(statement, PER_PAGE)
    return render_template(
        "admin/mail.html", pagination=pagination, status=status, counts=counts, statuses=STATUSES, form=EmptyForm()
    )


@bp.route("/mail/<int:email_id>/retry", methods=["POST"])
def retry_mail(email_id: int):
    row = db.get_or_404(OutboxEmail, email_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        before = {"status": row.status, "attempts": row.attempts}
        retry_now(row)
        record(
            current_user,
            "mail.retried",
            "outbox_email",
            row.id,
            f"Email to {row.to_address} queued again",
            before,
            {"status": "queued", "attempts": 0},
        )
        db.session.commit()
        flash(f"The email to {row.to_address} is queued again; the worker sends it within a minute.", "success")
    except ValueError as error:
        db.session.rollback()
        flash(str(error), "danger")
    return redirect(url_for("admin.mail", status=EmailStatus.FAILED))


# Audit log --------------------------------------------------------------------------------------------------


@bp.route("/audit")
def audit():
    first, last, problems = _report_range() if request.args.get("from") or request.args.get("to") else (None, None, [])
    action = request.args.get("action", "")[:60]
    actor = request.args.get("actor", "")
    statement = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if action:
        statement = statement.where(AuditEvent.action == action)
    if optional_id(actor):
        statement = statement.where(AuditEvent.actor_id == optional_id(actor))
    if first and last:
        start, end = local_day_bounds(first, last, current_user.timezone)
        statement = statement.where(AuditEvent.created_at >= start, AuditEvent.created_at < end)
    pagination = paginate(statement, PER_PAGE)
    actions = db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    admins = db.session.scalars(sa.select(User).where(User.role == Role.ADMIN).order_by(User.name)).all()
    filters = {
        "action": action,
        "actor": actor,
        "from": first.isoformat() if first else "",
        "to": last.isoformat() if last else "",
    }
    return render_template(
        "admin/audit.html",
        pagination=pagination,
        actions=actions,
        admins=admins,
        filters=filters,
        problems=problems,
        query_args={k: v for k, v in filters.items() if v},
    )
