"""The retention page in a real browser: an admin reaches it from the console, reads the policy and what a run would
remove, runs it now and sees what it removed; a candidate reads that a CV file was removed. Every page is checked
with axe-core (WCAG 2.1 A/AA), the admin page also at 360 px."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.extensions import db
from portal.notifications.models import Notification
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.test_browser import log_in
from tests.test_browser_admin import open_console_card
from tests.test_retention import CV_CUTOFF, DAY, candidate, cv_version

pytestmark = pytest.mark.browser


def test_an_admin_runs_retention_from_the_console_and_a_candidate_sees_the_removed_file(app, make, browser, page):
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    now = datetime.now(UTC)
    with app.app_context():
        sam = candidate("sam@example.org", created_at=CV_CUTOFF - 400 * DAY, last_login_at=CV_CUTOFF - 400 * DAY)
        document_id = cv_version(app, sam, CV_CUTOFF - 400 * DAY, "Old CV").id
        db.session.add(Notification(user_id=sam.id, message="Old news", created_at=now - timedelta(days=400)))
        db.session.commit()

    log_in(page, "alex@example.org")
    open_console_card(page, "Data retention", "Data retention")
    policy = page.get_by_role("table", name="Retention periods by category, and what a run would remove now")
    assert policy.get_by_role("row", name=re.compile(r"^CV files 24 months after")).inner_text().endswith("1")
    assert_accessible(page)

    page.once("dialog", lambda dialog: dialog.accept())  # "Remove everything past its retention period now?"
    page.get_by_role("button", name="Run now").click()
    page.get_by_text("Retention run finished. Removed: CV files 1").wait_for()
    last = page.locator("section", has=page.get_by_role("heading", name="Last run"))
    assert "Admin: Alex Morgan" in last.inner_text() and "In-app notifications: 1 removed" in last.inner_text()
    assert_accessible(page)

    narrow = browser.new_context(base_url=page.url.split("/admin")[0], viewport={"width": 360, "height": 740})
    narrow.set_default_timeout(BROWSER_TIMEOUT_MS)
    small = narrow.new_page()
    try:
        log_in(small, "alex@example.org")
        small.goto("/admin/retention/")
        small.get_by_role("heading", level=1, name="Data retention").wait_for()
        assert_accessible(small)
        assert small.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        narrow.close()

    page.get_by_role("button", name="Log out").click()
    log_in(page, "sam@example.org")
    page.goto(f"/cvs/{document_id}")
    page.get_by_text("under the retention policy").wait_for()
    assert page.get_by_role("link", name="Download").count() == 0
    assert_accessible(page)
