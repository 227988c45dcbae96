"""CV reviews react to people leaving the mentor role: what they had claimed goes back to the queue."""

from __future__ import annotations

from portal import events
from portal.cvs.services import release_reviews_of
from portal.statuses import Role


def _role_changed(user, before: str, by, **_) -> None:
    if before == Role.MENTOR and user.role != Role.MENTOR:
        release_reviews_of(user, by, f"is no longer a mentor (now {user.role})")


def _account_deactivated(user, by, **_) -> None:
    release_reviews_of(user, by, "was deactivated")


def connect() -> None:
    events.role_changed.connect(_role_changed)
    events.account_deactivated.connect(_account_deactivated)
