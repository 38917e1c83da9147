"""The rule interface, findings, effective events and the context rules read.

A rule reads a :class:`Context` (the borrower's effective events, in local time,
with their content signals, and the facts the borrower recorded) and returns
:class:`Hit` values; :meth:`Rule.check` turns them into one immutable
:class:`Finding`. Nothing here knows about a database, click or Flask.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import compress, pairwise, starmap
from operator import attrgetter, lt
from typing import Any, NamedTuple

from evidence import phone, timeutil
from evidence.model import EVENT_KINDS, amended

# Instrument tiers, strongest first. A finding says "may violate" a law or regulation and
# "breaches" an industry or recommended standard: only the standards set numbers.
LAW = "law"
REGULATION = "regulation"
INDUSTRY = "industry standard"
RECOMMENDED = "recommended standard"
PATTERN = "pattern (no instrument sets a number)"
TIERS = (LAW, REGULATION, INDUSTRY, RECOMMENDED, PATTERN)
TIER_ZH = {
    LAW: "法律",
    REGULATION: "监管规定",
    INDUSTRY: "行业自律规范",
    RECOMMENDED: "推荐性国家标准",
    PATTERN: "行为模式（无文件规定具体数字）",
}

STATED = "stated"  # the borrower's own tag
INFERRED = "inferred"  # the lexicon matched the recorded words
COUNTED = "counted"  # times, numbers and kinds recorded in the log

# Collection activity towards the borrower (and, for `contact`, towards third parties).
CONTACT_KINDS = ("call", "sms", "message", "visit", "contact")
# What the collectors said or sent: contacts, and letters (a fake summons arrives by post).
CONTENT_KINDS = (*CONTACT_KINDS, "letter")


@dataclass(frozen=True)
class Citation:
    """One instrument and what it says, with how sure we are of the wording."""

    instrument: str
    provision: str
    tier: str
    source: str = "secondary"  # "primary" (checked against the full text) or "secondary"
    unconfirmed: str = ""  # what is not confirmed about it, if anything

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "provision": self.provision,
            "tier": self.tier,
            "source": self.source,
            "unconfirmed": self.unconfirmed,
        }

    def text(self) -> str:
        extra = f" [UNCONFIRMED: {self.unconfirmed}]" if self.unconfirmed else ""
        return f"{self.instrument} {self.provision} ({self.tier}, {self.source}){extra}"


@dataclass(frozen=True)
class Finding:
    """What one rule found in the log: immutable, JSON-ready through :meth:`to_dict`."""

    rule_id: str
    jurisdiction: str
    rule_zh: str
    rule_en: str
    tier: str
    citations: tuple[Citation, ...]
    events: int
    days: tuple[str, ...]
    entries: tuple[int, ...]
    stated: tuple[int, ...] = ()
    inferred: tuple[int, ...] = ()
    detail_en: str = ""
    detail_zh: str = ""

    @property
    def basis(self) -> str:
        """Counted from the log, stated by the borrower, inferred by the lexicon, or both."""
        if self.stated and self.inferred:
            return f"{STATED}+{INFERRED}"
        if self.stated:
            return STATED
        if self.inferred:
            return INFERRED
        return COUNTED

    @property
    def verdict_en(self) -> str:
        """Laws and regulations: "may violate"; standards set numbers: "breaches"."""
        if self.tier in (LAW, REGULATION):
            return "may violate"
        return "shows" if self.tier == PATTERN else "breaches"

    def rule(self, lang: str = "en") -> str:
        return self.rule_zh if lang == "zh" else self.rule_en

    def detail(self, lang: str = "en") -> str:
        return self.detail_zh if lang == "zh" else self.detail_en

    def tier_text(self, lang: str = "en") -> str:
        return TIER_ZH[self.tier] if lang == "zh" else self.tier

    def citation(self) -> str:
        return "; ".join(c.text() for c in self.citations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "jurisdiction": self.jurisdiction,
            "rule": {"zh": self.rule_zh, "en": self.rule_en},
            "detail": {"zh": self.detail_zh, "en": self.detail_en},
            "tier": self.tier,
            "citation": self.citation(),
            "citations": [c.to_dict() for c in self.citations],
            "events": self.events,
            "days": list(self.days),
            "entries": list(self.entries),
            "basis": self.basis,
            "stated_entries": list(self.stated),
            "inferred_entries": list(self.inferred),
        }


class Event(NamedTuple):
    """An event as it stands after its amendments, with its local time.

    What the rules ask of every event is computed once, in :func:`make_event`. A named
    tuple (immutable, built in one step): a log has one per event, and building a frozen
    dataclass of this size cost more than all the rules together read from it.
    """

    seq: int
    kind: str
    at: datetime  # the (amended) instant
    local: datetime  # the same instant in the borrower's zone at that time
    day: date  # the local day
    fields: Mapping[str, Any]
    attachments: tuple[Any, ...]
    signals: Mapping[str, str]  # signal -> STATED | INFERRED
    platform: str
    number_key: str  # phone.key of the number, "" without one
    creditor: str  # who is counted as one creditor: the platform, else the number
    incoming: bool  # not the borrower's own call or SMS
    answered: bool  # a connected call: answered, or a duration above zero if not recorded
    is_contact: bool  # collection activity at the borrower or, for `contact`, a third party
    amended_by: tuple[int, ...] = ()
    clock: time | None = None  # the local time of day, without a zone
    rank: int = 0  # the place in time order (by instant, then entry number) in its context


_new_event = tuple.__new__
# One empty signal mapping shared by every event without signals (none is ever changed).
NO_SIGNALS: Mapping[str, str] = {}


def make_event(
    seq: int,
    kind: str,
    at: datetime,
    local: datetime,
    fields: Mapping[str, Any],
    attachments: tuple[Any, ...] = (),
    signals: Mapping[str, str] | None = None,
    amended_by: tuple[int, ...] = (),
    rank: int = 0,
) -> Event:
    get = fields.get
    platform = get("platform")
    if type(platform) is not str:
        platform = str(platform) if platform else ""
    number = get("number")
    key = phone.key(number) if isinstance(number, dict) else ""
    answered = get("answered")
    if answered is None:
        answered = int(get("duration") or 0) > 0
    incoming = get("direction") != "outgoing"
    return _new_event(
        Event,
        (
            seq,
            kind,
            at,
            local,
            local.date(),
            fields,
            attachments,
            signals or NO_SIGNALS,
            platform,
            key,
            platform or (f"number {key}" if key else "unknown"),
            incoming,
            bool(answered),
            incoming and kind in CONTACT_KINDS,
            amended_by,
            local.time(),
            rank,
        ),
    )


class Hit(NamedTuple):
    event: Event
    basis: str = COUNTED


_new_hit = tuple.__new__


def counted(events: Iterable[Event]) -> list[Hit]:
    """``[Hit(e) for e in events]``, each hit built as a plain tuple (a rule may make
    thousands, and the named tuple's own constructor is a Python function)."""
    return [_new_hit(Hit, (event, COUNTED)) for event in events]


@dataclass
class Context:
    """Everything a rule reads. Events are effective, sorted by time, retracted ones gone."""

    events: list[Event]
    facts: list[Event]
    zone_name: str
    lexicon: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    ranked: bool = False  # every event's rank is its place in ``events`` (build_context)

    def __post_init__(self) -> None:
        self._contacts = [e for e in self.events if e.is_contact]
        self._calls = [e for e in self.events if e.kind == "call" and e.incoming]
        self._signalled = [
            e for e in self.events if e.signals and e.kind in CONTENT_KINDS and e.incoming
        ]
        # The events carrying each signal, in time order: a rule reads only its own.
        self._by_signal: dict[str, list[Event]] = {}
        for event in self._signalled:
            for signal in event.signals:
                self._by_signal.setdefault(signal, []).append(event)
        self._facts_by_name: dict[str, list[Event]] = {}
        for fact in self.facts:
            self._facts_by_name.setdefault(str(fact.fields.get("fact")), []).append(fact)

    def contacts(self) -> list[Event]:
        return self._contacts

    def calls(self) -> list[Event]:
        return self._calls

    def facts_of(self, name: str, event: Event | None = None) -> list[Event]:
        """Facts of one kind recorded before ``event`` and applying to its platform."""
        facts = self._facts_by_name.get(name, [])
        if event is None:
            return list(facts)
        return [
            fact
            for fact in facts
            if not fact.at > event.at and (not fact.platform or fact.platform == event.platform)
        ]

    def with_signal(self, *signals: str, kinds: Iterable[str] = CONTENT_KINDS) -> list[Hit]:
        """Events carrying any of ``signals``, in time order; stated if any of them is."""
        if len(signals) == 1 and kinds is CONTENT_KINDS:
            # The index holds content events only: one signal's list is the answer.
            signal = signals[0]
            return [
                _new_hit(Hit, (event, STATED if event.signals[signal] == STATED else INFERRED))
                for event in self._by_signal.get(signal, ())
            ]
        if self.ranked and kinds is CONTENT_KINDS:
            # Merge the signals' lists (each in time order) by rank, in C where it can be.
            by_rank: dict[int, Event] = {}
            stated: set[int] = set()
            for signal in signals:
                events = self._by_signal.get(signal, ())
                by_rank.update(zip(map(_event_rank, events), events, strict=True))
                stated.update([e.rank for e in events if e.signals[signal] == STATED])
            return [
                _new_hit(Hit, (by_rank[rank], STATED if rank in stated else INFERRED))
                for rank in sorted(by_rank)
            ]
        wanted = set(kinds)
        found: dict[int, list[Any]] = {}
        for signal in signals:
            for event in self._by_signal.get(signal, ()):
                if event.kind not in wanted:
                    continue
                basis = event.signals[signal]
                seen = found.get(event.seq)
                if seen is None:
                    found[event.seq] = [event.rank, event, basis]
                elif basis == STATED:
                    seen[2] = STATED
        # One signal's events are in time order already; several are merged by rank.
        ordered = sorted(found.values(), key=_first) if len(signals) > 1 else found.values()
        return [
            _new_hit(Hit, (event, STATED if basis == STATED else INFERRED))
            for _, event, basis in ordered
        ]


def _first(item: Sequence[Any]) -> Any:
    return item[0]


class Rule:
    """One machine-checkable rule. Subclasses set the class attributes and ``hits``."""

    id: str = ""
    jurisdiction: str = ""
    rule_zh: str = ""
    rule_en: str = ""
    citations: tuple[Citation, ...] = ()
    # The rule reads only third-party contacts and facts: the columnar analysis runs
    # ``hits`` on a context of those (``Columns.third_party_context``).
    third_parties_only: bool = False

    @property
    def tier(self) -> str:
        return self.citations[0].tier if self.citations else PATTERN

    def hits(self, ctx: Context) -> list[Hit]:
        """The reference: what the rule finds among the context's events."""
        raise NotImplementedError

    def column_hits(self, columns: Any) -> Any:
        """The same as :meth:`hits`, counted over ``rules.columns.Columns`` (a ``Hits``)."""
        raise NotImplementedError

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        """A sentence about what was found (en, zh); the default says how many and when."""
        return self.sentence(len(hits), len({h.event.day for h in hits}))

    def column_detail(self, columns: Any, hits: Any) -> tuple[str, str]:
        """:meth:`detail` of the hits of :meth:`column_hits`."""
        return self.sentence(len(hits), columns.days(hits))

    def sentence(self, count: int, days: int) -> tuple[str, str]:
        return (f"{count} events on {days} days", f"{days} 天内共 {count} 次")

    def column_check(self, columns: Any) -> Finding | None:
        """:meth:`check` over columns: the same finding, or None."""
        if self.third_parties_only:
            return self.check(columns.third_party_context())
        hits = self.column_hits(columns)
        return columns.finding(self, hits) if len(hits) else None

    def check(self, ctx: Context) -> Finding | None:
        hits = self.hits(ctx)
        if not hits:
            return None
        if not (ctx.ranked and _increasing(map(_rank, hits))):
            # An event found twice counts once, with its first hit (so reversed: the last
            # assignment wins); then the hits are put in time order. Most rules find each
            # event once, in time order, and skip this.
            by_seq = {hit.event.seq: hit for hit in reversed(hits)}
            hits = sorted(by_seq.values(), key=_rank if ctx.ranked else _order)
        # Each hit's event and basis, in two tuples (one transposition, in C).
        events, bases = zip(*hits, strict=True)
        found = set(bases)
        return self.finding(
            len(events),
            tuple(map(date.isoformat, sorted(set(map(_event_day, events))))),
            tuple(sorted(map(_event_seq, events))),
            _seqs_with(events, bases, STATED) if STATED in found else (),
            _seqs_with(events, bases, INFERRED) if INFERRED in found else (),
            self.detail(ctx, hits),
        )

    def finding(
        self,
        events: int,
        days: tuple[str, ...],
        entries: tuple[int, ...],
        stated: tuple[int, ...],
        inferred: tuple[int, ...],
        detail: tuple[str, str],
    ) -> Finding:
        """This rule's finding of what its hits add up to."""
        return Finding(
            rule_id=self.id,
            jurisdiction=self.jurisdiction,
            rule_zh=self.rule_zh,
            rule_en=self.rule_en,
            tier=self.tier,
            citations=self.citations,
            events=events,
            days=days,
            entries=entries,
            stated=stated,
            inferred=inferred,
            detail_en=detail[0],
            detail_zh=detail[1],
        )


class SignalRule(Rule):
    """A rule that fires on content signals (stated tags or the lexicon)."""

    signals: tuple[str, ...] = ()

    def hits(self, ctx: Context) -> list[Hit]:
        return ctx.with_signal(*self.signals)

    def column_hits(self, columns: Any) -> Any:
        return columns.with_signal(*self.signals)

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.tagged(len(hits), sum(1 for h in hits if h.basis == STATED))

    def column_detail(self, columns: Any, hits: Any) -> tuple[str, str]:
        return self.tagged(len(hits), int(hits.stated.sum()))

    def tagged(self, count: int, stated: int) -> tuple[str, str]:
        return (
            f"{count} events ({stated} tagged by the borrower, "
            f"{count - stated} found by the lexicon: review them)",
            f"共 {count} 次（本人标注 {stated} 次，词库推断 {count - stated} 次，请核对）",
        )


_rank = attrgetter("event.rank")
_at = attrgetter("at")
_event_rank = attrgetter("rank")
_event_seq = attrgetter("seq")
_event_day = attrgetter("day")


def _increasing(values: Iterable[int]) -> bool:
    """Each value above the one before it (so the values are sorted and unique)."""
    return all(starmap(lt, pairwise(values)))


def _seqs_with(events: Sequence[Event], bases: Sequence[str], basis: str) -> tuple[int, ...]:
    """The entry numbers of the events found with this basis, in entry-number order."""
    return tuple(sorted(map(_event_seq, compress(events, map(basis.__eq__, bases)))))


def _order(hit: Hit) -> tuple[int, datetime, int]:
    # The rank alone orders the events of one context; instant and number decide
    # between events made without one (rank 0).
    event = hit.event
    return (event.rank, event.at, event.seq)


# --- effective events ------------------------------------------------------------------------


_EVENT_KINDS = frozenset(EVENT_KINDS)


def effective(entries: Iterable[Any]) -> list[tuple[Any, datetime, dict[str, Any]]]:
    """Event entries as they stand: amendments applied in order, retracted ones dropped.

    Returns ``(entry, instant, fields)``. Pass the whole log (``Log.entries()`` without a
    range): a correction outside a date range still corrects an entry inside it.
    """
    events: dict[int, Any] = {}
    changes: dict[int, list[Any]] = {}
    retracted: set[int] = set()
    for entry in entries:
        kind = entry.kind
        if kind == "amend":
            changes.setdefault(int(entry.fields["target"]), []).append(entry)
        elif kind == "retract":
            retracted.add(int(entry.fields["target"]))
        elif kind in _EVENT_KINDS:  # records the log keeps about itself never count
            events[entry.seq] = entry
            if entry.retracted_by is not None:
                retracted.add(entry.seq)
    result = []
    for seq, entry in events.items():
        if seq in retracted:
            continue
        amendments = changes.get(seq)
        if not amendments:
            result.append((entry, entry.occurred_at, entry.fields))
            continue
        instant, fields = entry.occurred_at, entry.fields
        for amendment in sorted(amendments, key=lambda a: a.seq):
            instant, fields = amended(instant, fields, amendment.fields)
        result.append((entry, instant, fields))
    return result


class ZoneTimeline:
    """The borrower's zone at any instant: a fixed zone, or `debtor_zone` facts over time."""

    def __init__(self, default: str, changes: Sequence[tuple[datetime, str]] = ()) -> None:
        self.default = default
        ordered = sorted(changes)
        self._starts = [t for t, _ in ordered]
        self._zones = [timeutil.zone(name) for _, name in ordered]
        self._names = [name for _, name in ordered]
        self._default = timeutil.zone(default)

    def at(self, instant: datetime) -> tzinfo:
        index = bisect.bisect_right(self._starts, instant) - 1
        if index < 0:
            # Before the first recorded zone: that zone if there is one, else the default.
            return self._zones[0] if self._zones else self._default
        return self._zones[index]

    def fixed(self) -> tzinfo | None:
        """The one zone of every instant when no fact changes it, else None."""
        return None if self._zones else self._default

    def names(self) -> list[str]:
        return sorted(set(self._names)) or [self.default]


def in_window(window: str, local: datetime) -> bool:
    """Is the local time of day inside a daily window 'HH:MM-HH:MM' (which may pass midnight)?"""
    start, end = _window(window)
    return _inside(start, end, _minutes_of(local))


def _inside(start: int, end: int, now: float) -> bool:
    if start < end:
        return start <= now < end
    return now >= start or now < end


def _minutes_of(local: datetime) -> float:
    return local.hour * 60 + local.minute + local.second / 60


# An agreed_time fact as the rules read it: (since, platform, start, end), the window in
# minutes; since: the first rank it applies to in a ranked context, else its instant.
AgreedWindow = tuple[Any, str, int, int]


def agreed_windows(ctx: Context) -> list[AgreedWindow]:
    """The `agreed_time` facts with a window, in time order, each window parsed once
    (rather than once per event it may excuse)."""
    windows = [
        (fact.at, fact.platform, *_window(fact.fields["window"]))
        for fact in ctx.facts_of("agreed_time")
        if "window" in fact.fields
    ]
    if ctx.ranked:
        # A fact applies from the first event at or after it (events are in time order):
        # comparing ranks is much cheaper than comparing instants in different zones.
        events = ctx.events
        windows = [(bisect.bisect_left(events, at, key=_at), *rest) for at, *rest in windows]
    return sorted(windows, key=_first)


def agreed_at(event: Event, windows: Sequence[AgreedWindow], ranked: bool) -> bool | None:
    """Is the event inside a window agreed for it (recorded at or before it, for its
    platform or for all)? None when no window applies to it."""
    position = event.rank if ranked else event.at
    inside = None
    for since, platform, start, end in windows:
        if since > position:
            break  # the windows are in time order: the rest were agreed after the event
        if platform and platform != event.platform:
            continue
        if _inside(start, end, _minutes_of(event.local)):
            return True
        inside = False
    return inside


@lru_cache(maxsize=256)
def _window(window: str) -> tuple[int, int]:
    start_text, end_text = window.split("-")
    return _minutes(start_text), _minutes(end_text)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def night(local: datetime, start: time, end: time) -> bool:
    """Local time at or after ``start`` or before ``end`` (a window across midnight)."""
    moment = local.time()  # the time of day without its zone
    return moment >= start or moment < end


def rolling_excess(events: Sequence[Event], limit: int, days: int) -> list[Event]:
    """Events that are beyond the ``limit``-th within ``days`` consecutive local days.

    ``events`` must be sorted by time. An event is in excess when, counting it, more than
    ``limit`` events fall on its local day and the ``days - 1`` local days before it.
    """
    ordinals = [e.day.toordinal() for e in events]
    return [events[index] for index in excess_positions(ordinals, limit, days)]


def excess_positions(ordinals: Sequence[int], limit: int, days: int) -> list[int]:
    """The positions of :func:`rolling_excess`, from each event's local day ordinal."""
    excess = []
    start = 0
    for index, day in enumerate(ordinals):
        while ordinals[start] <= day - days:
            start += 1
        if index - start + 1 > limit:
            excess.append(index)
    return excess


def group_by(events: Iterable[Event], key: Any) -> dict[Any, list[Event]]:
    groups: dict[Any, list[Event]] = {}
    for event in events:
        group = groups.get(group_key := key(event))
        if group is None:
            groups[group_key] = [event]
        else:
            group.append(event)
    return groups


# Keys for group_by and friends, read in C rather than by a lambda per event.
PLATFORM = attrgetter("platform")
CREDITOR = attrgetter("creditor")
CREDITOR_DAY = attrgetter("creditor", "day")
NUMBER_KEY = attrgetter("number_key")
KIND = attrgetter("kind")
ATTACHMENTS = attrgetter("attachments")


ONE_DAY = timedelta(days=1)
