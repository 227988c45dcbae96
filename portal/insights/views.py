"""Insight articles: the public list, article pages and feed; writing, approving and publishing; saved articles."""

from __future__ import annotations

from datetime import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.auth.models import User
from portal.caching import public_page
from portal.content import render_markdown
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import EmptyForm, optional_id
from portal.insights import reports, search, services
from portal.insights.forms import (
    ArticleForm,
    InterestsForm,
    PublishForm,
    RenameTagForm,
    SearchForm,
    TagForm,
    VersionForm,
)
from portal.insights.models import InsightRevision
from portal.interviews.availability import local_to_utc
from portal.pagination import paginate
from portal.security import role_required
from portal.statuses import ARTICLE_STATUS_LABELS, TAG_KIND_LABELS, ArticleStatus, Role
from portal.timeutil import to_local
from portal.views import flash_refusal, show_error

bp = Blueprint("insights", __name__)

PER_PAGE = 10
MAX_TAG_FILTERS = 5


def _tag_filters() -> list[str]:
    return [slug for slug in request.args.getlist("tag")[:MAX_TAG_FILTERS] if slug.isascii() and len(slug) <= 60]


def _public(render, *parts: str):
    marker, changed_at = services.last_change()
    return public_page((marker, request.full_path, *parts), changed_at, render)


@bp.route("/insights")
def index():
    chosen = _tag_filters()

    def render() -> str:
        pagination = paginate(services.tagged(services.published(), chosen), PER_PAGE)
        tags = services.filter_tags()
        return render_template(
            "insights/index.html",
            pagination=pagination,
            tags=tags,
            chosen=chosen,
            kinds=TAG_KIND_LABELS,
            reading_minutes=services.reading_minutes,
        )

    return _public(render)


@bp.route("/insights/<slug>")
def article(slug: str):
    found = services.article_for(slug, current_user)
    if found.status != ArticleStatus.PUBLISHED:  # a draft or archived article, shown to who may edit it
        return _render_article(found)
    if request.method == "GET":
        reports.count_view(found.id)
    return _public(lambda: _render_article(found))


def _render_article(found) -> str:
    return render_template(
        "insights/article.html",
        article=found,
        related=services.related_articles(found),
        minutes=services.reading_minutes(found.body),
        reading_minutes=services.reading_minutes,
        body_html=render_markdown(found.body),
        saved=found.id in services.saved_ids(current_user),
        labels=ARTICLE_STATUS_LABELS,
    )


@bp.route("/insights/feed.xml")
def feed():
    def render() -> str:
        articles = list(db.session.scalars(services.published().limit(20)).unique())
        public_url = current_app.config["PUBLIC_URL"].rstrip("/")
        updated = max((a.updated_at for a in articles), default=current_app.extensions["build"][1])
        return render_template(
            "insights/feed.xml",
            articles=articles,
            public_url=public_url,
            feed_id=f"tag:{urlsplit(public_url).hostname},2026:insights",
            updated=updated,
        )

    response = _public(render, "feed")
    response.mimetype = "application/atom+xml"
    return response


# Writing and publishing ---------------------------------------------------------------------------------------


@bp.route("/insights/mine")
@role_required(Role.MENTOR, Role.ADMIN)
def mine():
    return render_template(
        "insights/mine.html",
        pagination=paginate(services.articles_of(current_user), 20),
        labels=ARTICLE_STATUS_LABELS,
    )


def _form_text(form: ArticleForm) -> services.ArticleText:
    return services.ArticleText(form.title.data, form.summary.data, form.body.data, tuple(form.tags.data or ()))


def _tag_choices(form: ArticleForm, keep: frozenset[int] = frozenset()) -> None:
    """Tags not retired, and the retired ones the article already has (`keep`)."""
    form.tags.choices = [
        (tag.id, f"{TAG_KIND_LABELS.get(tag.kind, tag.kind)}: {tag.name}") for tag in services.offered_tags(keep)
    ]


@bp.route("/insights/new", methods=["GET", "POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def new():
    form = ArticleForm()
    _tag_choices(form)
    preview = None
    if form.validate_on_submit():
        if form.save.data:
            try:
                created = services.create_article(current_user, _form_text(form))
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            else:
                flash("Draft saved. Submit it when it is ready for an editor.", "success")
                return redirect(url_for("insights.edit", article_id=created.id))
        preview = _preview(form)
    return render_template("insights/edit.html", form=form, article=None, preview=preview)


def _preview(form: ArticleForm):
    return render_markdown(form.body.data or "")


@bp.route("/insights/<int:article_id>/edit", methods=["GET", "POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def edit(article_id: int):
    found = services.editable_article(article_id, current_user)
    form = _article_as_saved(found) if request.method == "GET" else ArticleForm()
    _tag_choices(form, frozenset(tag.id for tag in found.tags))
    preview = None
    if form.validate_on_submit():
        if form.save.data:
            try:
                services.update_article(found, current_user, _form_text(form), optional_id(form.version.data))
                db.session.commit()
            except DomainError as error:
                show_error(form, error)
            else:
                flash("Article saved as a new revision.", "success")
                return redirect(url_for("insights.edit", article_id=found.id))
        preview = _preview(form)
    return _edit_page(found, form, preview)


def _article_as_saved(found) -> ArticleForm:
    """The article form filled from the article (never from the request)."""
    return ArticleForm(
        formdata=None,
        data={
            "title": found.title,
            "summary": found.summary,
            "body": found.body,
            "tags": [tag.id for tag in found.tags],
            "version": found.version,
        },
    )


def _edit_page(found, form: ArticleForm, preview=None, publish_form: PublishForm | None = None) -> str:
    """The editor of an article: its form, status, actions and the publish form (with its errors when it was
    refused)."""
    if publish_form is None:
        publish_form = PublishForm(data={"version": found.version}, formdata=None)
    return render_template(
        "insights/edit.html",
        form=form,
        article=found,
        preview=preview,
        action_form=VersionForm(data={"version": found.version}),
        publish_form=publish_form,
        labels=ARTICLE_STATUS_LABELS,
    )


ACTIONS = {
    "submit": (services.submit_article, "Submitted: an editor will review it."),
    "return": (services.return_to_draft, "Back to draft."),
    "archive": (services.archive_article, "Archived: it no longer shows on the site."),
}


@bp.route("/insights/<int:article_id>/<any(submit, return, archive):action>", methods=["POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def change(article_id: int, action: str):
    found = services.editable_article(article_id, current_user)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    transition, message = ACTIONS[action]
    try:
        transition(found, current_user, optional_id(form.version.data))
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
    else:
        flash(message, "success")
    return redirect(url_for("insights.edit", article_id=found.id))


@bp.route("/insights/<int:article_id>/publish", methods=["POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def publish(article_id: int):
    found = services.editable_article(article_id, current_user)
    form = PublishForm()
    if not form.validate_on_submit():  # the date or time is refused next to its field
        article_form = _article_as_saved(found)
        _tag_choices(article_form, frozenset(tag.id for tag in found.tags))
        return _edit_page(found, article_form, publish_form=form)
    try:
        at = None
        if form.publish_on.data:
            at, note = local_to_utc(
                form.publish_on.data, form.publish_time.data or time(0, 0), current_user.timezone, "publish_on"
            )
            if note:
                flash(note, "info")
        services.publish_article(found, current_user, at, optional_id(form.version.data))
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
    else:
        if found.is_scheduled:
            when = to_local(found.publish_at, current_user.timezone)
            flash(f"Approved: it will be published at {when:%H:%M on %d %B %Y} ({current_user.timezone}).", "success")
        else:
            flash("Published: everyone can read it now.", "success")
    return redirect(url_for("insights.edit", article_id=found.id))


@bp.route("/insights/<int:article_id>/revisions")
@role_required(Role.MENTOR, Role.ADMIN)
def revisions(article_id: int):
    found = services.editable_article(article_id, current_user)
    return render_template(
        "insights/revisions.html", article=found, revisions=services.revisions(found), form=VersionForm()
    )


@bp.route("/insights/revisions/<int:revision_id>/restore", methods=["POST"])
@role_required(Role.MENTOR, Role.ADMIN)
def restore(revision_id: int):
    revision = db.get_or_404(InsightRevision, revision_id)
    found = services.editable_article(revision.article_id, current_user)
    if not VersionForm().validate_on_submit():
        abort(400)
    restored = services.restore_revision(revision, current_user)
    db.session.commit()
    flash(f"Revision {revision.id} restored as revision {restored.id}.", "success")
    return redirect(url_for("insights.revisions", article_id=found.id))


# Saved articles -----------------------------------------------------------------------------------------------


@bp.route("/insights/saved")
@role_required(Role.CANDIDATE)
def saved():
    return render_template(
        "insights/saved.html",
        pagination=paginate(services.saved_articles(current_user), PER_PAGE),
        reading_minutes=services.reading_minutes,
    )


@bp.route("/insights/<slug>/<any(save, forget):action>", methods=["POST"])
@login_required
def save(slug: str, action: str):
    found = services.article_for(slug, current_user)
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        if action == "save":
            services.save_for_later(current_user, found)
        else:
            services.forget_saved(current_user, found)
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
    else:
        flash("Saved to read later." if action == "save" else "Removed from your saved articles.", "success")
    return redirect(url_for("insights.article", slug=found.slug))


@bp.route("/insights/editors/<int:user_id>/<any(grant, revoke):change>", methods=["POST"])
@role_required(Role.ADMIN)
def set_editor(user_id: int, change: str):
    person = db.get_or_404(User, user_id)
    if not VersionForm().validate_on_submit():
        abort(400)
    try:
        services.set_editor(person, change == "grant", current_user)
        db.session.commit()
    except DomainError as error:
        flash_refusal(error)
    else:
        flash(f"{person.name} {'is now' if change == 'grant' else 'is no longer'} an article editor.", "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/insights/interests", methods=["GET", "POST"])
@role_required(Role.CANDIDATE)
def interests():
    form = InterestsForm(
        data={"tags": sorted(services.interests_of(current_user))} if request.method == "GET" else None
    )
    tags = services.interest_tags()
    form.tags.choices = [(tag.id, tag.name) for tag in tags]
    if form.validate_on_submit():
        try:
            services.set_interests(current_user, tuple(form.tags.data or ()))
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash("Saved: your home page shows new articles about these sectors and cities.", "success")
            return redirect(url_for("insights.interests"))
    return render_template("insights/interests.html", form=form, tags=tags, kinds=TAG_KIND_LABELS)


# The managed tag lists (admins) -------------------------------------------------------------------------------


def _tag_or_404(tag_id: int):
    try:
        return services.get_tag(tag_id)
    except NotFound:
        abort(404)


@bp.route("/insights/tag-lists", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def tag_lists():
    form = TagForm()
    form.kind.choices = [("", "Choose a list"), *((kind.value, label) for kind, label in TAG_KIND_LABELS.items())]
    if form.validate_on_submit():
        try:
            tag = services.add_tag(current_user, form.kind.data, form.name.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(f"The tag “{tag.name}” is added.", "success")
            return redirect(url_for("insights.tag_lists"))
    return render_template("insights/tag_lists.html", form=form, tags=services.all_tags(), kinds=TAG_KIND_LABELS)


@bp.route("/insights/tag-lists/<int:tag_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def rename_tag(tag_id: int):
    tag = _tag_or_404(tag_id)
    form = RenameTagForm(data={"name": tag.name} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.rename_tag(current_user, tag, form.name.data)
            db.session.commit()
        except DomainError as error:
            show_error(form, error)
        else:
            flash(f"The tag is renamed “{tag.name}”.", "success")
            return redirect(url_for("insights.tag_lists"))
    return render_template("insights/tag_rename.html", form=form, tag=tag, kinds=TAG_KIND_LABELS)


@bp.route("/insights/tag-lists/<int:tag_id>/<any(retire, restore):change>", methods=["POST"])
@role_required(Role.ADMIN)
def retire_tag(tag_id: int, change: str):
    tag = _tag_or_404(tag_id)
    if EmptyForm().validate_on_submit():
        try:
            services.set_tag_retired(current_user, tag, change == "retire")
            db.session.commit()
        except DomainError as error:
            flash_refusal(error)
        else:
            if tag.retired:
                flash(f"“{tag.name}” is retired: articles that have it keep it, new ones cannot choose it.", "success")
            else:
                flash(f"“{tag.name}” is offered again.", "success")
    return redirect(url_for("insights.tag_lists"))


# Search -------------------------------------------------------------------------------------------------------


@bp.route("/search")
def search_page():
    form = SearchForm(request.args)
    asked = bool(request.args.get("q"))
    # A query holding control characters or invisible direction marks is refused with the form's message.
    query = search.parse_query(form.q.data if form.validate() else "")
    results = search.search(query)
    return render_template("insights/search.html", form=form, query=query, results=results, asked=asked)
