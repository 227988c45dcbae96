"""Demo insight articles for `flask seed-demo`: a few published pieces by the demo mentors, and one waiting for an
editor."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.insights import services
from portal.insights.models import InsightArticle, InsightTag

ARTICLES = (
    (
        "What London banks ask ML engineers in interviews",
        "Model risk, latency and explaining a model to a regulator come up more than algorithms.",
        "## Model risk first\n\nExpect questions on validation, monitoring and who signs a model off.\n\n"
        "## Bring a story\n\nOne project told end to end, with numbers, beats five half-remembered ones.",
        ("london", "financial-services", "interviews"),
        True,
    ),
    (
        "Edinburgh's health-data teams are hiring",
        "NHS data, trusted research environments and the skills they look for.",
        "## Where the work is\n\nResearch platforms need engineers who can ship models inside secure environments.\n\n"
        "- Python and SQL\n- Reproducible pipelines\n- Clear documentation",
        ("edinburgh", "healthtech", "hiring-trends"),
        True,
    ),
    (
        "A portfolio project that gets you to the second round",
        "Small, finished and deployed beats large and abandoned.",
        "## Finish it\n\nA deployed model with a README, tests and a monitoring chart says more than a notebook.",
        ("remote", "portfolio"),
        True,
    ),
    (
        "Salaries for junior ML engineers in Manchester",
        "What offers looked like this year.",
        "## Ranges\n\nWe are collecting this year's figures from recent graduates.",
        ("manchester", "salaries"),
        False,
    ),
)


def seed_insights(author: User, editor: User) -> int:
    """The demo articles not there yet (matched by title); returns how many were added."""
    services.seed_tags()
    existing = set(db.session.scalars(sa.select(InsightArticle.title)))
    added = 0
    for title, summary, body, slugs, publish in ARTICLES:
        if title in existing:
            continue
        tag_ids = tuple(db.session.scalars(sa.select(InsightTag.id).where(InsightTag.slug.in_(slugs))))
        article = services.create_article(author, services.ArticleText(title, summary, body, tag_ids))
        services.submit_article(article, author)
        if publish:
            services.publish_article(article, editor)
        added += 1
    return added
