"""Admin-console journeys in a real browser: editing the FAQ, changing the booking policy, reading the reports and
downloading a CSV, the audit log; deactivating a candidate who is logged in elsewhere; the console on a 360 px screen.

Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

TYPE_NAME = "Technical: Python and ML fundamentals"
ADMIN, MENTOR, CANDIDATE = "alex@example.org", "priya@example.org", "sam@example.org"
NEW_ANSWER = "Any route works if you can show production-quality Python and deployed ML projects."
PAST_DAYS = (10, 3)  # completed sessions, inside the reports' default eight-week range
FUTURE_DAYS = (2, 4)  # booked sessions still to come


def seed(app, make) -> dict:
    """An admin, a mentor and a candidate; two completed sessions and two booked future ones."""
    make.user("admin", email=ADMIN, name="Alex Morgan")
    mentor = make.user("mentor", email=MENTOR, name="Priya Shah")
    candidate = make.user("candidate", email=CANDIDATE, name="Sam Jones")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        kind = make_interview_type(TYPE_NAME)
        past = [
            make_booking(make_slot(mentor, now - timedelta(days=days), kind), candidate, status="completed").id
            for days in PAST_DAYS
        ]
        future = [
            make_booking(make_slot(mentor, now + timedelta(days=days), kind), candidate).id for days in FUTURE_DAYS
        ]
    return {"candidate_id": candidate.id, "past": past, "future": future}


def open_console_card(page, name: str, heading: str) -> None:
    """From anywhere: "Console" in the nav, then one card of the console."""
    page.get_by_role("link", name="Console", exact=True).click()
    page.get_by_role("heading", level=1, name="Admin console").wait_for()
    page.locator(".console").get_by_role("link", name=name, exact=True).click()
    page.get_by_role("heading", level=1, name=heading).wait_for()


def audit_rows(page, action: str):
    return page.locator(".audit-table tbody tr").filter(
        has=page.locator("code", has_text=re.compile(rf"^{re.escape(action)}$"))
    )


def test_admin_edits_faq_changes_policy_views_dashboard_and_downloads_csv(app, make, page):
    ids = seed(app, make)
    log_in(page, ADMIN)

    # The console.
    page.get_by_role("link", name="Console", exact=True).click()
    page.get_by_role("heading", level=1, name="Admin console").wait_for()
    assert_accessible(page)

    # Content: the FAQ editor, a preview, then a save.
    page.locator(".console").get_by_role("link", name="Content", exact=True).click()
    page.get_by_role("heading", level=1, name="Content").wait_for()
    assert_accessible(page)
    page.locator("main table").get_by_role("link", name="FAQ", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/content/faq$"))
    page.get_by_role("heading", level=1, name="Edit the FAQ").wait_for()
    first = page.get_by_role("group", name="Question 1", exact=True)
    question = first.get_by_label("Question", exact=True).input_value()
    assert question
    first.get_by_label("Answer (Markdown)").fill(NEW_ANSWER)
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.locator("section[aria-labelledby=preview-title]")
    preview.get_by_text(NEW_ANSWER).wait_for()
    assert preview.locator("h4").first.inner_text() == question
    assert (
        page.get_by_role("group", name="Question 1", exact=True).get_by_label("Answer (Markdown)").input_value()
        == NEW_ANSWER
    )
    assert_accessible(page)
    page.get_by_role("button", name="Save", exact=True).click()
    flash(page, "FAQ saved. Visitors see the new version now.")

    # The public FAQ shows the new answer in the first question's disclosure.
    page.goto("/faq")
    disclosure = page.locator("details.faq-item").first
    assert disclosure.locator("summary").inner_text().strip() == question
    disclosure.locator("summary").click()
    assert disclosure.get_attribute("open") is not None
    assert disclosure.locator(".answer").get_by_text(NEW_ANSWER).is_visible()
    assert_accessible(page)

    # Booking policy.
    open_console_card(page, "Booking policy", "Booking policy")
    assert_accessible(page)
    page.get_by_label("Upcoming bookings a candidate may hold").fill("5")
    page.get_by_label("Minimum notice (hours)").fill("2")
    page.get_by_role("button", name="Save policy").click()
    flash(page, "Booking policy saved.")
    assert page.get_by_label("Upcoming bookings a candidate may hold").input_value() == "5"
    assert page.get_by_label("Minimum notice (hours)").input_value() == "2"

    # Reports: charts beside tables, and the bookings CSV.
    open_console_card(page, "Reports", "Reports")
    assert page.locator("svg.bar-chart").count() >= 2
    assert page.locator("#chart-weeks").is_visible() and page.locator("#chart-utilisation").is_visible()
    weeks = page.locator("#weeks-table tbody tr")
    assert weeks.count() >= 8
    assert sum(int(text) for text in page.locator("#weeks-table tbody tr td:nth-child(2)").all_inner_texts()) == len(
        ids["past"]
    )
    utilisation = page.locator("#utilisation-table tbody tr")
    assert utilisation.count() == 1
    assert utilisation.first.get_by_role("cell").all_inner_texts() == ["Priya Shah", "2", "2"]
    assert page.locator("#rubric-table").is_visible()
    assert page.locator("#completion-rate").inner_text() == "100%"
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="bookings", exact=True).click()
    assert download.value.suggested_filename.startswith("bookings-")
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("booking_id,")
    rows = [line for line in lines[1:] if line.strip()]
    assert len(rows) >= 1
    assert sorted(int(row.split(",", 1)[0]) for row in rows) == sorted(ids["past"])

    # Audit log: both changes are recorded.
    open_console_card(page, "Audit log", "Audit log")
    assert audit_rows(page, "content.edited").count() == 1
    assert audit_rows(page, "policy.changed").count() == 1
    policy_row = audit_rows(page, "policy.changed").inner_text()
    assert "min_notice_hours 12 → 2" in policy_row and "max_upcoming 2 → 5" in policy_row
    assert_accessible(page)

    # People and one person's page.
    open_console_card(page, "People", "People")
    assert_accessible(page)
    page.get_by_role("link", name="Sam Jones", exact=True).click()
    page.get_by_role("heading", level=1, name="Sam Jones").wait_for()
    assert_accessible(page)
    log_out(page)

    # The candidate sees the new rules where they book.
    log_in(page, CANDIDATE)
    page.get_by_role("link", name="Book an interview").click()
    page.wait_for_url(re.compile(r"/interviews/slots"))
    rules = page.locator("details.policy")
    rules.get_by_text("Booking rules").click()
    assert rules.get_attribute("open") is not None
    assert rules.get_by_text("Hold up to 5 upcoming sessions").is_visible()
    assert rules.get_by_text(re.compile(r"at least 2 hours ahead")).is_visible()
    assert_accessible(page)


def test_admin_deactivates_a_candidate_after_confirmation(app, make, browser, live_server, page):
    seed(app, make)

    # The candidate is logged in in a browser of their own.
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    candidate_page = context.new_page()
    try:
        log_in(candidate_page, CANDIDATE)
        candidate_page.get_by_role("link", name="My interviews").click()
        candidate_page.wait_for_url(re.compile(r"/interviews/bookings$"))

        log_in(page, ADMIN)
        open_console_card(page, "People", "People")
        page.get_by_label("Name or email").fill("Sam Jones")
        page.get_by_role("button", name="Show", exact=True).click()
        page.wait_for_url(re.compile(r"[?&]q=Sam\+Jones"))
        people = page.locator("table tbody").first.locator("tr")
        assert people.count() == 1
        people.get_by_role("link", name="Sam Jones", exact=True).click()
        page.get_by_role("heading", level=1, name="Sam Jones").wait_for()
        assert_accessible(page)

        page.get_by_role("link", name="Deactivate…").click()
        page.get_by_role("heading", level=1, name="Deactivate Sam Jones?").wait_for()
        page.get_by_text(f"These {len(FUTURE_DAYS)} future bookings will be cancelled").wait_for()
        listed = page.locator("main ul li")
        assert listed.count() == len(FUTURE_DAYS)
        for item in listed.all_inner_texts():
            assert f"{TYPE_NAME}, Sam Jones with Priya Shah" in item
        assert_accessible(page)
        page.get_by_role("button", name="Deactivate Sam Jones").click()
        flash(
            page,
            f"Sam Jones is deactivated and logged out everywhere; {len(FUTURE_DAYS)} future bookings were "
            "cancelled with a notice.",
        )
        page.get_by_role("heading", level=1, name="Sam Jones").wait_for()
        assert page.get_by_role("button", name="Reactivate").is_visible()

        # The candidate's other browser is logged out at once.
        candidate_page.reload()
        candidate_page.wait_for_url(re.compile(r"/login"))
        candidate_page.get_by_role("button", name="Log in").wait_for()
        candidate_page.goto("/interviews/slots")
        candidate_page.wait_for_url(re.compile(r"/login"))
    finally:
        context.close()


def test_admin_pages_at_360px(app, make, browser, live_server):
    ids = seed(app, make)
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, ADMIN)
        for path, heading in (
            ("/admin/", "Admin console"),
            ("/admin/users", "People"),
            (f"/admin/users/{ids['candidate_id']}", "Sam Jones"),
            ("/admin/content/faq", "Edit the FAQ"),
            ("/admin/policy", "Booking policy"),
            ("/admin/reports", "Reports"),
            ("/admin/audit", "Audit log"),
        ):
            page.goto(path)
            page.get_by_role("heading", level=1, name=heading).wait_for()
            assert_accessible(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
    finally:
        context.close()
