"""The design system as the browser draws it: focus rings and form-control edges a person can see (WCAG 1.4.11),
tables that become stacked cards on a phone, and the signed-in workspaces at both widths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.audit.services import record
from portal.extensions import db
from tests.browser import assert_accessible, contrast
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in

NAVY = "rgb(29, 58, 95)"
WHITE = "rgb(255, 255, 255)"


def computed(locator, *properties: str) -> dict[str, str]:
    return locator.evaluate(
        "(el, names) => Object.fromEntries(names.map(n => [n, getComputedStyle(el).getPropertyValue(n)]))",
        list(properties),
    )


def test_the_main_navigation_focus_ring_is_yellow_and_black(app, make, page):
    make.user(email="sam@example.org", name="Sam Taylor")
    log_in(page, "sam@example.org")
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Book an interview")
    for _ in range(30):
        page.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the navigation")
    style = computed(link, "outline-color", "outline-style", "outline-width", "box-shadow")
    assert style["outline-style"] == "solid" and float(style["outline-width"].removesuffix("px")) >= 3
    assert style["outline-color"] == "rgb(255, 221, 0)"
    assert "rgb(11, 12, 12)" in style["box-shadow"]
    # The ring against the navy bar, and its black edge against the yellow ring.
    assert contrast(style["outline-color"], NAVY) >= 3
    assert contrast(style["outline-color"], "rgb(11, 12, 12)") >= 3


def test_unchecked_checkboxes_and_radios_have_an_edge_of_three_to_one(app, make, page):
    page.goto("/login")
    box = page.get_by_label("Keep me logged in on this device for 30 days")
    assert not box.is_checked()
    edge = computed(box, "border-top-color", "border-top-width")
    assert contrast(edge["border-top-color"], WHITE) >= 3, edge
    text_box = page.get_by_label("Email address")
    assert contrast(computed(text_box, "border-top-color")["border-top-color"], WHITE) >= 3

    make.user(email="sam@example.org", name="Sam Taylor")
    mentor = make.user("mentor", email="priya@example.org", name="Priya Shah")
    with app.app_context():
        from portal.auth.models import User

        booking = make_booking(
            make_slot(db.session.get(User, mentor.id), datetime.now(UTC) - timedelta(days=2), make_interview_type()),
            db.session.scalar(db.select(User).filter_by(email="sam@example.org")),
        )
        booking_id = booking.id
    log_in(page, "priya@example.org")
    page.goto(f"/feedback/sessions/{booking_id}")
    radio = page.get_by_role("group", name="Python and coding").get_by_role("radio").last
    assert not radio.is_checked()
    assert contrast(computed(radio, "border-top-color")["border-top-color"], WHITE) >= 3


def test_tables_become_stacked_cards_on_a_phone(app, make, browser, live_server):
    admin = make.user("admin", email="alex@example.org", name="Alex Morgan")
    for index in range(3):
        make.user(email=f"person{index}@example.org", name=f"Person {index}")
    with app.app_context():
        record(
            db.session.get(type(admin), admin.id),
            "user.role",
            "user",
            admin.id,
            "Changed Person 0 to mentor",
            {"role": "candidate"},
            {"role": "mentor"},
        )
        db.session.commit()
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, "alex@example.org")
        for path, first_label in (
            ("/admin/users", "Name"),
            ("/admin/audit", "When"),
            ("/admin/bookings", None),
            ("/admin/reports", None),
        ):
            page.goto(path)
            assert_accessible(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
            cell = page.locator("table.table-stack td[data-label]").first
            if first_label is None:
                continue
            assert computed(cell, "display")["display"] == "block", path
            label = cell.evaluate("el => getComputedStyle(el, '::before').content")
            assert label == f'"{first_label}"', (path, label)
            assert not page.locator("table.table-stack thead").first.is_visible() or (
                page.locator("table.table-stack thead").first.bounding_box()["height"] <= 1
            )
    finally:
        context.close()


@pytest.mark.parametrize("role", ["anonymous", "candidate", "mentor", "admin"])
def test_the_main_navigation_never_makes_the_page_wider_than_the_window(app, make, browser, live_server, role):
    """Each role's navigation fits at the widths where it is laid out in a row (1200 px and up), wrapping onto a
    second line when it must, and collapses behind the menu button below."""
    if role != "anonymous":
        make.user(role, email=f"{role}@example.org", name=f"Alex {role.title()}")
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        if role != "anonymous":
            log_in(page, f"{role}@example.org")
        widths = {}
        for width in (1200, 1280, 1440, 992, 360):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto("/")
            widths[width] = page.evaluate("document.documentElement.scrollWidth")
            assert page.get_by_role("button", name="Show navigation").is_visible() == (width < 1200), width
        assert widths == {width: width for width in widths}
    finally:
        context.close()
