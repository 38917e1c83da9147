"""Instants and zones: parse what a borrower types, render with the zone shown.

Instants are kept in UTC with the offset at which they were given; a time
written without a zone is read in the log's zone (default Asia/Shanghai).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evidence.errors import InvalidInput

DEFAULT_ZONE = "Asia/Shanghai"
# A claimed time later than the store's clock by more than this is a typo, not evidence.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A zero offset that is not UTC itself: a local time given as +00:00 (London in winter).
_ZERO_OFFSET = timezone(timedelta(0), "+00:00")

# A leading date written 2026-11-20, 2026/11/20, 2026.11.20 or 2026年11月20日, then the rest.
# Only the date part is rewritten: a dot in the time is a decimal point, not a separator.
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})(?:日\s*|[T\s]+|$)(.*)$")


def _normalise_date(raw: str) -> str:
    match = _DATE.match(raw)
    if not match:
        return raw
    year, month, day, rest = match.groups()
    text = f"{year}-{int(month):02d}-{int(day):02d}"
    return f"{text} {rest}" if rest else text


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}") from exc


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str, default_zone: tzinfo, now: datetime | None = None) -> datetime:
    """Parse an ISO-like time ('2026-11-20 23:15', '2026/11/20 23:15:05+08:00', 'now')."""
    raw = text.strip()
    if raw.lower() in {"now", "现在"}:
        return (now or utc_now()).astimezone(default_zone)
    cleaned = _normalise_date(raw)
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise InvalidInput(
            f"cannot read the time {raw!r}: "
            "write it like 2026-11-20 23:15 or 2026-11-20T23:15+08:00"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)
    return parsed


def parse_day(text: str, default_zone: tzinfo, end: bool = False) -> datetime:
    """A date or a time used as a range bound; a bare date covers the whole local day."""
    raw = text.strip()
    try:
        day = date.fromisoformat(_normalise_date(raw))
    except ValueError:
        return parse_instant(raw, default_zone)
    start = datetime(day.year, day.month, day.day, tzinfo=default_zone)
    return start + timedelta(days=1) if end else start


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NO_OFFSET = timedelta(0)


def to_micros(instant: datetime) -> int:
    """UTC microseconds since the epoch: the clear, sortable column."""
    if instant.tzinfo is None:
        raise InvalidInput("time without a zone")
    return (instant - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)


def format_canonical(instant: datetime) -> str:
    """RFC 3339 with the original offset ("Z" for UTC); microseconds only when present.

    RFC 3339 offsets are whole minutes: a local mean time such as +08:05:43 (Shanghai
    before 1901) would lose seconds and move the instant, so such a time is written in UTC.
    (``isoformat`` leaves out a zero microsecond on its own: the rule above.)
    """
    if instant.tzinfo is UTC:
        return instant.isoformat()[:-6] + "Z"  # "+00:00" is the last six characters
    offset = instant.utcoffset()
    if offset is None:
        raise InvalidInput("time without a zone")
    if not _whole_minutes(offset):
        return format_canonical(instant.astimezone(UTC))
    return instant.isoformat()


# The last second formatted by format_utc: (seconds since the epoch, its text up to the
# seconds). One tuple, replaced whole, so threads never see a second with another's text.
_LAST_SECOND: tuple[int, str] = (0, "1970-01-01T00:00:00")


def format_utc(instant: datetime, micros: int) -> str:
    """``format_canonical(instant)`` for the clock's readings, given ``to_micros(instant)``.

    Appending reads the clock for every entry and the entries of a batch fall within the
    same second or two, so the text up to the seconds is made once per second and only
    the fraction per entry (``isoformat`` cost three times as much). Any instant not in
    ``UTC`` itself goes to :func:`format_canonical`.
    """
    global _LAST_SECOND
    if instant.tzinfo is not UTC:
        return format_canonical(instant)
    seconds, fraction = divmod(micros, 1_000_000)
    cached, prefix = _LAST_SECOND
    if cached != seconds:
        prefix = instant.replace(microsecond=0).isoformat()[:-6]
        _LAST_SECOND = (seconds, prefix)
    return f"{prefix}.{fraction:06d}Z" if fraction else prefix + "Z"


def as_committed(instant: datetime) -> datetime:
    """The value ``parse_canonical(format_canonical(instant))`` gives, without the round trip.

    A fixed offset instead of a zone rule, so equality never depends on DST folds.
    """
    if instant.tzinfo is UTC:
        return instant
    offset = instant.utcoffset() or _NO_OFFSET
    if not _whole_minutes(offset):
        return instant.astimezone(UTC)
    return instant.replace(tzinfo=_fixed_zone(offset))


def _whole_minutes(offset: timedelta) -> bool:
    # Days are whole minutes; checked on the parts because timedelta's % is slow.
    return not (offset.seconds % 60 or offset.microseconds)


@lru_cache(maxsize=256)
def _fixed_zone(offset: timedelta) -> tzinfo:
    return timezone(offset) if offset else _ZERO_OFFSET


def parse_canonical(text: str) -> datetime:
    if text.endswith("Z"):
        return datetime.fromisoformat(text[:-1] + "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.utcoffset() == timedelta(0):
        # fromisoformat reads "+00:00" as UTC itself, which format_canonical writes as "Z";
        # keep the offset as given so that formatting again gives back the same text.
        parsed = parsed.replace(tzinfo=_ZERO_OFFSET)
    return parsed


def format_local(instant: datetime, zone_info: tzinfo) -> str:
    """For people: local wall time with the zone's abbreviation or offset."""
    local = instant.astimezone(zone_info)
    return local.strftime("%Y-%m-%d %H:%M:%S %z")
