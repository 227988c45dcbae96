"""Time zones: UTC in the database, the user's own zone on screen."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIMEZONE = "Europe/London"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA zone name a user can choose, sorted (region/city names only)."""
    names = {name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))}
    names.add("UTC")
    return tuple(sorted(names))


def is_valid_timezone(name: str | None) -> bool:
    return bool(name) and name in timezone_names()


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for a name, falling back to UTC for an unknown one."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_local(instant: datetime, zone_name: str | None) -> datetime:
    """An aware UTC instant shown in a zone."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone(zone_name))


def format_local(
    instant: datetime | None, zone_name: str | None, with_date: bool = True, date_only: bool = False
) -> str:
    """'Thu 26 Nov 2026, 18:00 GMT': local date and time with the zone abbreviation ('18:00 GMT' without the
    date, '26 Nov 2026' for the date only)."""
    if instant is None:
        return ""
    local = to_local(instant, zone_name)
    if date_only:
        return f"{local.day} {local:%b %Y}"
    time_part = f"{local:%H:%M} {local.tzname()}"
    if not with_date:
        return time_part
    return f"{local:%a} {local.day} {local:%b %Y}, {time_part}"


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def countdown(delta: timedelta) -> str:
    """How long until something starts, rounded the way a person says it: "In 1 day and 3 hours.",
    "In 2 h 15 min.", "In 5 minutes.", or "Happening now." once it has started."""
    minutes = round(delta.total_seconds() / 60)
    if minutes <= 0:
        return "Happening now."
    if minutes < 60:
        return f"In {_plural(minutes, 'minute')}."
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"In {hours} h {rest} min." if rest else f"In {_plural(hours, 'hour')}."
    days, hours = divmod(round(minutes / 60), 24)
    return f"In {_plural(days, 'day')} and {_plural(hours, 'hour')}." if hours else f"In {_plural(days, 'day')}."


def months_before(instant: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months earlier, on the same day of the month or the last day of a
    shorter month: 31 Aug 2026 minus 6 months is 28 Feb 2026, 29 Feb 2028 minus 12 months is 28 Feb 2027."""
    index = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return instant.replace(year=year, month=month, day=min(instant.day, calendar.monthrange(year, month)[1]))
