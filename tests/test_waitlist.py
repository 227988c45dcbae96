"""The waitlist: places in line, held offers (expiry, decline, races), booking from a hold."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.errors import DomainError
from portal.extensions import db
from portal.interviews import services as booking_services
from portal.interviews.models import Booking
from portal.mail import OutboxEmail
from portal.waitlist import services
from tests.conftest import logged_in
from tests.factories import make_booking, make_interview_type, make_slot, make_user

NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)


@pytest.fixture
def world(ctx):
    kind = make_interview_type()
    other_kind = make_interview_type("Behavioural and career story", 45)
    mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
    other_mentor = make_user("mentor", email="tom@example.org", name="Tom Okafor")
    a, b, c = (make_user(email=f"{name}@example.org", name=name.title()) for name in ("ana", "ben", "cat"))
    return {
        "type": kind,
        "other_type": other_kind,
        "mentor": mentor,
        "other_mentor": other_mentor,
        "a": a,
        "b": b,
        "c": c,
    }


def offers_to(address: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.to_address == address, OutboxEmail.category == "waitlist")
        )
    )


def held(slot) -> Booking | None:
    return db.session.scalar(sa.select(Booking).where(Booking.slot_id == slot.id, Booking.status == "held"))


def test_places_in_line_and_leaving(world):
    first = services.join(world["b"], world["type"].id, None, None, None)
    second = services.join(world["c"], world["type"].id, None, None, None)
    other = services.join(world["a"], world["other_type"].id, None, None, None)
    assert (services.position(first), services.position(second), services.position(other)) == (1, 2, 1)
    with pytest.raises(DomainError, match="already on the waitlist"):
        services.join(world["b"], world["type"].id, None, None, None)
    services.leave(first, world["b"])
    assert services.position(second) == 1 and services.position(first) is None
    with pytest.raises(DomainError, match="Choose an interview type"):
        services.join(world["b"], 0, None, None, None)
    with pytest.raises(DomainError, match="last date must be on or after"):
        services.join(world["b"], world["type"].id, None, NOW.date() + timedelta(days=5), NOW.date())


def test_a_cancellation_offers_the_slot_to_the_first_matching_candidate(world):
    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    booking = booking_services.book_slot(world["a"], slot.id, "")
    services.join(world["c"], world["type"].id, world["other_mentor"].id, None, None)  # wants another mentor
    services.join(world["b"], world["type"].id, None, NOW.date(), NOW.date() + timedelta(days=10))
    db.session.commit()
    booking_services.cancel_booking(booking, world["a"], "")
    db.session.commit()
    hold = held(slot)
    assert hold is not None and hold.candidate_id == world["b"].id
    assert hold.hold_expires_at == NOW + timedelta(minutes=30)
    email = offers_to("ben@example.org")[-1]
    assert "held for you" in email.subject and f"/waitlist/offers/{hold.id}" in email.body_text
    assert offers_to("cat@example.org") == []


def test_nobody_else_can_book_a_held_slot(world):
    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    services.join(world["b"], world["type"].id, None, None, None)
    services.offer_slot(slot)
    db.session.commit()
    with pytest.raises(booking_services.SlotTaken):
        booking_services.book_slot(world["a"], slot.id, "")
    db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):  # the database itself refuses it
        make_booking(slot, world["a"])


def test_booking_from_a_hold_applies_the_rules_and_schedules_reminders(world):
    from portal.interviews.models import Reminder

    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    entry = services.join(world["b"], world["type"].id, None, None, None)
    hold = services.offer_slot(slot)
    booked = services.accept(hold, world["b"], "Systems")
    db.session.commit()
    assert booked.status == "booked" and booked.focus_note == "Systems" and entry.status == "booked"
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id)).where(Reminder.booking_id == booked.id)) == 4


def test_the_booking_limit_still_applies_to_a_hold(world):
    for day in (5, 6):
        booking_services.book_slot(world["b"], make_slot(world["other_mentor"], NOW + timedelta(days=day)).id, "")
    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    services.join(world["b"], world["type"].id, None, None, None)
    db.session.commit()
    assert services.offer_slot(slot) is None  # b could not book it, so it is not held for b


def test_decline_passes_the_offer_to_the_next_person(world):
    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    first = services.join(world["b"], world["type"].id, None, None, None)
    services.join(world["c"], world["type"].id, None, None, None)
    hold = services.offer_slot(slot)
    services.decline(hold)
    db.session.commit()
    assert first.status == "declined" and held(slot).candidate_id == world["c"].id
    with pytest.raises(DomainError, match="already ended"):
        services.decline(hold)


def test_an_expired_hold_goes_to_the_next_person(world, ctx):
    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    first = services.join(world["b"], world["type"].id, None, None, None)
    services.join(world["c"], world["type"].id, None, None, None)
    hold = services.offer_slot(slot)
    db.session.commit()
    ctx.move_to(NOW + timedelta(minutes=29))
    assert services.expire_holds() == 0
    ctx.move_to(NOW + timedelta(minutes=31))
    assert services.expire_holds() == 1
    db.session.refresh(hold)
    db.session.refresh(first)
    assert hold.status == "lapsed" and first.status == "expired"
    assert held(slot).candidate_id == world["c"].id
    with pytest.raises(DomainError, match="offer has ended"):
        services.accept(hold, world["b"], "")


def test_publishing_a_slot_offers_it(world):
    from portal.interviews.availability import plan_single, publish_slots

    services.join(world["b"], world["type"].id, world["mentor"].id, None, None)
    day = (NOW + timedelta(days=2)).date()
    from datetime import time

    interview_type, planned = plan_single(world["mentor"], world["type"].id, day, time(14))
    slots = publish_slots(world["mentor"], interview_type, planned, world["mentor"])
    db.session.commit()
    assert held(slots[0]).candidate_id == world["b"].id


def test_a_withdrawn_slot_ends_its_offer_and_the_candidate_keeps_their_place(world):
    from portal.interviews.availability import remove_slot

    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    entry = services.join(world["b"], world["type"].id, None, None, None)
    hold = services.offer_slot(slot)
    remove_slot(slot, world["mentor"])
    assert hold.status == "lapsed" and entry.status == "waiting"


def _world_outside_a_request(app) -> dict:
    """People and a slot for tests that drive the pages (no request context of their own)."""
    with app.app_context():
        kind = make_interview_type()
        mentor = make_user("mentor", email="mentor@example.org")
        ids = {
            "type": kind.id,
            "mentor": mentor.id,
            **{key: make_user(email=f"{key}@example.org", name=key.title()).id for key in ("ana", "ben")},
        }
        make_user("admin", email="admin@example.org")
        ids["slot"] = make_slot(mentor, datetime.now(UTC) + timedelta(days=3), kind).id
    return ids


def test_the_holder_and_someone_else_at_once_only_the_holder_gets_it(app):
    ids = _world_outside_a_request(app)
    with app.test_request_context("/"):
        from portal.auth.models import User
        from portal.interviews.models import Slot

        services.join(db.session.get(User, ids["ben"]), ids["type"], None, None, None)
        hold_id = services.offer_slot(db.session.get(Slot, ids["slot"])).id
        db.session.commit()
    other, holder = logged_in(app, "ana@example.org"), logged_in(app, "ben@example.org")
    barrier = threading.Barrier(2)
    results = {}

    def post(name, client, url, data):
        barrier.wait(timeout=10)
        results[name] = client.post(url, data=data)

    threads = [
        threading.Thread(target=post, args=("other", other, f"/interviews/slots/{ids['slot']}/book", {})),
        threading.Thread(target=post, args=("holder", holder, f"/waitlist/offers/{hold_id}", {"focus_note": "mine"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results["other"].status_code == 409
    assert results["holder"].status_code == 302
    with app.app_context():
        live = db.session.scalars(
            sa.select(Booking).where(Booking.slot_id == ids["slot"], Booking.status == "booked")
        ).all()
        assert [b.candidate_id for b in live] == [ids["ben"]]


def test_waitlist_pages(app):
    ids = _world_outside_a_request(app)
    with app.app_context():
        from portal.auth.models import User
        from portal.interviews.models import Slot

        make_booking(db.session.get(Slot, ids["slot"]), db.session.get(User, ids["ana"]))
    client = logged_in(app, "ben@example.org")
    empty = client.get(f"/interviews/slots?type={ids['type']}").get_data(as_text=True)
    assert "join the waitlist" in empty
    page = client.get(f"/waitlist/?type={ids['type']}").get_data(as_text=True)
    assert f'<option selected value="{ids["type"]}">' in page or f'value="{ids["type"]}" selected' in page
    joined = client.post("/waitlist/", data={"interview_type": ids["type"], "mentor": "0"}, follow_redirects=True)
    assert "number 1 in line" in joined.get_data(as_text=True)
    again = client.post("/waitlist/", data={"interview_type": ids["type"], "mentor": "0"}).get_data(as_text=True)
    assert "already on the waitlist" in again
    assert "Ben" in logged_in(app, "admin@example.org").get("/waitlist/all").get_data(as_text=True)
    assert client.get("/waitlist/all").status_code == 403
    assert app.test_client().get("/waitlist/").status_code == 302


def test_deactivating_a_mentor_puts_the_candidate_offered_their_slot_back_in_line(world, ctx):
    from portal.admin.services import deactivate

    admin = make_user("admin", email="admin@example.org")
    slot = make_slot(world["mentor"], NOW + timedelta(days=3), world["type"])
    entry = services.join(world["b"], world["type"].id, None, None, None)
    db.session.commit()
    hold = services.offer_slot(slot)
    db.session.commit()
    assert hold is not None and entry.status == "offered"
    deactivate(world["mentor"], admin)
    db.session.commit()
    assert hold.status == "lapsed" and entry.status == "waiting"
    ctx.shift(timedelta(hours=2))  # past the hold's old end: nothing is left to expire
    assert services.expire_holds() == 0
    assert entry.status == "waiting" and services.position(entry) == 1
    later = make_slot(world["other_mentor"], NOW + timedelta(days=4), world["type"])
    assert services.offer_slot(later).candidate_id == world["b"].id
