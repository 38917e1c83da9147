"""The effective events of a log as columns: what the rules count, counted in C.

:func:`rules.build_context` makes one :class:`~evidence.rules.base.Event` per event (a
17-field tuple with two datetimes); the rules and the summary then walk those objects
several times. For a log of 100,000 entries that is most of an analysis. Most rules
only count: contacts at night, calls per creditor and day, numbers per platform,
events carrying a signal. So :func:`build` reads each entry once into a few integers
(instant, local day and time of day, kind, platform, number, creditor, flags) held as
numpy arrays in time order, and the rules count over the arrays (``Rule.column_hits``).

The few events that need more than counting (third-party contacts, quotes, the first
and last contact, attachments) are made into ordinary events on demand, and the rules
about third parties run unchanged on a small context of those (:meth:`Columns.third_party_context`).

The reference is ``build_context`` and ``Rule.hits``: a property test checks that both
give the same report for generated logs of every jurisdiction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from evidence import phone, timeutil
from evidence.model import EVENT_KINDS, amended
from evidence.rules import lexicon as lexicon_module
from evidence.rules.base import (
    CONTACT_KINDS,
    CONTENT_KINDS,
    INFERRED,
    NO_SIGNALS,
    STATED,
    Context,
    Event,
    Finding,
    ZoneTimeline,
    excess_positions,
    make_event,
)

if TYPE_CHECKING:
    from evidence.rules.base import Rule
    from evidence.rules.lexicon import Lexicon

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
_EVENT_KINDS = frozenset(EVENT_KINDS)
# Kinds as small integers; a kind outside the list (none is stored) would get its own.
KIND_CODES = {kind: code for code, kind in enumerate(EVENT_KINDS)}
_CONTACT_CODES = [KIND_CODES[kind] for kind in CONTACT_KINDS]
_CONTENT_CODES = [KIND_CODES[kind] for kind in CONTENT_KINDS]


def clock_us(moment: time) -> int:
    """A time of day as microseconds since midnight, as the ``clock`` column holds it."""
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000 + (
        moment.microsecond
    )


class Hits(NamedTuple):
    """What a rule found: event positions (increasing), and which the borrower tagged."""

    index: np.ndarray
    stated: np.ndarray | None = None  # per hit; None: counted from the log

    def __len__(self) -> int:
        return len(self.index)


# A window agreed by an `agreed_time` fact: (first position it applies to, platform id
# or None for every platform, start, end in minutes of the day).
Window = tuple[int, int | None, int, int]


class _Row(NamedTuple):
    """One event as read from its entry, before the columns are made."""

    seq: int
    kind: int
    instant: int  # µs since the epoch
    platform: int
    number: int
    creditor: int
    incoming: bool
    answered: bool
    collector: int
    said: bool


@dataclass
class Columns:
    """The effective events, in time order (instant, then entry number), as arrays.

    Position ``i`` in every array is the event of rank ``i`` in ``build_context``.
    """

    seq: np.ndarray
    kind: np.ndarray
    instant: np.ndarray  # µs since the epoch
    day: np.ndarray  # the local day's ordinal
    clock: np.ndarray  # µs since local midnight
    platform: np.ndarray  # index into ``platforms`` (0: none)
    number: np.ndarray  # index into ``numbers`` (0: none)
    creditor: np.ndarray  # index into ``creditors``
    incoming: np.ndarray
    answered: np.ndarray
    collector: np.ndarray  # index into ``collectors`` (0: none named)
    said: np.ndarray  # the event has words
    platforms: list[str]
    numbers: list[str]
    creditors: list[str]
    collectors: list[str]
    facts: list[Event]
    zone_name: str
    lexicon: Any
    timeline: ZoneTimeline
    # per position: the entry and the signals; the effective instant and fields of the
    # amended ones (the others' are their entry's)
    _entries: list[Any]
    _signals: list[Mapping[str, str]]
    _corrected: dict[int, tuple[datetime, Mapping[str, Any]]]
    _by_signal: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.seq)

    # --- selections -------------------------------------------------------------------------

    @property
    def contacts(self) -> np.ndarray:
        """Collection activity: incoming contacts of the borrower, and third parties."""
        found = self._cache.get("contacts")
        if found is None:
            found = self._cache["contacts"] = self.incoming & np.isin(self.kind, _CONTACT_CODES)
        return found

    @property
    def calls(self) -> np.ndarray:
        found = self._cache.get("calls")
        if found is None:
            found = self._cache["calls"] = self.incoming & (self.kind == KIND_CODES["call"])
        return found

    def of_kind(self, kind: str) -> np.ndarray:
        return self.kind == KIND_CODES[kind]

    def platform_id(self, name: str) -> int:
        """The platform's index; -1 (no event's) when no event names it."""
        try:
            return self.platforms.index(name)
        except ValueError:
            return -1

    def creditor_id(self, name: str) -> int:
        try:
            return self.creditors.index(name)
        except ValueError:
            return -1

    def outside(self, start: time, end: time) -> np.ndarray:
        """Local time of day at or after ``start`` or before ``end`` (across midnight)."""
        clock = self.clock
        return ~((clock >= clock_us(end)) & (clock < clock_us(start)))

    def before_or_after(self, earliest: time, latest: time) -> np.ndarray:
        """Local time of day before ``earliest`` or strictly after ``latest``."""
        return (self.clock < clock_us(earliest)) | (self.clock > clock_us(latest))

    def in_groups_above(self, mask: np.ndarray, key: np.ndarray, limit: int) -> np.ndarray:
        """The positions in ``mask`` whose group (same ``key``) has more than ``limit``."""
        index = np.flatnonzero(mask)
        _, inverse, counts = np.unique(key[index], return_inverse=True, return_counts=True)
        return index[counts[inverse] > limit]

    def creditor_day(self) -> np.ndarray:
        """One integer per (creditor, local day)."""
        found = self._cache.get("creditor_day")
        if found is None:
            found = self._cache["creditor_day"] = (
                self.creditor.astype(np.int64) * (1 << 32) + self.day
            )
        return found

    def distinct(self, values: np.ndarray) -> int:
        return len(np.unique(values))

    def days(self, hits: Hits) -> int:
        return self.distinct(self.day[hits.index])

    # --- signals ----------------------------------------------------------------------------

    def with_signal(self, *signals: str, kinds: Iterable[str] = CONTENT_KINDS) -> Hits:
        """Content events carrying any of ``signals``; stated if any of them is tagged."""
        index_parts, stated_parts = [], []
        for signal in signals:
            found = self._by_signal.get(signal)
            if found is not None:
                index_parts.append(found[0])
                stated_parts.append(found[1])
        if not index_parts:
            return Hits(np.empty(0, np.int64), np.empty(0, bool))
        index = np.concatenate(index_parts)
        stated = np.concatenate(stated_parts)
        if kinds is not CONTENT_KINDS:
            keep = np.isin(self.kind[index], [KIND_CODES[k] for k in kinds])
            index, stated = index[keep], stated[keep]
        unique, inverse = np.unique(index, return_inverse=True)
        tagged = np.zeros(len(unique), bool)
        np.logical_or.at(tagged, inverse, stated)
        return Hits(unique, tagged)

    # --- facts ------------------------------------------------------------------------------

    def facts_named(self, name: str) -> list[Event]:
        return [fact for fact in self.facts if str(fact.fields.get("fact")) == name]

    def first_at_or_after(self, instant: datetime) -> int:
        """The position of the first event at or after ``instant``."""
        return int(np.searchsorted(self.instant, micros(instant), side="left"))

    def agreed_windows(self) -> list[Window]:
        """The `agreed_time` facts with a window, each from the first event at or after it."""
        from evidence.rules.base import _window

        return [
            (
                self.first_at_or_after(fact.at),
                self.platform_id(fact.platform) if fact.platform else None,
                *_window(fact.fields["window"]),
            )
            for fact in self.facts_named("agreed_time")
            if "window" in fact.fields
        ]

    def agreed(self, windows: Sequence[Window]) -> tuple[np.ndarray, np.ndarray]:
        """Per event: does a window apply to it (agreed before it, for its platform or
        all), and is it inside one that applies? (``base.agreed_at``: None, False, True.)"""
        applies = np.zeros(len(self), bool)
        inside = np.zeros(len(self), bool)
        minutes = self.clock // 60_000_000
        for since, platform, start, end in windows:
            mask = np.zeros(len(self), bool)
            mask[since:] = True
            if platform is not None:
                mask &= self.platform == platform
            applies |= mask
            if start < end:
                within = (minutes >= start) & (minutes < end)
            else:
                within = (minutes >= start) | (minutes < end)
            inside |= mask & within
        return applies, inside

    # --- events, on demand ------------------------------------------------------------------

    def event(self, position: int) -> Event:
        """The position's event as ``build_context`` makes it."""
        entry = self._entries[position]
        at, values = self._corrected.get(position) or (entry.occurred_at, entry.fields)
        return make_event(
            entry.seq,
            entry.kind,
            at,
            at.astimezone(self.timeline.fixed() or self.timeline.at(at)),
            values,
            entry.attachments,
            self._signals[position],
            entry.amended_by,
            position,
        )

    def events(self, index: Iterable[int]) -> list[Event]:
        return [self.event(position) for position in index]

    def signals(self, position: int) -> Mapping[str, str]:
        return self._signals[position]

    def attachments(self, position: int) -> tuple[Any, ...]:
        return self._entries[position].attachments

    def with_attachments(self) -> list[int]:
        return [i for i, entry in enumerate(self._entries) if entry.attachments]

    def third_parties(self) -> list[Event]:
        """Third-party contacts (any direction), in time order, as events."""
        found = self._cache.get("third")
        if found is None:
            found = self._cache["third"] = self.events(
                np.flatnonzero(self.of_kind("contact")).tolist()
            )
        return found

    def third_party_context(self) -> Context:
        """A context of the third-party contacts and the facts, for the rules that read
        nothing else (``Rule.third_parties_only``): they run on it unchanged."""
        found = self._cache.get("third_context")
        if found is None:
            # Ranked False: the events keep their ranks in the whole log, which are not
            # their places in this list (Rule.check orders by rank all the same).
            found = Context(self.third_parties(), self.facts, self.zone_name, self.lexicon)
            self._cache["third_context"] = found
        return found

    # --- findings ---------------------------------------------------------------------------

    def counted(self, mask_or_index: np.ndarray) -> Hits:
        index = mask_or_index
        if index.dtype == bool:
            index = np.flatnonzero(index)
        return Hits(index)

    def finding(self, rule: Rule, hits: Hits) -> Finding:
        """The finding ``Rule.check`` makes of the same hits."""
        index = hits.index
        seqs = self.seq[index]
        days = tuple(date.fromordinal(d).isoformat() for d in np.unique(self.day[index]).tolist())
        stated: tuple[int, ...] = ()
        inferred: tuple[int, ...] = ()
        if hits.stated is not None:
            stated = tuple(np.sort(seqs[hits.stated]).tolist())
            inferred = tuple(np.sort(seqs[~hits.stated]).tolist())
        detail_en, detail_zh = rule.column_detail(self, hits)
        return Finding(
            rule_id=rule.id,
            jurisdiction=rule.jurisdiction,
            rule_zh=rule.rule_zh,
            rule_en=rule.rule_en,
            tier=rule.tier,
            citations=rule.citations,
            events=len(index),
            days=days,
            entries=tuple(np.sort(seqs).tolist()),
            stated=stated,
            inferred=inferred,
            detail_en=detail_en,
            detail_zh=detail_zh,
        )


def micros(instant: datetime) -> int:
    """µs since the epoch: exact, and ordered as the instants are."""
    return (instant - _EPOCH) // _US


def rolling_excess_days(days: np.ndarray, limit: int, window: int) -> np.ndarray:
    """``base.rolling_excess`` over one group's local day ordinals (in time order): the
    positions beyond the ``limit``-th within ``window`` consecutive days."""
    if len(days) > 1 and not np.all(days[1:] >= days[:-1]):
        # A zone change moved a later event to an earlier day: walk it as the reference does.
        return np.array(excess_positions(days.tolist(), limit, window), np.int64)
    start = np.searchsorted(days, days - window, side="right")
    return np.flatnonzero(np.arange(len(days)) - start + 1 > limit)


# --- building ---------------------------------------------------------------------------------


class _Interned(dict):
    """Strings to small integers, in order of first appearance (index 0 given)."""

    def __init__(self, first: str) -> None:
        super().__init__({first: 0})
        self.names = [first]

    def __missing__(self, name: str) -> int:
        index = self[name] = len(self.names)
        self.names.append(name)
        return index


def build(
    entries: Iterable[Any],
    zone: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lexicon: Lexicon | None = None,
) -> Columns:
    """The columns of ``build_context(entries, …)``: same events, same order, same facts."""
    words = lexicon or lexicon_module.default()
    match, stated_of = words.match, lexicon_module.stated
    curated = words.fingerprint == lexicon_module.default_fingerprint()
    platforms, numbers = _Interned(""), _Interned("")
    creditors, collectors = _Interned("unknown"), _Interned("")
    kinds = KIND_CODES
    key_of = phone.key
    seen: dict[str, dict[str, str]] = {}
    inferred: dict[tuple[str, ...], dict[str, str]] = {}

    def read(entry: Any, at: datetime, fields: Mapping[str, Any]) -> tuple[Any, ...]:
        """One event's integers, signals and entry (``make_event`` and ``build_context``'s):
        the fields of :class:`_Row`, then those two, as a plain tuple (made in C)."""
        get = fields.get
        name = get("platform")
        if type(name) is not str:
            name = str(name) if name else ""
        number = get("number")
        key = key_of(number) if isinstance(number, dict) else ""
        answered = get("answered")
        if answered is None:
            answered = int(get("duration") or 0) > 0
        collector = get("collector")
        said = get("said")
        if said:
            cached = getattr(entry, "lexicon_signals", None)
            if cached is not None and curated and fields is entry.fields:
                signals = inferred.get(cached)
                if signals is None:
                    signals = inferred[cached] = dict.fromkeys(cached, INFERRED)
            else:
                signals = seen.get(said)
                if signals is None:
                    signals = seen[said] = dict.fromkeys(match(said), INFERRED)
        else:
            signals = NO_SIGNALS
        tags = get("tags")
        if tags:
            signals = {**signals, **dict.fromkeys(stated_of(tags), STATED)}
        return (
            entry.seq,
            kinds[entry.kind],
            (at - _EPOCH) // _US,
            platforms[name],
            numbers[key],
            creditors[name or (f"number {key}" if key else "unknown")],
            get("direction") != "outgoing",
            bool(answered),
            collectors[str(collector)] if collector else 0,
            bool(said),
            signals,
            entry,
        )

    rows: list[tuple[Any, ...]] = []
    facts: list[Any] = []
    changes: dict[int, list[Any]] = {}
    retracted: set[int] = set()
    in_order: list[Any] = []  # every event entry, facts too: the first kept gives the zone
    add_row, add = rows.append, in_order.append
    for entry in entries:
        kind = entry.kind
        if kind == "amend":
            changes.setdefault(int(entry.fields["target"]), []).append(entry)
            continue
        if kind == "retract":
            retracted.add(int(entry.fields["target"]))
            continue
        if kind not in _EVENT_KINDS:
            continue  # records the log keeps about itself never count
        if entry.retracted_by is not None:
            retracted.add(entry.seq)
        add(entry)
        if kind == "fact":
            facts.append(entry)
            continue
        add_row(read(entry, entry.occurred_at, entry.fields))

    # The amended events: their rows read again from their effective time and fields.
    corrected: dict[int, tuple[datetime, Mapping[str, Any]]] = {}  # row -> (instant, fields)
    if changes:
        position = {row[0]: index for index, row in enumerate(rows)}
        for target, amendments in changes.items():
            index = position.get(target)
            if index is None:
                continue
            entry = rows[index][-1]
            instant, values = entry.occurred_at, entry.fields
            for amendment in sorted(amendments, key=lambda a: a.seq):
                instant, values = amended(instant, values, amendment.fields)
            rows[index] = read(entry, instant, values)
            corrected[index] = (instant, values)

    fact_rows = _effective_facts(facts, changes, retracted)
    log_zone = next((e.zone for e in in_order if e.seq not in retracted), timeutil.DEFAULT_ZONE)
    zone_facts = [
        (at, str(values["zone"]))
        for _entry, at, values in fact_rows
        if values.get("fact") == "debtor_zone" and values.get("zone")
    ]
    timeline = ZoneTimeline(zone or log_zone, [] if zone else zone_facts)

    columns = list(zip(*rows, strict=True)) if rows else [()] * (len(_Row._fields) + 2)
    seq, kind, instant = (np.array(c, np.int64) for c in columns[:3])
    keep_mask = np.ones(len(rows), bool)
    if retracted:
        keep_mask &= ~np.isin(seq, list(retracted))
    platform_col = np.array(columns[3], np.int64)
    if platform:
        keep_mask &= platform_col == platforms.get(platform, -1)
    if since is not None:
        keep_mask &= instant >= micros(since)
    if until is not None:
        keep_mask &= instant < micros(until)
    index = np.flatnonzero(keep_mask)
    order = index[np.lexsort((seq[index], instant[index]))]

    instant = instant[order]
    offset = _offsets(instant, timeline)
    local = instant + offset
    picked = order.tolist()
    made = Columns(
        seq=seq[order],
        kind=kind[order],
        instant=instant,
        day=local // DAY_US + _EPOCH_ORDINAL,
        clock=local % DAY_US,
        platform=platform_col[order],
        number=np.array(columns[4], np.int64)[order],
        creditor=np.array(columns[5], np.int64)[order],
        incoming=np.array(columns[6], bool)[order],
        answered=np.array(columns[7], bool)[order],
        collector=np.array(columns[8], np.int64)[order],
        said=np.array(columns[9], bool)[order],
        platforms=platforms.names,
        numbers=numbers.names,
        creditors=creditors.names,
        collectors=collectors.names,
        facts=_fact_events(fact_rows, platform, timeline),
        zone_name=", ".join(timeline.names()) if zone_facts and not zone else (zone or log_zone),
        lexicon=words,
        timeline=timeline,
        _entries=[columns[-1][i] for i in picked],
        _signals=[columns[-2][i] for i in picked],
        _corrected={rank: corrected[row] for rank, row in enumerate(picked) if row in corrected}
        if corrected
        else {},
    )
    made._by_signal = _signal_index(made)
    return made


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
            entry.amended_by,
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
    return moment.utcoffset() // _US


def _zone_offsets(instant: np.ndarray, zone: tzinfo) -> np.ndarray:
    """Offsets per UTC day: a zone's offset changes at most once in a day (a few times a
    year), so a day whose first and last microsecond have the same offset has it all
    day; the instants of a day that changes are looked up one by one."""
    if not len(instant):
        return np.zeros(0, np.int64)
    days, inverse = np.unique(instant // DAY_US, return_inverse=True)
    starts = [_offset_at(d * DAY_US, zone) for d in days.tolist()]
    ends = [_offset_at(d * DAY_US + DAY_US - 1, zone) for d in days.tolist()]
    offsets = np.array(starts, np.int64)[inverse]
    changing = np.flatnonzero(np.array(starts) != np.array(ends))
    if len(changing):
        for position in np.flatnonzero(np.isin(inverse, changing)).tolist():
            offsets[position] = _offset_at(int(instant[position]), zone)
    return offsets


def _signal_index(columns: Columns) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per signal: the incoming content events carrying it (positions, in time order),
    and whether the borrower tagged it (``Context``'s index of the same)."""
    content = columns.incoming & np.isin(columns.kind, _CONTENT_CODES)
    found: dict[str, tuple[list[int], list[bool]]] = {}
    signals = columns._signals
    for position in np.flatnonzero(content).tolist():
        these = signals[position]
        if not these:
            continue
        for signal, basis in these.items():
            entry = found.get(signal)
            if entry is None:
                entry = found[signal] = ([], [])
            entry[0].append(position)
            entry[1].append(basis == STATED)
    return {
        signal: (np.array(index, np.int64), np.array(tagged, bool))
        for signal, (index, tagged) in found.items()
    }
