"""The trusted read path (evidence/reading.py) equals the general one on random input."""

from __future__ import annotations

import dataclasses
import gc
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock
from zoneinfo import ZoneInfo

import orjson
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


# --- orjson against the json module -----------------------------------------------------------


def _outcome(read, encoded: bytes) -> tuple[str, object]:
    """What reading ``encoded`` gives: the value written out exactly, or the refusal's type."""
    try:
        value = read(encoded)
    except (ValueError, StopIteration, RecursionError) as exc:
        return "refused", type(exc)
    return "read", _exact(value)


def _exact(value: object) -> object:
    """The value with every scalar's type kept: 1, 1.0 and True differ, and so do the
    orders of keys, -0.0 and 0.0, and a NaN equals a NaN."""
    if type(value) is dict:
        return ("dict", [(k, _exact(v)) for k, v in value.items()])  # type: ignore[attr-defined]
    if type(value) is list:
        return ("list", [_exact(v) for v in value])  # type: ignore[attr-defined]
    if type(value) is float and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


_TEXTS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),  # any scalar value, non-BMP ones included
        st.sampled_from(['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x1f", "\x7f"]),
        st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
    ),
    max_size=20,
)
_SAFE = canonical.MAX_SAFE_INTEGER
_CANONICAL_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-_SAFE, _SAFE)
    | st.sampled_from([_SAFE, -_SAFE])
    | _TEXTS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(
    document=st.dictionaries(
        st.text(st.characters(max_codepoint=127), max_size=8), _CANONICAL_VALUES
    )
)
def test_orjson_reads_canonical_documents_as_the_json_module_does(document: dict) -> None:
    encoded = canonical.encode(document)
    assert reading._json_document(encoded) == document
    expected = _outcome(reading._json_document, encoded)
    assert _outcome(reading._document, encoded) == expected
    # The fast path is the one taken: orjson alone gives the same value.
    assert _outcome(orjson.loads, encoded) == expected


def test_canonical_documents_do_not_fall_back_to_the_json_module() -> None:
    document = {"a": [_SAFE, -_SAFE, 0], "b": '\U0001f600 \\ " \n \x00 é', "c": None, "d": True}
    encoded = canonical.encode(document)
    with mock.patch.object(reading, "_json_document", side_effect=AssertionError("fell back")):
        assert reading._document(encoded) == document
        # Where orjson and the json module could disagree, the json module reads it.
        with pytest.raises(AssertionError, match="fell back"):
            reading._document(b'{"a":12345678901234567890123}')


# Numbers where the two parsers could differ: integers beyond 64 bits (orjson makes them
# floats), floats, and what only the json module accepts (NaN, Infinity, 1e400).
_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 10**18, 10**19]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(
        "{}{}.{}e{}".format,
        st.sampled_from(["", "-"]),
        st.integers(0, 10**25),
        st.integers(0, 10**25),
        st.integers(-400, 400),
    ).map(float),
)
_ANY_VALUES = st.recursive(
    st.none() | st.booleans() | _NUMBERS | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def _json_texts(draw: st.DrawFn) -> bytes:
    """Any JSON text of an object, and some that are not JSON, as the json module writes them."""
    value = draw(st.dictionaries(st.text(max_size=4), _ANY_VALUES, max_size=4))
    text = json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        indent=draw(st.none() | st.sampled_from([0, 1, "\t"])),
        separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")])),
    )
    framing = draw(st.integers(0, 9))  # mostly one object and nothing around it
    if framing == 0:
        text = draw(st.sampled_from([" ", "\n", "\ufeff"])) + text
    elif framing == 1:
        text += draw(st.sampled_from([" ", "\r\n", "{}", "x", "]"]))
    # Lone surrogates (escaped, or raw and so not UTF-8), NaN, duplicate keys, an int too
    # long for 64 bits, control characters: spliced in after the opening brace.
    extra = draw(
        st.just("")
        | st.sampled_from(
            [
                '"s":"\\ud800",',
                '"s":"\\udc00\\ud800",',
                '"s":"\\ud83d\\ude00",',
                '"s":"\ud800",',
                '"n":NaN,',
                '"n":-Infinity,',
                '"n":1e400,',
                '"n":123456789012345678901234567890,',
                '"n":-0,',
                '"n":01,',
                '"s":"\x01",',
                '"a":1,"a":2,',
                '"s":"\\x",',
            ]
        )
    )
    start = text.find("{")
    if extra and start >= 0:
        rest = text[start + 1 :]
        if rest.lstrip().startswith("}"):  # an empty object: no comma after the member
            extra = extra[:-1]
        text = text[: start + 1] + extra + rest
    return text.encode("utf-8", "surrogatepass")


@settings(max_examples=1000, deadline=None)
@given(
    encoded=_json_texts(),
    at=st.integers(0, 1000),
    byte=st.integers(0, 255),
    damage=st.integers(0, 3),
)
def test_orjson_reads_any_text_as_the_json_module_does(
    encoded: bytes, at: int, byte: int, damage: int
) -> None:
    """Same values, or the same refusal, on JSON texts and on damaged ones."""
    if damage == 0 and encoded:  # one byte replaced
        at %= len(encoded)
        encoded = encoded[:at] + bytes([byte]) + encoded[at + 1 :]
    assert _outcome(reading._document, encoded) == _outcome(reading._json_document, encoded)


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
