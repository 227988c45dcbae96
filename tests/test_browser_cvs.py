"""CV journeys in a real browser: upload and instant check, asking for a review, a mentor's feedback, a revised
version with the diff, the admin's list; the CV pages on a 360 px screen; an upload error announced next to its field.

Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from portal.auth.models import User
from portal.cvs import services
from portal.cvs.models import CVReview
from portal.extensions import db
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.cv_samples import GOOD_CV_LINES, THIN_CV_LINES, pdf_with_text
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out, tab_to

pytestmark = pytest.mark.browser

FIRST_ROLE = "Junior ML engineer at a fintech in London"
SECOND_ROLE = "ML engineer, platform team, Manchester"
NOT_ACCEPTED = "Only PDF and Word (.docx) files are accepted."


def upload_cv(page, name: str, data: bytes, filename: str = "cv.pdf", mime: str = "application/pdf") -> None:
    """Fill the upload form on /cvs/ and submit it (the caller checks the outcome)."""
    page.get_by_label("Name this version").fill(name)
    page.set_input_files("#file", files=[{"name": filename, "mimeType": mime, "buffer": data}])
    page.get_by_role("button", name="Upload", exact=True).click()


def review_id_from_url(page) -> int:
    page.wait_for_url(re.compile(r"/reviews/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_candidate_uploads_asks_for_review_mentor_publishes_candidate_revises(app, make, page):
    make.user("candidate", email="sam@example.org", name="Sam Jones")
    make.user("mentor", email="priya@example.org", name="Priya Shah")
    make.user("admin", email="alex@example.org", name="Alex Morgan")

    # The candidate uploads a weak CV and reads the instant check.
    log_in(page, "sam@example.org")
    page.get_by_role("link", name="My CVs", exact=True).click()
    page.get_by_role("heading", level=1, name="My CVs").wait_for()
    assert page.get_by_text("No CV yet.").is_visible()
    assert_accessible(page)
    upload_cv(page, "ML CV, first try", pdf_with_text(THIN_CV_LINES))
    flash(page, "“ML CV, first try” uploaded. Here is an instant check of it.")
    page.wait_for_url(re.compile(r"/cvs/\d+$"))
    page.get_by_role("heading", level=1, name=re.compile("ML CV, first try")).wait_for()
    page.get_by_role("heading", level=2, name="Instant check").wait_for()
    assert page.locator(".cv-check-advice").count() >= 1
    assert page.locator(".cv-checks").get_by_text("worth a look").first.is_visible()
    assert_accessible(page)

    # ... and asks for a review.
    page.get_by_label("Role you are applying for").fill(FIRST_ROLE)
    page.get_by_role("button", name="Ask for a review").click()
    flash(page, "Review requested. A mentor will pick it up soon")
    first_review = review_id_from_url(page)
    page.get_by_role("heading", level=1, name="CV review: ML CV, first try").wait_for()
    assert page.get_by_text("Your request is in the queue.").is_visible()
    assert page.locator(".badge.review-requested").inner_text() == "Waiting for a mentor"
    assert_accessible(page)
    log_out(page)

    # The mentor claims it from the queue and writes feedback.
    log_in(page, "priya@example.org")
    page.get_by_role("link", name="CV reviews").click()
    page.get_by_role("heading", level=1, name="CV reviews").wait_for()
    row = page.get_by_role("table", name="Review requests waiting for a mentor").locator("tbody tr")
    assert row.count() == 1
    assert "Sam Jones" in row.inner_text()
    assert row.get_by_role("cell", name=FIRST_ROLE).is_visible()
    assert_accessible(page)
    row.get_by_role("button", name=re.compile(r"^Claim")).click()
    flash(page, "You are reviewing this CV.")
    assert review_id_from_url(page) == first_review
    page.get_by_role("heading", level=2, name="Your feedback").wait_for()
    assert page.get_by_text("This is the candidate's first review.").is_visible()
    assert_accessible(page)

    page.get_by_label("Changes suggested").check()
    page.get_by_label("Summary", exact=True).fill("Open with a two-line profile aimed at ML engineering.")
    page.get_by_label("Experience and impact").fill("Say what you built and what changed because of it.")
    page.get_by_label("Skills", exact=True).fill("List the tools: Python, SQL, PyTorch, Docker.")
    page.get_by_label("Strengths").fill("Clear contact details and a friendly tone.")
    page.get_by_label("Improvement 1").fill("Add a projects section with links to your code.")
    page.get_by_label("Improvement 2").fill("Quantify results with numbers.")
    page.get_by_role("button", name="Save draft").click()
    flash(page, "Draft saved. Only you can see it until you publish.")
    assert page.get_by_label("Improvement 2").input_value() == "Quantify results with numbers."
    assert page.get_by_label("Changes suggested").is_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Publish to the candidate").click()
    flash(page, "Feedback published. The candidate has been told.")
    assert page.locator(".badge.review-completed").inner_text() == "Reviewed"
    assert_accessible(page)
    log_out(page)

    # The candidate sees the notification, opens the review and reads it.
    log_in(page, "sam@example.org")
    notifications = page.get_by_role("link", name=re.compile("Notifications"))
    badge = notifications.locator(".badge")
    assert re.fullmatch(r"1\s*unread", badge.text_content().strip())
    notifications.click()
    page.get_by_role("heading", level=1, name="Notifications").wait_for()
    notice = page.locator(".list-group-item").filter(has_text="reviewed your CV “ML CV, first try”")
    assert "Changes suggested" in notice.inner_text()
    assert_accessible(page)
    notice.get_by_role("button", name=re.compile(r"^Open")).click()
    assert review_id_from_url(page) == first_review
    page.get_by_role("heading", level=2, name="Feedback").wait_for()
    feedback = page.locator(".cv-feedback")
    assert feedback.locator(".badge").inner_text() == "Changes suggested"
    assert feedback.get_by_role("listitem").all_inner_texts() == [
        "Add a projects section with links to your code.",
        "Quantify results with numbers.",
    ]
    assert feedback.get_by_text("Clear contact details and a friendly tone.").is_visible()
    assert notifications.locator(".badge").count() == 0
    assert_accessible(page)

    # ... uploads a revised version and asks again.
    page.get_by_role("link", name="My CVs", exact=True).click()
    page.get_by_role("heading", level=1, name="My CVs").wait_for()
    assert page.locator("tbody tr").filter(has_text="ML CV, first try").get_by_text("(Changes suggested)").is_visible()
    assert_accessible(page)
    upload_cv(page, "ML CV, revised", pdf_with_text(GOOD_CV_LINES))
    flash(page, "“ML CV, revised” uploaded.")
    page.get_by_role("heading", level=2, name="Instant check").wait_for()
    assert_accessible(page)
    page.get_by_label("Role you are applying for").fill(SECOND_ROLE)
    page.get_by_role("button", name="Ask for a review").click()
    flash(page, "Review requested.")
    second_review = review_id_from_url(page)
    assert second_review != first_review
    assert page.get_by_text("Your request is in the queue.").is_visible()
    log_out(page)

    # The mentor claims the new request and sees what changed and what they said last time.
    log_in(page, "priya@example.org")
    page.get_by_role("link", name="CV reviews").click()
    page.get_by_role("heading", level=1, name="CV reviews").wait_for()
    mine = page.locator(".list-group-item").filter(has_text="ML CV, first try")
    assert mine.locator(".badge").inner_text() == "Reviewed"
    row = page.get_by_role("table", name="Review requests waiting for a mentor").locator("tbody tr")
    assert row.count() == 1
    assert row.get_by_role("cell", name=SECOND_ROLE).is_visible()
    assert_accessible(page)
    row.get_by_role("button", name=re.compile(r"^Claim")).click()
    flash(page, "You are reviewing this CV.")
    assert review_id_from_url(page) == second_review
    history = page.locator('section[aria-labelledby="history-title"]')
    history.get_by_role("heading", name="What changed since the last review").wait_for()
    assert history.get_by_text("Previous version: “ML CV, first try”, Changes suggested (Priya Shah).").is_visible()
    assert page.locator(".cv-diff li.diff-added").count() > 0
    assert page.locator(".cv-diff li.diff-added").filter(has_text="Machine Learning Engineer").first.is_visible()
    assert history.get_by_text(re.compile(r"\d+ lines? added, \d+ removed\.")).is_visible()
    history.get_by_role("heading", name="Previous feedback").wait_for()
    assert history.locator(".cv-feedback .badge").inner_text() == "Changes suggested"
    assert history.get_by_text("Add a projects section with links to your code.").is_visible()
    assert_accessible(page)
    log_out(page)

    # The admin sees both reviews.
    log_in(page, "alex@example.org")
    page.get_by_role("link", name="CV reviews").click()
    page.get_by_role("heading", level=1, name="All CV reviews").wait_for()
    assert page.get_by_text("2 reviews.").is_visible()
    rows = page.get_by_role("table", name="CV review requests, newest first").locator("tbody tr")
    assert rows.count() == 2
    assert [badge.inner_text() for badge in rows.locator("td .badge").all()] == ["In review", "Reviewed"]
    assert rows.nth(0).get_by_role("cell", name=SECOND_ROLE).is_visible()
    assert rows.nth(1).get_by_role("cell", name=FIRST_ROLE).is_visible()
    assert_accessible(page)


def seed_reviews(app, candidate, other_candidate, mentor) -> dict[str, int]:
    """Through the services: a published review of a thin CV, a claimed review of its revision (so there is a diff),
    and another candidate's request still waiting in the queue."""
    with app.test_request_context():
        sam = db.session.get(User, candidate.id)
        jo = db.session.get(User, other_candidate.id)
        priya = db.session.get(User, mentor.id)
        first_doc = services.upload_cv(sam, "ML CV, first try", "thin.pdf", io.BytesIO(pdf_with_text(THIN_CV_LINES)))
        first = services.request_review(sam, first_doc, FIRST_ROLE, "Is the layout fine on a phone?")
        services.claim_review(first, priya)
        services.save_feedback(
            first,
            priya,
            {
                "verdict": "changes_suggested",
                "comment_summary": "Open with a two-line profile.",
                "strengths": "Clear contact details.",
                "improvement_1": "Add a projects section.",
                "improvement_2": "Quantify results with numbers.",
            },
            publish=True,
        )
        db.session.commit()
        second_doc = services.upload_cv(sam, "ML CV, revised", "good.pdf", io.BytesIO(pdf_with_text(GOOD_CV_LINES)))
        second = services.request_review(sam, second_doc, SECOND_ROLE, "")
        services.claim_review(second, priya)
        waiting_doc = services.upload_cv(jo, "Data scientist CV", "jo.pdf", io.BytesIO(pdf_with_text(GOOD_CV_LINES)))
        waiting = services.request_review(jo, waiting_doc, "Data scientist in Leeds", "")
        db.session.commit()
        ids = {"first_doc": first_doc.id, "first": first.id, "second": second.id, "waiting": waiting.id}
        db.session.remove()
    return ids


def test_cv_pages_at_360px(app, make, browser, live_server):
    sam = make.user("candidate", email="sam@example.org", name="Sam Jones")
    jo = make.user("candidate", email="jo@example.org", name="Jo Lee")
    priya = make.user("mentor", email="priya@example.org", name="Priya Shah")
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    ids = seed_reviews(app, sam, jo, priya)
    with app.app_context():
        assert db.session.scalar(sa.select(CVReview.status).where(CVReview.id == ids["second"])) == "claimed"

    pages = {
        "sam@example.org": [
            "/cvs/",
            f"/cvs/{ids['first_doc']}",
            f"/reviews/{ids['first']}",
            f"/reviews/{ids['second']}",
        ],
        "priya@example.org": ["/reviews/queue", f"/reviews/{ids['second']}", f"/reviews/{ids['first']}"],
        "alex@example.org": ["/reviews/all"],
    }
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    too_wide: dict[str, int] = {}
    violations: list[str] = []
    try:
        for email, paths in pages.items():
            log_in(page, email)
            for path in paths:
                response = page.goto(path)
                assert response.status == 200, path
                try:
                    assert_accessible(page)
                except AssertionError as error:  # keep going: report every page at once
                    violations.append(f"{email} {path}: {error}")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > 360:
                    too_wide[f"{email} {path}"] = width
            if email == "priya@example.org":  # the claimed review shows the form and the diff
                page.goto(f"/reviews/{ids['second']}")
                page.get_by_role("heading", name="What changed since the last review").wait_for()
                assert page.locator(".cv-diff li.diff-added").count() > 0
            context.clear_cookies()  # the next person logs in on a fresh session
    finally:
        context.close()
    assert too_wide == {}, f"pages wider than 360 px: {too_wide}"
    assert violations == [], "\n\n".join(violations)


def test_upload_error_is_announced_next_to_the_field(make, page):
    make.user("candidate", email="sam@example.org", name="Sam Jones")
    log_in(page, "sam@example.org")
    page.goto("/cvs/")
    upload_cv(page, "Not really a CV", b"<html></html>")

    summary = page.locator("#error-summary")
    summary.get_by_text("There is a problem").wait_for()
    assert summary.get_attribute("role") == "alert"
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.title().startswith("Error: ")
    link = summary.get_by_role("link", name=NOT_ACCEPTED)
    assert link.get_attribute("href") == "#file"

    file_input = page.locator("#file")
    error = page.locator("#file-error")
    assert " ".join(error.text_content().split()) == f"Error: {NOT_ACCEPTED}"
    assert error.is_visible()
    assert file_input.get_attribute("aria-invalid") == "true"
    assert "file-error" in file_input.get_attribute("aria-describedby").split()
    # The message sits next to the field: inside the same form group as its label and the input.
    assert page.evaluate(
        "document.getElementById('file-error').parentElement === document.getElementById('file').parentElement"
    )
    assert page.get_by_label("Name this version").input_value() == "Not really a CV"
    assert page.get_by_text("No CV yet.").is_visible()
    assert_accessible(page)


def choose_file_with_space(page, file: dict, attempts: int = 4) -> None:
    """Space on the focused file input opens the file chooser. On a loaded machine Chromium now and then lets a
    key press go by without opening it, so the press is repeated a few times before the test fails."""
    for attempt in range(attempts):
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
            assert page.evaluate("document.activeElement.id") == "file"
        else:
            chooser.value.set_files(files=[file])
            return


@pytest.mark.parametrize("width", [1280, 360])
def test_upload_a_cv_with_the_keyboard_only(make, browser, live_server, width):
    """Tab to each field, choose the file from the keyboard, upload with Enter; at 360 px the name is left blank
    and taken from the file's name."""
    make.user("candidate", email="sam@example.org", name="Sam Jones")
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, "sam@example.org")
        page.goto("/cvs/")
        assert_accessible(page)
        tab_to(page, "el => el.id === 'name'")
        if width > 360:
            page.keyboard.type("ML engineer CV, November")
        tab_to(page, "el => el.id === 'file'", limit=5)
        cv = {"name": "ml_engineer_cv.pdf", "mimeType": "application/pdf", "buffer": pdf_with_text(GOOD_CV_LINES)}
        choose_file_with_space(page, cv)
        tab_to(page, "el => el.tagName === 'BUTTON' && el.innerText.trim() === 'Upload'", limit=5)
        page.keyboard.press("Enter")
        name = "ML engineer CV, November" if width > 360 else "ml engineer cv"
        flash(page, f"“{name}” uploaded. Here is an instant check of it.")
        page.get_by_role("heading", level=1, name=re.compile(re.escape(name))).wait_for()
        page.get_by_role("heading", level=2, name="Instant check").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert_accessible(page)
    finally:
        context.close()
