"""Two-factor sign-in in a real browser, by keyboard alone: a mentor is sent to set it up right after logging in,
enrols with a code from an authenticator app (computed here with pyotp), logs out, logs in with a code, then with a
recovery code. Every page is checked with axe-core (WCAG 2.1 A/AA)."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.browser import assert_accessible
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

MENTOR = "priya@example.org"


def tab_to(page, locator, most: int = 60) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    handle = locator.element_handle()
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("element => element === document.activeElement", handle):
            return
    raise AssertionError(f"Tab never reached {locator}")


def type_into(page, label: str, text: str, exact: bool = False) -> None:
    tab_to(page, page.get_by_label(label, exact=exact))
    page.keyboard.type(text)


def log_out_by_keyboard(page) -> None:
    tab_to(page, page.get_by_role("button", name=re.compile("Log out")))
    page.keyboard.press("Enter")
    page.get_by_text("You have logged out.").wait_for()


def password_step_by_keyboard(page) -> None:
    page.goto("/login")
    type_into(page, "Email address", MENTOR)
    type_into(page, "Password", PASSWORD, exact=True)
    page.keyboard.press("Enter")


def test_mentor_sets_up_two_factor_then_logs_in_with_a_code_and_with_a_recovery_code(make, page):
    make.user("mentor", email=MENTOR, name="Priya Shah", second_factor=False)

    password_step_by_keyboard(page)
    page.wait_for_url(re.compile(r"/account/two-factor/setup$"))
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    assert page.get_by_role("img", name="QR code for your authenticator app").is_visible()
    assert_accessible(page)
    page.goto("/mentor/schedule")  # anything else leads back here until it is done
    page.wait_for_url(re.compile(r"/account/two-factor/setup$"))
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)
    type_into(page, "Code from the app", app.now())
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert_accessible(page)
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    tab_to(page, page.get_by_role("link", name="I have saved my codes"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/mentor/schedule")
    page.get_by_role("heading", level=1, name="Your sessions").wait_for()
    log_out_by_keyboard(page)

    # The code that confirmed the set-up was used: the app's next one logs in.
    password_step_by_keyboard(page)
    page.wait_for_url(re.compile(r"/login/code$"))
    page.get_by_role("heading", name="Enter your security code").wait_for()
    assert_accessible(page)
    type_into(page, "Security code", app.at(time.time() + 30))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_text("Signed in as").wait_for()
    log_out_by_keyboard(page)

    # No phone: a recovery code, once.
    password_step_by_keyboard(page)
    page.wait_for_url(re.compile(r"/login/code$"))
    type_into(page, "Security code", codes[0])
    page.keyboard.press("Enter")
    page.get_by_text("You used a recovery code: 9 left.").wait_for()
    assert_accessible(page)

    page.goto("/account")
    page.get_by_text("9 recovery codes left").wait_for()
    assert secret[:8] not in page.content()
    assert_accessible(page)
