"""Helpers for browser journeys: axe-core checks and screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
_axe = Axe()


def assert_accessible(page) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on the current page."""
    results = _axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
    screenshot(page)


def screenshot(page, name: str | None = None) -> None:
    """Saved only when SCREENSHOT_DIR is set, for people to look at."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = page.url.split("//", 1)[-1].split("/", 1)[-1].lower()
    slug = name or re.sub(r"[^a-z0-9]+", "-", path).strip("-")[:60] or "home"
    page.screenshot(path=str(Path(folder) / f"{slug}.png"), full_page=True)
