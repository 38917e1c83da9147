"""The columnar analysis gives exactly the reference report, for any log.

``rules.report`` counts over columns (``rules.columns``); ``rules.reference_report``
makes one event object per event and runs ``Rule.hits``. Generated logs cover every
kind, both directions, amendments (fields and times) and retractions, every fact the
rules read, zone changes, a DST change, tags and the lexicon, attachments, and every
filter, in every jurisdiction.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import rules, timeutil
from evidence.model import Attachment
from evidence.rules import assemble, columns, rows
from tests.rulesfixtures import Book

# 2026-11-01 06:00 UTC is the end of daylight saving time in New York.
START = datetime(2026, 10, 29, tzinfo=UTC)
SPAN = 10 * 24 * 3600
PLATFORMS = ["京东金条", "美团", None]
NUMBERS = [f"138 0000 {n:04d}" for n in range(7)] + ["95188"]
SAID = ["", "请还款", "你这个老赖", "告诉你妈妈你欠了钱", "转到我的卡上", "法院传票", "知道你住哪"]

# Any second, or on the half hour (where the night and the agreed windows begin and end).
_SECOND = st.integers(0, SPAN) | st.integers(0, SPAN // 1800).map(lambda n: n * 1800)
_EVENT = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(
            ["call", "call", "call", "sms", "sms", "message", "contact", "visit", "letter", "other"]
        ),
        "second": _SECOND,
        "platform": st.sampled_from(PLATFORMS),
        "number": st.sampled_from(NUMBERS),
        "outgoing": st.booleans(),
        "answered": st.sampled_from([True, False, None]),
        "duration": st.sampled_from([None, 0, 30]),
        "said": st.sampled_from(SAID),
        "tags": st.sampled_from([None, ["威胁"], ["辱骂", "冒充公检法"], ["not a signal"]]),
        "collector": st.sampled_from([None, "张经理", "李律师", "王"]),
        "who": st.sampled_from(["妈妈", "同事", "舅舅", "领导"]),
        "attached": st.booleans(),
    }
)
_FACT = st.fixed_dictionaries(
    {
        "fact": st.sampled_from(
            ["agreed_time", "contact_refused", "cease_request", "conversation", "debtor_zone"]
        ),
        "second": st.integers(0, SPAN),
        "platform": st.sampled_from(PLATFORMS),
        "window": st.sampled_from(["21:30-23:00", "23:00-01:00", "07:00-08:30", "22:00-22:01"]),
        "zone": st.sampled_from(["America/Los_Angeles", "Asia/Shanghai", "Europe/London"]),
        "written": st.booleans(),
    }
)
_CORRECTION = st.tuples(
    st.sampled_from(["amend", "retract"]),
    st.integers(0, 10**6),
    st.sampled_from([None, 3600, -7200, 86400 * 2]),  # the time moved, in seconds
    st.sampled_from([None, "美团", "京东金条"]),
    st.sampled_from(SAID),
)


def _book(zone: str, events, facts, corrections) -> Book:
    book = Book(zone)
    for spec in events:
        kind = spec["kind"]
        fields: dict = {"platform": spec["platform"], "collector": spec["collector"]}
        if spec["said"] or kind == "other":
            fields["said"] = spec["said"] or "…"
        if spec["tags"]:
            fields["tags"] = spec["tags"]
        if kind in ("call", "sms"):
            fields["number"] = spec["number"]
            fields["direction"] = "outgoing" if spec["outgoing"] else "incoming"
        if kind == "call":
            fields["answered"] = spec["answered"]
            fields["duration"] = spec["duration"]
        if kind == "contact":
            fields["contact_name"] = spec["who"]
            fields["number"] = spec["number"] if spec["attached"] else None
        if kind == "message":
            fields["sender"] = "wx_1"
        seq = book.add(kind, START + timedelta(seconds=spec["second"]), **fields)
        if spec["attached"] and kind != "contact":
            attachment = Attachment("ab" * 32, 3, f"photo-{seq}.jpg", "image/jpeg")
            book.entries[seq] = dataclasses.replace(book.entries[seq], attachments=(attachment,))
    for spec in facts:
        name = spec["fact"]
        fields = {"platform": spec["platform"]}
        if name == "agreed_time":
            fields["window"] = spec["window"]
        elif name == "contact_refused":
            fields["contact_name"] = "妈妈"
        elif name == "cease_request":
            fields["written"] = spec["written"]
        elif name == "debtor_zone":
            fields = {"zone": spec["zone"]}
        book.fact(name, START + timedelta(seconds=spec["second"]), **fields)
    for action, pick, moved, platform, said in corrections:
        targets = [e.seq for e in book.entries if e.kind not in ("amend", "retract")]
        if not targets:
            break
        target = targets[pick % len(targets)]
        if action == "retract":
            book.retract(target)
            continue
        entry = book.entries[target]
        changes = {}
        if entry.kind != "fact":
            changes = {"platform": platform} if platform else {"said": said or "请还款"}
        when = entry.occurred_at + timedelta(seconds=moved) if moved else None
        if not changes and when is None:
            continue
        book.amend(target, when, **changes)
    return book


def _options(book: Book):
    yield {}
    yield {"zone": "America/New_York"}
    yield {"platform": "美团"}
    yield {"platform": ""}
    yield {"since": START + timedelta(days=2), "until": START + timedelta(days=6, seconds=1)}
    yield {"lexicon": rules.Lexicon({"threat": ["请还款"], "insult": ["王"]})}


def _source(book: Book, size: int, loads: list | None = None) -> assemble.Source:
    """The book as the analysis cache gives a log: blocks of ``size`` entries kept as rows
    (through their bytes), then the entries after them; amended events loaded by number."""
    whole = len(book.entries) // size * size
    chunks = []
    for first in range(0, whole, size):
        reader = rows.ChunkReader(rules.load_lexicon(None)).read(book.entries[first : first + size])
        chunks.append(rows.chunk_from_bytes(rows.chunk_bytes(reader.chunk())))

    def load(seqs):
        if loads is not None:
            loads.append(list(seqs))
        return [book.entries[seq] for seq in seqs]

    return assemble.Source(chunks, book.entries[whole:], load)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London"]),
    events=st.lists(_EVENT, min_size=0, max_size=45),
    facts=st.lists(_FACT, max_size=6),
    corrections=st.lists(_CORRECTION, max_size=5),
    size=st.integers(1, 9),
)
def test_the_columnar_report_is_the_reference_report(
    zone, events, facts, corrections, size
) -> None:
    """From the entries, and from rows kept in blocks of any size."""
    book = _book(zone, events, facts, corrections)
    for jurisdiction in rules.JURISDICTIONS:
        for options in _options(book):
            fast = rules.report(book.entries, jurisdiction, **options)
            reference = rules.reference_report(book.entries, jurisdiction, **options)
            assert fast == reference, (jurisdiction, options)
            assert fast.to_dict() == reference.to_dict()
            assert rules.report(_source(book, size), jurisdiction, **options) == reference


def test_the_columns_hold_each_events_local_day_and_time() -> None:
    """Across the end of DST in New York, and midnight in Shanghai that is still the
    previous day in UTC."""
    book = Book("America/New_York")
    instants = [
        datetime(2026, 11, 1, 5, 59, 59, 999999, tzinfo=UTC),  # 01:59:59.999999 EDT
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # 01:00 EST
        datetime(2026, 11, 1, 16, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00 EDT, the hour skipped
        datetime(2026, 11, 27, 16, 0, tzinfo=UTC),  # midnight in Shanghai
    ]
    for at in instants:
        book.add("call", at)
    for zone in ("America/New_York", "Asia/Shanghai", "Australia/Lord_Howe", "Asia/Kathmandu"):
        table = assemble.build(book.entries, zone=zone)
        place = timeutil.zone(zone)
        locals_ = [at.astimezone(place) for at in sorted(instants)]
        assert table.day.tolist() == [t.date().toordinal() for t in locals_]
        assert table.clock.tolist() == [columns.clock_us(t.time()) for t in locals_], zone


def test_a_rule_without_a_columnar_form_is_told_apart() -> None:
    """Every rule either counts over columns or declares that it reads only third parties."""
    table = assemble.build(Book().entries)
    for jurisdiction in rules.JURISDICTIONS:
        for rule in rules.rules_for(jurisdiction):
            if rule.third_parties_only:
                continue
            hits = rule.column_hits(table)
            assert isinstance(hits, columns.Hits), rule.id
            assert hits.index.dtype.kind == "i" and len(hits.index) == 0, rule.id


def test_rolling_excess_over_days_out_of_order_walks_as_the_reference() -> None:
    from evidence.rules.base import excess_positions

    days = np.array([10, 10, 11, 9, 12, 12, 12, 13, 20, 20, 20], np.int64)
    expected = excess_positions(days.tolist(), 3, 3)
    assert columns.rolling_excess_days(days, 3, 3).tolist() == expected
    ordered = np.sort(days)
    assert columns.rolling_excess_days(ordered, 3, 3).tolist() == excess_positions(
        ordered.tolist(), 3, 3
    )


def test_kept_rows_load_only_the_amended_events_they_do_not_hold() -> None:
    book = Book()
    sms = book.add("sms", "2026-11-20 23:00", said="请还款")
    contact = book.add("contact", "2026-11-20 23:10")
    for hour in range(10, 16):
        book.add("call", f"2026-11-21 {hour}:00")
    book.amend(sms, "2026-11-21 09:00")  # out of the night
    book.amend(contact, "2026-11-21 09:00")
    loads: list = []
    source = _source(book, 4, loads)
    assert rules.report(source, "cn") == rules.reference_report(book.entries, "cn")
    # the SMS is a row only: it is loaded; the third-party contact is kept whole
    assert loads == [[sms]]


def test_no_zone_changes_its_offset_twice_within_a_day() -> None:
    """What the columns' local time rests on (``assemble._zone_offsets``): a UTC day whose
    first and last microsecond have the same offset has it all day. True if no zone of the
    tz database has two transitions less than 24 hours apart (read with the pure-Python
    zoneinfo, which lists them)."""
    import zoneinfo
    from zoneinfo import _zoneinfo

    close = []
    for name in sorted(zoneinfo.available_timezones()):
        zone = _zoneinfo.ZoneInfo.no_cache(name)
        transitions = zone._trans_utc
        close += [(name, a) for a, b in pairwise(transitions) if b - a < 86_400]
    assert len(zoneinfo.available_timezones()) > 300
    assert close == []
