"""The log's columns from its rows: corrections, filters, time order, local time, signals.

:func:`build` does what ``rules.build_context`` does, over arrays: it merges the chunks
of rows (``rules.rows``) into one table of ids, applies amendments (reading the amended
events again) and retractions, keeps the platform and period asked for, orders the
events by instant then entry number, and places each in the borrower's local day and
time of day. Its input is a log's entries, or a :class:`Source`: what the analysis
cache kept (``Log.analysis_source()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

import numpy as np

from evidence import timeutil
from evidence.model import amended
from evidence.rules import lexicon as lexicon_module
from evidence.rules.base import (
    CONTENT_KINDS,
    INFERRED,
    NO_SIGNALS,
    STATED,
    Event,
    ZoneTimeline,
    make_event,
)
from evidence.rules.columns import DAY_US, Columns, micros
from evidence.rules.lexicon import Lexicon
from evidence.rules.rows import KIND_CODES, Chunk, ChunkReader, Interned

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CONTENT_CODES = [KIND_CODES[kind] for kind in CONTENT_KINDS]
_SHIFT = 1 << 32  # two ids in one integer: high * _SHIFT + low


class Source(NamedTuple):
    """A log as the analysis cache gives it: the kept chunks, then the entries after them."""

    chunks: list[Chunk]
    entries: list[Any]
    load: Callable[[Sequence[int]], list[Any]]  # entries by number (amended events' own)


def build(
    source: Iterable[Any] | Source,
    zone: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lexicon: Lexicon | None = None,
) -> Columns:
    """The columns of ``build_context(entries, …)``: same events, same order, same facts."""
    words = lexicon or lexicon_module.default()
    if isinstance(source, Source):
        # the entries after the kept blocks are at hand: keep them, amended or not
        tail = ChunkReader(words, keep_all=True).read(source.entries).chunk()
        chunks, load = [*source.chunks, tail], source.load
    else:
        chunks, load = [ChunkReader(words, keep_all=True).read(source).chunk()], _no_load
    return _Assembly(chunks, words, load).columns(zone, platform, since, until)


def _no_load(seqs: Sequence[int]) -> list[Any]:
    return []  # every entry of a log read whole is kept


class _Assembly:
    """The chunks merged into one table (ids into shared string tables), then corrected."""

    def __init__(self, chunks: list[Chunk], words: Lexicon, load: Callable) -> None:
        self.words = words
        self.reader = ChunkReader(words)  # its tables are the merged ones
        tables = self.reader
        parts: dict[str, list[np.ndarray]] = {name: [] for name in Chunk._fields[:12]}
        self.texts: list[Any] = []
        self.entries: dict[int, Any] = {}
        self.others: list[Any] = []
        self.marked: list[int] = []
        seen: dict[str, int] = {}
        offset = 0
        for chunk in chunks:
            for name in ("seq", "kind", "instant", "incoming", "answered", "attached"):
                parts[name].append(getattr(chunk, name))
            parts["platform"].append(_ids(tables.platforms, chunk.platforms)[chunk.platform])
            parts["number"].append(_ids(tables.numbers, chunk.numbers)[chunk.number])
            parts["collector"].append(_ids(tables.collectors, chunk.collectors)[chunk.collector])
            parts["zone"].append(_ids(tables.zones, chunk.zones)[chunk.zone])
            sets = _ids(tables.signal_sets, chunk.signal_sets)
            parts["stated"].append(sets[chunk.stated])
            if chunk.lexicon == words.fingerprint:
                parts["inferred"].append(sets[chunk.inferred])
            else:  # kept with another lexicon (the curated one): find this one's signals
                parts["inferred"].append(self._inferred(chunk.texts, seen))
            self.texts += chunk.texts
            self.entries.update({offset + row: entry for row, entry in chunk.objects.items()})
            self.others += chunk.others
            self.marked += chunk.retracted
            offset += len(chunk)
        self.table = {
            name: np.concatenate(arrays).astype(np.int64 if name not in _FLAGS else bool)
            for name, arrays in parts.items()
        }
        self.load = load

    def _inferred(self, texts: list[Any], seen: dict[str, int]) -> np.ndarray:
        match, sets = self.words.match, self.reader.signal_sets
        ids = []
        for text in texts:
            if text is None:
                ids.append(0)
                continue
            found = seen.get(text)
            if found is None:
                found = seen[text] = sets[tuple(sorted(match(text)))]
            ids.append(found)
        return np.array(ids, np.int64)

    # --- corrections ------------------------------------------------------------------------

    def _corrections(self) -> tuple[dict[int, list[Any]], set[int]]:
        changes: dict[int, list[Any]] = {}
        retracted = set(self.marked)
        for entry in self.others:
            if entry.kind == "amend":
                changes.setdefault(int(entry.fields["target"]), []).append(entry)
            elif entry.kind == "retract":
                retracted.add(int(entry.fields["target"]))
        return changes, retracted

    def _amend(self, changes: Mapping[int, list[Any]]) -> dict[int, tuple[datetime, Any]]:
        """Read the amended events again from their effective time and fields."""
        seq = self.table["seq"]
        order = np.argsort(seq, kind="stable")
        targets = [t for t in changes if t >= 0]
        where = np.searchsorted(seq, targets, sorter=order)
        rows = {}
        for target, place in zip(targets, where.tolist(), strict=True):
            if place < len(seq) and seq[order[place]] == target:
                rows[target] = int(order[place])
        missing = [t for t, row in rows.items() if row not in self.entries]
        loaded = {entry.seq: entry for entry in self.load(missing)} if missing else {}
        corrected = {}
        for target, row in rows.items():
            entry = self.entries.get(row) or loaded[target]
            instant, values = entry.occurred_at, entry.fields
            for amendment in sorted(changes[target], key=lambda a: a.seq):
                instant, values = amended(instant, values, amendment.fields)
            values_row, text = self.reader.row(entry, instant, values)
            for name, value in zip(Chunk._fields[:12], values_row, strict=True):
                self.table[name][row] = value
            self.texts[row] = text
            self.entries[row] = entry
            corrected[row] = (instant, values)
        return corrected

    # --- the columns ------------------------------------------------------------------------

    def columns(
        self,
        zone: str | None,
        platform: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Columns:
        changes, retracted = self._corrections()
        corrected = self._amend(changes) if changes else {}
        table = self.reader
        t = self.table
        facts = _effective_facts([e for e in self.others if e.kind == "fact"], changes, retracted)
        log_zone = self._log_zone(retracted)
        zone_facts = [
            (at, str(values["zone"]))
            for _entry, at, values in facts
            if values.get("fact") == "debtor_zone" and values.get("zone")
        ]
        timeline = ZoneTimeline(zone or log_zone, [] if zone else zone_facts)

        keep = np.ones(len(t["seq"]), bool)
        if retracted:
            keep &= ~np.isin(t["seq"], list(retracted))
        if platform:
            keep &= t["platform"] == table.platforms.get(platform, -1)
        if since is not None:
            keep &= t["instant"] >= micros(since)
        if until is not None:
            keep &= t["instant"] < micros(until)
        index = np.flatnonzero(keep)
        order = index[np.lexsort((t["seq"][index], t["instant"][index]))]
        instant = t["instant"][order]
        local = instant + _offsets(instant, timeline)
        platform_ids, number_ids = t["platform"][order], t["number"][order]
        creditor, creditors = _creditors(platform_ids, number_ids, table)
        signal_set, signal_sets = _signal_sets(t["inferred"][order], t["stated"][order], table)
        texts = self.texts
        made = Columns(
            seq=t["seq"][order],
            kind=t["kind"][order],
            instant=instant,
            day=local // DAY_US + _EPOCH_ORDINAL,
            clock=local % DAY_US,
            platform=platform_ids,
            number=number_ids,
            creditor=creditor,
            incoming=t["incoming"][order],
            answered=t["answered"][order],
            collector=t["collector"][order],
            said=np.fromiter((texts[row] is not None for row in order.tolist()), bool, len(order)),
            attached=t["attached"][order],
            signal_set=signal_set,
            platforms=table.platforms.names,
            numbers=table.numbers.names,
            creditors=creditors,
            collectors=table.collectors.names,
            signal_sets=signal_sets,
            facts=_fact_events(facts, platform, timeline),
            zone_name=", ".join(timeline.names())
            if zone_facts and not zone
            else (zone or log_zone),
            lexicon=self.words,
            timeline=timeline,
            row=order,
            _texts=texts,
            _entries=self.entries,
            _corrected=corrected,
            _amended_by={
                target: tuple(sorted(a.seq for a in amendments))
                for target, amendments in changes.items()
            },
        )
        made._by_signal = _signal_index(made)
        return made

    def _log_zone(self, retracted: set[int]) -> str:
        """The zone of the first event entry (facts too) that is not retracted."""
        seq = self.table["seq"]
        kept = np.flatnonzero(~np.isin(seq, list(retracted))) if retracted else np.arange(len(seq))
        first: tuple[int, str] | None = None
        if len(kept):
            row = int(kept[np.argmin(seq[kept])])
            first = (int(seq[row]), self.reader.zones.names[int(self.table["zone"][row])])
        for entry in self.others:
            if entry.kind == "fact" and entry.seq not in retracted:
                if first is None or entry.seq < first[0]:
                    first = (entry.seq, entry.zone)
                break  # the others are in entry order
        return first[1] if first else timeutil.DEFAULT_ZONE


_FLAGS = ("incoming", "answered", "attached")


def _ids(table: Interned, names: Iterable[Any]) -> np.ndarray:
    """A chunk's table as indexes into the merged one."""
    return np.array([table[name] for name in names], np.int64)


def _creditors(
    platform: np.ndarray, number: np.ndarray, table: ChunkReader
) -> tuple[np.ndarray, list[str]]:
    """Who counts as one creditor: the platform, else the number, else "unknown"."""
    pairs, inverse = np.unique(platform * _SHIFT + number, return_inverse=True)
    creditors = Interned("unknown")
    platforms, numbers = table.platforms.names, table.numbers.names
    ids = []
    for pair in pairs.tolist():
        name, key = platforms[pair // _SHIFT], numbers[pair % _SHIFT]
        ids.append(creditors[name or (f"number {key}" if key else "unknown")])
    return np.array(ids, np.int64)[inverse.reshape(-1)], creditors.names


def _signal_sets(
    inferred: np.ndarray, stated: np.ndarray, table: ChunkReader
) -> tuple[np.ndarray, list[Mapping[str, str]]]:
    """Each event's signals, from the lexicon's and the borrower's (stated wins)."""
    pairs, inverse = np.unique(inferred * _SHIFT + stated, return_inverse=True)
    sets = table.signal_sets.names
    made: list[Mapping[str, str]] = []
    for pair in pairs.tolist():
        found, tagged = sets[pair // _SHIFT], sets[pair % _SHIFT]
        if not found and not tagged:
            made.append(NO_SIGNALS)
        else:
            made.append({**dict.fromkeys(found, INFERRED), **dict.fromkeys(tagged, STATED)})
    return inverse.reshape(-1).astype(np.int64), made


def _signal_index(columns: Columns) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per signal: the incoming content events carrying it (positions, in time order),
    and whether the borrower tagged it (``Context``'s index of the same)."""
    content = columns.signalled & columns.incoming & np.isin(columns.kind, _CONTENT_CODES)
    positions = np.flatnonzero(content)
    if not len(positions):
        return {}
    sets = columns.signal_set[positions]
    order = np.argsort(sets, kind="stable")
    ids, starts = np.unique(sets[order], return_index=True)
    parts: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    for set_id, group in zip(ids.tolist(), np.split(positions[order], starts[1:]), strict=True):
        for signal, basis in columns.signal_sets[set_id].items():
            found = parts.setdefault(signal, ([], []))
            found[0].append(group)
            found[1].append(np.full(len(group), basis == STATED))
    index = {}
    for signal, (groups, bases) in parts.items():
        where, tagged = np.concatenate(groups), np.concatenate(bases)
        sort = np.argsort(where, kind="stable")
        index[signal] = (where[sort], tagged[sort])
    return index


def _effective_facts(
    facts: list[Any], changes: Mapping[int, list[Any]], retracted: set[int]
) -> list[tuple[Any, datetime, Mapping[str, Any]]]:
    found = []
    for entry in facts:
        if entry.seq in retracted:
            continue
        instant, values = entry.occurred_at, entry.fields
        for amendment in sorted(changes.get(entry.seq, ()), key=lambda a: a.seq):
            instant, values = amended(instant, values, amendment.fields)
        found.append((entry, instant, values))
    return found


def _fact_events(
    rows: list[tuple[Any, datetime, Mapping[str, Any]]],
    platform: str | None,
    timeline: ZoneTimeline,
) -> list[Event]:
    """The facts as ``build_context`` makes them: in time order, those of the platform."""
    if platform:
        rows = [row for row in rows if (row[2].get("platform") or "") in ("", platform)]
    rows = sorted(rows, key=lambda row: (micros(row[1]), row[0].seq))
    fixed, zone_at = timeline.fixed(), timeline.at
    return [
        make_event(
            entry.seq,
            entry.kind,
            at,
            at.astimezone(fixed or zone_at(at)),
            values,
            entry.attachments,
            NO_SIGNALS,
            getattr(entry, "amended_by", ()),
            rank,
        )
        for rank, (entry, at, values) in enumerate(rows)
    ]


def _offsets(instant: np.ndarray, timeline: ZoneTimeline) -> np.ndarray:
    """Each instant's UTC offset in the borrower's zone at that instant, in µs."""
    fixed = timeline.fixed()
    if fixed is not None:
        return _zone_offsets(instant, fixed)
    offsets = np.empty(len(instant), np.int64)
    starts = np.array([micros(t) for t in timeline._starts], np.int64)
    # bisect_right(starts, instant) - 1, and the first zone before the first change
    which = np.maximum(np.searchsorted(starts, instant, side="right") - 1, 0)
    for index, zone in enumerate(timeline._zones):
        mask = which == index
        offsets[mask] = _zone_offsets(instant[mask], zone)
    return offsets


def _offset_at(us: int, zone: tzinfo) -> int:
    moment = (_EPOCH + timedelta(microseconds=us)).astimezone(zone)
    return moment.utcoffset() // timedelta(microseconds=1)


def _zone_offsets(instant: np.ndarray, zone: tzinfo) -> np.ndarray:
    """Offsets per UTC day: a zone's offset changes at most once in a day (a few times a
    year), so a day whose first and last microsecond have the same offset has it all
    day; the instants of a day that changes are looked up one by one."""
    if not len(instant):
        return np.zeros(0, np.int64)
    days, inverse = np.unique(instant // DAY_US, return_inverse=True)
    inverse = inverse.reshape(-1)
    starts = [_offset_at(d * DAY_US, zone) for d in days.tolist()]
    ends = [_offset_at(d * DAY_US + DAY_US - 1, zone) for d in days.tolist()]
    offsets = np.array(starts, np.int64)[inverse]
    changing = np.flatnonzero(np.array(starts) != np.array(ends))
    if len(changing):
        for position in np.flatnonzero(np.isin(inverse, changing)).tolist():
            offsets[position] = _offset_at(int(instant[position]), zone)
    return offsets
