"""How insight articles are read: a daily counter per article (nothing about the reader), and the figures the
admin reports show from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import UTCDateTime, utcnow
from portal.extensions import db
from portal.insights.models import ArticleViews, InsightArticle
from portal.statuses import ArticleStatus
from portal.timeutil import to_local

MOST_READ = 10


def count_view(article_id: int, day: date | None = None) -> None:
    """Add one to the article's counter for the day, in one atomic statement (insert, or add to the row there).

    It runs in a short transaction of its own, committed at once: reading an article is a GET, whose own
    transaction only reads, and a counter must not hold a lock while the page renders.
    """
    day = day or utcnow().date()
    with db.engine.begin() as connection:
        insert = (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(ArticleViews)
        connection.execute(
            insert.values(article_id=article_id, day=day, views=1).on_conflict_do_update(
                index_elements=[ArticleViews.article_id, ArticleViews.day],
                set_={"views": ArticleViews.views + 1},
            )
        )


@dataclass(frozen=True)
class ArticleFigures:
    per_month: list[tuple[str, int]]  # ("November 2026", articles published that month), oldest first
    most_read: list[tuple[str, str, int]]  # (title, slug, views in the range), most read first


def figures(start: datetime, end: datetime, zone_name: str) -> ArticleFigures:
    """Articles published per month (in the viewer's zone) and the most read articles, between two instants: one
    statement, the publication times and the top of the counters read together."""
    total = sa.func.sum(ArticleViews.views)
    most_read = (
        sa.select(
            sa.literal(None, UTCDateTime).label("published_at"),
            InsightArticle.id.label("id"),
            InsightArticle.title.label("title"),
            InsightArticle.slug.label("slug"),
            total.label("views"),
        )
        .join(ArticleViews, ArticleViews.article_id == InsightArticle.id)
        .where(ArticleViews.day >= start.date(), ArticleViews.day <= (end - timedelta(microseconds=1)).date())
        .group_by(InsightArticle.id, InsightArticle.title, InsightArticle.slug)
        .order_by(total.desc(), InsightArticle.id)
        .limit(MOST_READ)
        .subquery()
    )
    published = sa.select(
        InsightArticle.published_at,
        InsightArticle.id,
        sa.literal(None, sa.String).label("title"),
        sa.literal(None, sa.String).label("slug"),
        sa.literal(None, sa.Integer).label("views"),
    ).where(
        InsightArticle.status.in_((ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED)),
        InsightArticle.published_at >= start,
        InsightArticle.published_at < end,
    )
    rows = db.session.execute(sa.union_all(published, sa.select(most_read))).all()
    months: dict[tuple[int, int], int] = {}
    read: list[tuple[int, int, str, str]] = []
    for instant, article_id, title, slug, views in rows:
        if views is None:
            local = to_local(instant, zone_name)
            months[(local.year, local.month)] = months.get((local.year, local.month), 0) + 1
        else:
            read.append((-int(views), article_id, title, slug))
    per_month = [(f"{date(year, month, 1):%B %Y}", count) for (year, month), count in sorted(months.items())]
    return ArticleFigures(per_month, [(title, slug, -minus_views) for minus_views, _, title, slug in sorted(read)])
