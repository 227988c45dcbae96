"""The waitlist reacts to slots: a slot that opens or frees up goes to the first in line; an offer whose slot is
withdrawn puts its candidate back in line."""

from __future__ import annotations

from portal import events
from portal.waitlist import services


def _published(slots, **_) -> None:
    services.offer_slots(slots)


def _freed(slot, **_) -> None:
    services.offer_slot(slot)


def _hold_ended(hold, why: str, **_) -> None:
    if why == "withdrawn":
        services.back_in_line(hold)


def connect() -> None:
    events.slots_published.connect(_published)
    events.slot_freed.connect(_freed)
    events.hold_ended.connect(_hold_ended)
