"""The audit log records what admins do to other people's schedules and bookings, in the same transaction."""

from __future__ import annotations

from portal import events
from portal.audit.services import record, record_if_admin_for_other


def _slots_published(slots, mentor, by, **_) -> None:
    record_if_admin_for_other(
        by,
        mentor.id,
        "slot.created",
        "slot",
        slots[0].id if len(slots) == 1 else None,
        f"{len(slots)} slot(s) published for {mentor.name}",
        None,
        {"mentor_id": mentor.id, "slot_ids": [slot.id for slot in slots], "starts_at": [s.starts_at for s in slots]},
    )


def _slot_changed(slot, by, before: dict, **_) -> None:
    record_if_admin_for_other(
        by,
        slot.mentor_id,
        "slot.changed",
        "slot",
        slot.id,
        f"Slot of {slot.mentor.name} changed",
        before,
        {
            "interview_type_id": slot.interview_type_id,
            "starts_at": slot.starts_at,
            "meeting_mode": slot.meeting_mode,
            "place": slot.place,
        },
    )


def _slot_withdrawn(slot, by, reason, booking, within: str | None = None, **_) -> None:
    if within:
        return
    if reason is None:
        summary, after = f"Unbooked slot of {slot.mentor.name} removed", {"status": "cancelled"}
    else:
        summary = f"Slot of {slot.mentor.name} cancelled" + (" with its booking" if booking else "")
        after = {"status": "cancelled", "reason": reason, "booking_id": booking.id if booking else None}
    record_if_admin_for_other(by, slot.mentor_id, "slot.cancelled", "slot", slot.id, summary, {"status": "open"}, after)


def _booking_cancelled(booking, by, overridden: bool, slot_withdrawn: bool, within: str | None = None, **_) -> None:
    if within or slot_withdrawn or not by.is_admin:
        return
    record(
        by,
        "booking.cancelled",
        "booking",
        booking.id,
        f"Booking of {booking.candidate.name} on {booking.slot.starts_at:%Y-%m-%d %H:%M} UTC cancelled"
        + (" past the cutoff (rule overridden)" if overridden else ""),
        {"status": "booked"},
        {"status": "cancelled", "reason": booking.cancel_reason or "", "override": overridden},
    )


def _booking_moved(booking, by, old_slot, overridden: bool, **_) -> None:
    if not by.is_admin:
        return
    new_slot = booking.slot
    record(
        by,
        "booking.rescheduled",
        "booking",
        booking.id,
        f"Booking of {booking.candidate.name} moved" + (" (rule overridden)" if overridden else ""),
        {"slot_id": old_slot.id, "starts_at": old_slot.starts_at},
        {"slot_id": new_slot.id, "starts_at": new_slot.starts_at, "override": overridden},
    )


def connect() -> None:
    events.slots_published.connect(_slots_published)
    events.slot_changed.connect(_slot_changed)
    events.slot_withdrawn.connect(_slot_withdrawn)
    events.booking_cancelled.connect(_booking_cancelled)
    events.booking_moved.connect(_booking_moved)
