"""Industry insights in a real browser (Chromium through Playwright), checked with axe-core on every page."""

from __future__ import annotations

import pytest

from portal.auth.models import User
from portal.extensions import db
from portal.insights import services
from tests.browser import assert_accessible
from tests.factories import make_user
from tests.test_browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def articles(app):
    with app.app_context():
        services.seed_tags()
        admin = make_user("admin", email="admin@example.org", name="Alex Admin")
        make_user("mentor", email="mentor@example.org", name="Mo Mentor")
        tags = tuple(tag.id for tag in services.all_tags() if tag.slug in ("london", "interviews"))
        for title in ("Interviews at London banks", "Portfolio projects that get interviews"):
            article = services.create_article(
                admin, services.ArticleText(title, "What hiring managers ask.", "## Before\n\nPrepare a story.", tags)
            )
            services.publish_article(article, db.session.get(User, admin.id))
        db.session.commit()


def test_visitor_browses_insights_reads_an_article_and_searches(app, page, articles):
    page.goto("/")
    page.get_by_role("link", name="Insights").first.click()
    page.get_by_role("heading", level=1, name="Industry insights").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Interviews at London banks").click()
    page.get_by_role("heading", level=1, name="Interviews at London banks").wait_for()
    assert page.get_by_role("heading", name="Related articles").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Insights").first.click()  # the search box sits beside the articles
    page.get_by_label("Search articles, the guide and the FAQ").fill("story")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="Results for “story”").wait_for()
    assert page.locator("mark").first.inner_text().lower() == "story"
    assert_accessible(page)
    page.get_by_label("Search articles, the guide and the FAQ").fill('"((( !!!')
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="No results").wait_for()
    assert_accessible(page)


def test_mentor_writes_an_article_with_an_error_first(app, page, articles):
    log_in(page, "mentor@example.org")
    page.get_by_role("link", name="Articles").first.click()
    assert_accessible(page)
    page.get_by_role("link", name="Write an article").click()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").get_by_text("There is a problem").wait_for()
    assert_accessible(page)
    page.get_by_label("Title").fill("Manchester meetups")
    page.get_by_label("Article (Markdown)").fill("Go to **meetups**.")
    page.get_by_label("City or region: Manchester").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Submit for approval").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_text("Waiting for an editor").first.wait_for()
    page.get_by_role("link", name="Revisions").click()
    page.get_by_role("heading", level=1).wait_for()
    assert_accessible(page)
