"""A new version of the privacy notice in a real browser, with the keyboard: an admin publishes it with a sentence
on what changed; a candidate sees the banner on every page, reads what changed and acknowledges it once.

Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA), at desktop width and at 360 px.
"""

from __future__ import annotations

import pytest

from tests.browser import assert_accessible
from tests.test_browser import log_in
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

BANNER = "We have updated our privacy notice."
CHANGE = "You can now download a copy of your data and close your account yourself."


def test_a_new_notice_version_is_published_and_acknowledged_once(app, make, page):
    make.user("admin", email="admin@example.org")
    make.user(email="cara@example.org", name="Cara Candidate")

    log_in(page, "admin@example.org")
    page.goto("/admin/content/privacy")
    page.get_by_label("This is a new version").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.type(CHANGE)
    assert page.get_by_label("What changed").input_value() == CHANGE
    page.get_by_role("button", name="Save").click()
    flash(page, "everyone is asked to acknowledge it")
    assert_accessible(page)
    log_out(page)

    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 900})
        log_in(page, "cara@example.org")
        banner = page.get_by_role("region", name="Privacy notice updated")
        assert BANNER in banner.inner_text()
        page.goto("/notifications/")
        assert page.get_by_role("region", name="Privacy notice updated").is_visible()
        assert_accessible(page)
        if width == 360:
            break
        log_out(page)

    page.get_by_role("link", name="See what changed").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/privacy/updated**")
    main = page.locator("main").inner_text()
    assert CHANGE in main and "Our privacy notice has changed" in main
    assert page.get_by_role("region", name="Privacy notice updated").count() == 0
    assert_accessible(page)
    page.get_by_role("button", name="I have read it").focus()
    page.keyboard.press("Enter")
    flash(page, "you have acknowledged the current privacy notice")
    assert page.url.endswith("/notifications/")
    assert page.get_by_role("region", name="Privacy notice updated").count() == 0
    page.goto("/")
    assert page.get_by_role("region", name="Privacy notice updated").count() == 0
