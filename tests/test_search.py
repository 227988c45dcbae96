"""Search over published articles, the guide and the FAQ (PostgreSQL full-text search or SQLite FTS5)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.admin.content import save_page
from portal.auth.models import User
from portal.extensions import db
from portal.insights import search, services
from portal.insights.models import InsightArticle, InsightTag
from tests.factories import make_user


@pytest.fixture
def writers(app):
    with app.app_context():
        services.seed_tags()
        mentor = make_user("mentor", email="mentor@example.org", name="Mo Mentor")
        admin = make_user("admin", email="admin@example.org")
        return mentor.id, admin.id


def publish(app, writers, title: str, body: str, summary: str = "", tags=("london",)) -> int:
    with app.app_context():
        mentor, admin = db.session.get(User, writers[0]), db.session.get(User, writers[1])
        ids = tuple(db.session.scalars(sa.select(InsightTag.id).where(InsightTag.slug.in_(tags))))
        article = services.create_article(mentor, services.ArticleText(title, summary, body, ids))
        services.publish_article(article, admin)
        db.session.commit()
        return article.id


def results(client, query: str, page: int | None = None) -> tuple[int, str]:
    response = client.get("/search", query_string={"q": query, **({"page": page} if page else {})})
    return response.status_code, response.get_data(as_text=True)


def hit_titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="h5 mb-1"><a href="[^"]*">([^<]*)</a>', html)


def test_search_finds_articles_the_guide_and_faq_answers_with_marked_snippets(app, writers):
    publish(app, writers, "Pipelines at a London bank", "We deploy models behind feature stores and monitoring.")
    with app.test_request_context("/search"):
        hits = search.search(search.parse_query("monitoring")).items
        kinds = {hit.kind for hit in hits}
        assert "article" in kinds
        article_hit = next(hit for hit in hits if hit.kind == "article")
        assert article_hit.title == "Pipelines at a London bank"
        assert article_hit.url == "/insights/pipelines-at-a-london-bank"
        assert "<mark>monitoring</mark>" in str(article_hit.snippet)
        guide_hits = search.search(search.parse_query("machine learning engineer")).items
        assert any(hit.kind == "guide" and hit.url == "/guide" for hit in guide_hits)
        faq_hits = search.search(search.parse_query("mock interview")).items
        assert any(hit.kind == "faq" and hit.url.startswith("/faq#") for hit in faq_hits)


def test_the_search_page_lists_hits_with_links_and_highlighted_words(app, writers, client):
    publish(app, writers, "Feature stores explained", "Feature stores keep training and serving consistent.")
    status, html = results(client, "serving")
    assert status == 200
    assert "Feature stores explained" in hit_titles(html)
    assert '<a href="/insights/feature-stores-explained">' in html
    assert "<mark>serving</mark>" in html


def test_a_better_match_ranks_first(app, writers, client):
    publish(app, writers, "Cooking with Python", "Python once. Mostly about recipes and kitchens and food.")
    publish(app, writers, "Python interviews", "Python Python Python: what Python interviews ask about Python.")
    titles = hit_titles(results(client, "python")[1])
    assert titles.index("Python interviews") < titles.index("Cooking with Python")


def test_snippets_escape_the_text_and_only_add_mark(app, writers, client):
    publish(app, writers, "Escaping", 'Write `<img src=x onerror=alert(1)>` and "quotes" & ampersands near kafka.')
    status, html = results(client, "kafka")
    snippet = html.split("Escaping</a>", 1)[1].split("</li>", 1)[0]
    assert "<img" not in snippet
    assert "&lt;img src=x onerror=alert(1)&gt;" in snippet
    assert "<mark>kafka</mark>" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == snippet.count("<") - 2 * snippet.count("<mark>")


def test_drafts_and_archived_articles_are_not_found(app, writers, client):
    article_id = publish(app, writers, "Soon archived", "Unusual word zeppelin inside.")
    with app.app_context():
        services.create_article(db.session.get(User, writers[0]), services.ArticleText("Draft", "", "zeppelin draft"))
        db.session.commit()
    assert hit_titles(results(client, "zeppelin")[1]) == ["Soon archived"]
    with app.app_context():
        services.archive_article(db.session.get(InsightArticle, article_id), db.session.get(User, writers[1]))
        db.session.commit()
    status, html = results(client, "zeppelin")
    assert status == 200 and hit_titles(html) == [] and "No results" in html


def test_an_edited_published_article_is_found_by_its_new_words(app, writers, client):
    article_id = publish(app, writers, "Changing piece", "Talks about tensorflow.")
    with app.app_context():
        article = db.session.get(InsightArticle, article_id)
        admin = db.session.get(User, writers[1])
        services.update_article(article, admin, services.ArticleText("Changing piece", "", "Now pytorch."), None)
        db.session.commit()
    assert hit_titles(results(client, "pytorch")[1]) == ["Changing piece"]
    assert hit_titles(results(client, "tensorflow")[1]) == []


def test_an_edited_guide_is_searched_as_it_is_now(app, writers, client):
    assert '<h3 class="h5 mb-1"><a href="/guide">' not in results(client, "quokka")[1]
    with app.app_context():
        save_page("guide", "The guide", "", "## New part\n\nA quokka appears.", db.session.get(User, writers[1]))
        db.session.commit()
    status, html = results(client, "quokka")
    assert status == 200 and '<h3 class="h5 mb-1"><a href="/guide">' in html and "<mark>quokka</mark>" in html


@pytest.mark.parametrize(
    "query",
    [
        "!!! ??? ...",
        '"unbalanced quote',
        "NEAR( AND OR NOT",
        "title:python*",
        "x" * 10_000,
        "python\x00interview",
        "\u202e\u0000",
        "-",
        "'; DROP TABLE users; --",
    ],
)
def test_bad_queries_give_a_clear_page_never_an_error(app, writers, client, query):
    publish(app, writers, "Python interviews", "Python interview questions.")
    status, html = results(client, query)
    assert status == 200
    assert "<h1>Search</h1>" in html
    if re.search("[\x00\u202e]", query):
        assert "There is a problem" in html and "control characters" in html and "No results" in html
    elif not re.search(r"\w", query):
        assert "There were no words to search for" in html


def test_a_very_long_query_says_it_was_shortened(app, writers, client):
    status, html = results(client, "python " * 2000)
    assert status == 200 and "only its first 200 characters were used" in html


def test_results_are_paginated(app, writers, client):
    for number in range(12):
        publish(app, writers, f"Lakehouse note {number:02d}", "About the lakehouse pattern.")
    first, second = results(client, "lakehouse")[1], results(client, "lakehouse", page=2)[1]
    assert len(hit_titles(first)) == 10 and len(hit_titles(second)) == 2
    assert set(hit_titles(first)).isdisjoint(hit_titles(second))
    assert "Next" in first and 'href="/search?q=lakehouse&amp;page=2"' in first


def test_the_search_page_without_a_query_shows_the_labelled_box(client, app):
    status, html = results(client, "")
    assert status == 200
    assert '<label class="form-label fw-semibold mb-1" for="q">Search articles, the guide and the FAQ</label>' in html
    assert 'role="search"' in html
    assert "No results" not in html
