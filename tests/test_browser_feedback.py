"""Interview-feedback journeys in a real browser: a mentor drafts and publishes rubric feedback, the candidate reads
it, rates the session and follows their progress chart, the admin sees the ratings; the feedback pages on a 360 px
screen; a publishing error announced next to its field.

Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

TYPE_NAME = "Technical: Python and ML fundamentals"
MENTOR, CANDIDATE, ADMIN = "priya@example.org", "sam@example.org", "alex@example.org"

# Published before the test starts: (days ago, scores python..communication, readiness).
PUBLISHED = (
    (
        18,
        {"score_python": 2, "score_ml": 2, "score_data": 3, "score_system_design": None, "score_communication": 3},
        "not_yet",
    ),
    (
        12,
        {"score_python": None, "score_ml": 3, "score_data": 3, "score_system_design": 2, "score_communication": 4},
        "nearly",
    ),
)
WAITING_DAYS = (6, 3)  # sessions without feedback, oldest first

STRENGTHS = "- Clear explanation of trade-offs\n- Wrote a test before refactoring"
IMPROVEMENTS = "- Check data quality before modelling\n- Mention **drift** monitoring"
NEXT_STEPS = "- Practise window functions\n- Sketch a model-serving API"


def seed(app, make) -> dict:
    """A mentor, a candidate and an admin; two sessions with published feedback and two waiting for it."""
    mentor = make.user("mentor", email=MENTOR, name="Priya Shah")
    candidate = make.user("candidate", email=CANDIDATE, name="Sam Jones")
    make.user("admin", email=ADMIN, name="Alex Morgan")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        kind = make_interview_type(TYPE_NAME)
        published = []
        for days, scores, readiness in PUBLISHED:
            starts_at = now - timedelta(days=days)
            booking = make_booking(make_slot(mentor, starts_at, kind), candidate, status="completed")
            db.session.add(
                SessionFeedback(
                    booking_id=booking.id,
                    mentor_id=mentor.id,
                    status="published",
                    published_at=starts_at + timedelta(hours=3),
                    readiness=readiness,
                    strengths="- Friendly and calm",
                    improvements="More practice",
                    next_steps="",
                    **scores,
                )
            )
            db.session.commit()
            published.append(booking.id)
        waiting = [
            make_booking(make_slot(mentor, now - timedelta(days=days), kind), candidate).id for days in WAITING_DAYS
        ]
    return {"published": published, "waiting": waiting}


def criterion(page, name: str):
    """The fieldset of one rubric criterion (its legend names it)."""
    return page.get_by_role("group", name=name, exact=True)


def test_mentor_drafts_and_publishes_candidate_reads_rates_and_sees_progress(app, make, page):
    ids = seed(app, make)

    # The mentor sees the sessions waiting for feedback, oldest first.
    log_in(page, MENTOR)
    page.get_by_role("link", name="Feedback to write").click()
    page.get_by_role("heading", level=1, name="Feedback to write").wait_for()
    items = page.locator("ul.list-group > li")
    assert items.count() == 2
    assert [link.get_attribute("href") for link in items.get_by_role("link").all()] == [
        f"/feedback/sessions/{booking_id}" for booking_id in ids["waiting"]
    ]
    starts = [time.get_attribute("datetime") for time in items.locator("time").all()]
    assert starts == sorted(starts)
    assert "Sam Jones" in items.first.inner_text() and "6 days ago" in items.first.inner_text()
    assert_accessible(page)

    # ... writes feedback on the oldest one and saves a draft.
    items.first.get_by_role("link", name=re.compile(r"^Write feedback")).click()
    page.wait_for_url(re.compile(rf"/feedback/sessions/{ids['waiting'][0]}$"))
    page.get_by_role("heading", level=1, name=f"Feedback: {TYPE_NAME}").wait_for()
    assert_accessible(page)
    criterion(page, "Python and coding").get_by_role("radio", name=re.compile(r"^4:")).check()
    criterion(page, "ML fundamentals").get_by_role("radio", name=re.compile(r"^3:")).check()
    criterion(page, "Data and SQL").get_by_role("radio", name="Not assessed").check()
    criterion(page, "ML system design and production").get_by_role("radio", name=re.compile(r"^2:")).check()
    criterion(page, "Communication").get_by_role("radio", name=re.compile(r"^5:")).check()
    page.get_by_label("Strengths", exact=True).fill(STRENGTHS)
    page.get_by_label("Areas to improve", exact=True).fill(IMPROVEMENTS)
    page.get_by_label("Recommended next steps", exact=True).fill(NEXT_STEPS)
    page.get_by_role("group", name="Overall readiness").get_by_role("radio", name="Nearly ready").check()
    page.get_by_role("button", name="Save draft").click()
    flash(page, "Draft saved. The candidate cannot see it until you publish.")
    assert criterion(page, "Python and coding").get_by_role("radio", name=re.compile(r"^4:")).is_checked()
    assert criterion(page, "Data and SQL").get_by_role("radio", name="Not assessed").is_checked()
    assert page.get_by_label("Recommended next steps", exact=True).input_value() == NEXT_STEPS
    assert page.get_by_role("group", name="Overall readiness").get_by_role("radio", name="Nearly ready").is_checked()
    assert_accessible(page)

    # ... then publishes it.
    page.get_by_role("button", name="Publish", exact=True).click()
    flash(page, "Feedback published. The candidate has been told.")
    assert page.get_by_role("button", name="Save changes").is_visible()
    assert_accessible(page)
    log_out(page)

    # The candidate follows the notification to the feedback and reads it.
    log_in(page, CANDIDATE)
    notifications = page.get_by_role("link", name=re.compile("Notifications"))
    assert re.fullmatch(r"1\s*unread", notifications.locator(".badge").text_content().strip())
    notifications.click()
    page.get_by_role("heading", level=1, name="Notifications").wait_for()
    notice = page.locator(".list-group-item").filter(has_text=f"Priya Shah published feedback on your {TYPE_NAME}")
    assert_accessible(page)
    notice.get_by_role("button", name=re.compile(r"^Open")).click()
    page.wait_for_url(re.compile(rf"/feedback/sessions/{ids['waiting'][0]}$"))
    page.get_by_role("heading", level=2, name="Your mentor's assessment").wait_for()
    rows = page.locator(".rubric-table tbody tr")
    assert rows.count() == 5

    def row(name: str) -> list[str]:
        cells = rows.filter(has=page.get_by_role("rowheader", name=name, exact=True)).get_by_role("cell")
        return [" ".join(text.split()) for text in cells.all_text_contents()]

    assert row("Python and coding") == ["4 out of 5", "Clean, idiomatic, tested code; explained trade-offs unprompted."]
    assert row("Data and SQL") == ["—", "Not assessed in this session."]
    assert row("Communication") == ["5 out of 5", "Compelling and precise; led the conversation with confidence."]
    assert page.locator(".badge.readiness-nearly").inner_text() == "Nearly ready"
    strengths = page.locator("h3:text-is('Strengths') + .prose")
    assert strengths.get_by_role("listitem").all_inner_texts() == [
        "Clear explanation of trade-offs",
        "Wrote a test before refactoring",
    ]
    improvements = page.locator("h3:text-is('Areas to improve') + .prose")
    assert improvements.locator("li strong").inner_text() == "drift"
    assert page.locator("h3:text-is('Recommended next steps') + .prose li").count() == 2
    assert notifications.locator(".badge").count() == 0
    assert_accessible(page)

    # ... rates the session.
    page.get_by_role("group", name="How useful was this session?").get_by_role("radio", name="4: Good").check()
    page.get_by_label("Comment (optional)").fill("Very practical, thank you.")
    page.get_by_role("button", name="Send rating").click()
    flash(page, "Thank you for rating the session.")
    assert page.get_by_text("You rated this session 4 out of 5.").is_visible()
    assert page.get_by_role("button", name="Send rating").count() == 0
    assert_accessible(page)

    # ... and sees their progress: chart, table, what to practise next and the timeline.
    page.get_by_role("link", name="Progress", exact=True).click()
    page.get_by_role("heading", level=1, name="My progress").wait_for()
    assert page.locator("svg.progress-chart-wide").is_visible()
    assert not page.locator("svg.progress-chart-narrow").is_visible()
    with app.app_context():
        python_scores = db.session.scalar(
            sa.select(sa.func.count(SessionFeedback.id)).where(
                SessionFeedback.status == "published", SessionFeedback.score_python.is_not(None)
            )
        )
    assert python_scores == 2
    assert page.locator("svg.progress-chart-wide g[data-criterion=python] circle").count() == python_scores
    assert page.locator("svg.progress-chart-wide g[data-criterion=data] polygon").count() == 2  # not assessed last time
    table = page.locator("#scores-table")
    assert table.locator("tbody tr").count() == 3
    assert [
        " ".join(text.split()) for text in table.locator("tbody tr").last.get_by_role("cell").all_text_contents()
    ] == ["4", "3", "—", "2", "5"]
    assert page.get_by_text("Latest readiness: Nearly ready").is_visible()
    page.get_by_role("heading", name="What to practise next").wait_for()
    practise = page.locator("ol.practise-list > li")
    assert practise.count() == 3
    assert practise.first.locator("strong").inner_text() == "ML system design and production"
    timeline = page.locator("ol.timeline > li")
    assert timeline.count() == 3
    assert "Nearly ready" in timeline.first.inner_text() and "Not yet ready" in timeline.last.inner_text()
    assert_accessible(page)
    log_out(page)

    # The admin sees the mentor's rating average in the feedback overview.
    log_in(page, ADMIN)
    page.get_by_role("link", name="Feedback", exact=True).click()
    page.get_by_role("heading", level=1, name="Feedback overview").wait_for()
    ratings = page.locator("section[aria-labelledby=ratings-title] tbody tr")
    assert ratings.count() == 1
    assert ratings.first.get_by_role("cell").all_inner_texts() == ["Priya Shah", "4.00", "1"]
    overdue = page.locator("section[aria-labelledby=overdue-title] tbody tr")
    assert overdue.count() == 1 and "Sam Jones" in overdue.first.inner_text()
    assert_accessible(page)
    with app.app_context():
        assert db.session.scalar(sa.select(SessionRating.comment)) == "Very practical, thank you."


def test_feedback_pages_at_360px(app, make, browser, live_server):
    ids = seed(app, make)
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()

    def check(path: str, heading: str) -> None:
        page.goto(path)
        page.get_by_role("heading", level=1, name=heading).wait_for()
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path

    try:
        log_in(page, MENTOR)
        check(f"/feedback/sessions/{ids['waiting'][0]}", f"Feedback: {TYPE_NAME}")
        assert criterion(page, "Python and coding").get_by_role("radio", name=re.compile(r"^5:")).is_visible()
        check("/feedback/to-write", "Feedback to write")
        context.clear_cookies()

        log_in(page, CANDIDATE)
        check(f"/feedback/sessions/{ids['published'][-1]}", f"Feedback: {TYPE_NAME}")
        assert page.locator(".rubric-table").is_visible()
        check("/feedback/progress", "My progress")
        chart = page.locator("svg.progress-chart-narrow")
        assert chart.is_visible() and not page.locator("svg.progress-chart-wide").is_visible()
        # The axis text as drawn on screen: no label under 12 px.
        heights = chart.locator("text").evaluate_all("texts => texts.map(t => t.getBoundingClientRect().height)")
        sizes = chart.evaluate(
            "svg => [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size'))"
            " * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width)"
        )
        assert heights and min(sizes) >= 12, sizes
        dates = page.locator("#scores-table tbody th").all_inner_texts()
        assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", text.strip()) for text in dates), dates
        context.clear_cookies()

        log_in(page, ADMIN)
        check("/feedback/overview", "Feedback overview")
    finally:
        context.close()


def test_publishing_without_readiness_shows_the_error_next_to_the_field(app, make, page):
    ids = seed(app, make)
    log_in(page, MENTOR)
    page.goto(f"/feedback/sessions/{ids['waiting'][1]}")
    criterion(page, "Python and coding").get_by_role("radio", name=re.compile(r"^3:")).check()
    page.get_by_role("button", name="Publish", exact=True).click()

    summary = page.get_by_role("alert")
    summary.get_by_text("There is a problem").wait_for()
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.title().startswith("Error: ")
    message = "Choose how ready the candidate is before publishing."
    link = summary.get_by_role("link", name=message)
    assert link.get_attribute("href") == "#readiness"
    readiness = page.locator("#readiness")
    assert readiness.evaluate("element => element.tagName") == "FIELDSET"
    assert readiness.get_attribute("aria-describedby") == "readiness-error"
    assert readiness.locator("#readiness-error").inner_text().endswith(message)
    assert readiness.locator("#readiness-error").is_visible()
    assert criterion(page, "Python and coding").get_by_role("radio", name=re.compile(r"^3:")).is_checked()
    assert_accessible(page)

    link.click()
    page.wait_for_url(re.compile(r"#readiness$"))
    expect(page.get_by_role("group", name="Overall readiness")).to_be_in_viewport()
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(SessionFeedback.id)).where(SessionFeedback.booking_id == ids["waiting"][1])
            )
            == 0
        )
