"""The design system as the browser draws it: focus rings and form-control edges a person can see (WCAG 1.4.11) in
every state of a field, tables that become stacked cards on a phone, and the signed-in workspaces at both widths."""

from __future__ import annotations

import re
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
            assert label == f'"{first_label}" / ""', (path, label)  # drawn, with empty text for screen readers
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


FOCUS_YELLOW, FOCUS_EDGE = "rgb(255, 221, 0)", "rgb(11, 12, 12)"
# The focused element's ring as drawn: its outline, its box-shadows and the colour behind it (the first ancestor with
# a background colour that is not transparent).
RING = """(el) => {
  const style = getComputedStyle(el);
  let background = 'rgb(255, 255, 255)';
  for (let node = el.parentElement; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== 'transparent' && !/^rgba\\(.*,\\s*0\\)$/.test(colour)) { background = colour; break; }
  }
  return { focused: el === document.activeElement, classes: el.className, outlineStyle: style.outlineStyle,
           outlineColor: style.outlineColor, outlineWidth: parseFloat(style.outlineWidth),
           outlineOffset: parseFloat(style.outlineOffset), boxShadow: style.boxShadow, background };
}"""
SHADOW = re.compile(r"(rgba?\([^)]*\))\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px(\s+inset)?")


def over(colour: str, background: str) -> str:
    """A computed colour with transparency, as it looks drawn over an opaque background."""
    parts = [float(part) for part in re.findall(r"[\d.]+", colour)]
    alpha = parts[3] if len(parts) > 3 else 1.0
    behind = [float(part) for part in re.findall(r"[\d.]+", background)][:3]
    mixed = [round(alpha * front + (1 - alpha) * back) for front, back in zip(parts[:3], behind, strict=True)]
    return f"rgb({mixed[0]}, {mixed[1]}, {mixed[2]})"


def ring_problems(name: str, control) -> list[str]:
    """What keeps the focus ring of `control` from being seen (WCAG 1.4.11, 2.4.7), after focusing it: the ring is
    the yellow outline and the black edge under it, and the bands of it at least 2 px wide must include one of 3:1
    against the background, with the yellow at 3:1 against the black."""
    control.focus()
    control.evaluate("el => Promise.all(el.getAnimations().map(animation => animation.finished))")  # Bootstrap's fade
    ring = control.evaluate(RING)
    if not ring["focused"]:
        return [f"{name}: could not be focused"]
    background = ring["background"]
    bands = []  # (colour, visible width in px)
    if ring["outlineStyle"] != "none":
        bands.append((over(ring["outlineColor"], background), ring["outlineWidth"]))
    for colour, x, y, blur, spread, inset in SHADOW.findall(ring["boxShadow"]):
        if not inset and float(x) == float(y) == float(blur) == 0:
            covered = ring["outlineWidth"] if ring["outlineStyle"] != "none" else 0
            gap = max(ring["outlineOffset"], 0)
            visible = min(float(spread), gap) + max(0.0, float(spread) - gap - covered)
            bands.append((over(colour, background), visible))
    problems = []
    if ring["outlineStyle"] != "solid" or ring["outlineWidth"] < 3 or ring["outlineColor"] != FOCUS_YELLOW:
        problems.append(f"outline {ring['outlineStyle']} {ring['outlineWidth']} px {ring['outlineColor']}")
    if [colour for colour, _ in bands[1:]] != [FOCUS_EDGE]:
        problems.append(f"box-shadow {ring['boxShadow']!r} instead of the black edge")
    seen = [colour for colour, width in bands if width >= 2]
    best = max((contrast(colour, background) for colour in seen), default=1.0)
    if best < 3:
        problems.append(f"ring {seen} is {best:.2f}:1 against {background}")
    if contrast(FOCUS_YELLOW, FOCUS_EDGE) < 3:
        problems.append("the yellow is not 3:1 against the black edge")
    return [f"{name} ({ring['classes']}): {problem}" for problem in problems]


def test_the_focus_ring_keeps_three_to_one_on_every_kind_of_field_in_every_state(app, make, page):
    """Text, email and password fields, selects, checkboxes and text areas, as they are, after the server refused them
    (Bootstrap's pink glow used to replace the black edge: 1.45:1), marked valid, and read-only."""
    problems: list[str] = []
    page.goto("/login")
    for label in ("Email address", "Keep me logged in on this device for 30 days"):
        problems += ring_problems(f"login: {label}", page.get_by_label(label))
    problems += ring_problems("login: Password", page.get_by_label("Password", exact=True))

    # The server refuses an empty registration (the browser's own checks are turned off to get there).
    page.goto("/register")
    page.locator("main form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("There is a problem").wait_for()
    invalid = page.locator("main .is-invalid")
    kinds = invalid.evaluate_all("els => els.map(el => el.type)")
    assert {"text", "email", "password", "checkbox"} <= set(kinds), kinds
    for index in range(invalid.count()):
        problems += ring_problems(f"register: invalid {kinds[index]}", invalid.nth(index))
    problems += ring_problems("register: time zone", page.get_by_label("Time zone"))

    make.user("admin", email="alex@example.org", name="Alex Morgan")
    make.user("mentor", email="priya@example.org", name="Priya Shah")
    log_in(page, "alex@example.org")
    page.goto("/admin/schedule/bulk-cancel")
    problems += ring_problems("bulk cancel: mentor", page.get_by_label("Mentor"))
    problems += ring_problems("bulk cancel: reason", page.get_by_label("Reason"))
    page.get_by_role("button", name="Cancel these slots").click()
    page.get_by_text("There is a problem").wait_for()
    for label, tag in (("Mentor", "SELECT"), ("Reason", "TEXTAREA")):
        control = page.get_by_label(label)
        assert control.evaluate("el => el.tagName") == tag and "is-invalid" in control.get_attribute("class")
        problems += ring_problems(f"bulk cancel: invalid {label}", control)
    assert_accessible(page)
    # A state Bootstrap draws with a green glow; no form of the portal sets it yet, but it keeps the ring too.
    for label in ("Mentor", "Reason"):
        control = page.get_by_label(label)
        control.evaluate("el => { el.classList.remove('is-invalid'); el.classList.add('is-valid'); }")
        problems += ring_problems(f"bulk cancel: valid {label}", control)

    # Read-only (the one "disabled" field that can still be focused): the private calendar address.
    page.context.clear_cookies()  # a fresh session for the next person
    make.user(email="sam@example.org", name="Sam Taylor")
    log_in(page, "sam@example.org")
    page.goto("/account")
    if not page.locator("#feed-url").count():
        page.get_by_role("button", name="Create my calendar address").click()
    feed = page.get_by_label("Your private calendar address")
    assert feed.get_attribute("readonly") is not None
    problems += ring_problems("account: read-only calendar address", feed)
    assert problems == [], "\n".join(problems)
