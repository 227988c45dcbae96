"""Industry insights in a real browser (Chromium through Playwright), checked with axe-core on every page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.insights import services
from tests.browser import assert_accessible
from tests.factories import make_user
from tests.test_browser import log_in
from tests.test_live import make_session

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


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


def test_insights_search_and_live_sessions_fit_a_phone_and_pass_axe(app, page, articles):
    """At 360 px: the insights list, an article (with a long link and a table), search results, the live list and a
    session page."""
    body = (
        "## Sources\n\nSee https://www.example.org/careers/machine-learning-engineering/uk-employers-and-interview-"
        "questions-for-junior-roles-in-financial-services for more.\n\n"
        "| Skill | Where it comes up |\n|---|---|\n| Python | Everywhere, from data preprocessing to APIs |\n"
        "| SQL | Almost every role |\n"
    )
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
        tags = tuple(tag.id for tag in services.all_tags() if tag.slug in ("manchester", "tools"))
        article = services.create_article(
            admin, services.ArticleText("The tools adverts ask for in Manchester", "Python and SQL.", body, tags)
        )
        services.publish_article(article, admin)
        db.session.commit()
        make_session(capacity=3, title="Employer Q&A: hiring junior ML engineers in Edinburgh")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/insights")
    page.get_by_role("heading", level=1, name="Industry insights").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)
    page.get_by_role("link", name="The tools adverts ask for in Manchester").click()
    page.get_by_role("heading", level=1, name="The tools adverts ask for in Manchester").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)
    page.goto("/insights")
    page.get_by_label("Search articles, the guide and the FAQ").fill("Python")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("heading", name="Results for “Python”").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)
    page.goto("/live")
    page.get_by_role("heading", level=1, name="Live industry sessions").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)
    page.get_by_role("link", name="Employer Q&A: hiring junior ML engineers in Edinburgh").click()
    page.get_by_text("3 of 3 seats left").wait_for()
    assert_accessible(page)
    no_horizontal_scroll(page)


def test_admin_keeps_the_tag_lists_from_the_console(app, page, articles):
    log_in(page, "admin@example.org")
    page.goto("/admin/")
    page.get_by_role("link", name="Tag lists").click()
    page.get_by_role("heading", level=1, name="Tag lists").wait_for()
    assert_accessible(page)
    page.get_by_label("List").select_option("place")
    page.get_by_label("Name").fill("london")
    page.get_by_role("button", name="Add the tag").click()
    page.get_by_role("link", name="The city or region list already has “london”. Choose another name.").wait_for()
    assert_accessible(page)
    page.get_by_label("Name").fill("Belfast")
    page.get_by_role("button", name="Add the tag").click()
    page.locator(".flash-messages").get_by_text("The tag “Belfast” is added.").wait_for()
    page.get_by_role("link", name="Rename Belfast").click()
    page.get_by_label("New name").fill("Belfast and Northern Ireland")
    assert_accessible(page)
    page.get_by_role("button", name="Rename").click()
    page.get_by_role("button", name="Retire Belfast and Northern Ireland").click()
    page.get_by_role("cell", name="No: retired").wait_for()
    assert_accessible(page)
