"""Journeys in a real browser (Chromium through Playwright), checked with axe-core on every page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.auth.models import User
from portal.extensions import db
from portal.mail import OutboxEmail
from tests.browser import assert_accessible, screenshot
from tests.conftest import LIVE_APPS
from tests.factories import PASSWORD, current_code, forget_used_codes

pytestmark = pytest.mark.browser


def latest_email_link(app, to_address: str, path: str) -> str:
    with app.app_context():
        body = db.session.scalar(
            sa.select(OutboxEmail.body_text).where(OutboxEmail.to_address == to_address).order_by(OutboxEmail.id.desc())
        )
    return re.search(rf"https?://[^\s]+{re.escape(path)}[^\s]+", body).group(0)


def log_in(page, email: str, password: str = PASSWORD) -> None:
    """Through the real form; staff then enter the code their authenticator app shows (tests.factories.TOTP_SECRET)."""
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"(/|/login/code)$"))
    if page.url.endswith("/login/code"):
        origin = "/".join(page.url.split("/")[:3])
        with LIVE_APPS[origin].app_context():
            forget_used_codes(email)
        page.get_by_label("Security code").fill(current_code())
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"/$"))


def test_visitor_reads_guide_and_faq_registers_logs_out_logs_in_changes_time_zone(app, page):
    page.goto("/")
    assert_accessible(page)
    page.get_by_role("link", name="The MLE guide").first.click()
    page.get_by_role("heading", level=1, name="What does a machine learning engineer actually do?").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="FAQ").first.click()
    question = page.locator("details").first
    question.locator("summary").click()
    assert question.get_attribute("open") is not None
    assert_accessible(page)

    page.get_by_role("link", name="Create account").click()
    page.get_by_role("button", name="Create account").click()  # empty form: errors first
    summary = page.get_by_role("alert")
    summary.get_by_text("There is a problem").wait_for()
    expect(page.locator("#error-summary")).to_be_focused()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert_accessible(page)
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill("analytical engine 1843")
    page.get_by_label("Confirm password").fill("analytical engine 1843")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_accessible(page)
    page.goto(latest_email_link(app, "ada@example.org", "/register/confirm/"))
    page.get_by_role("heading", name="Finish creating your account").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_text("Your account is ready. Welcome!").wait_for()
    assert_accessible(page)

    page.get_by_role("button", name=re.compile("Log out")).click()
    page.get_by_text("You have logged out.").wait_for()
    log_in(page, "ada@example.org", "analytical engine 1843")
    assert_accessible(page)

    page.get_by_role("link", name="Your account").click()
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Your profile has been saved.").wait_for()
    assert_accessible(page)
    with app.app_context():
        assert db.session.scalar(sa.select(User.timezone).where(User.email == "ada@example.org")) == "America/New_York"


def test_admin_invites_a_mentor_who_accepts_through_the_emailed_link(app, make, page):
    make.user("admin", email="admin@example.org", name="Alex Morgan")
    log_in(page, "admin@example.org")
    page.get_by_role("link", name="Console").click()
    assert_accessible(page)
    page.get_by_role("link", name="People").click()
    assert_accessible(page)
    page.get_by_role("link", name="Invite a mentor").first.click()
    assert_accessible(page)
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("Email address").fill("priya@example.org")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Invitation sent to priya@example.org").wait_for()
    assert page.get_by_role("cell", name="Pending").is_visible()
    page.get_by_role("button", name=re.compile("Log out")).click()

    page.goto(latest_email_link(app, "priya@example.org", "/invitation/"))
    page.get_by_role("heading", name="Welcome, Priya Shah").wait_for()
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill("neural networks at dawn")
    page.get_by_label("Confirm password").fill("neural networks at dawn")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("Welcome, Priya Shah. Your mentor account is ready.").wait_for()
    assert_accessible(page)
    with app.app_context():
        assert db.session.scalar(sa.select(User.role).where(User.email == "priya@example.org")) == "mentor"


def test_password_reset_through_the_emailed_link(app, make, page):
    make.user(email="sam@example.org")
    page.goto("/login")
    page.get_by_role("link", name="Forgotten your password?").click()
    assert_accessible(page)
    page.get_by_label("Email address").fill("sam@example.org")
    page.get_by_role("button", name="Send reset link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_accessible(page)
    page.goto(latest_email_link(app, "sam@example.org", "/password/reset/"))
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill("a fresh start today")
    page.get_by_label("Confirm password").fill("a fresh start today")
    page.get_by_role("button", name="Set new password").click()
    page.get_by_text("Your password has been changed.").wait_for()
    log_in(page, "sam@example.org", "a fresh start today")


def test_small_screen_and_keyboard(make, browser, live_server):
    make.user(email="sam@example.org")
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        for path in ("/", "/guide", "/faq", "/register", "/login"):
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        page.goto("/")
        screenshot(page, "home-360")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to main content")
        assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
        assert skip.is_visible()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        menu = page.get_by_role("button", name="Show navigation")
        menu.focus()
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Log in").wait_for(state="visible")
        assert menu.get_attribute("aria-expanded") == "true"
        assert_accessible(page)
        screenshot(page, "menu-360")
    finally:
        context.close()


def test_error_pages_are_accessible(page):
    page.goto("/no-such-page")
    page.get_by_role("heading", name="Page not found").wait_for()
    assert_accessible(page)
