"""Test data: users and the like, created through the models with sensible defaults."""

from __future__ import annotations

import itertools
from functools import cache

import pyotp
import sqlalchemy as sa

from portal.auth.models import User
from portal.auth.totp import encrypt_secret
from portal.db import utcnow
from portal.extensions import db
from portal.security import hash_password

PASSWORD = "correct horse battery"
# Every staff member the factories make has this authenticator secret (admins and mentors must use one).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
STAFF_ROLES = ("admin", "mentor")
_sequence = itertools.count(1)


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)


def make_user(
    role: str = "candidate",
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    timezone: str = "Europe/London",
    active: bool = True,
    second_factor: bool | None = None,
) -> User:
    """A user; admins and mentors have two-factor sign-in with TOTP_SECRET unless `second_factor=False`."""
    number = next(_sequence)
    user = User(
        email=(email or f"{role}{number}@example.org").lower(),
        name=name or f"{role.capitalize()} {number}",
        password_hash=_password_hash(password),
        role=role,
        timezone=timezone,
        active=active,
    )
    if second_factor if second_factor is not None else role in STAFF_ROLES:
        user.totp_secret = encrypt_secret(TOTP_SECRET)
        user.totp_enabled_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user


def current_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app with this secret shows now."""
    return pyotp.TOTP(secret).now()


def forget_used_codes(email: str) -> None:
    """Let the next login use the current code again: a test may log the same person in twice within 30 seconds,
    which a person with one phone would not. Only the replay guard moves; the code is still checked."""
    db.session.execute(sa.update(User).where(User.email == email.lower()).values(totp_last_step=None))
    db.session.commit()


def make_interview_type(name: str = "Technical: Python and ML fundamentals", minutes: int = 60):
    from portal.interviews.models import InterviewType

    existing = db.session.scalar(sa.select(InterviewType).where(InterviewType.name == name))
    if existing is not None:
        return existing
    interview_type = InterviewType(name=name, duration_minutes=minutes, description=f"{name} practice.")
    db.session.add(interview_type)
    db.session.commit()
    return interview_type


def make_slot(mentor: User, starts_at, interview_type=None, status: str = "open", meeting_mode=None, place=None):
    """An open slot of `mentor` starting at the aware datetime `starts_at` (meeting as its type says, unless
    `meeting_mode` and `place` say otherwise)."""
    from portal.interviews.models import Slot

    interview_type = interview_type or make_interview_type()
    slot = Slot(
        mentor_id=mentor.id,
        interview_type_id=interview_type.id,
        starts_at=starts_at,
        ends_at=starts_at + interview_type.duration,
        status=status,
        meeting_mode=meeting_mode,
        place=place,
        created_by_id=mentor.id,
    )
    db.session.add(slot)
    db.session.commit()
    return slot


def make_booking(slot, candidate: User, status: str = "booked", focus_note: str = "System design practice"):
    import uuid

    from portal.interviews.models import Booking

    booking = Booking(
        slot_id=slot.id,
        candidate_id=candidate.id,
        status=status,
        focus_note=focus_note,
        uid=f"booking-{uuid.uuid4()}@career-portal",
    )
    db.session.add(booking)
    db.session.commit()
    return booking
