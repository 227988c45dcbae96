"""Two editors (or an editor and the author) changing one article at the same moment, many rounds, with real
threads and a database connection each: exactly one change wins, the other gets the 409 page, and the audit log
holds only what happened. Two admins adding one tag at once: one adds it, the other gets the field's message."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.insights import services
from portal.insights.models import InsightArticle, InsightTag, SavedArticle
from portal.statuses import ArticleStatus
from tests.conftest import logged_in
from tests.factories import make_user
from tests.test_races import run_together

ROUNDS = 10


@pytest.fixture
def settings() -> dict:
    return {
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 5, "pool_pre_ping": True},
    }


@pytest.fixture
def people(app):
    with app.app_context():
        make_user("admin", email="admin@example.org")
        editor = make_user("mentor", email="editor@example.org")
        editor.is_editor = True
        author = make_user("mentor", email="author@example.org")
        db.session.commit()
        return author.id


def submitted_article(app, author_id: int, number: int) -> tuple[int, int]:
    with app.app_context():
        author = db.session.get(User, author_id)
        article = services.create_article(author, services.ArticleText(f"Race {number}", "", "Body"))
        services.submit_article(article, author)
        db.session.commit()
        return article.id, article.version


def audit_actions(app, article_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.target_type == "insight_article", AuditEvent.target_id == str(article_id))
                .order_by(AuditEvent.id)
            )
        )


def test_two_editors_publishing_one_article_at_once_publish_it_once(app, people):
    admin, editor = logged_in(app, "admin@example.org"), logged_in(app, "editor@example.org")
    for number in range(ROUNDS):
        article_id, version = submitted_article(app, people, number)
        responses = run_together(
            [
                lambda client=client, url=f"/insights/{article_id}/publish", version=version: client.post(
                    url, data={"version": version}
                )
                for client in (admin, editor)
            ]
        )
        assert sorted(response.status_code for response in responses) == [302, 409]
        assert audit_actions(app, article_id).count("insight.published") == 1
        with app.app_context():
            assert db.session.get(InsightArticle, article_id).status == ArticleStatus.PUBLISHED


def test_publishing_while_the_author_takes_it_back_ends_in_one_state_or_the_other(app, people):
    editor, author = logged_in(app, "editor@example.org"), logged_in(app, "author@example.org")
    outcomes = set()
    for number in range(ROUNDS):
        article_id, version = submitted_article(app, people, number)
        responses = run_together(
            [
                lambda url=f"/insights/{article_id}/publish", version=version: editor.post(
                    url, data={"version": version}
                ),
                lambda url=f"/insights/{article_id}/return", version=version: author.post(
                    url, data={"version": version}
                ),
            ]
        )
        published, returned = (response.status_code for response in responses)
        with app.app_context():
            status = db.session.get(InsightArticle, article_id).status
        if status == ArticleStatus.PUBLISHED:
            # The author's form was stale (409), or, read after the editor's change, the article is no longer theirs
            # to change (404).
            assert (published, returned) in {(302, 409), (302, 404)}
        else:
            assert (published, returned) == (409, 302)
        actions = audit_actions(app, article_id)
        if status == ArticleStatus.PUBLISHED:
            assert "insight.published" in actions and "insight.returned" not in actions
        else:
            assert status == ArticleStatus.DRAFT
            assert "insight.returned" in actions and "insight.published" not in actions
        outcomes.add(status)
    assert outcomes <= {ArticleStatus.PUBLISHED, ArticleStatus.DRAFT}


def test_two_admins_adding_the_same_tag_at_once_add_it_once_and_the_other_gets_the_field_message(app, people):
    with app.app_context():
        make_user("admin", email="second-admin@example.org")
        services.seed_tags()
        db.session.commit()
    first, second = logged_in(app, "admin@example.org"), logged_in(app, "second-admin@example.org")
    for number in range(ROUNDS):
        name = f"Race city {number}"
        responses = run_together(
            [
                lambda client=client, name=name: client.post(
                    "/insights/tag-lists", data={"kind": "place", "name": name}
                )
                for client in (first, second)
            ]
        )
        assert sorted(response.status_code for response in responses) == [200, 302]
        refused = next(response for response in responses if response.status_code == 200)
        assert f"The city or region list already has “{name}”." in refused.get_data(as_text=True)
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(InsightTag.id)).where(InsightTag.name == name)) == 1
            added = sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "insight_tag.added")
            assert db.session.scalar(added) == number + 1


def test_saving_one_article_from_two_tabs_at_once_keeps_it_once_and_answers_both(app, people):
    with app.app_context():
        make_user(email="sam@example.org")
        editor = db.session.scalar(sa.select(User).where(User.email == "editor@example.org"))
        slugs = []
        for number in range(ROUNDS):
            article = services.create_article(editor, services.ArticleText(f"Saved race {number}", "", "Body"))
            services.publish_article(article, editor)
            slugs.append(article.slug)
        db.session.commit()
    tabs = [logged_in(app, "sam@example.org"), logged_in(app, "sam@example.org")]
    for slug in slugs:
        responses = run_together(
            [lambda tab=tab, slug=slug: tab.post(f"/insights/{slug}/save", data={}) for tab in tabs]
        )
        assert [response.status_code for response in responses] == [302, 302]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedArticle)) == ROUNDS
