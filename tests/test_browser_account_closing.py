"""Closing an account in a real browser: a candidate with a session to come closes their account from the account
page (password again), sees that it is closed and cannot get back in; their mentor then signs in and reads the
cancellation notice; an admin erases the account on request. Every page reached is checked with axe-core (WCAG 2.1
A/AA)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import assert_accessible
from tests.factories import PASSWORD, make_booking, make_interview_type, make_slot
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

ADMIN, MENTOR, CANDIDATE = "alex@example.org", "priya@example.org", "sam@example.org"
TYPE_NAME = "Technical: Python and ML fundamentals"


def test_a_candidate_closes_their_account_and_the_mentor_sees_the_cancellation(app, make, page):
    mentor = make.user("mentor", email=MENTOR, name="Priya Shah")
    candidate = make.user("candidate", email=CANDIDATE, name="Sam Jones")
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    with app.app_context():
        make_booking(make_slot(mentor, starts, make_interview_type(TYPE_NAME)), candidate)

    log_in(page, CANDIDATE)
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("heading", level=2, name="Close my account").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Close my account").click()
    page.get_by_role("heading", level=1, name="Close your account").wait_for()
    assert "Your 1 session to come is cancelled" in page.locator("main").inner_text()
    assert_accessible(page)

    # A wrong password: the message sits next to the field and nothing happens.
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Close my account").click()
    page.locator("#password-error").get_by_text("Your password is not correct.").wait_for()
    assert_accessible(page)

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Close my account").click()
    page.get_by_role("heading", level=1, name="Your account is closed").wait_for()
    assert "careers@example.org" in page.locator("main").inner_text()
    assert_accessible(page)
    assert page.get_by_role("link", name="Your account").count() == 0  # logged out

    # The account no longer lets anyone in.
    page.goto("/login")
    page.get_by_label("Email address").fill(CANDIDATE)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("This account has been closed.").wait_for()

    # The mentor reads the cancellation notice.
    log_in(page, MENTOR)
    notifications = page.get_by_role("link", name=re.compile("Notifications"))
    notifications.click()
    page.get_by_role("heading", level=1, name="Notifications").wait_for()
    notice = page.locator(".list-group-item").filter(has_text="Sam Jones cancelled the")
    assert "The candidate closed their account." in notice.inner_text()
    assert_accessible(page)
    log_out(page)

    # An admin sees the account closed and waiting for erasure, and erases it now on the person's request.
    make.user("admin", email=ADMIN, name="Alex Morgan")
    log_in(page, ADMIN)
    page.goto(f"/admin/users/{candidate.id}")
    status = page.locator("dt", has_text="Status").locator("xpath=following-sibling::dd[1]")
    assert status.inner_text().startswith("Closed") and "to be erased" in status.inner_text()
    page.get_by_role("link", name="Erase now…").click()
    page.get_by_role("heading", level=1, name="Erase Sam Jones's personal data now?").wait_for()
    assert_accessible(page)
    page.get_by_label("Type the person's email address to confirm").fill("someone.else@example.org")
    page.get_by_role("button", name="Erase now").click()
    page.locator("#email-error").get_by_text("This is not the person's email address.").wait_for()
    assert_accessible(page)
    page.get_by_label("Type the person's email address to confirm").fill(CANDIDATE)
    page.get_by_role("button", name="Erase now").click()
    flash(page, f"Account {candidate.id} has been erased.")
    page.get_by_role("heading", level=1, name="Former member").wait_for()
    assert status.inner_text().startswith("Erased")
    assert page.get_by_role("link", name="Erase now…").count() == 0
    assert_accessible(page)
