"""The insights pages and search send the same number of SQL statements for 5 articles as for 60."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.insights import search, services
from portal.insights.models import InsightArticle, InsightTag
from portal.statuses import ArticleStatus
from tests.conftest import logged_in
from tests.factories import make_user
from tests.test_query_counts import statements_for


def add_articles(app, author_email: str, count: int, start: int = 0) -> None:
    """Published articles tagged London and Interviews, indexed for search."""
    with app.app_context():
        author = db.session.scalar(sa.select(User).where(User.email == author_email))
        tags = list(db.session.scalars(sa.select(InsightTag).where(InsightTag.slug.in_(("london", "interviews")))))
        base = datetime(2026, 11, 1, tzinfo=UTC)
        for number in range(start, count):
            article = InsightArticle(
                slug=f"lakehouse-note-{number}",
                author_id=author.id,
                approved_by_id=author.id,
                status=ArticleStatus.PUBLISHED,
                title=f"Lakehouse note {number}",
                summary="About lakehouses.",
                body="The lakehouse pattern in London interviews. " * 20,
                published_at=base + timedelta(minutes=number),
                tags=tags,
            )
            db.session.add(article)
            db.session.flush()
            search.index_article(article)
        db.session.commit()


def test_insights_pages_and_search_send_the_same_number_of_queries_for_5_and_60_articles(app, count_queries):
    with app.app_context():
        services.seed_tags()
        make_user("admin", email="admin@example.org")
        make_user(email="sam@example.org")
    add_articles(app, "admin@example.org", 5)
    urls = [
        "/insights",
        "/insights?tag=london",
        "/insights?tag=london&tag=interviews",
        "/insights/lakehouse-note-1",
        "/insights/feed.xml",
        "/search?q=lakehouse",
        "/search?q=lakehouse+interviews",
    ]
    anonymous, candidate = app.test_client(), logged_in(app, "sam@example.org")
    for url in urls:  # the first search indexes the guide and the FAQ once
        anonymous.get(url)

    def counts() -> dict:
        found = {}
        for name, client in (("anonymous", anonymous), ("candidate", candidate)):
            for url in urls:
                app.extensions.get("public_html", {}).clear()  # count a full render, not the copy kept from before
                found[(name, url)] = statements_for(client, count_queries, url)
        found[("candidate", "/insights/saved")] = statements_for(candidate, count_queries, "/insights/saved")
        return found

    few = counts()
    add_articles(app, "admin@example.org", 60, start=5)
    many = counts()
    assert few == many
    assert max(many.values()) <= 12
