"""Instants and zones: parsing what people type, the canonical form, and the clear column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import timeutil
from evidence.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20 23:15", datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)),
        ("2026-11-20T23:15", datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)),
        ("2026/11/20 23:15:05", datetime(2026, 11, 20, 23, 15, 5, tzinfo=SHANGHAI)),
        ("2026.11.20 23:15", datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)),
        ("2026年11月20日23:15", datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)),
        ("2026年11月20日 23:15", datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)),
        ("2026/1/5 08:05", datetime(2026, 1, 5, 8, 5, tzinfo=SHANGHAI)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=SHANGHAI)),
        ("  2026-11-20 23:15  ", datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI)),
        # A decimal point in the seconds is not a date separator (it once became a zone).
        ("2026-11-20 23:15:05.12", datetime(2026, 11, 20, 23, 15, 5, 120000, tzinfo=SHANGHAI)),
        ("2026/11/20 23:15:05.5", datetime(2026, 11, 20, 23, 15, 5, 500000, tzinfo=SHANGHAI)),
        (
            "2026-11-20T23:15:05.123456+08:00",
            datetime(2026, 11, 20, 15, 15, 5, 123456, tzinfo=UTC),
        ),
        ("2026-11-20T15:15Z", datetime(2026, 11, 20, 15, 15, tzinfo=UTC)),
        ("2026-11-20 10:15-05:00", datetime(2026, 11, 20, 15, 15, tzinfo=UTC)),
    ],
)
def test_parse_instant(text, expected):
    parsed = timeutil.parse_instant(text, SHANGHAI)
    assert parsed == expected
    if expected.tzinfo is SHANGHAI:  # no zone given: the log's zone applies
        assert parsed.tzinfo is SHANGHAI


def test_parse_instant_keeps_the_given_offset():
    parsed = timeutil.parse_instant("2026-11-20 10:15-05:00", SHANGHAI)
    assert parsed.utcoffset() == timedelta(hours=-5)
    assert timeutil.format_canonical(parsed) == "2026-11-20T10:15:00-05:00"


def test_parse_instant_now_uses_the_given_clock():
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    assert timeutil.parse_instant("now", SHANGHAI, now=now) == now
    assert timeutil.parse_instant("现在", SHANGHAI, now=now).utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-13-01",
        "2026-11-31 10:00",
        "2026-11-2023:15",
        "25:00",
        "2026-11-20 23:15 +8",
    ],
)
def test_parse_instant_rejects_nonsense(text):
    with pytest.raises(InvalidInput, match="cannot read the time"):
        timeutil.parse_instant(text, SHANGHAI)


def test_parse_day_covers_the_whole_local_day():
    start = timeutil.parse_day("2026-11-20", SHANGHAI)
    end = timeutil.parse_day("2026/11/20", SHANGHAI, end=True)
    assert start == datetime(2026, 11, 20, tzinfo=SHANGHAI)
    assert end == datetime(2026, 11, 21, tzinfo=SHANGHAI)
    assert timeutil.parse_day("2026年11月20日", SHANGHAI, end=True) == end
    assert timeutil.parse_day("2026/1/5", SHANGHAI, end=True) == datetime(
        2026, 1, 6, tzinfo=SHANGHAI
    )
    # A time is taken as it is, even as an end bound.
    assert timeutil.parse_day("2026-11-20 12:00", SHANGHAI, end=True) == datetime(
        2026, 11, 20, 12, tzinfo=SHANGHAI
    )


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (datetime(2026, 11, 20, 15, 15, tzinfo=UTC), "2026-11-20T15:15:00Z"),
        (datetime(2026, 11, 20, 23, 15, tzinfo=SHANGHAI), "2026-11-20T23:15:00+08:00"),
        (datetime(2026, 11, 20, 23, 15, 0, 5, tzinfo=SHANGHAI), "2026-11-20T23:15:00.000005+08:00"),
        (datetime(2026, 1, 5, 10, 0, tzinfo=LONDON), "2026-01-05T10:00:00+00:00"),
        (datetime(2026, 7, 5, 10, 0, tzinfo=LONDON), "2026-07-05T10:00:00+01:00"),
        (datetime(2026, 1, 5, tzinfo=ZoneInfo("America/St_Johns")), "2026-01-05T00:00:00-03:30"),
        (datetime(2026, 1, 5, tzinfo=ZoneInfo("Asia/Kathmandu")), "2026-01-05T00:00:00+05:45"),
        # Local mean time before 1901 (+08:05:43) has seconds RFC 3339 cannot write: use UTC.
        (datetime(1900, 1, 5, 10, 0, tzinfo=SHANGHAI), "1900-01-05T01:54:17Z"),
    ],
)
def test_format_canonical(instant, text):
    assert timeutil.format_canonical(instant) == text
    parsed = timeutil.parse_canonical(text)
    assert parsed == instant
    assert timeutil.format_canonical(parsed) == text


def test_format_canonical_refuses_naive_times():
    with pytest.raises(InvalidInput):
        timeutil.format_canonical(datetime(2026, 11, 20, 23, 15))


zones = st.sampled_from(
    [
        UTC,
        SHANGHAI,
        LONDON,
        ZoneInfo("America/New_York"),
        ZoneInfo("Asia/Kathmandu"),
        ZoneInfo("Pacific/Chatham"),
        timezone(timedelta(hours=-9, minutes=-30)),
        timezone(timedelta(0), "GMT"),
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1), timezones=zones)
)
def test_canonical_text_round_trips(instant):
    text = timeutil.format_canonical(instant)
    parsed = timeutil.parse_canonical(text)
    # (Compared in UTC: aware times in a DST gap or fold never equal another zone's, PEP 495.)
    assert parsed.astimezone(UTC) == instant.astimezone(UTC)
    assert parsed.utcoffset() == instant.utcoffset() or parsed.tzinfo is UTC
    # Formatting what was parsed gives the same text: what was committed can be recomputed.
    assert timeutil.format_canonical(parsed) == text
    assert timeutil.to_micros(parsed) == timeutil.to_micros(instant)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1), timezones=zones)
)
def test_micros_round_trip(instant):
    micros = timeutil.to_micros(instant)
    assert timeutil.from_micros(micros) == instant.astimezone(UTC)
    assert timeutil.from_micros(micros).tzinfo is UTC


def test_micros_known_values():
    assert timeutil.to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert timeutil.to_micros(datetime(1970, 1, 1, 8, tzinfo=SHANGHAI)) == 0
    assert timeutil.to_micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1
    assert timeutil.to_micros(datetime(2026, 11, 20, 15, 15, tzinfo=UTC)) == 1795187700 * 10**6


def test_format_local_shows_the_zone():
    instant = datetime(2026, 11, 20, 15, 15, tzinfo=UTC)
    assert timeutil.format_local(instant, SHANGHAI) == "2026-11-20 23:15:00 +0800"
    assert timeutil.format_local(instant, LONDON) == "2026-11-20 15:15:00 +0000"


def test_zone_lookup():
    assert timeutil.zone("Asia/Shanghai") == SHANGHAI
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(InvalidInput, match="unknown time zone"):
            timeutil.zone(bad)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        datetime(1850, 1, 1),
        datetime(2040, 1, 1),
        timezones=st.sampled_from(
            [
                UTC,
                ZoneInfo("Asia/Shanghai"),
                ZoneInfo("America/New_York"),
                ZoneInfo("Europe/London"),
            ]
        ),
    )
)
def test_as_committed_equals_the_round_trip(instant):
    expected = timeutil.parse_canonical(timeutil.format_canonical(instant))
    fast = timeutil.as_committed(instant)
    assert fast == expected
    assert fast.utcoffset() == expected.utcoffset()
    assert timeutil.format_canonical(fast) == timeutil.format_canonical(instant)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1800, 1, 1), max_value=datetime(2200, 1, 1), timezones=zones
        ),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.integers(min_value=0, max_value=999_999), max_size=6),
)
def test_format_utc_is_format_canonical(instants, microseconds):
    # Readings in one second (the cached text) and across seconds, zones other than UTC
    # itself (format_canonical's own path), whole seconds (no fraction) and before 1970.
    readings = list(instants)
    for value in microseconds:
        readings.append(readings[-1].replace(microsecond=value))
    readings.append(readings[0].replace(microsecond=0))
    for instant in readings:
        assert timeutil.format_utc(instant, timeutil.to_micros(instant)) == (
            timeutil.format_canonical(instant)
        )
        utc = instant.astimezone(UTC)
        assert timeutil.format_utc(utc, timeutil.to_micros(utc)) == timeutil.format_canonical(utc)
