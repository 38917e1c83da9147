"""The trusted read path (evidence/reading.py) equals the general one on random input."""

from __future__ import annotations

import dataclasses
import gc
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence import canonical, hashing, model, reading, timeutil
from evidence.errors import DecryptionFailed

LOG_ID = "00000000-0000-4000-8000-000000000000"

# --- times ---------------------------------------------------------------------------------

_OFFSETS = st.one_of(
    st.just(UTC),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")]),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    st.integers(-50_000, 50_000).map(lambda s: timezone(timedelta(seconds=s))),
)
_INSTANTS = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1)),
    _OFFSETS,
)


def _same_time(fast: datetime, slow: datetime) -> None:
    assert fast == slow
    assert fast.utcoffset() == slow.utcoffset()
    assert (fast.tzinfo is UTC) == (slow.tzinfo is UTC)
    assert timeutil.format_canonical(fast) == timeutil.format_canonical(slow)


@settings(max_examples=300, deadline=None)
@given(instant=_INSTANTS)
def test_parse_time_equals_parse_canonical_on_canonical_text(instant: datetime) -> None:
    text = timeutil.format_canonical(instant)
    _same_time(reading.parse_time(text), timeutil.parse_canonical(text))


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda t, cut, tail: t[:cut] + tail,
            _INSTANTS.map(timeutil.format_canonical),
            st.integers(0, 40),
            st.sampled_from(["", "Z", "+00:00", "-00:00", "+08:00", "z", "+0800", "+00", "x"]),
        ),
    )
)
def test_parse_time_equals_parse_canonical_on_any_text(text: str) -> None:
    try:
        slow = timeutil.parse_canonical(text)
    except ValueError:
        with pytest.raises(ValueError):
            reading.parse_time(text)
        return
    fast = reading.parse_time(text)
    assert fast == slow and fast.tzinfo == slow.tzinfo and type(fast) is type(slow)


# --- documents -----------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-canonical.MAX_SAFE_INTEGER, canonical.MAX_SAFE_INTEGER),
    st.text(max_size=30),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="abcdefgh_", max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_ATTACHMENTS = st.lists(
    st.builds(
        model.Attachment,
        st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
        st.integers(0, 10**12),
        st.text(min_size=1, max_size=20),
        st.sampled_from(["image/png", "audio/amr", "application/octet-stream"]),
    ),
    max_size=3,
)


@st.composite
def _documents(draw: st.DrawFn) -> dict:
    seq = draw(st.integers(0, canonical.MAX_SAFE_INTEGER))
    draft = model.Draft(
        kind=draw(st.sampled_from(model.KINDS)),
        occurred_at=draw(_INSTANTS),
        fields=draw(st.dictionaries(st.text(alphabet="abcdefgh_", max_size=8), _VALUES)),
        attachments=tuple(draw(_ATTACHMENTS)),
        source=draw(st.none() | st.dictionaries(st.sampled_from(["app", "file"]), _SCALARS)),
    )
    zone = draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London"]))
    return model.canonical_document(LOG_ID, seq, draft, draw(_INSTANTS), zone)


def _fields(entry: model.Entry) -> tuple:
    return tuple(getattr(entry, f) for f in model.Entry.__dataclass_fields__)


@settings(max_examples=300, deadline=None)
@given(document=_documents(), commitment=st.binary(min_size=32, max_size=32))
def test_make_entry_equals_the_general_path(document: dict, commitment: bytes) -> None:
    encoded = canonical.encode(document)
    slow = model.entry_from_document(canonical.decode(encoded), commitment)
    fast = reading.make_entry(reading._document(encoded), commitment)
    assert fast == slow
    assert _fields(fast) == _fields(slow)
    assert timeutil.format_canonical(fast.occurred_at) == document["occurred_at"]
    assert timeutil.format_canonical(fast.recorded_at) == document["recorded_at"]
    # The entry gives back exactly the document it was read from.
    assert canonical.encode(fast.document()) == encoded
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.seq = 1  # type: ignore[misc]


def _sealed(document: dict) -> tuple[bytes, bytes]:
    """What an EntryReader whose 'unseal' is the identity reads: salt + bytes, commitment."""
    salt = bytes(range(hashing.SALT_BYTES))
    encoded = canonical.encode(document) if isinstance(document, dict) else document
    return salt + encoded, hashing.commitment(salt, encoded)


def _reader() -> reading.EntryReader:
    return reading.EntryReader(LOG_ID, lambda sealed, _aad: sealed)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents())
def test_the_reader_checks_the_commitment_and_the_place(document: dict) -> None:
    seq = document["seq"]
    sealed, commitment = _sealed(document)
    assert _reader().read(seq, commitment, sealed) == model.entry_from_document(
        document, commitment
    )
    with pytest.raises(DecryptionFailed, match="commitment"):
        _reader().read(seq, bytes(32), sealed)
    with pytest.raises(DecryptionFailed, match="another place"):
        _reader().read(seq + 1, commitment, sealed)
    other_log = {**document, "log": "11111111-0000-4000-8000-000000000000"}
    sealed, commitment = _sealed(other_log)
    with pytest.raises(DecryptionFailed, match="another place"):
        _reader().read(seq, commitment, sealed)


@pytest.mark.parametrize(
    "encoded",
    [
        b'{"attachments":[]}',  # keys missing
        b"[1,2]",
        b'{"a":1} ',  # something after the object
        b'{"a":1}{"b":2}',
        b"\xff\xfe",
        b"",
        canonical.encode(
            {
                "attachments": [],
                "fields": [],  # not an object
                "kind": "call",
                "log": LOG_ID,
                "occurred_at": "2026-11-28T08:00:00Z",
                "recorded_at": "2026-11-28T08:00:00Z",
                "seq": 0,
                "v": 1,
                "zone": "Asia/Shanghai",
            }
        ),
        canonical.encode(
            {
                "attachments": [],
                "fields": {},
                "kind": "call",
                "log": LOG_ID,
                "occurred_at": "2026-11-28T08:00:00Z",
                "recorded_at": "2026-11-28T08:00:00Z",
                "seq": "0",  # a number written as text
                "v": 1,
                "zone": "Asia/Shanghai",
            }
        ),
    ],
)
def test_the_reader_refuses_what_is_not_an_entry(encoded: bytes) -> None:
    sealed, commitment = _sealed(encoded)  # type: ignore[arg-type]
    with pytest.raises(DecryptionFailed, match="not a valid entry"):
        _reader().read(0, commitment, sealed)


# --- the ledger ----------------------------------------------------------------------------


def _general_entries(log) -> list[model.Entry]:
    """Log.entries() the general way: every document proved canonical, marks by copying."""
    from dataclasses import replace

    sealer, _ = log._check_access()
    found = []
    for seq, commitment, sealed in log._sealed_rows():
        plain = sealer.unseal(sealed, hashing.entry_aad(log.log_id, seq))
        document = canonical.decode(plain[hashing.SALT_BYTES :])
        found.append(model.entry_from_document(document, commitment))
    marked = []
    for entry in found:
        corrections = [e for e in found if e.target == entry.seq]
        marked.append(
            replace(
                entry,
                amended_by=tuple(e.seq for e in corrections if e.kind == "amend"),
                retracted_by=next((e.seq for e in corrections if e.kind == "retract"), None),
            )
        )
    return marked


def test_log_entries_equal_the_general_path(log, make_draft) -> None:
    at = datetime(2026, 11, 20, 23, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    made = log.append(
        [
            make_draft("call", "2026-11-20 23:15", number="138 0013 8000", answered=True),
            make_draft("sms", "2026-11-20 23:16", number="10690000", said="你这个老赖"),
            make_draft("contact", "2026-11-20T15:17+00:00", said="替他还"),
            model.make_draft("fact", at, {"fact": "agreed_time", "window": "20:00-21:00"}),
        ]
    )
    log.amend(made[0].seq, {"tags": ["威胁"]}, "tag", new_time=at - timedelta(hours=2))
    log.amend(made[0].seq, {"said": "再不还钱"}, "words")
    log.retract(made[1].seq, "not collection")
    everything = log.entries()
    general = _general_entries(log)
    assert everything == general
    assert [_fields(e) for e in everything] == [_fields(e) for e in general]
    assert everything[0].amended_by == (4, 5) and everything[1].retracted_by == 6
    since = at - timedelta(minutes=30)
    assert log.entries(since=since) == [e for e in general if e.occurred_at >= since]
    assert log.entries(until=since) == [e for e in general if e.occurred_at < since]
    assert log.entry(made[0].seq) == general[0]


def test_the_collector_is_switched_back_as_it_was() -> None:
    assert gc.isenabled()
    with reading.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), reading.collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with reading.collector_paused():
            pass
        assert not gc.isenabled()  # it was off before: left off
    finally:
        gc.enable()
