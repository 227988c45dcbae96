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
    """Saved only when SCREENSHOT_DIR is set, for people to look at: one file a page and screen width."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = page.url.split("//", 1)[-1].split("/", 1)[-1].lower()
    slug = name or re.sub(r"[^a-z0-9]+", "-", path).strip("-")[:60] or "home"
    width = (page.viewport_size or {}).get("width", 0)
    page.screenshot(path=str(Path(folder) / f"{slug}-{width}.png"), full_page=True)


def luminance(css_colour: str) -> float:
    """The relative luminance (WCAG 2) of a computed `rgb(...)`/`rgba(...)` colour."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"[\d.]+", css_colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two computed colours."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
