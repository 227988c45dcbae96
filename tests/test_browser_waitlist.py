"""Waitlist journeys in a real browser: joining when nothing is open, a cancellation that frees a slot and is held
for the first in line, booking it from the offer; declining an offer so it passes to the next person.

Every distinct page reached is checked with axe-core (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.extensions import db
from portal.interviews.models import Booking
from portal.waitlist.models import WaitlistEntry
from tests.browser import assert_accessible
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import latest_email_link, log_in
from tests.test_browser_interviews import flash, log_out

pytestmark = pytest.mark.browser

TYPE_NAME = "Technical: Python and ML fundamentals"
ADMIN, MENTOR = "alex@example.org", "priya@example.org"
HOLDER, WAITER, NEXT = "ada@example.org", "sam@example.org", "kim@example.org"
OFFER_PATH = re.compile(r"/waitlist/offers/(\d+)$")
JOINED = "You are on the waitlist. When a matching slot opens we hold it for you and tell you at once."
DECLINED = "Offer declined: the slot goes to the next person in line."


def offer_link(app, email: str) -> str:
    """The offer URL in the newest email to `email`."""
    return latest_email_link(app, email, "/waitlist/offers/")


def test_candidate_joins_waitlist_cancellation_frees_a_slot_and_the_candidate_books_it_from_the_offer(
    app, make, page, outbox
):
    mentor = make.user("mentor", email=MENTOR, name="Priya Shah")
    holder = make.user("candidate", email=HOLDER, name="Ada Lovelace")
    make.user("candidate", email=WAITER, name="Sam Okafor")
    make.user("admin", email=ADMIN, name="Alex Morgan")
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    with app.app_context():
        kind = make_interview_type(TYPE_NAME)
        type_id = kind.id
        booking_id = make_booking(make_slot(mentor, starts, kind), holder).id

    # B finds no open slot of the type and joins the waitlist from the empty list.
    log_in(page, WAITER)
    page.get_by_role("link", name="Book an interview").click()
    page.get_by_role("heading", level=1, name="Book a mock interview").wait_for()
    page.locator("#filter-type").select_option(label=TYPE_NAME)
    page.get_by_role("button", name="Show times").click()
    page.wait_for_url(re.compile(rf"[?&]type={type_id}\b"))
    page.get_by_text("No open slots match.").wait_for()
    assert page.locator(".slot-list").count() == 0
    assert_accessible(page)
    page.get_by_role("link", name="join the waitlist").click()
    page.get_by_role("heading", level=1, name="Waitlist").wait_for()
    join_type = page.get_by_label("Interview type")
    assert join_type.input_value() == str(type_id)
    assert_accessible(page)
    page.get_by_role("button", name="Join the waitlist").click()
    flash(page, JOINED)
    places = page.locator("section[aria-labelledby=mine-title] li")
    assert places.count() == 1
    assert TYPE_NAME in places.inner_text()
    assert places.get_by_text(re.compile(r"Waiting · number 1 in line")).is_visible()
    assert_accessible(page)
    log_out(page)

    # A cancels the only booking of the type: the slot is held for B at once.
    log_in(page, HOLDER)
    page.goto(f"/interviews/bookings/{booking_id}/cancel")
    page.get_by_role("heading", level=1, name="Cancel this booking").wait_for()
    page.get_by_role("button", name="Cancel booking").click()
    flash(page, "The booking is cancelled.")
    log_out(page)
    emailed = offer_link(app, WAITER)
    hold_id = int(OFFER_PATH.search(emailed).group(1))
    with app.app_context():
        hold = db.session.get(Booking, hold_id)
        assert (hold.status, hold.candidate.email) == ("held", WAITER)
    assert any(email.category == "waitlist" for email in outbox(WAITER))

    # B sees the unread notice, opens it and books the held slot.
    log_in(page, WAITER)
    bell = page.get_by_role("link", name=re.compile(r"^Notifications 1 unread$"))
    assert bell.is_visible()
    bell.click()
    page.get_by_role("heading", level=1, name="Notifications").wait_for()
    notice = page.locator(".notification-unread").filter(has_text="A slot opened")
    assert notice.count() == 1
    notice.get_by_role("button", name=re.compile(r"^Open\s*: A slot opened")).click()
    page.wait_for_url(OFFER_PATH)
    assert page.url == emailed
    page.get_by_role("heading", level=1, name="A slot is held for you").wait_for()
    facts = page.locator(".session-facts")
    assert facts.get_by_text("Held until").is_visible()
    assert facts.get_by_text("Priya Shah").is_visible()
    assert_accessible(page)
    page.get_by_label("Focus for this session").fill("Explaining gradient descent")
    page.get_by_role("button", name="Book this slot").click()
    page.get_by_role("heading", name="Your session is booked").wait_for()
    page.wait_for_url(re.compile(rf"/interviews/bookings/{hold_id}$"))
    page.get_by_role("heading", level=1, name=TYPE_NAME).wait_for()
    assert_accessible(page)
    with app.app_context():
        booked = db.session.get(Booking, hold_id)
        assert (booked.status, booked.focus_note) == ("booked", "Explaining gradient descent")
    log_out(page)

    # The admin sees that nobody is waiting any more.
    log_in(page, ADMIN)
    page.get_by_role("link", name="Console", exact=True).click()
    page.get_by_role("heading", level=1, name="Admin console").wait_for()
    page.locator(".console").get_by_role("link", name="Waitlists", exact=True).click()
    page.get_by_role("heading", level=1, name="Waitlists").wait_for()
    assert page.get_by_text("Nobody is waiting.").is_visible()
    assert_accessible(page)


def test_an_offer_declined_goes_to_the_next_person(app, make, page):
    make.user("mentor", email=MENTOR, name="Priya Shah")
    first = make.user("candidate", email=WAITER, name="Sam Okafor")
    second = make.user("candidate", email=NEXT, name="Kim Lee")
    now = datetime.now(UTC)
    with app.app_context():
        type_id = make_interview_type(TYPE_NAME).id
        db.session.add_all(
            [
                WaitlistEntry(candidate_id=first.id, interview_type_id=type_id, created_at=now - timedelta(minutes=2)),
                WaitlistEntry(candidate_id=second.id, interview_type_id=type_id, created_at=now - timedelta(minutes=1)),
            ]
        )
        db.session.commit()

    # The mentor publishes one slot; it is offered to the first in line.
    log_in(page, MENTOR)
    page.get_by_role("link", name="Availability").click()
    page.get_by_role("heading", level=1, name="Your availability").wait_for()
    assert_accessible(page)
    page.get_by_role("link", name="Publish one slot").click()
    page.get_by_role("heading", level=1, name="Publish one slot").wait_for()
    assert_accessible(page)
    page.get_by_label("Interview type").select_option(label=f"{TYPE_NAME} (60 min)")
    page.get_by_label("Date").fill((date.today() + timedelta(days=3)).isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Publish slot").click()
    flash(page, "Slot published.")
    log_out(page)

    # B declines on the offer page.
    log_in(page, WAITER)
    page.goto(offer_link(app, WAITER))
    page.get_by_role("heading", level=1, name="A slot is held for you").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="No thanks, offer it to the next person").click()
    flash(page, DECLINED)
    page.get_by_role("heading", level=1, name="Waitlist").wait_for()
    assert page.locator("section[aria-labelledby=mine-title]").get_by_text("Offer declined").is_visible()
    assert_accessible(page)
    log_out(page)

    # C now holds it.
    log_in(page, NEXT)
    page.goto(offer_link(app, NEXT))
    page.get_by_role("heading", level=1, name="A slot is held for you").wait_for()
    assert page.locator(".session-facts").get_by_text("Held until").is_visible()
    assert_accessible(page)
