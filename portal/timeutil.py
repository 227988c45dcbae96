"""Time zones: UTC in the database, the user's own zone on screen."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIMEZONE = "Europe/London"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # dates far outside the service's life are mistakes, not plans
DAY_EXAMPLE = "14/12/2026"
DAY_HINT = f"Day/month/year, like {DAY_EXAMPLE}."


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


# Day, month and year with "/", "-", "." or spaces between them (14/12/2026, 1-3-2027, 14 12 2026); or ISO 8601
# (2026-12-14), which the portal's own links carry. ASCII digits only, a four-digit year only.
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2}) *[-/. ] *([0-9]{1,2}) *[-/. ] *([0-9]{4})")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


class DayOutOfRange(ValueError):
    """A real date, but outside FIRST_YEAR..LAST_YEAR."""


def parse_day(text: str) -> date:
    """A date typed the UK way, day/month/year, or as ISO yyyy-mm-dd. Raises ValueError with a message for the person
    for anything else (month first, a two-digit year, 31/02/2027, control characters), DayOutOfRange for a year
    outside FIRST_YEAR..LAST_YEAR."""
    cleaned = text.strip(" ") if isinstance(text, str) and len(text) <= 40 else ""
    if found := _DAY_MONTH_YEAR.fullmatch(cleaned):
        day, month, year = (int(part) for part in found.groups())
    elif found := _ISO_DAY.fullmatch(cleaned):
        year, month, day = (int(part) for part in found.groups())
    else:
        raise ValueError(f"Enter a real date as day/month/year, like {DAY_EXAMPLE}.")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DayOutOfRange(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"Enter a real date as day/month/year, like {DAY_EXAMPLE}.") from None


def format_day(day: date) -> str:
    """A date as a UK reader writes it in a form, and as parse_day reads it back: 14/12/2026, 01/03/2027."""
    return f"{day.day:02}/{day.month:02}/{day.year:04}"
