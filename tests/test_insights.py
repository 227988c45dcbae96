"""Insight articles: writing, approval, scheduled publishing, revisions, the public pages, the feed and saves."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.insights import services
from portal.insights.models import ArticleViews, InsightArticle, InsightRevision, InsightTag
from portal.statuses import ArticleStatus
from tests.conftest import logged_in
from tests.factories import make_user
from tests.test_admin import without_labels

ATOM = "{http://www.w3.org/2005/Atom}"


def tag_ids(*slugs: str) -> tuple[int, ...]:
    return tuple(db.session.scalars(sa.select(InsightTag.id).where(InsightTag.slug.in_(slugs))))


def write(author: User, title: str = "Hiring in London fintech", tags=("london", "financial-services"), **kw):
    summary, body = kw.get("summary", "What banks ask."), kw.get("body", "Some **words**.")
    return services.create_article(author, services.ArticleText(title, summary, body, tag_ids(*tags)))


def published_article(author: User, editor: User, title: str, tags=("london",), body: str = "Words here.") -> int:
    article = write(author, title, tags, body=body)
    services.publish_article(article, editor)
    db.session.commit()
    return article.id


@pytest.fixture
def people(app):
    """An admin, an editor mentor, a plain mentor and a candidate, with the default tags."""
    with app.app_context():
        services.seed_tags()
        admin = make_user("admin", email="admin@example.org")
        editor = make_user("mentor", email="editor@example.org", name="Edie Editor")
        editor.is_editor = True
        mentor = make_user("mentor", email="mentor@example.org", name="Mo Mentor")
        candidate = make_user(email="sam@example.org", name="Sam Candidate")
        db.session.commit()
        return {"admin": admin.id, "editor": editor.id, "mentor": mentor.id, "candidate": candidate.id}


def user(people, key: str) -> User:
    return db.session.get(User, people[key])


# Workflow ------------------------------------------------------------------------------------------------------


def test_a_mentors_article_needs_an_editor_to_publish_it(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        article = write(mentor)
        assert article.status == ArticleStatus.DRAFT
        services.submit_article(article, mentor, article.version)
        db.session.commit()
        assert article.status == ArticleStatus.SUBMITTED
        with pytest.raises(services.DomainError, match="Only an editor"):
            services.publish_article(article, mentor)
        db.session.rollback()
        article = db.session.get(InsightArticle, article.id)
        services.publish_article(article, editor)
        db.session.commit()
        assert article.status == ArticleStatus.PUBLISHED
        assert article.published_at is not None
        assert article.approved_by_id == editor.id
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions == ["insight.created", "insight.submitted", "insight.published"]


def test_an_author_cannot_edit_their_article_once_published_but_an_editor_can(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        article = db.session.get(InsightArticle, published_article(mentor, editor, "Leeds data teams"))
        assert not article.can_edit(mentor)
        assert article.can_edit(editor)
        assert article.can_edit(user(people, "admin"))
        assert not article.can_edit(user(people, "candidate"))


def test_a_stale_edit_is_refused_and_changes_nothing(app, people):
    with app.app_context():
        mentor = user(people, "mentor")
        article = write(mentor)
        db.session.commit()
        seen = article.version
        services.update_article(article, mentor, services.ArticleText("First edit", "", "Body one"), seen)
        db.session.commit()
        with pytest.raises(services.Conflict):
            services.update_article(article, mentor, services.ArticleText("Second edit", "", "Body two"), seen)
        db.session.rollback()
        assert db.session.get(InsightArticle, article.id).title == "First edit"


def test_an_earlier_revision_can_be_restored_with_its_tags(app, people):
    with app.app_context():
        mentor = user(people, "mentor")
        article = write(mentor, "Original title", ("london", "interviews"), body="Original body")
        db.session.commit()
        first = db.session.scalar(sa.select(InsightRevision).where(InsightRevision.article_id == article.id))
        services.update_article(
            article, mentor, services.ArticleText("New title", "", "New body", tag_ids("remote")), article.version
        )
        db.session.commit()
        restored = services.restore_revision(first, mentor)
        db.session.commit()
        article = db.session.get(InsightArticle, article.id)
        assert (article.title, article.body.strip()) == ("Original title", "Original body")
        assert {tag.slug for tag in article.tags} == {"london", "interviews"}
        assert restored.restored_from_id == first.id
        assert len(services.revisions(article)) == 3


def test_a_scheduled_article_is_published_by_the_worker_when_its_time_comes(app, people):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with app.app_context(), time_machine.travel(start, tick=False) as clock:
        mentor, editor = user(people, "mentor"), user(people, "editor")
        article = write(mentor)
        services.submit_article(article, mentor)
        services.publish_article(article, editor, at=start + timedelta(hours=2))
        db.session.commit()
        assert article.is_scheduled and article.status == ArticleStatus.SUBMITTED
        assert services.publish_due_articles() == 0
        clock.move_to(start + timedelta(hours=2, minutes=1))
        assert services.publish_due_articles() == 1
        db.session.commit()
        article = db.session.get(InsightArticle, article.id)
        assert article.status == ArticleStatus.PUBLISHED
        assert article.published_at == start + timedelta(hours=2)
        assert services.publish_due_articles() == 0


def test_the_worker_command_publishes_due_articles(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        article = write(mentor, "Scheduled piece")
        services.publish_article(article, editor, at=datetime.now(UTC) + timedelta(minutes=5))
        db.session.commit()
        article_id = article.id
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10)):
        result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert "articles published: 1" in result.output
    with app.app_context():
        assert db.session.get(InsightArticle, article_id).status == ArticleStatus.PUBLISHED


def test_publishing_in_the_past_is_refused(app, people):
    with app.app_context():
        article = write(user(people, "mentor"))
        with pytest.raises(services.DomainError, match="still to come"):
            services.publish_article(article, user(people, "editor"), at=datetime.now(UTC) - timedelta(hours=1))


# Pages for writers ------------------------------------------------------------------------------------------------


def test_a_mentor_writes_submits_and_an_editor_publishes_through_the_pages(app, people):
    mentor = logged_in(app, "mentor@example.org")
    with app.app_context():
        london = tag_ids("london")[0]
    response = mentor.post(
        "/insights/new",
        data={
            "title": "Interviews at Manchester startups",
            "summary": "Short.",
            "body": "## Tips\n\nBe ready.",
            "tags": [str(london)],
            "save": "1",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        article = db.session.scalar(sa.select(InsightArticle))
        article_id, version = article.id, article.version
    assert mentor.post(f"/insights/{article_id}/submit", data={"version": version}).status_code == 302
    page = mentor.get(f"/insights/{article_id}/edit").get_data(as_text=True)
    assert "Waiting for an editor" in page
    assert ">Publish</button>" not in page
    editor = logged_in(app, "editor@example.org")
    with app.app_context():
        version = db.session.get(InsightArticle, article_id).version
    assert ">Publish</button>" in editor.get(f"/insights/{article_id}/edit").get_data(as_text=True)
    editor.post(f"/insights/{article_id}/publish", data={"version": version})
    listing = app.test_client().get("/insights").get_data(as_text=True)
    assert "Interviews at Manchester startups" in listing


def test_a_mentor_cannot_publish_by_posting_the_form(app, people):
    with app.app_context():
        article = write(user(people, "mentor"))
        services.submit_article(article, user(people, "mentor"))
        db.session.commit()
        article_id, version = article.id, article.version
    mentor = logged_in(app, "mentor@example.org")
    assert mentor.post(f"/insights/{article_id}/publish", data={"version": version}).status_code == 403
    with app.app_context():
        assert db.session.get(InsightArticle, article_id).status == ArticleStatus.SUBMITTED


def test_control_characters_in_the_title_are_refused_with_the_error_summary(app, people):
    mentor = logged_in(app, "mentor@example.org")
    response = mentor.post("/insights/new", data={"title": "Evil\u202etitle", "body": "Body", "save": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page and "control characters" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InsightArticle)) == 0


def test_the_edit_page_shows_the_article_as_saved_with_its_tags_ticked(app, people):
    with app.app_context():
        article = write(user(people, "mentor"), "Tagged piece", ("london", "salaries"), body="Body text")
        db.session.commit()
        article_id, ticked = article.id, set(tag_ids("london", "salaries"))
    page = logged_in(app, "mentor@example.org").get(f"/insights/{article_id}/edit").get_data(as_text=True)
    assert 'value="Tagged piece"' in page and "Body text" in page
    checked = {int(value) for value in re.findall(r'<input checked[^>]*value="(\d+)"', page)}
    checked |= {int(value) for value in re.findall(r'<input[^>]*checked[^>]*value="(\d+)"', page)}
    assert checked == ticked
    assert "Sector: Financial services" in page and "City or region: London" in page


def test_a_stale_form_gets_the_409_page(app, people):
    with app.app_context():
        article = write(user(people, "mentor"))
        db.session.commit()
        article_id, version = article.id, article.version
    mentor = logged_in(app, "mentor@example.org")
    form = {"title": "One", "body": "Body", "version": str(version), "save": "1"}
    assert mentor.post(f"/insights/{article_id}/edit", data=form).status_code == 302
    response = mentor.post(f"/insights/{article_id}/edit", data={**form, "title": "Two"})
    assert response.status_code == 409


def test_another_mentors_draft_is_not_found(app, people):
    with app.app_context():
        other = make_user("mentor", email="other@example.org")
        article = write(other)
        db.session.commit()
        article_id, slug = article.id, article.slug
    mentor = logged_in(app, "mentor@example.org")
    assert mentor.get(f"/insights/{article_id}/edit").status_code == 404
    assert mentor.get(f"/insights/{slug}").status_code == 404
    assert app.test_client().get(f"/insights/{slug}").status_code == 404


@pytest.mark.parametrize(
    "url, method", [("/insights/mine", "get"), ("/insights/new", "get"), ("/insights/saved", "get")]
)
def test_writer_and_reader_pages_need_the_right_role(app, people, url, method):
    assert getattr(app.test_client(), method)(url).status_code == 302  # to the login page
    candidate = logged_in(app, "sam@example.org")
    mentor = logged_in(app, "mentor@example.org")
    expected = {"/insights/saved": (200, 403)}.get(url, (403, 200))
    assert getattr(candidate, method)(url).status_code == expected[0]
    assert getattr(mentor, method)(url).status_code == expected[1]


def test_an_admin_makes_a_mentor_an_editor(app, people):
    admin = logged_in(app, "admin@example.org")
    assert "Make an article editor" in admin.get(f"/admin/users/{people['mentor']}").get_data(as_text=True)
    assert admin.post(f"/insights/editors/{people['mentor']}/grant").status_code == 302
    with app.app_context():
        assert db.session.get(User, people["mentor"]).is_editor
        assert (
            db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "insight.editor_granted"
        )
    mentor = logged_in(app, "mentor@example.org")
    assert mentor.post(f"/insights/editors/{people['mentor']}/revoke").status_code == 403


# Public pages -------------------------------------------------------------------------------------------------


def test_the_listing_shows_published_articles_and_filters_by_tag(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        published_article(mentor, editor, "Edinburgh health data", ("edinburgh", "healthtech"))
        published_article(mentor, editor, "London trading desks", ("london", "financial-services"))
        write(mentor, "Unfinished draft", ("london",))
        db.session.commit()
    client = app.test_client()
    page = client.get("/insights").get_data(as_text=True)
    assert "Edinburgh health data" in page and "London trading desks" in page
    assert "Unfinished draft" not in page
    assert "Mo Mentor" in page and "1 minute read" in page
    filtered = client.get("/insights?tag=london").get_data(as_text=True)
    assert "London trading desks" in filtered and "Edinburgh health data" not in filtered
    assert client.get("/insights?tag=no-such-tag").status_code == 200


def test_the_listing_is_paginated(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        for number in range(12):
            published_article(mentor, editor, f"Article number {number:02d}")
    client = app.test_client()
    first = client.get("/insights").get_data(as_text=True)
    second = client.get("/insights?page=2").get_data(as_text=True)
    assert first.count('class="card mb-3"') == 10 and second.count('class="card mb-3"') == 2
    assert "Article number 00" in second
    assert client.get("/insights?page=3").status_code == 404


def test_the_article_page_shows_author_date_tags_related_and_the_foundations(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        published_article(mentor, editor, "Main piece", ("london", "interviews", "salaries"), body="word " * 500)
        published_article(mentor, editor, "Shares two tags", ("london", "salaries"))
        published_article(mentor, editor, "Shares one tag", ("interviews",))
        published_article(mentor, editor, "Shares nothing", ("remote",))
        slug = db.session.scalar(sa.select(InsightArticle.slug).where(InsightArticle.title == "Main piece"))
    page = app.test_client().get(f"/insights/{slug}").get_data(as_text=True)
    assert "By Mo Mentor" in page and "3 minute read" in page
    related = page.split("Related articles", 1)[1]
    assert related.index("Shares two tags") < related.index("Shares one tag")
    assert "Shares nothing" not in related
    assert 'href="/guide"' in page and 'href="/faq"' in page
    assert ">Salaries</a>" in page


def test_article_markdown_is_sanitised_like_the_guide(app, people):
    with app.app_context():
        body = "Hello <script>alert(1)</script> [x](javascript:alert(1)) **bold**"
        article_id = published_article(user(people, "mentor"), user(people, "editor"), "Unsafe", body=body)
        slug = db.session.get(InsightArticle, article_id).slug
    page = app.test_client().get(f"/insights/{slug}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page
    assert "<strong>bold</strong>" in page


def test_the_public_listing_answers_a_conditional_get_with_304(app, people):
    with app.app_context():
        published_article(user(people, "mentor"), user(people, "editor"), "Cached piece")
    client = app.test_client()
    first = client.get("/insights")
    assert first.headers["ETag"]
    again = client.get("/insights", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    with app.app_context():
        published_article(user(people, "mentor"), user(people, "editor"), "A newer piece")
    assert client.get("/insights", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_everyone_sees_insights_in_the_navigation(app, people):
    assert 'href="/insights"' in app.test_client().get("/guide").get_data(as_text=True)
    assert 'href="/insights"' in logged_in(app, "sam@example.org").get("/").get_data(as_text=True)


def test_the_feed_is_valid_atom_with_the_required_elements(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        published_article(mentor, editor, "Feed piece one & more")
        published_article(mentor, editor, "Feed piece two")
        write(mentor, "Draft not in feed")
        db.session.commit()
    response = app.test_client().get("/insights/feed.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href") == "http://localhost/insights/feed.xml"
    datetime.fromisoformat(feed.find(f"{ATOM}updated").text)
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}title").text for entry in entries] == ["Feed piece two", "Feed piece one & more"]
    ids = set()
    for entry in entries:
        for name in ("id", "title", "updated", "published", "summary", "author"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        entry_id = entry.find(f"{ATOM}id").text
        assert entry_id.startswith(("tag:", "urn:"))
        ids.add(entry_id)
        datetime.fromisoformat(entry.find(f"{ATOM}published").text)
        assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/insights/")
        assert entry.find(f"{ATOM}author/{ATOM}name").text == "Mo Mentor"
    assert len(ids) == 2


# Saves --------------------------------------------------------------------------------------------------------


def test_a_candidate_saves_an_article_and_finds_it_on_the_saved_page(app, people):
    with app.app_context():
        article_id = published_article(user(people, "mentor"), user(people, "editor"), "Worth keeping")
        slug = db.session.get(InsightArticle, article_id).slug
    candidate = logged_in(app, "sam@example.org")
    assert "You have not saved any articles" in candidate.get("/insights/saved").get_data(as_text=True)
    assert "Save to read later" in candidate.get(f"/insights/{slug}").get_data(as_text=True)
    assert candidate.post(f"/insights/{slug}/save").status_code == 302
    assert candidate.post(f"/insights/{slug}/save").status_code == 302  # twice is still once
    saved = candidate.get("/insights/saved").get_data(as_text=True)
    assert saved.count("Worth keeping") == 1
    assert "Remove from saved articles" in candidate.get(f"/insights/{slug}").get_data(as_text=True)
    candidate.post(f"/insights/{slug}/forget")
    assert "Worth keeping" not in candidate.get("/insights/saved").get_data(as_text=True)


# Reports ------------------------------------------------------------------------------------------------------


def test_reading_an_article_adds_to_its_daily_counter_and_the_report_shows_the_most_read(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        popular = db.session.get(InsightArticle, published_article(mentor, editor, "Popular piece"))
        quiet = db.session.get(InsightArticle, published_article(mentor, editor, "Quiet piece"))
        popular_slug, quiet_slug = popular.slug, quiet.slug
    reader = app.test_client()
    for _ in range(3):
        assert reader.get(f"/insights/{popular_slug}").status_code == 200
    logged_in(app, "sam@example.org").get(f"/insights/{popular_slug}")
    reader.get(f"/insights/{quiet_slug}")
    with app.app_context():
        rows = db.session.execute(sa.select(ArticleViews.views, ArticleViews.day).order_by(ArticleViews.views)).all()
        assert [views for views, _ in rows] == [1, 4]
        assert {day for _, day in rows} == {datetime.now(UTC).date()}
    report = without_labels(logged_in(app, "admin@example.org").get("/admin/reports").get_data(as_text=True))
    most_read = report.split('id="most-read-table"', 1)[1].split("</table>", 1)[0]
    assert most_read.index("Popular piece") < most_read.index("Quiet piece")
    assert "<td>4</td>" in most_read and "<td>1</td>" in most_read
    per_month = report.split('id="articles-month-table"', 1)[1].split("</table>", 1)[0]
    assert f"<td>{datetime.now(UTC):%B %Y}</td><td>2</td>" in per_month


def test_drafts_are_not_counted_as_read(app, people):
    with app.app_context():
        article = write(user(people, "mentor"))
        db.session.commit()
        slug = article.slug
    mentor = logged_in(app, "mentor@example.org")
    assert mentor.get(f"/insights/{slug}").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ArticleViews)) == 0


# Interests on the candidate's home page ----------------------------------------------------------------------


def test_a_candidate_follows_sectors_and_cities_and_sees_new_matching_articles_at_home(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        published_article(mentor, editor, "Edinburgh healthtech roles", ("edinburgh", "healthtech"))
        published_article(mentor, editor, "Leeds retail data", ("leeds", "e-commerce"))
        old_id = published_article(mentor, editor, "Old Edinburgh piece", ("edinburgh",))
        db.session.get(InsightArticle, old_id).published_at = datetime.now(UTC) - timedelta(days=45)
        db.session.commit()
        edinburgh = tag_ids("edinburgh")[0]
        interviews = tag_ids("interviews")[0]
    candidate = logged_in(app, "sam@example.org")
    home = candidate.get("/").get_data(as_text=True)
    assert "No new articles about the sectors and cities you follow." in home
    page = candidate.get("/insights/interests").get_data(as_text=True)
    assert '<label class="form-check-label" for="tags-' in page and "Interviews" not in page  # topics are not offered
    assert candidate.post("/insights/interests", data={"tags": [str(edinburgh)]}).status_code == 302
    assert f'value="{edinburgh}" checked' in candidate.get("/insights/interests").get_data(as_text=True)
    home = candidate.get("/").get_data(as_text=True)
    section = home.split('id="insights-title"', 1)[1].split("</section>", 1)[0]
    assert "Edinburgh healthtech roles" in section
    assert "Leeds retail data" not in section and "Old Edinburgh piece" not in section
    refused = candidate.post("/insights/interests", data={"tags": [str(interviews)]})
    assert refused.status_code == 200 and "There is a problem" in refused.get_data(as_text=True)


def test_the_demo_data_has_published_articles_and_one_waiting_for_an_editor_once(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        statuses = list(db.session.scalars(sa.select(InsightArticle.status)))
        assert sorted(statuses) == ["published"] * 6 + ["submitted"]
    listing = app.test_client().get("/insights").get_data(as_text=True)
    assert "What London banks ask ML engineers in interviews" in listing
    assert "Salaries for junior ML engineers in Manchester" not in listing


@time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=True)
def test_an_editor_schedules_publishing_at_a_local_time_and_a_skipped_time_is_refused(app, people):
    with app.app_context():
        article = write(user(people, "mentor"), "Summer piece")
        db.session.commit()
        article_id, version = article.id, article.version
    editor = logged_in(app, "editor@example.org")
    skipped = editor.post(
        f"/insights/{article_id}/publish",
        data={"version": version, "publish_on": "2027-03-28", "publish_time": "01:30"},
        follow_redirects=True,
    )
    assert "does not exist in Europe/London" in skipped.get_data(as_text=True)
    response = editor.post(
        f"/insights/{article_id}/publish",
        data={"version": version, "publish_on": "2027-07-01", "publish_time": "09:00"},
        follow_redirects=True,
    )
    assert "it will be published at 09:00 on 01 July 2027 (Europe/London)" in response.get_data(as_text=True)
    with app.app_context():
        article = db.session.get(InsightArticle, article_id)
        assert article.status == ArticleStatus.SUBMITTED
        assert article.publish_at == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # British Summer Time
    assert "Summer piece" not in app.test_client().get("/insights").get_data(as_text=True)


def test_the_article_page_answers_a_conditional_get_with_304(app, people):
    with app.app_context():
        article_id = published_article(user(people, "mentor"), user(people, "editor"), "Cacheable piece")
        slug = db.session.get(InsightArticle, article_id).slug
    client = app.test_client()
    first = client.get(f"/insights/{slug}")
    assert client.get(f"/insights/{slug}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


# The managed tag lists ---------------------------------------------------------------------------------------------


def test_an_admin_adds_renames_and_retires_tags_and_each_change_is_in_the_audit_log(app, people):
    admin = logged_in(app, "admin@example.org")
    assert "/insights/tag-lists" in admin.get("/admin/").get_data(as_text=True)
    assert admin.post("/insights/tag-lists", data={"kind": "place", "name": "Belfast"}).status_code == 302
    with app.app_context():
        belfast = db.session.scalar(sa.select(InsightTag).where(InsightTag.name == "Belfast"))
        assert (belfast.kind, belfast.slug, belfast.retired) == ("place", "belfast", False)
        tag_id = belfast.id
    assert admin.post(f"/insights/tag-lists/{tag_id}", data={"name": "Belfast and Northern Ireland"}).status_code == 302
    assert admin.post(f"/insights/tag-lists/{tag_id}/retire").status_code == 302
    page = admin.get("/insights/tag-lists").get_data(as_text=True)
    assert "Belfast and Northern Ireland" in page and "No: retired" in page
    with app.app_context():
        tag = db.session.get(InsightTag, tag_id)
        assert tag.retired and tag.slug == "belfast"  # filter links keep working after a rename
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.target_type == "insight_tag").order_by(AuditEvent.id)
            )
        )
        assert actions == ["insight_tag.added", "insight_tag.renamed", "insight_tag.retired"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "place", "name": "london"}, "The city or region list already has “london”. Choose another name."),
        ({"kind": "place", "name": "  "}, "Enter a name for the tag."),
        ({"kind": "place", "name": "Leeds\u202e"}, "Remove the control characters"),
        ({"kind": "place", "name": "x" * 61}, "At most 60 characters."),
        ({"kind": "", "name": "Belfast"}, "Choose a list."),
        ({"kind": "planet", "name": "Mars"}, "Not a valid choice."),
    ],
)
def test_a_bad_or_duplicate_tag_name_gets_the_field_message_not_a_500(app, people, data, message):
    admin = logged_in(app, "admin@example.org")
    response = admin.post("/insights/tag-lists", data=data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InsightTag.id))) == len(services.all_tags())
        assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.target_type == "insight_tag"))


def test_renaming_to_a_name_the_list_has_is_refused_but_another_list_may_use_it(app, people):
    admin = logged_in(app, "admin@example.org")
    with app.app_context():
        leeds = tag_ids("leeds")[0]
    response = admin.post(f"/insights/tag-lists/{leeds}", data={"name": "LONDON"})
    assert "The city or region list already has “LONDON”." in response.get_data(as_text=True)
    assert admin.post("/insights/tag-lists", data={"kind": "topic", "name": "London"}).status_code == 302
    with app.app_context():
        assert db.session.get(InsightTag, leeds).name == "Leeds"
        topic = db.session.scalar(sa.select(InsightTag).where(InsightTag.kind == "topic", InsightTag.name == "London"))
        assert topic.slug == "london-topic"


def test_two_admins_adding_the_same_tag_at_once_get_the_field_message_from_the_unique_index(app, people, monkeypatch):
    """The second request passed the look-up before the first committed: the index refuses it."""
    monkeypatch.setattr(services, "_check_name_free", lambda *args, **kwargs: None)
    admin = logged_in(app, "admin@example.org")
    response = admin.post("/insights/tag-lists", data={"kind": "sector", "name": "Energy"})
    assert response.status_code == 200
    assert "The sector list already has “Energy”." in response.get_data(as_text=True)


def test_a_retired_tag_stays_on_old_articles_and_in_filters_only_while_used(app, people):
    with app.app_context():
        article_id = published_article(
            user(people, "editor"), user(people, "admin"), "Bristol energy jobs", ("bristol",)
        )
        bristol, cambridge = tag_ids("bristol")[0], tag_ids("cambridge")[0]
    admin = logged_in(app, "admin@example.org")
    for tag in (bristol, cambridge):
        admin.post(f"/insights/tag-lists/{tag}/retire")
    listing = app.test_client().get("/insights").get_data(as_text=True)
    assert "tag=bristol" in listing and "tag=cambridge" not in listing  # used / not used
    assert "Bristol" in app.test_client().get("/insights?tag=bristol").get_data(as_text=True)
    mentor = logged_in(app, "mentor@example.org")
    form = mentor.get("/insights/new").get_data(as_text=True)
    assert "City or region: Bristol" not in form and "City or region: Leeds" in form
    refused = mentor.post("/insights/new", data={"title": "T", "body": "B", "tags": [str(bristol)], "save": "Save"})
    assert "is not a valid choice" in refused.get_data(as_text=True)
    editor = logged_in(app, "editor@example.org")
    assert "City or region: Bristol" in editor.get(f"/insights/{article_id}/edit").get_data(as_text=True)
    with app.app_context():
        assert [tag.name for tag in db.session.get(InsightArticle, article_id).tags] == ["Bristol"]


def test_only_admins_manage_the_tag_lists(app, people):
    with app.app_context():
        leeds = tag_ids("leeds")[0]
    for email in ("editor@example.org", "mentor@example.org", "sam@example.org"):
        client = logged_in(app, email)
        assert client.get("/insights/tag-lists").status_code == 403
        assert client.post(f"/insights/tag-lists/{leeds}/retire").status_code == 403
    assert app.test_client().get("/insights/tag-lists").status_code == 302
    assert logged_in(app, "admin@example.org").get("/insights/tag-lists/999999").status_code == 404


def test_the_authors_list_links_a_published_article_to_its_page_and_a_draft_to_its_editor(app, people):
    with app.app_context():
        mentor, editor = user(people, "mentor"), user(people, "editor")
        published = db.session.get(InsightArticle, published_article(mentor, editor, "Leeds data teams"))
        draft = write(mentor, "Bristol robotics")
        db.session.commit()
        published_id, slug, draft_id = published.id, published.slug, draft.id
    client = logged_in(app, "mentor@example.org")
    page = client.get("/insights/mine").get_data(as_text=True)
    assert f'href="/insights/{slug}"' in page
    assert f"/insights/{published_id}/edit" not in page  # its author can no longer edit it: no link to a 404
    assert f"/insights/{draft_id}/edit" in page
    assert client.get(f"/insights/{draft_id}/edit").status_code == 200
