"""Insight articles: their tags, revisions, readers' saves, daily view counts, and the search index."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import UTCDateTime, status_check, utcnow
from portal.errors import DomainError, PermissionDenied
from portal.extensions import db
from portal.statuses import ArticleStatus, TagKind

# The managed lists of tags, seeded by the migration (which keeps its own copy) and by `seed_tags`.
DEFAULT_TAGS: dict[TagKind, tuple[str, ...]] = {
    TagKind.SECTOR: (
        "Financial services",
        "Healthtech",
        "E-commerce",
        "Public sector",
        "Energy",
        "Media and publishing",
    ),
    TagKind.PLACE: ("London", "Edinburgh", "Manchester", "Bristol", "Cambridge", "Leeds", "Remote"),
    TagKind.TOPIC: ("Interviews", "Portfolio", "Salaries", "Hiring trends", "Tools"),
}

article_tags = sa.Table(
    "insight_article_tags",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("insight_articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("insight_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

# The sectors and cities a candidate follows: their dashboard shows new articles with those tags.
candidate_interests = sa.Table(
    "candidate_interests",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("insight_tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class InsightTag(db.Model):
    """A sector, a UK city or region, or a topic an article is about, from the lists admins manage."""

    __tablename__ = "insight_tags"
    __table_args__ = (
        status_check(TagKind, "kind", "kind_known"),
        sa.Index("uq_insight_tags_kind_name", "kind", "name", unique=True),  # one name per list
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(60))
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)  # kept on a rename, so filter links keep working
    # A retired tag is no longer offered for new tagging; it stays on the articles that have it.
    retired: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class InsightArticle(db.Model):
    """An article in Markdown. Mentors write drafts and submit them; an editor (an admin, or a mentor an admin made
    editor) publishes them at once or at a set time (status "submitted" with `publish_at`), and archives them."""

    __tablename__ = "insight_articles"
    __table_args__ = (
        status_check(ArticleStatus),
        sa.Index("ix_insight_articles_status_published_at", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(90), unique=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(20), default=ArticleStatus.DRAFT)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped by every change: an UPDATE that finds another version changes nothing, and edit forms carry it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    tags: Mapped[list[InsightTag]] = relationship(secondary=article_tags, order_by=InsightTag.name)

    __mapper_args__ = {"version_id_col": version}

    # Who may do what --------------------------------------------------------------------------------------------
    def can_view(self, user) -> bool:
        """Published articles are public; any other state only for who may edit it."""
        return self.status == ArticleStatus.PUBLISHED or self.can_edit(user)

    def can_edit(self, user) -> bool:
        """Editors edit any article; its author edits it until it is published."""
        if not getattr(user, "is_authenticated", False) or not user.may_write_articles:
            return False
        if user.may_publish_articles:
            return True
        return user.id == self.author_id and self.status in (ArticleStatus.DRAFT, ArticleStatus.SUBMITTED)

    def can_publish(self, user) -> bool:
        return getattr(user, "is_authenticated", False) and user.may_publish_articles

    @property
    def is_scheduled(self) -> bool:
        return self.status == ArticleStatus.SUBMITTED and self.publish_at is not None

    # Transitions -----------------------------------------------------------------------------------------------
    def submit(self, by: User) -> None:
        """A draft goes to the editors."""
        if not self.can_edit(by):
            raise PermissionDenied("You cannot submit this article.")
        if self.status != ArticleStatus.DRAFT:
            raise DomainError("Only a draft can be submitted.")
        self.status = ArticleStatus.SUBMITTED

    def return_to_draft(self, by: User) -> None:
        """A submitted (or scheduled) article goes back to its author as a draft."""
        if not self.can_edit(by):
            raise PermissionDenied("You cannot change this article.")
        if self.status != ArticleStatus.SUBMITTED:
            raise DomainError("Only a submitted article can go back to draft.")
        self.status = ArticleStatus.DRAFT
        self.publish_at = None

    def publish(self, by: User, now: datetime, at: datetime | None = None) -> None:
        """Publish now, or approve it to be published at `at` (a time still to come)."""
        if not self.can_publish(by):
            raise PermissionDenied("Only an editor can publish articles.")
        if self.status not in (ArticleStatus.DRAFT, ArticleStatus.SUBMITTED):
            raise DomainError("This article is already published or archived.")
        self.approved_by_id = by.id
        if at is not None and at > now:
            self.status = ArticleStatus.SUBMITTED
            self.publish_at = at
            return
        self.status = ArticleStatus.PUBLISHED
        self.publish_at = None
        self.published_at = now

    def publish_when_due(self, now: datetime) -> bool:
        """The worker: a scheduled article whose time has come is published (True); anything else stays."""
        if not (self.is_scheduled and self.publish_at <= now):
            return False
        self.status = ArticleStatus.PUBLISHED
        self.published_at = self.publish_at
        self.publish_at = None
        return True

    def archive(self, by: User) -> None:
        if not self.can_publish(by):
            raise PermissionDenied("Only an editor can archive articles.")
        if self.status != ArticleStatus.PUBLISHED:
            raise DomainError("Only a published article can be archived.")
        self.status = ArticleStatus.ARCHIVED

    def __repr__(self) -> str:
        return f"<InsightArticle {self.id} {self.slug} {self.status}>"


class InsightRevision(db.Model):
    """One saved version of an article's words and tags; any can be restored as a new one."""

    __tablename__ = "insight_revisions"
    __table_args__ = (sa.Index("ix_insight_revisions_article_id_id", "article_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("insight_articles.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    tag_slugs: Mapped[str] = mapped_column(sa.String(1000), default="")  # space-separated
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    restored_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("insight_revisions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class SavedArticle(db.Model):
    """An article a candidate keeps to read later."""

    __tablename__ = "insight_saves"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("insight_articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleViews(db.Model):
    """How many times an article was read on a day: a counter, nothing about who read it."""

    __tablename__ = "insight_article_views"

    article_id: Mapped[int] = mapped_column(sa.ForeignKey("insight_articles.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    views: Mapped[int] = mapped_column(default=0)


SEARCH_KINDS = ("article", "guide", "faq")


class SearchDocument(db.Model):
    """One thing search finds: a published article, the guide, or an FAQ answer, as plain text.

    The full-text index beside it is the database's own: on PostgreSQL a generated `search_vector` column (tsvector,
    title weighted above body) with a GIN index; on SQLite an FTS5 table kept in step by triggers. Neither fits a
    model, so both are made by the DDL below (and by the migration) and left out of schema comparisons
    (`compared_with_the_models`).
    """

    __tablename__ = "search_documents"
    __table_args__ = (
        sa.UniqueConstraint("kind", "ref", name="uq_search_documents_kind_ref"),
        sa.CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in SEARCH_KINDS)})", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    ref: Mapped[str] = mapped_column(sa.String(120))  # the article's id, "guide", or the FAQ answer's anchor
    source: Mapped[str] = mapped_column(sa.String(60), default="")  # the content revision it was made from
    title: Mapped[str] = mapped_column(sa.String(300))
    url: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)


POSTGRES_SEARCH_DDL = (
    "ALTER TABLE search_documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED",
    "CREATE INDEX ix_search_documents_search_vector ON search_documents USING gin (search_vector)",
)
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE search_documents_fts USING fts5(title, body, content='search_documents',"
    " content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER search_documents_fts_insert AFTER INSERT ON search_documents BEGIN"
    " INSERT INTO search_documents_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_fts_delete AFTER DELETE ON search_documents BEGIN"
    " INSERT INTO search_documents_fts(search_documents_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_fts_update AFTER UPDATE ON search_documents BEGIN"
    " INSERT INTO search_documents_fts(search_documents_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " INSERT INTO search_documents_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
SQLITE_SEARCH_DROP = "DROP TABLE IF EXISTS search_documents_fts"

for _statement in POSTGRES_SEARCH_DDL:
    sa.event.listen(SearchDocument.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_SEARCH_DDL:
    sa.event.listen(SearchDocument.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
sa.event.listen(SearchDocument.__table__, "before_drop", sa.DDL(SQLITE_SEARCH_DROP).execute_if(dialect="sqlite"))


def compared_with_the_models(name: str | None, type_: str, parent_names: dict) -> bool:
    """For Alembic's `include_name`: False for the full-text index objects the DDL above makes (the FTS5 table and
    its shadow tables, the tsvector column and its index), which no model describes."""
    if type_ == "table" and name and name.startswith("search_documents_fts"):
        return False
    index_parts = ("search_vector", "ix_search_documents_search_vector")
    return not (parent_names.get("table_name") == "search_documents" and name in index_parts)
