"""Interview feedback reacts to people leaving the mentor role: admins learn which sessions still await theirs."""

from __future__ import annotations

from portal import events
from portal.feedback.services import note_unwritten_feedback
from portal.statuses import Role


def _role_changed(user, before: str, by, **_) -> None:
    if before == Role.MENTOR and user.role != Role.MENTOR:
        note_unwritten_feedback(user, by, f"is no longer a mentor (now {user.role})")


def _account_deactivated(user, by, **_) -> None:
    if user.role == Role.MENTOR:
        note_unwritten_feedback(user, by, "was deactivated")


def connect() -> None:
    events.role_changed.connect(_role_changed)
    events.account_deactivated.connect(_account_deactivated)
