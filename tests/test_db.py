"""The UTC-aware datetime column and the time helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.timeutil import format_local, is_valid_timezone


def test_naive_datetime_is_refused(appctx):
    user = User(email="x@example.org", name="X", password_hash="x", created_at=datetime(2026, 1, 1))
    db.session.add(user)
    with pytest.raises(sa.exc.StatementError, match="naive"):
        db.session.flush()


def test_instants_come_back_in_utc_whatever_zone_went_in(appctx):
    plus_two = timezone(timedelta(hours=2))
    user = User(
        email="x@example.org", name="X", password_hash="x", created_at=datetime(2026, 6, 1, 12, tzinfo=plus_two)
    )
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(sa.select(User.created_at))
    assert stored == datetime(2026, 6, 1, 10, tzinfo=UTC) and stored.utcoffset() == timedelta(0)


def test_format_local_shows_the_zone_abbreviation_across_clock_changes():
    summer = datetime(2026, 7, 1, 17, tzinfo=UTC)
    winter = datetime(2026, 11, 26, 18, tzinfo=UTC)
    assert format_local(summer, "Europe/London") == "Wed 1 Jul 2026, 18:00 BST"
    assert format_local(winter, "Europe/London") == "Thu 26 Nov 2026, 18:00 GMT"
    assert format_local(winter, "America/New_York", with_date=False) == "13:00 EST"


def test_time_zone_names_are_checked():
    assert is_valid_timezone("Europe/London") and is_valid_timezone("UTC")
    assert not is_valid_timezone("Mars/Olympus_Mons") and not is_valid_timezone("")
