"""The effective events of a log as columns: what the rules count, counted in C.

:func:`rules.build_context` makes one :class:`~evidence.rules.base.Event` per event (a
17-field tuple with two datetimes); the rules and the summary then walk those objects
several times. For a log of 100,000 entries that was most of an analysis. Most rules
only count: contacts at night, calls per creditor and day, numbers per platform,
events carrying a signal. :class:`Columns` holds each event as a few integers
(instant, local day and time of day, kind, platform, number, creditor, flags) in numpy
arrays in time order, and the rules count over the arrays (``Rule.column_hits``).
Entries are read into rows by ``rules.rows`` and the rows assembled, corrected and
ordered by ``rules.assemble``.

The few events that need more than counting (third-party contacts, events with
attachments) are made into ordinary events on demand, and the rules about third
parties run unchanged on a small context of those (:meth:`Columns.third_party_context`).

The reference is ``build_context`` and ``Rule.hits`` (``rules.reference_report``): a
property test checks that both give the same report for generated logs of every
jurisdiction, from entries and from rows kept in the analysis cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from evidence.model import EVENT_KINDS
from evidence.rules.base import (
    CONTACT_KINDS,
    CONTENT_KINDS,
    Context,
    Event,
    Finding,
    ZoneTimeline,
    excess_positions,
    make_event,
)
from evidence.rules.rows import KIND_CODES, micros

if TYPE_CHECKING:
    from evidence.rules.base import Rule

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
_CONTACT_CODES = [KIND_CODES[kind] for kind in CONTACT_KINDS]


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
    attached: np.ndarray  # the event has attachments
    signal_set: np.ndarray  # index into ``signal_sets``
    platforms: list[str]
    numbers: list[str]
    creditors: list[str]
    collectors: list[str]
    signal_sets: list[Mapping[str, str]]  # signal -> STATED | INFERRED; NO_SIGNALS first
    facts: list[Event]
    zone_name: str
    lexicon: Any
    timeline: ZoneTimeline
    # Per row (the order the events were read in; ``row[position]``): the words, and the
    # entries kept whole (third-party contacts, attachments, amended events) with the
    # effective instant and fields of the amended ones.
    row: np.ndarray
    _texts: list[Any]
    _entries: Mapping[int, Any]
    _corrected: Mapping[int, tuple[datetime, Mapping[str, Any]]]
    _amended_by: Mapping[int, tuple[int, ...]]
    _by_signal: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def signalled(self) -> np.ndarray:
        """The events with signals, stated or inferred."""
        found = self._cache.get("signalled")
        if found is None:
            has = np.fromiter(map(bool, self.signal_sets), bool, len(self.signal_sets))
            found = self._cache["signalled"] = has[self.signal_set]
        return found

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

    def kind_name(self, position: int) -> str:
        return EVENT_KINDS[int(self.kind[position])]

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
        """The position's event as ``build_context`` makes it (a third-party contact, an
        event with attachments or an amended one: those whose entries are kept)."""
        row = int(self.row[position])
        entry = self._entries[row]
        at, values = self._corrected.get(row) or (entry.occurred_at, entry.fields)
        return make_event(
            entry.seq,
            entry.kind,
            at,
            self.local(at),
            values,
            entry.attachments,
            self.signals(position),
            self._amended_by.get(entry.seq, ()),
            position,
        )

    def events(self, index: Iterable[int]) -> list[Event]:
        return [self.event(position) for position in index]

    def local(self, at: datetime) -> datetime:
        """The instant in the borrower's zone at that instant."""
        return at.astimezone(self.timeline.fixed() or self.timeline.at(at))

    def local_at(self, position: int) -> datetime:
        return self.local(_EPOCH + timedelta(microseconds=int(self.instant[position])))

    def signals(self, position: int) -> Mapping[str, str]:
        return self.signal_sets[int(self.signal_set[position])]

    def text(self, position: int) -> Any:
        """What was said (None without words)."""
        return self._texts[int(self.row[position])]

    def attachments(self, position: int) -> tuple[Any, ...]:
        return self._entries[int(self.row[position])].attachments

    def with_attachments(self) -> list[int]:
        return np.flatnonzero(self.attached).tolist()

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
        entries = tuple(np.sort(seqs).tolist())
        return rule.finding(
            len(index), days, entries, stated, inferred, rule.column_detail(self, hits)
        )


def rolling_excess_days(days: np.ndarray, limit: int, window: int) -> np.ndarray:
    """``base.rolling_excess`` over one group's local day ordinals (in time order): the
    positions beyond the ``limit``-th within ``window`` consecutive days."""
    if len(days) > 1 and not np.all(days[1:] >= days[:-1]):
        # A zone change moved a later event to an earlier day: walk it as the reference does.
        return np.array(excess_positions(days.tolist(), limit, window), np.int64)
    start = np.searchsorted(days, days - window, side="right")
    return np.flatnonzero(np.arange(len(days)) - start + 1 > limit)
