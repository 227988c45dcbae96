"""Test data: users and the like, created through the models with sensible defaults."""

from __future__ import annotations

import itertools
from functools import cache

from portal.auth.models import User
from portal.extensions import db
from portal.security import hash_password

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)


def make_user(role: str = "candidate", *, email: str | None = None, name: str | None = None,
              password: str = PASSWORD, timezone: str = "Europe/London", active: bool = True) -> User:
    number = next(_sequence)
    user = User(
        email=(email or f"{role}{number}@example.org").lower(),
        name=name or f"{role.capitalize()} {number}",
        password_hash=_password_hash(password),
        role=role,
        timezone=timezone,
        active=active,
    )
    db.session.add(user)
    db.session.commit()
    return user
