"""Writing, approving, publishing and reading insight articles; every change is audited and kept as a revision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.services import record
from portal.auth.models import User
from portal.content import slugify
from portal.db import lock, utcnow
from portal.errors import Conflict, DomainError, NotFound, PermissionDenied
from portal.extensions import db
from portal.insights.models import (
    DEFAULT_TAGS,
    InsightArticle,
    InsightRevision,
    InsightTag,
    SavedArticle,
    article_tags,
    candidate_interests,
)
from portal.insights.search import index_article
from portal.statuses import TAG_KIND_LABELS, ArticleStatus, TagKind

WORDS_PER_MINUTE = 220
TAG_NAME_MAX = 60


@dataclass(frozen=True)
class ArticleText:
    title: str
    summary: str
    body: str
    tag_ids: tuple[int, ...] = ()


def seed_tags() -> int:
    """Add the default tags that are missing; returns how many were added."""
    known = set(db.session.scalars(sa.select(InsightTag.slug)))
    added = 0
    for kind, names in DEFAULT_TAGS.items():
        for name in names:
            if slugify(name) not in known:
                db.session.add(InsightTag(kind=kind, name=name, slug=slugify(name)))
                added += 1
    db.session.flush()
    return added


def all_tags() -> list[InsightTag]:
    return list(db.session.scalars(sa.select(InsightTag).order_by(InsightTag.kind, InsightTag.name)))


def offered_tags(keep: frozenset[int] = frozenset()) -> list[InsightTag]:
    """The tags an article may be given: those not retired, and the ones in `keep` (already on the article)."""
    return [tag for tag in all_tags() if not tag.retired or tag.id in keep]


def filter_tags() -> list[InsightTag]:
    """The tags readers filter by: those not retired, and retired ones still on a published article."""
    in_use = (
        sa.select(article_tags.c.tag_id)
        .join(InsightArticle, InsightArticle.id == article_tags.c.article_id)
        .where(InsightArticle.status == ArticleStatus.PUBLISHED)
    )
    return list(
        db.session.scalars(
            sa.select(InsightTag)
            .where(sa.or_(InsightTag.retired.is_(False), InsightTag.id.in_(in_use)))
            .order_by(InsightTag.kind, InsightTag.name)
        )
    )


# Managing the tag lists (admins) ----------------------------------------------------------------------------------


def get_tag(tag_id: int) -> InsightTag:
    tag = db.session.get(InsightTag, tag_id)
    if tag is None:
        raise NotFound("No such tag.")
    return tag


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise PermissionDenied("Only admins manage the tag lists.")


def _check_name_free(kind: str, name: str, tag_id: int | None = None) -> None:
    """Raises DomainError if the list already has this name (in any case)."""
    same = sa.select(InsightTag.id).where(InsightTag.kind == kind, sa.func.lower(InsightTag.name) == name.lower())
    if tag_id is not None:
        same = same.where(InsightTag.id != tag_id)
    if db.session.scalar(same.limit(1)) is not None:
        raise DomainError(_duplicate_message(kind, name), field="name")


def _duplicate_message(kind: str, name: str) -> str:
    return f"The {TAG_KIND_LABELS.get(kind, kind).lower()} list already has “{name}”. Choose another name."


def _flush_name(tag: InsightTag) -> None:
    """Flush the tag; the unique index settles two admins saving the same name at once."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError(_duplicate_message(tag.kind, tag.name), field="name") from error


def _clean_tag_name(name: str | None) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise DomainError("Enter a name for the tag.", field="name")
    if len(cleaned) > TAG_NAME_MAX:
        raise DomainError(f"At most {TAG_NAME_MAX} characters.", field="name")
    return cleaned


def add_tag(by: User, kind: str, name: str) -> InsightTag:
    """A new tag on one list; raises DomainError if the name is empty or already on that list."""
    _require_admin(by)
    if kind not in TAG_KIND_LABELS:
        raise DomainError("Choose a list.", field="kind")
    name = _clean_tag_name(name)
    _check_name_free(kind, name)
    slug = slugify(name)[:50]
    if db.session.scalar(sa.select(InsightTag.id).where(InsightTag.slug == slug)) is not None:
        slug = f"{slug}-{kind}"  # the same word on another list
    tag = InsightTag(kind=kind, name=name, slug=slug)
    db.session.add(tag)
    _flush_name(tag)
    record(by, "insight_tag.added", "insight_tag", tag.id, f"Added the tag “{name}”", after=_tag_summary(tag))
    return tag


def rename_tag(by: User, tag: InsightTag, name: str) -> None:
    """A new name for a tag (its address in filter links stays); raises DomainError on a name its list has."""
    _require_admin(by)
    name = _clean_tag_name(name)
    before = _tag_summary(tag)
    _check_name_free(tag.kind, name, tag.id)
    tag.name = name
    _flush_name(tag)
    record(
        by,
        "insight_tag.renamed",
        "insight_tag",
        tag.id,
        f"Renamed the tag “{before['name']}” to “{name}”",
        before=before,
        after=_tag_summary(tag),
    )


def set_tag_retired(by: User, tag: InsightTag, retired: bool) -> None:
    """Retire a tag (no longer offered for articles, kept where used) or bring it back."""
    _require_admin(by)
    if tag.retired == retired:
        return
    before = _tag_summary(tag)
    tag.retired = retired
    db.session.flush()
    action, verb = ("insight_tag.retired", "Retired") if retired else ("insight_tag.restored", "Brought back")
    record(by, action, "insight_tag", tag.id, f"{verb} the tag “{tag.name}”", before=before, after=_tag_summary(tag))


def _tag_summary(tag: InsightTag) -> dict:
    return {"kind": tag.kind, "name": tag.name, "retired": tag.retired}


def reading_minutes(body: str) -> int:
    return max(1, -(-len(re.findall(r"\S+", body or "")) // WORDS_PER_MINUTE))


def _clean(text: ArticleText) -> ArticleText:
    title, summary, body = (text.title or "").strip(), (text.summary or "").strip(), (text.body or "").strip()
    if not title:
        raise DomainError("Enter a title.", field="title")
    if not body:
        raise DomainError("The article cannot be empty.", field="body")
    return ArticleText(title[:200], summary[:300], body + "\n", tuple(dict.fromkeys(text.tag_ids)))


def _tags(tag_ids: tuple[int, ...]) -> list[InsightTag]:
    if not tag_ids:
        return []
    tags = list(db.session.scalars(sa.select(InsightTag).where(InsightTag.id.in_(tag_ids))))
    if len(tags) != len(tag_ids):
        raise DomainError("Choose tags from the lists.", field="tags")
    return tags


def _unique_slug(title: str) -> str:
    base = slugify(title)[:80]
    taken = set(
        db.session.scalars(
            sa.select(InsightArticle.slug).where(
                sa.or_(InsightArticle.slug == base, InsightArticle.slug.like(base.replace("_", "\\_") + "-%", "\\"))
            )
        )
    )
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _keep_revision(article: InsightArticle, by: User, restored_from: int | None = None) -> InsightRevision:
    revision = InsightRevision(
        article_id=article.id,
        title=article.title,
        summary=article.summary,
        body=article.body,
        tag_slugs=" ".join(tag.slug for tag in article.tags),
        author_id=by.id,
        restored_from_id=restored_from,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def _audit(by: User, article: InsightArticle, action: str, summary: str, before: dict | None = None) -> None:
    record(
        by,
        f"insight.{action}",
        "insight_article",
        article.id,
        f"Article “{article.title}”: {summary}",
        before,
        {"status": article.status, "version": article.version},
    )


def create_article(by: User, text: ArticleText) -> InsightArticle:
    """A new draft by a mentor or an admin, with its first revision."""
    if not by.may_write_articles:
        raise DomainError("Only mentors and admins write articles.")
    text = _clean(text)
    article = InsightArticle(
        slug=_unique_slug(text.title),
        author_id=by.id,
        title=text.title,
        summary=text.summary,
        body=text.body,
        tags=_tags(text.tag_ids),
    )
    db.session.add(article)
    db.session.flush()
    _keep_revision(article, by)
    _audit(by, article, "created", "draft started")
    return article


def _locked(article: InsightArticle, version: int | None) -> dict:
    """Lock the article's row and refuse a form read at another version; returns its state before the change."""
    lock(article)
    if version is not None and article.version != version:
        raise Conflict("This article was changed by someone else since you opened it.")
    return {"status": article.status, "version": article.version}


def update_article(article: InsightArticle, by: User, text: ArticleText, version: int | None) -> InsightRevision:
    """Save new words and tags as a new revision (a stale form is refused)."""
    before = _locked(article, version)
    if not article.can_edit(by):
        raise NotFound("No such article.")
    text = _clean(text)
    article.title, article.summary, article.body = text.title, text.summary, text.body
    article.tags = _tags(text.tag_ids)
    db.session.flush()
    index_article(article)
    revision = _keep_revision(article, by)
    _audit(by, article, "edited", f"revision {revision.id} saved", before)
    return revision


def submit_article(article: InsightArticle, by: User, version: int | None = None) -> None:
    before = _locked(article, version)
    article.submit(by)
    db.session.flush()
    _audit(by, article, "submitted", "submitted for approval", before)


def return_to_draft(article: InsightArticle, by: User, version: int | None = None) -> None:
    before = _locked(article, version)
    article.return_to_draft(by)
    db.session.flush()
    _audit(by, article, "returned", "returned to draft", before)


def publish_article(article: InsightArticle, by: User, at: datetime | None = None, version: int | None = None) -> None:
    """Publish now, or schedule for `at`; the worker publishes scheduled articles when their time comes."""
    before = _locked(article, version)
    now = utcnow()
    if at is not None and at <= now:
        raise DomainError("Choose a time still to come, or publish now.", field="publish_at")
    article.publish(by, now, at)
    db.session.flush()
    index_article(article)
    if article.is_scheduled:
        _audit(by, article, "scheduled", f"approved for publishing at {article.publish_at:%Y-%m-%d %H:%M} UTC", before)
    else:
        _audit(by, article, "published", "published", before)


def archive_article(article: InsightArticle, by: User, version: int | None = None) -> None:
    before = _locked(article, version)
    article.archive(by)
    db.session.flush()
    index_article(article)
    _audit(by, article, "archived", "archived", before)


def publish_due_articles(now: datetime | None = None) -> int:
    """The worker: publish every scheduled article whose time has come; returns how many. On PostgreSQL, rows
    another worker holds are skipped (it publishes them)."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(InsightArticle)
        .options(joinedload(InsightArticle.approved_by))
        .where(InsightArticle.status == ArticleStatus.SUBMITTED, InsightArticle.publish_at <= now)
        .order_by(InsightArticle.publish_at)
        .with_for_update(skip_locked=True, of=InsightArticle)
    ).all()
    published = 0
    for article in due:
        before = {"status": article.status, "version": article.version}
        if article.publish_when_due(now):
            db.session.flush()
            index_article(article)
            if article.approved_by is not None:
                _audit(article.approved_by, article, "published", "published at its scheduled time", before)
            published += 1
    return published


def revisions(article: InsightArticle) -> list[InsightRevision]:
    return list(
        db.session.scalars(
            sa.select(InsightRevision)
            .options(joinedload(InsightRevision.author))
            .where(InsightRevision.article_id == article.id)
            .order_by(InsightRevision.id.desc())
        )
    )


def restore_revision(revision: InsightRevision, by: User) -> InsightRevision:
    """Make an earlier revision the article's words and tags again, as a new revision."""
    article = db.session.get(InsightArticle, revision.article_id)
    before = _locked(article, None)
    if not article.can_edit(by):
        raise NotFound("No such article.")
    slugs = revision.tag_slugs.split()
    article.title, article.summary, article.body = revision.title, revision.summary, revision.body
    article.tags = list(db.session.scalars(sa.select(InsightTag).where(InsightTag.slug.in_(slugs)))) if slugs else []
    db.session.flush()
    index_article(article)
    restored = _keep_revision(article, by, restored_from=revision.id)
    _audit(by, article, "restored", f"revision {revision.id} restored as {restored.id}", before)
    return restored


# Reading ------------------------------------------------------------------------------------------------------


def published() -> sa.Select:
    """Published articles, newest first, with their authors and tags (constant number of queries)."""
    return (
        sa.select(InsightArticle)
        .options(joinedload(InsightArticle.author), selectinload(InsightArticle.tags))
        .where(InsightArticle.status == ArticleStatus.PUBLISHED)
        .order_by(InsightArticle.published_at.desc(), InsightArticle.id.desc())
    )


def tagged(statement: sa.Select, tag_slugs: list[str]) -> sa.Select:
    """Only the articles carrying every one of these tags."""
    for slug in tag_slugs:
        statement = statement.where(InsightArticle.tags.any(InsightTag.slug == slug))
    return statement


def article_for(slug: str, user) -> InsightArticle:
    """The article at this address if `user` may see it (NotFound else)."""
    article = db.session.scalar(
        sa.select(InsightArticle)
        .options(joinedload(InsightArticle.author), selectinload(InsightArticle.tags))
        .where(InsightArticle.slug == slug)
    )
    if article is None or not article.can_view(user):
        raise NotFound("No such article.")
    return article


def editable_article(article_id: int, user) -> InsightArticle:
    article = db.session.get(InsightArticle, article_id)
    if article is None or not article.can_edit(user):
        raise NotFound("No such article.")
    return article


def related_articles(article: InsightArticle, limit: int = 3) -> list[InsightArticle]:
    """Other published articles sharing the most tags with this one (newest first among equals)."""
    tag_ids = [tag.id for tag in article.tags]
    if not tag_ids:
        return []
    shared = (
        sa.select(article_tags.c.article_id, sa.func.count().label("shared"))
        .where(article_tags.c.tag_id.in_(tag_ids), article_tags.c.article_id != article.id)
        .group_by(article_tags.c.article_id)
        .subquery()
    )
    statement = (
        published()
        .join(shared, shared.c.article_id == InsightArticle.id)
        .order_by(None)
        .order_by(shared.c.shared.desc(), InsightArticle.published_at.desc(), InsightArticle.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement).unique())


def articles_of(user: User) -> sa.Select:
    """The articles a writer works on: their own; for editors, also everything waiting for approval."""
    statement = sa.select(InsightArticle).options(joinedload(InsightArticle.author))
    if user.may_publish_articles:
        statement = statement.where(
            sa.or_(InsightArticle.author_id == user.id, InsightArticle.status != ArticleStatus.DRAFT)
        )
    else:
        statement = statement.where(InsightArticle.author_id == user.id)
    return statement.order_by(InsightArticle.updated_at.desc(), InsightArticle.id.desc())


def last_change() -> tuple[str, datetime | None]:
    """A marker of the published articles as they are now, and when the newest change was made (one query)."""
    count, newest = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(InsightArticle.updated_at)).where(
            InsightArticle.status == ArticleStatus.PUBLISHED
        )
    ).one()
    return f"insights:{count}:{newest.isoformat() if newest else '-'}", newest


# Saves --------------------------------------------------------------------------------------------------------


def save_for_later(user: User, article: InsightArticle) -> None:
    if not user.is_candidate:
        raise DomainError("Only candidates keep a reading list.")
    if article.status != ArticleStatus.PUBLISHED:
        raise NotFound("No such article.")
    # One statement that does nothing when the article is already saved: two tabs saving at once both succeed.
    insert = (postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(SavedArticle)
    db.session.execute(insert.values(user_id=user.id, article_id=article.id).on_conflict_do_nothing())


def forget_saved(user: User, article: InsightArticle) -> None:
    db.session.execute(
        sa.delete(SavedArticle).where(SavedArticle.user_id == user.id, SavedArticle.article_id == article.id)
    )


def saved_ids(user) -> set[int]:
    if not getattr(user, "is_authenticated", False) or not user.is_candidate:
        return set()
    return set(db.session.scalars(sa.select(SavedArticle.article_id).where(SavedArticle.user_id == user.id)))


def saved_articles(user: User) -> sa.Select:
    return (
        published()
        .join(SavedArticle, SavedArticle.article_id == InsightArticle.id)
        .where(SavedArticle.user_id == user.id)
        .order_by(None)
        .order_by(SavedArticle.created_at.desc(), InsightArticle.id.desc())
    )


def set_editor(person: User, editor: bool, by: User) -> None:
    """An admin makes a mentor an article editor (who approves and publishes), or stops it."""
    if not by.is_admin:
        raise DomainError("Only admins choose the editors.")
    if not person.is_mentor:
        raise DomainError("Only mentors can be article editors; admins already publish.")
    lock(person)
    if person.is_editor == editor:
        return
    person.is_editor = editor
    record(
        by,
        "insight.editor_granted" if editor else "insight.editor_revoked",
        "user",
        person.id,
        f"{person.name} {'may now' if editor else 'may no longer'} approve and publish articles",
        {"is_editor": not editor},
        {"is_editor": editor},
    )


# Interests: the sectors and cities a candidate follows -------------------------------------------------------

INTEREST_KINDS = (TagKind.SECTOR, TagKind.PLACE)
NEW_FOR = timedelta(days=30)  # how long an article counts as new on the dashboard


def interest_tags() -> list[InsightTag]:
    return [tag for tag in all_tags() if tag.kind in INTEREST_KINDS and not tag.retired]


def interests_of(user: User) -> set[int]:
    return set(
        db.session.scalars(sa.select(candidate_interests.c.tag_id).where(candidate_interests.c.user_id == user.id))
    )


def set_interests(user: User, tag_ids: tuple[int, ...]) -> None:
    """The candidate follows exactly these sectors and cities."""
    if not user.is_candidate:
        raise DomainError("Only candidates choose sectors and cities to follow.")
    wanted = set(tag_ids)
    allowed = {tag.id for tag in interest_tags()}
    if not wanted <= allowed:
        raise DomainError("Choose sectors and cities from the lists.", field="tags")
    lock(user)
    db.session.execute(sa.delete(candidate_interests).where(candidate_interests.c.user_id == user.id))
    if wanted:
        db.session.execute(sa.insert(candidate_interests), [{"user_id": user.id, "tag_id": tag} for tag in wanted])


def new_articles_for(user: User, now: datetime, limit: int = 3) -> list[InsightArticle]:
    """Articles published in the last 30 days with a sector or city the candidate follows, newest first."""
    followed = sa.select(candidate_interests.c.tag_id).where(candidate_interests.c.user_id == user.id)
    statement = (
        published()
        .where(
            InsightArticle.published_at >= now - NEW_FOR,
            InsightArticle.tags.any(InsightTag.id.in_(followed)),
        )
        .limit(limit)
    )
    return list(db.session.scalars(statement).unique())
