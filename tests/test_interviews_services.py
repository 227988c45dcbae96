"""Availability and booking rules, in the services, with a pinned clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.errors import DomainError
from portal.extensions import db
from portal.interviews import availability, services
from portal.interviews.models import Booking, BookingPolicy, Slot, SlotSeries
from tests.factories import make_booking, make_interview_type, make_slot, make_user
from tests.interviews_helpers import NOW, at, emails_to, notices_for


@pytest.fixture
def people(ctx):
    mentor = make_user("mentor", email="mentor@example.org", name="Priya Shah")
    other_mentor = make_user("mentor", email="other-mentor@example.org", name="Tom Okafor")
    candidate = make_user(email="sam@example.org", name="Sam Taylor")
    other = make_user(email="jo@example.org", name="Jo Lee")
    admin = make_user("admin", email="admin@example.org")
    technical = make_interview_type()
    return {
        "mentor": mentor,
        "other_mentor": other_mentor,
        "candidate": candidate,
        "other": other,
        "admin": admin,
        "type": technical,
    }


# Availability --------------------------------------------------------------------------------------


def publish_series(mentor, interview_type, weekdays, start, end, first, last, buffer=0):
    interview_type, planned = availability.plan_series(
        mentor, interview_type.id, weekdays, start, end, first, last, buffer
    )
    series = availability.new_series(mentor, interview_type, weekdays, start, end, first, last, buffer, mentor)
    return availability.publish_slots(mentor, interview_type, planned, mentor, series)


def test_series_lays_sessions_end_to_end_with_the_buffer(people):
    slots = publish_series(
        people["mentor"], people["type"], {1, 3}, time(9), time(12), date(2026, 10, 5), date(2026, 10, 11), buffer=15
    )
    db.session.commit()
    london = [s.starts_at.astimezone(availability.zone("Europe/London")) for s in slots]
    assert [(t.strftime("%a %H:%M")) for t in london] == ["Mon 09:00", "Mon 10:15", "Wed 09:00", "Wed 10:15"]
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in slots)
    assert db.session.scalar(sa.select(SlotSeries.weekdays)) == "1,3"


def test_weekly_series_keeps_local_time_across_the_october_clock_change(people):
    slots = publish_series(
        people["mentor"], people["type"], {4}, time(18), time(19), date(2026, 10, 22), date(2026, 10, 29)
    )
    assert [s.starts_at for s in slots] == [
        datetime(2026, 10, 22, 17, tzinfo=UTC),  # 18:00 BST
        datetime(2026, 10, 29, 18, tzinfo=UTC),
    ]  # 18:00 GMT


def test_weekly_series_keeps_local_time_across_the_march_clock_change(people, ctx):
    ctx.move_to(datetime(2027, 3, 1, 9, tzinfo=UTC))
    slots = publish_series(
        people["mentor"], people["type"], {7, 1}, time(18), time(19), date(2027, 3, 28), date(2027, 3, 29)
    )
    assert [s.starts_at for s in slots] == [
        datetime(2027, 3, 28, 17, tzinfo=UTC),  # Sunday, already BST
        datetime(2027, 3, 29, 17, tzinfo=UTC),
    ]
    _, before = availability.plan_series(
        people["mentor"], people["type"].id, {6}, time(18), time(19), date(2027, 3, 27), date(2027, 3, 27), 0
    )
    assert before[0].starts_at == datetime(2027, 3, 27, 18, tzinfo=UTC)  # Saturday, still GMT


def test_a_start_time_in_the_spring_gap_is_refused_with_its_name(people, ctx):
    ctx.move_to(datetime(2027, 3, 1, 9, tzinfo=UTC))
    with pytest.raises(DomainError, match="01:30 on Sunday 28 March 2027 does not exist in Europe/London"):
        availability.plan_single(people["mentor"], people["type"].id, date(2027, 3, 28), time(1, 30))
    with pytest.raises(DomainError, match="01:00 on Sunday 28 March 2027 does not exist in Europe/London"):
        availability.plan_series(
            people["mentor"], people["type"].id, {7}, time(1, 0), time(2, 0), date(2027, 3, 28), date(2027, 3, 28), 0
        )


def test_a_weekly_series_skips_only_the_times_the_clocks_skip_and_says_so(people, ctx):
    ctx.move_to(datetime(2027, 3, 1, 9, tzinfo=UTC))
    _, planned = availability.plan_series(
        people["mentor"], people["type"].id, {7}, time(0, 30), time(3, 0), date(2027, 3, 21), date(2027, 3, 28), 0
    )
    assert [p.starts_at for p in planned] == [
        datetime(2027, 3, 21, 0, 30, tzinfo=UTC),
        datetime(2027, 3, 21, 1, 30, tzinfo=UTC),
        datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 00:30 GMT; 01:30 that night does not exist
    ]
    assert planned.skipped == [
        "01:30 on Sunday 28 March 2027 does not exist in Europe/London: the clocks go forward that night, "
        "so that slot is skipped."
    ]


def test_an_ambiguous_autumn_time_resolves_to_the_first_and_says_so(people):
    _, planned = availability.plan_single(people["mentor"], people["type"].id, date(2026, 10, 25), time(1, 30))
    assert planned[0].starts_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert "happens twice" in planned[0].note and "first one, BST" in planned[0].note


def test_non_london_zone_keeps_its_own_clock_changes(ctx):
    mentor = make_user("mentor", timezone="America/New_York")
    technical = make_interview_type()
    _, planned = availability.plan_series(
        mentor, technical.id, {5, 1}, time(9), time(10), date(2026, 10, 30), date(2026, 11, 2), 0
    )
    assert [p.starts_at for p in planned] == [
        datetime(2026, 10, 30, 13, tzinfo=UTC),  # 09:00 EDT
        datetime(2026, 11, 2, 14, tzinfo=UTC),
    ]  # 09:00 EST
    ctx.move_to(datetime(2027, 3, 1, tzinfo=UTC))
    with pytest.raises(DomainError, match="02:30 on Sunday 14 March 2027 does not exist in America/New_York"):
        availability.plan_single(mentor, technical.id, date(2027, 3, 14), time(2, 30))


@pytest.mark.parametrize(
    "weekdays, start, end, first, last, buffer, message",
    [
        (set(), time(9), time(12), date(2026, 10, 5), date(2026, 10, 9), 0, "Choose at least one weekday."),
        ({1}, time(12), time(9), date(2026, 10, 5), date(2026, 10, 9), 0, "end of the window must be after"),
        ({1}, time(9), time(9, 30), date(2026, 10, 5), date(2026, 10, 9), 0, "shorter than one 60-minute"),
        ({1}, time(9), time(12), date(2026, 9, 28), date(2026, 10, 9), 0, "first date is in the past"),
        ({1}, time(9), time(12), date(2026, 10, 9), date(2026, 10, 5), 0, "last date must be on or after"),
        ({1, 2, 3, 4, 5}, time(8), time(20), date(2026, 10, 5), date(2026, 11, 30), 0, "more than 200 slots"),
        ({1}, time(9), time(12), date(2026, 10, 5), date(2026, 10, 9), 300, "between 0 and 240"),
    ],
)
def test_series_refuses_bad_input(people, weekdays, start, end, first, last, buffer, message):
    with pytest.raises(DomainError, match=message):
        availability.plan_series(people["mentor"], people["type"].id, weekdays, start, end, first, last, buffer)


def test_unknown_or_inactive_type_is_refused(people):
    people["type"].active = False
    with pytest.raises(DomainError, match="Choose an interview type"):
        availability.plan_single(people["mentor"], people["type"].id, date(2026, 10, 5), time(9))
    with pytest.raises(DomainError, match="Choose an interview type"):
        availability.plan_single(people["mentor"], 999_999, date(2026, 10, 5), time(9))


def test_a_slot_in_the_past_is_refused(people):
    with pytest.raises(DomainError, match="already passed"):
        availability.plan_single(people["mentor"], people["type"].id, date(2026, 10, 1), time(9))


def test_a_clash_names_the_clashing_slot_and_creates_nothing(people):
    make_slot(people["mentor"], datetime(2026, 10, 7, 9, 30, tzinfo=UTC))
    with pytest.raises(availability.SlotClash, match="Wed 7 Oct 2026, 10:30 BST"):
        publish_series(
            people["mentor"], people["type"], {1, 3}, time(9), time(12), date(2026, 10, 5), date(2026, 10, 11)
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Slot.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(SlotSeries.id))) == 0
    # Another mentor may use the same times; a cancelled slot does not block.
    assert publish_series(
        people["other_mentor"], people["type"], {3}, time(10), time(11), date(2026, 10, 7), date(2026, 10, 7)
    )


def test_removing_unbooked_slot_and_cancelling_booked_one_with_reason(people):
    free = make_slot(people["mentor"], at(days=5))
    booked = make_slot(people["mentor"], at(days=6))
    booking = make_booking(booked, people["candidate"])
    availability.remove_slot(free, people["mentor"])
    assert free.status == "cancelled"
    with pytest.raises(DomainError, match="This slot is booked"):
        availability.remove_slot(booked, people["mentor"])
    with pytest.raises(DomainError, match="Give a reason"):
        availability.cancel_slot(booked, "  ", people["mentor"])
    availability.cancel_slot(booked, "I am ill, sorry", people["mentor"])
    db.session.commit()
    assert booked.status == "cancelled" and booking.status == "cancelled"
    assert booking.cancel_reason == "I am ill, sorry" and booking.sequence == 1
    email = emails_to("sam@example.org")[-1]
    assert "cancelled by the mentor" in email.subject and "I am ill, sorry" in email.body_text
    assert "METHOD:CANCEL" in email.attachment_text and "STATUS:CANCELLED" in email.attachment_text
    assert any("I am ill, sorry" in message for message in notices_for(people["candidate"].id))


def test_cancelled_slot_frees_the_time_for_a_new_one(people):
    slot = make_slot(people["mentor"], datetime(2026, 10, 7, 9, tzinfo=UTC))
    availability.remove_slot(slot, people["mentor"])
    db.session.commit()
    assert publish_series(
        people["mentor"], people["type"], {3}, time(10), time(11), date(2026, 10, 7), date(2026, 10, 7)
    )


def test_edit_moves_an_unbooked_slot_and_refuses_a_booked_one(people):
    slot = make_slot(people["mentor"], at(days=5))
    availability.edit_slot(slot, people["type"].id, date(2026, 10, 8), time(14), people["admin"])
    assert slot.starts_at == datetime(2026, 10, 8, 13, tzinfo=UTC)
    make_booking(slot, people["candidate"])
    with pytest.raises(DomainError, match="booked slot cannot be moved"):
        availability.edit_slot(slot, people["type"].id, date(2026, 10, 9), time(14), people["admin"])


def test_bulk_cancel_cancels_open_slots_in_range_and_tells_each_candidate(people):
    slots = [make_slot(people["mentor"], at(days=d)) for d in (2, 3, 4, 10)]
    make_booking(slots[0], people["candidate"])
    make_booking(slots[1], people["other"])
    counted = availability.bulk_cancel(
        people["mentor"], date(2026, 10, 2), date(2026, 10, 6), "Conference week", people["admin"]
    )
    db.session.commit()
    assert counted == (3, 2)
    assert [s.status for s in slots] == ["cancelled", "cancelled", "cancelled", "open"]
    for address in ("sam@example.org", "jo@example.org"):
        assert "Conference week" in emails_to(address)[-1].body_text


def test_only_admins_act_for_another_mentor(people):
    assert availability.mentor_for(people["admin"], people["mentor"].id) == people["mentor"]
    with pytest.raises(DomainError):
        availability.mentor_for(people["other_mentor"], people["mentor"].id)
    with pytest.raises(DomainError):
        availability.mentor_for(people["candidate"], None)


# Booking rules -------------------------------------------------------------------------------------------


def book(people, slot, who="candidate", note="Practise system design"):
    return services.book_slot(people[who], slot.id, note)


def test_booking_confirms_by_email_with_ics_and_tells_the_mentor(people):
    slot = make_slot(people["mentor"], at(days=3))
    booking = book(people, slot)
    db.session.commit()
    assert booking.status == "booked" and booking.focus_note == "Practise system design"
    candidate_email = emails_to("sam@example.org")[-1]
    assert candidate_email.subject.startswith("Booking confirmed")
    assert candidate_email.attachment_filename == "interview.ics" and booking.uid in candidate_email.attachment_text
    assert "Sun 4 Oct 2026, 10:00 BST" in candidate_email.body_text
    assert emails_to("mentor@example.org")[-1].subject.startswith("New booking: Sam Taylor")


@pytest.mark.parametrize(
    "starts, message",
    [
        (at(hours=-1), "in the past"),
        (at(hours=11), "at least 12 hours ahead"),
        (at(days=61), "at most 60 days ahead"),
    ],
)
def test_timing_rules(people, starts, message):
    slot = make_slot(people["mentor"], starts)
    with pytest.raises(services.PolicyViolation, match=message):
        book(people, slot)


def test_rules_follow_the_policy_in_force(people):
    db.session.add(
        BookingPolicy(
            id=1, min_notice_hours=2, horizon_days=90, max_upcoming=1, cancel_cutoff_hours=1, max_reschedules=0
        )
    )
    db.session.commit()
    book(people, make_slot(people["mentor"], at(hours=3)))
    with pytest.raises(services.PolicyViolation, match="most you can hold at once \\(1\\)"):
        book(people, make_slot(people["mentor"], at(days=80)))


def test_at_most_n_upcoming_and_no_overlaps(people):
    book(people, make_slot(people["mentor"], at(days=2)))
    with pytest.raises(services.PolicyViolation, match="overlaps another session"):
        book(people, make_slot(people["other_mentor"], at(days=2, hours=0.5)))
    book(people, make_slot(people["mentor"], at(days=3)))
    with pytest.raises(services.PolicyViolation, match="most you can hold"):
        book(people, make_slot(people["mentor"], at(days=4)))


def test_cancelled_slot_and_non_candidates_are_refused(people):
    slot = make_slot(people["mentor"], at(days=2), status="cancelled")
    with pytest.raises(services.PolicyViolation, match="has been cancelled"):
        book(people, slot)
    open_slot = make_slot(people["mentor"], at(days=3))
    for role in ("mentor", "other_mentor", "admin"):
        with pytest.raises(services.PolicyViolation, match="Only candidates"):
            book(people, open_slot, who=role)


def test_a_held_slot_raises_slot_taken(people):
    slot = make_slot(people["mentor"], at(days=2))
    book(people, slot, who="other")
    with pytest.raises(services.SlotTaken):
        book(people, slot)


def test_the_partial_unique_index_refuses_a_second_live_booking(people):
    slot = make_slot(people["mentor"], at(days=2))
    make_booking(slot, people["candidate"])
    make_booking(slot, people["other"], status="cancelled")  # cancelled ones do not count
    with pytest.raises(sa.exc.IntegrityError):
        make_booking(slot, people["other"])


def test_cancel_until_the_cutoff_then_say_whom_to_contact(people, ctx):
    booking = book(people, make_slot(people["mentor"], at(days=2)))
    db.session.commit()
    ctx.move_to(at(days=1, hours=1))  # 23 hours before
    with pytest.raises(services.PolicyViolation, match="Contact your mentor, Priya Shah"):
        services.cancel_booking(booking, people["candidate"], "")
    services.cancel_booking(booking, people["admin"], "Candidate phoned in sick", override=True)
    assert booking.status == "cancelled" and booking.late_cancellation is True


def test_candidate_cancels_with_optional_reason_and_ics_cancels(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    services.cancel_booking(booking, people["candidate"], "Got a real interview that day!")
    db.session.commit()
    assert booking.status == "cancelled" and not booking.late_cancellation and booking.sequence == 1
    mentor_email = emails_to("mentor@example.org")[-1]
    assert "Got a real interview that day!" in mentor_email.body_text
    assert "METHOD:CANCEL" in emails_to("sam@example.org")[-1].attachment_text
    # the slot is bookable again
    assert book(people, booking.slot, who="other").status == "booked"


def test_another_candidate_cannot_cancel(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    with pytest.raises(DomainError):
        services.cancel_booking(booking, people["other"], "")


def test_reschedule_moves_atomically_and_keeps_the_uid(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    uid = booking.uid
    target = make_slot(people["other_mentor"], at(days=4))
    services.reschedule_booking(booking, target.id, people["candidate"])
    db.session.commit()
    assert booking.slot_id == target.id and booking.reschedule_count == 1 and booking.sequence == 1
    assert booking.uid == uid
    assert emails_to("sam@example.org")[-1].subject.startswith("Booking moved")
    assert emails_to("mentor@example.org")[-1].subject.startswith("Session moved")
    assert emails_to("other-mentor@example.org")[-1].subject.startswith("Session moved")


def test_reschedule_keeps_the_interview_type_and_tells_mentors_in_plain_words(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    design = make_slot(people["other_mentor"], at(days=4), make_interview_type("ML system design", 60))
    with pytest.raises(services.PolicyViolation, match="a booking keeps its interview type"):
        services.reschedule_booking(booking, design.id, people["candidate"])
    db.session.rollback()
    assert booking.slot.interview_type.name == "Technical: Python and ML fundamentals"
    same_type = make_slot(people["other_mentor"], at(days=5))
    services.reschedule_booking(booking, same_type.id, people["candidate"])
    db.session.commit()
    new_mentor = emails_to("other-mentor@example.org")[-1].body_text
    old_mentor = emails_to("mentor@example.org")[-1].body_text
    assert "Sam Taylor moved their Technical: Python and ML fundamentals session to you" in new_mentor
    assert "Sam Taylor moved their Technical: Python and ML fundamentals session on" in old_mentor
    assert "to another mentor" in old_mentor and " a ML" not in new_mentor + old_mentor


def test_reschedule_to_a_taken_slot_leaves_the_booking_untouched(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    db.session.commit()
    original_slot = booking.slot_id
    taken = make_slot(people["other_mentor"], at(days=5))
    make_booking(taken, people["other"])
    with pytest.raises(services.SlotTaken):
        services.reschedule_booking(booking, taken.id, people["candidate"])
    db.session.rollback()
    db.session.expire_all()
    fresh = db.session.get(Booking, booking.id)
    assert fresh.slot_id == original_slot and fresh.reschedule_count == 0 and fresh.status == "booked"


def test_reschedule_cap_with_admin_override(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    for day in (4, 5):
        services.reschedule_booking(booking, make_slot(people["mentor"], at(days=day)).id, people["candidate"])
    with pytest.raises(services.PolicyViolation, match="rescheduled 2 times, the most allowed"):
        services.reschedule_booking(booking, make_slot(people["mentor"], at(days=6)).id, people["candidate"])
    services.reschedule_booking(booking, make_slot(people["mentor"], at(days=7)).id, people["admin"], override=True)
    assert booking.reschedule_count == 3


def test_reschedule_applies_the_booking_rules_to_the_new_slot(people):
    booking = book(people, make_slot(people["mentor"], at(days=3)))
    book(people, make_slot(people["mentor"], at(days=5)))  # the second upcoming booking
    # moving does not count the booking being moved against the limit
    services.reschedule_booking(booking, make_slot(people["other_mentor"], at(days=4)).id, people["candidate"])
    with pytest.raises(services.PolicyViolation, match="overlaps"):
        services.reschedule_booking(
            booking, make_slot(people["other_mentor"], at(days=5, hours=0.5)).id, people["candidate"]
        )
    with pytest.raises(services.PolicyViolation, match="at least 12 hours"):
        services.reschedule_booking(booking, make_slot(people["other_mentor"], at(hours=5)).id, people["candidate"])


def test_outcome_only_after_start_by_the_mentor(people, ctx):
    booking = book(people, make_slot(people["mentor"], at(days=2)))
    with pytest.raises(services.PolicyViolation, match="once the session has started"):
        services.record_outcome(booking, people["mentor"], "completed")
    ctx.move_to(at(days=2, hours=0.5))
    with pytest.raises(DomainError):
        services.record_outcome(booking, people["other_mentor"], "completed")
    services.record_outcome(booking, people["mentor"], "no_show")
    assert booking.status == "no_show"
    services.record_outcome(booking, people["admin"], "completed")
    assert booking.status == "completed"


def test_browse_lists_only_bookable_slots_soonest_first(people):
    make_slot(people["mentor"], at(hours=5))  # inside the notice period
    later = make_slot(people["mentor"], at(days=5))
    sooner = make_slot(people["other_mentor"], at(days=2))
    make_slot(people["mentor"], at(days=3), status="cancelled")
    make_booking(make_slot(people["mentor"], at(days=4)), people["other"])
    make_slot(people["mentor"], at(days=70))  # beyond the horizon
    found = db.session.execute(services.bookable_slots_query(services.get_policy(), NOW)).all()
    assert [s.id for s in found] == [sooner.id, later.id]
    by_mentor = db.session.execute(
        services.bookable_slots_query(services.get_policy(), NOW, mentor_id=people["mentor"].id)
    ).all()
    assert [s.id for s in by_mentor] == [later.id]


def test_nearest_alternatives_are_the_closest_open_slots_of_the_type(people):
    taken = make_slot(people["mentor"], at(days=5))
    far = make_slot(people["mentor"], at(days=20))
    near = make_slot(people["other_mentor"], at(days=6))
    before = make_slot(people["mentor"], at(days=3))
    other_type = make_slot(people["mentor"], at(days=5, hours=2), make_interview_type("Behavioural", 45))
    alternatives = services.nearest_alternatives(taken)
    assert [s.id for s in alternatives] == [near.id, before.id, far.id]
    assert other_type.id not in [s.id for s in alternatives]


def test_the_policy_before_an_admin_saves_one_is_the_row_the_database_would_make(ctx):
    fields = ("min_notice_hours", "horizon_days", "max_upcoming", "cancel_cutoff_hours", "max_reschedules")
    unsaved = services.get_policy()
    assert db.session.get(BookingPolicy, 1) is None
    db.session.add(BookingPolicy(id=1))  # only the columns' own defaults
    db.session.flush()
    db.session.expire_all()
    stored = db.session.get(BookingPolicy, 1)
    assert {name: getattr(stored, name) for name in fields} == {name: getattr(unsaved, name) for name in fields}
