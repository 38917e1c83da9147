"""Events read from entries into rows of integers: what the columnar analysis counts.

A :class:`Chunk` is the rows of consecutive entries (a block of the analysis cache, or
the log's last entries) with string tables of its own: platform names, number keys,
collectors, zones and signal sets, each row holding indexes into them. Reading an entry
into a row (:class:`ChunkReader`) is what ``rules.build_context`` and ``make_event`` do
for one event, done once; ``rules.assemble`` merges chunks into the log's columns.

What is not counted stays as it is: the said texts (quotes, an extended lexicon), the
entries of third-party contacts and of events with attachments (made into events on
demand), and facts and corrections (few, read whole).

A chunk is kept in the analysis cache as bytes (:func:`chunk_bytes`): a JSON header
(tables, texts, the entries kept whole) and the integer columns in binary, so reading
it back costs no parsing per row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import orjson

from evidence import phone
from evidence.model import EVENT_KINDS, Attachment, Entry
from evidence.rules import lexicon as lexicon_module

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# Kinds as small integers (the order of model.EVENT_KINDS).
KIND_CODES = {kind: code for code, kind in enumerate(EVENT_KINDS)}
_EVENT_KINDS = frozenset(EVENT_KINDS)
# What a row holds and how it is derived from an entry: a change here must change this,
# so that rows kept under an older derivation are not read (``derivation``).
ROWS_VERSION = 1


def micros(instant: datetime) -> int:
    """µs since the epoch: exact, and ordered as the instants are."""
    return (instant - _EPOCH) // _US


class AnalysisEntry(NamedTuple):
    """What analysis reads of one entry: the attributes of :class:`~evidence.model.Entry`
    that ``rules.build_context`` uses, and the curated lexicon's signals in ``said``
    (the analysis cache's entries, and the entries a chunk keeps whole)."""

    seq: int
    kind: str
    occurred_at: datetime
    zone: str
    fields: dict[str, Any]
    attachments: tuple[Attachment, ...]
    # sorted signals of the curated lexicon (lexicon.default_fingerprint()) in `said`;
    # None when not computed (no text, or an entry read outside a cached block)
    lexicon_signals: tuple[str, ...] | None
    amended_by: tuple[int, ...] = ()
    retracted_by: int | None = None
    # occurred_at as µs since the epoch, as kept in the block (None: read in full)
    micros: int | None = None

    target = Entry.target  # the entry a correction refers to, read as Entry reads it


class Chunk(NamedTuple):
    """The event rows of consecutive entries, in entry order, and what is kept whole."""

    seq: np.ndarray  # int64
    kind: np.ndarray  # KIND_CODES
    instant: np.ndarray  # µs since the epoch
    platform: np.ndarray  # into platforms ("" first)
    number: np.ndarray  # into numbers: phone.key of the number ("" first)
    incoming: np.ndarray  # bool: not the borrower's own call or SMS
    answered: np.ndarray  # bool: answered, or a duration above zero if not recorded
    collector: np.ndarray  # into collectors ("" first: none named)
    inferred: np.ndarray  # into signal_sets: what the lexicon found in `said`
    stated: np.ndarray  # into signal_sets: what the borrower's tags state
    zone: np.ndarray  # into zones: the entry's zone
    attached: np.ndarray  # bool: the entry has attachments
    platforms: list[str]
    numbers: list[str]
    collectors: list[str]
    zones: list[str]
    signal_sets: list[tuple[str, ...]]  # sorted signals; () first
    texts: list[Any]  # per row: `said` when it has words, else None
    objects: dict[int, Any]  # row -> its entry, for third-party contacts and attachments
    others: list[Any]  # facts, amendments and retractions, whole, in entry order
    retracted: list[int]  # entries marked retracted (Log.entries marks them)
    lexicon: str  # fingerprint of the lexicon ``inferred`` comes from

    def __len__(self) -> int:
        return len(self.seq)


class Interned(dict):
    """Strings (or tuples) to small integers in order of first appearance, 0 given."""

    def __init__(self, first: Any) -> None:
        super().__init__({first: 0})
        self.names = [first]

    def __missing__(self, name: Any) -> int:
        index = self[name] = len(self.names)
        self.names.append(name)
        return index


class ChunkReader:
    """Reads entries into rows (one per event, facts and corrections kept whole)."""

    def __init__(self, lexicon: Any, keep_all: bool = False) -> None:
        self.lexicon = lexicon
        self._match = lexicon.match
        self._curated = lexicon.fingerprint == lexicon_module.default_fingerprint()
        self._keep_all = keep_all  # keep every event's entry (a log read whole)
        self.platforms, self.numbers = Interned(""), Interned("")
        self.collectors, self.zones = Interned(""), Interned("")
        self.signal_sets = Interned(())
        self._seen: dict[str, int] = {}  # text -> inferred set
        self.rows: list[tuple[Any, ...]] = []
        self.texts: list[Any] = []
        self.objects: dict[int, Any] = {}
        self.others: list[Any] = []
        self.retracted: list[int] = []

    def read(self, entries: Iterable[Any]) -> ChunkReader:
        add, others = self.add, self.others.append
        for entry in entries:
            kind = entry.kind
            if entry.retracted_by is not None:
                self.retracted.append(entry.seq)
            if kind in _EVENT_KINDS and kind != "fact":
                add(entry, entry.occurred_at, entry.fields)
            elif kind in _EVENT_KINDS or kind in ("amend", "retract"):
                others(entry)
            # records the log keeps about itself (timestamps) never count
        return self

    def row(self, entry: Any, at: datetime, fields: Mapping[str, Any]) -> tuple[tuple, Any]:
        """One event's row and its text (``make_event`` and ``build_context``'s)."""
        get = fields.get
        name = get("platform")
        if type(name) is not str:
            name = str(name) if name else ""
        number = get("number")
        answered = get("answered")
        if answered is None:
            answered = int(get("duration") or 0) > 0
        collector = get("collector")
        said = get("said")
        inferred = 0
        if said:
            cached = getattr(entry, "lexicon_signals", None)
            if cached is not None and self._curated and fields is entry.fields:
                inferred = self.signal_sets[cached]
            else:
                inferred = self._seen.get(said)
                if inferred is None:
                    found = tuple(sorted(self._match(said)))
                    inferred = self._seen[said] = self.signal_sets[found]
        tags = get("tags")
        stated = self.signal_sets[tuple(sorted(lexicon_module.stated(tags)))] if tags else 0
        micros = getattr(entry, "micros", None)  # kept in the analysis cache
        if micros is None or at is not entry.occurred_at:
            micros = (at - _EPOCH) // _US  # micros(at), without a call per event
        row = (
            entry.seq,
            KIND_CODES[entry.kind],
            micros,
            self.platforms[name],
            self.numbers[phone.key(number) if isinstance(number, dict) else ""],
            get("direction") != "outgoing",
            bool(answered),
            self.collectors[str(collector)] if collector else 0,
            inferred,
            stated,
            self.zones[entry.zone],
            bool(entry.attachments),
        )
        return row, said or None

    def add(self, entry: Any, at: datetime, fields: Mapping[str, Any]) -> None:
        row, text = self.row(entry, at, fields)
        index = len(self.rows)
        self.rows.append(row)
        self.texts.append(text)
        if self._keep_all or entry.kind == "contact" or entry.attachments:
            self.objects[index] = entry

    def chunk(self) -> Chunk:
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * 12
        return Chunk(
            *(np.array(values, dtype) for values, dtype in zip(columns, _DTYPES, strict=True)),
            platforms=self.platforms.names,
            numbers=self.numbers.names,
            collectors=self.collectors.names,
            zones=self.zones.names,
            signal_sets=self.signal_sets.names,
            texts=self.texts,
            objects=self.objects,
            others=self.others,
            retracted=self.retracted,
            lexicon=self.lexicon.fingerprint,
        )


# The row columns' types, in Chunk order; stored little-endian in this order.
_DTYPES = ("<i8", "<i1", "<i8", "<i4", "<i4", "?", "?", "<i4", "<i4", "<i4", "<i4", "?")


def derivation() -> bytes:
    """What rows derive from entries beyond the lexicon's terms: the row format and the
    borrower's tag names (kept rows are bound to it; a change rebuilds them)."""
    tags = {"version": ROWS_VERSION, "aliases": lexicon_module.TAG_ALIASES}
    text = json.dumps(tags, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).digest()


# --- kept in the analysis cache ---------------------------------------------------------------


def _record(entry: Any) -> list[Any]:
    return [
        entry.seq,
        entry.kind,
        entry.occurred_at.isoformat(),
        entry.zone,
        entry.fields,
        [a.to_dict() for a in entry.attachments],
    ]


def _kept(record: list[Any]) -> AnalysisEntry:
    seq, kind, occurred, zone, fields, attachments = record
    return AnalysisEntry(
        seq,
        kind,
        datetime.fromisoformat(occurred),
        zone,
        fields,
        tuple(map(Attachment.from_dict, attachments)),
        None,
    )


def chunk_bytes(chunk: Chunk) -> bytes:
    """The chunk as bytes: header length (4 bytes), JSON header, the columns in binary.

    Raises ``orjson.JSONEncodeError`` for a value orjson cannot write (then the block is
    not kept)."""
    header = orjson.dumps(
        {
            "rows": len(chunk),
            "platforms": chunk.platforms,
            "numbers": chunk.numbers,
            "collectors": chunk.collectors,
            "zones": chunk.zones,
            "signal_sets": chunk.signal_sets,
            "texts": chunk.texts,
            "objects": [[row, _record(entry)] for row, entry in chunk.objects.items()],
            "others": [_record(entry) for entry in chunk.others],
            "lexicon": chunk.lexicon,
        }
    )
    arrays = b"".join(
        np.ascontiguousarray(values, dtype).tobytes()
        for values, dtype in zip(chunk[:12], _DTYPES, strict=True)
    )
    return len(header).to_bytes(4, "big") + header + arrays


def chunk_from_bytes(data: bytes | memoryview) -> Chunk:
    """The chunk of :func:`chunk_bytes` (ValueError, KeyError or TypeError when malformed;
    the bytes come from a sealed block, so that means a bug, not an attack)."""
    length = int.from_bytes(data[:4], "big")
    header = orjson.loads(data[4 : 4 + length])
    rows = header["rows"]
    offset = 4 + length
    arrays = []
    for dtype in _DTYPES:
        arrays.append(np.frombuffer(data, dtype, rows, offset).astype(dtype[-2:], copy=False))
        offset += rows * np.dtype(dtype).itemsize
    return Chunk(
        *arrays,
        platforms=header["platforms"],
        numbers=header["numbers"],
        collectors=header["collectors"],
        zones=header["zones"],
        signal_sets=[tuple(s) for s in header["signal_sets"]],
        texts=header["texts"],
        objects={row: _kept(record) for row, record in header["objects"]},
        others=[_kept(record) for record in header["others"]],
        retracted=[],
        lexicon=header["lexicon"],
    )
