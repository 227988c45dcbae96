"""Subject access in a real browser: a candidate asks for a copy of their data, the worker builds it, the candidate
downloads the zip and finds their email and their CV in it; an admin exports a person's data for them.

Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from portal.privacy.exports import build_due_exports
from tests.browser import assert_accessible
from tests.cv_samples import GOOD_CV_LINES, pdf_with_text
from tests.test_browser import log_in
from tests.test_browser_cvs import upload_cv
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

PREPARING = "We are preparing your file; we'll email you when it is ready (usually within minutes)."


def run_worker(app) -> int:
    with app.app_context():
        return build_due_exports()


def downloaded_zip(page, link) -> zipfile.ZipFile:
    with page.expect_download() as download:
        link.click()
    assert re.fullmatch(r"career-portal-data-\d{4}-\d\d-\d\d\.zip", download.value.suggested_filename)
    return zipfile.ZipFile(Path(download.value.path()))


def test_candidate_asks_for_their_data_and_downloads_the_zip(app, make, page):
    make.user("candidate", email="sam@example.org", name="Sam Taylor")
    cv = pdf_with_text(GOOD_CV_LINES)
    log_in(page, "sam@example.org")
    page.goto("/cvs/")
    upload_cv(page, "November CV", cv, filename="Sam CV.pdf")
    flash(page, "uploaded")

    page.get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Download a copy of your data").click()
    page.get_by_role("heading", level=1, name="Your data").wait_for()
    assert page.get_by_text("You have not asked for a copy yet.").is_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Download my data").click()
    flash(page, PREPARING)
    row = page.get_by_role("table", name="Copies of your data you asked for").locator("tbody tr")
    assert row.count() == 1 and "Being prepared" in row.inner_text()
    assert_accessible(page)

    assert run_worker(app) == 1
    page.reload()
    row = page.get_by_role("table", name="Copies of your data you asked for").locator("tbody tr")
    assert "Ready" in row.inner_text()
    assert_accessible(page)
    archive = downloaded_zip(page, row.get_by_role("link", name=re.compile("^Download")))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "sam@example.org"
    assert [version["file_in_this_zip"] for version in data["cv_versions"]] == ["cv/1-Sam CV.pdf"]
    assert archive.read("cv/1-Sam CV.pdf") == cv
    assert "README.txt" in archive.namelist()
    page.reload()
    assert "Last downloaded" in page.get_by_role("table", name="Copies of your data you asked for").inner_text()


def test_admin_exports_a_persons_data_and_downloads_it(app, make, page):
    person = make.user("candidate", email="jo@example.org", name="Jo Lee")
    make.user("admin", email="alex@example.org", name="Alex Morgan")
    log_in(page, "alex@example.org")
    page.goto(f"/admin/users/{person.id}")
    page.get_by_role("button", name="Export this person's data").click()
    flash(page, "We are preparing the export of the data of Jo Lee")
    page.get_by_role("heading", level=1, name="Data exports: Jo Lee").wait_for()
    assert_accessible(page)
    assert run_worker(app) == 1
    page.reload()
    table = page.get_by_role("table", name="Exports of this person's data")
    assert "Alex Morgan" in table.inner_text() and "Ready" in table.inner_text()
    archive = downloaded_zip(page, table.get_by_role("link", name=re.compile("^Download")))
    assert json.loads(archive.read("data.json"))["account"]["email"] == "jo@example.org"
    log_out(page)
