"""Collection-conduct rules with citations: what the log shows, said accurately.

The public API, for the CLI, the bundle and (later) the server::

    from evidence import rules
    findings = rules.analyze(log.entries(), "cn", zone="Asia/Shanghai")
    [f.to_dict() for f in findings]
    report = rules.report(log.entries(), "cn")   # findings + summary (counts, quotes…)

Pass the whole log: corrections are applied (amendments change fields and times,
retracted entries do not count) before anything is counted, and ``since``/``until``
select by the corrected time. Days and hours are the borrower's local ones: the zone
given, else the `debtor_zone` facts in the log (each from the time it was recorded),
else the log's zone. Rule sets live in one module per jurisdiction (cn, us, uk).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from evidence import timeutil
from evidence.reading import collector_paused
from evidence.rules import lexicon as lexicon_module
from evidence.rules.base import (
    ATTACHMENTS,
    INFERRED,
    KIND,
    NO_SIGNALS,
    NUMBER_KEY,
    PLATFORM,
    STATED,
    TIERS,
    Citation,
    Context,
    Event,
    Finding,
    Rule,
    ZoneTimeline,
    effective,
    make_event,
)
from evidence.rules.lexicon import Lexicon
from evidence.rules.registry import JURISDICTIONS, rules_for

__all__ = [
    "JURISDICTIONS",
    "TIERS",
    "Citation",
    "Finding",
    "Lexicon",
    "Report",
    "Rule",
    "Summary",
    "analyze",
    "build_context",
    "load_lexicon",
    "report",
]

load_lexicon = lexicon_module.load

# What each jurisdiction calls night, for the summary's count of night contacts.
NIGHT = {
    "cn": (time(22, 0), time(8, 0), "22:00–08:00"),
    "us": (time(21, 0, 0, 1), time(8, 0), "before 08:00 or after 21:00"),
    "uk": (time(21, 0, 0, 1), time(8, 0), "before 08:00 or after 21:00"),
}
MAX_QUOTES = 3
MAX_COLLECTORS = 8
MAX_QUOTE = 300


def build_context(
    entries: Iterable[Any],
    zone: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lexicon: Lexicon | None = None,
) -> Context:
    """Effective events in local time with their signals, and the facts the rules read."""
    with collector_paused():
        return _build_context(entries, zone, platform, since, until, lexicon)


def _build_context(
    entries: Iterable[Any],
    zone: str | None,
    platform: str | None,
    since: datetime | None,
    until: datetime | None,
    lexicon: Lexicon | None,
) -> Context:
    rows = effective(entries)
    log_zone = next((entry.zone for entry, _at, _fields in rows), timeutil.DEFAULT_ZONE)
    zone_facts = [
        (at, str(fields["zone"]))
        for entry, at, fields in rows
        if entry.kind == "fact" and fields.get("fact") == "debtor_zone" and fields.get("zone")
    ]
    timeline = ZoneTimeline(zone or log_zone, [] if zone else zone_facts)
    words = lexicon or lexicon_module.default()
    match, stated = words.match, lexicon_module.stated
    # Entries from the analysis cache carry the curated lexicon's signals in their own
    # (unamended) `said`: used when this analysis reads with the curated lexicon.
    curated = words.fingerprint == lexicon_module.default_fingerprint()
    # Rows start with (instant - epoch, entry number): unique, so sorting the rows
    # themselves orders them by instant, then number, and never compares further.
    kept: list[tuple[timedelta, int, Any, datetime, dict[str, Any], Mapping[str, str]]] = []
    facts: list[tuple[timedelta, int, Any, datetime, dict[str, Any], Mapping[str, str]]] = []
    # Signal dictionaries are shared between events with the same signals (nothing
    # changes an event's signals once made): by text, and by the cached signals.
    seen: dict[str, dict[str, str]] = {}
    inferred: dict[tuple[str, ...], dict[str, str]] = {}
    filtered = platform is not None or since is not None or until is not None
    for entry, at, fields in rows:
        if entry.kind == "fact":
            # Facts recorded before a range still apply inside it.
            if platform and (fields.get("platform") or "") not in ("", platform):
                continue
            facts.append((at - _EPOCH, entry.seq, entry, at, fields, NO_SIGNALS))
            continue
        if filtered:
            if platform and (fields.get("platform") or "") != platform:
                continue
            if (since is not None and at < since) or (until is not None and at >= until):
                continue
        said = fields.get("said")
        if said:
            cached = getattr(entry, "lexicon_signals", None)
            if cached is not None and curated and fields is entry.fields:
                signals = inferred.get(cached)
                if signals is None:
                    signals = inferred[cached] = dict.fromkeys(cached, INFERRED)
            else:
                signals = seen.get(said)
                if signals is None:  # collectors send the same words again and again
                    signals = seen[said] = dict.fromkeys(match(said), INFERRED)
        else:
            signals = NO_SIGNALS
        tags = fields.get("tags")
        if tags:
            signals = {**signals, **dict.fromkeys(stated(tags), STATED)}
        kept.append((at - _EPOCH, entry.seq, entry, at, fields, signals))
    kept.sort()
    facts.sort()
    events = _events(kept, timeline)
    fact_events = _events(facts, timeline)
    name = ", ".join(timeline.names()) if zone_facts and not zone else (zone or log_zone)
    return Context(events, fact_events, name, words, ranked=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _events(rows: list[tuple[Any, ...]], timeline: ZoneTimeline) -> list[Event]:
    """The rows, in their order, as events in local time, each ranked by its place."""
    fixed = timeline.fixed()
    zone_at = timeline.at
    return [
        make_event(
            seq,
            entry.kind,
            at,
            at.astimezone(fixed or zone_at(at)),
            fields,
            entry.attachments,
            signals,
            entry.amended_by,
            rank,
        )
        for rank, (_key, seq, entry, at, fields, signals) in enumerate(rows)
    ]


def analyze(
    entries: Iterable[Any],
    jurisdiction: str = "cn",
    zone: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lexicon: Lexicon | None = None,
) -> list[Finding]:
    """The findings of one jurisdiction's rules over a log's entries, in rule order."""
    rules = rules_for(jurisdiction)
    with collector_paused():
        ctx = _build_context(entries, zone, platform, since, until, lexicon)
        return _findings(rules, ctx)


def _findings(rules: Iterable[Any], ctx: Context) -> list[Finding]:
    return [finding for rule in rules if (finding := rule.check(ctx)) is not None]


@dataclass(frozen=True)
class Quote:
    seq: int
    when: str  # local time, with the offset
    kind: str
    platform: str
    text: str
    signals: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.seq,
            "when": self.when,
            "kind": self.kind,
            "platform": self.platform,
            "text": self.text,
            "signals": list(self.signals),
        }


@dataclass(frozen=True)
class Summary:
    """The facts a complaint states, counted once so the draft and `analyze --json` agree."""

    zone: str
    platforms: tuple[str, ...]
    first: str | None
    last: str | None
    events: int
    calls: int
    answered_calls: int
    night_calls: int
    night_contacts: int
    night: str
    sms: int
    messages: int
    visits: int
    letters: int
    distinct_numbers: int
    third_party_contacts: int
    contacts_reached: tuple[str, ...]
    collectors: tuple[str, ...]  # the names collectors gave, most frequent first
    quotes: tuple[Quote, ...]
    attachments: tuple[tuple[int, str, str], ...]  # (entry, name, sha256)

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "platforms": list(self.platforms),
            "first": self.first,
            "last": self.last,
            "events": self.events,
            "calls": self.calls,
            "answered_calls": self.answered_calls,
            "night_calls": self.night_calls,
            "night_contacts": self.night_contacts,
            "night": self.night,
            "sms": self.sms,
            "messages": self.messages,
            "visits": self.visits,
            "letters": self.letters,
            "distinct_numbers": self.distinct_numbers,
            "third_party_contacts": self.third_party_contacts,
            "contacts_reached": list(self.contacts_reached),
            "collectors": list(self.collectors),
            "quotes": [q.to_dict() for q in self.quotes],
            "attachments": [
                {"entry": seq, "name": name, "sha256": sha} for seq, name, sha in self.attachments
            ],
        }


@dataclass(frozen=True)
class Report:
    jurisdiction: str
    platform: str | None
    summary: Summary
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "platform": self.platform,
            "summary": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
        }


def report(
    entries: Iterable[Any],
    jurisdiction: str = "cn",
    zone: str | None = None,
    platform: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lexicon: Lexicon | None = None,
) -> Report:
    """Findings and the summary a complaint needs, from one pass over the entries."""
    rules = rules_for(jurisdiction)
    with collector_paused():
        ctx = _build_context(entries, zone, platform, since, until, lexicon)
        return Report(
            jurisdiction, platform, summarize(ctx, jurisdiction), tuple(_findings(rules, ctx))
        )


def summarize(ctx: Context, jurisdiction: str) -> Summary:
    start, end, label = NIGHT[jurisdiction]
    events, contacts, calls = ctx.events, ctx.contacts(), ctx.calls()
    third = [e for e in events if e.kind == "contact"]
    reached: dict[str, None] = {}
    for event in third:
        name = str(event.fields.get("contact_name", ""))
        relation = str(event.fields.get("relation", ""))
        reached.setdefault(f"{name} ({relation})" if relation else name)
    if any(map(NUMBER_KEY, third)):
        numbers = {e.number_key for e in contacts if e.kind != "contact"} - {""}
    else:  # no third party has a number (the usual case): no contact's need be left out
        numbers = set(map(NUMBER_KEY, contacts)) - {""}
    named = Counter(str(e.fields["collector"]) for e in contacts if e.fields.get("collector"))
    kinds = Counter(map(KIND, contacts))
    # night: at or after the start or before the end (the window passes midnight)
    night = [e for e in contacts if not end <= e.clock < start]
    return Summary(
        zone=ctx.zone_name,
        platforms=tuple(sorted(set(map(PLATFORM, events)) - {""})),
        first=_when(contacts[0]) if contacts else None,
        last=_when(contacts[-1]) if contacts else None,
        events=len(events),
        calls=len(calls),
        answered_calls=sum(1 for e in calls if e.answered),
        night_calls=list(map(KIND, night)).count("call"),
        night_contacts=len(night),
        night=label,
        sms=kinds["sms"],
        messages=kinds["message"],
        visits=kinds["visit"],
        letters=sum(1 for e in events if e.kind == "letter"),
        distinct_numbers=len(numbers),
        third_party_contacts=len(third),
        contacts_reached=tuple(reached),
        collectors=tuple(name for name, _ in named.most_common(MAX_COLLECTORS)),
        quotes=_quotes(ctx),
        attachments=tuple(
            (e.seq, str(a.name), str(a.sha256))
            for e in filter(ATTACHMENTS, events)
            for a in e.attachments
        ),
    )


def _when(event: Event) -> str:
    return event.local.strftime("%Y-%m-%d %H:%M %z")


def _quotes(ctx: Context) -> tuple[Quote, ...]:
    """Two or three verbatim quotes: the borrower's tagged ones first, then the lexicon's."""

    def quotable(e: Event) -> bool:
        return e.incoming and bool(e.fields.get("said")) and e.kind != "fact"

    def by_weight(events: list[Event], weight: Callable[[Event], Any]) -> Iterator[Event]:
        # Popped from a heap, because only the first few of a whole log's events are taken.
        heap = [(weight(e), index) for index, e in enumerate(events)]
        heapq.heapify(heap)
        while heap:
            yield events[heapq.heappop(heap)[1]]

    def ranked() -> Iterator[Event]:
        # Most tagged signals first, then most signals, then the lowest entry number; then
        # the events without signals, in time order. Few events are tagged: the later
        # groups are gathered and weighed only if the earlier ones do not give enough.
        events = ctx.events
        tagged = [e for e in events if STATED in e.signals.values() and quotable(e)]
        yield from by_weight(
            tagged, lambda e: (-[*e.signals.values()].count(STATED), -len(e.signals), e.seq)
        )
        inferred = [
            e for e in events if e.signals and STATED not in e.signals.values() and quotable(e)
        ]
        yield from by_weight(inferred, lambda e: (-len(e.signals), e.seq))
        yield from (e for e in events if not e.signals and quotable(e))

    chosen: list[Event] = []
    texts: set[str] = set()
    for event in ranked():
        text = str(event.fields["said"])
        if text in texts:
            continue  # the same words sent again are one quote
        if len(chosen) >= (MAX_QUOTES if event.signals else 2):
            break
        chosen.append(event)
        texts.add(text)
    chosen.sort(key=lambda e: (e.at, e.seq))
    return tuple(
        Quote(
            e.seq,
            _when(e),
            e.kind,
            e.platform,
            _shorten(str(e.fields["said"])),
            tuple(sorted(e.signals)),
        )
        for e in chosen
    )


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"


def lexicon_from(path: str | Path | None) -> Lexicon:
    return lexicon_module.load(Path(path) if path else None)
