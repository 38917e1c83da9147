"""The summary a complaint states: counts, who was reached, quotes, attachments.

Counted once, from the same events as the findings, so that a draft letter and
``evidence analyze --json`` agree. :func:`summarize` reads a context of event objects
(the reference); :func:`summarize_columns` reads ``rules.columns.Columns``.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import numpy as np

from evidence.rules.base import ATTACHMENTS, KIND, NUMBER_KEY, PLATFORM, STATED, Context, Event
from evidence.rules.columns import KIND_CODES, Columns

# What each jurisdiction calls night, for the summary's count of night contacts.
NIGHT = {
    "cn": (time(22, 0), time(8, 0), "22:00–08:00"),
    "us": (time(21, 0, 0, 1), time(8, 0), "before 08:00 or after 21:00"),
    "uk": (time(21, 0, 0, 1), time(8, 0), "before 08:00 or after 21:00"),
}
MAX_QUOTES = 3
MAX_COLLECTORS = 8
MAX_QUOTE = 300


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


def summarize(ctx: Context, jurisdiction: str) -> Summary:
    start, end, label = NIGHT[jurisdiction]
    events, contacts, calls = ctx.events, ctx.contacts(), ctx.calls()
    third = [e for e in events if e.kind == "contact"]
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
        contacts_reached=_reached(third),
        collectors=tuple(name for name, _ in named.most_common(MAX_COLLECTORS)),
        quotes=_quotes(ctx),
        attachments=tuple(
            (e.seq, str(a.name), str(a.sha256))
            for e in filter(ATTACHMENTS, events)
            for a in e.attachments
        ),
    )


def _reached(third: Iterable[Event]) -> tuple[str, ...]:
    """The third parties contacted, each once, in the order they were first contacted."""
    reached: dict[str, None] = {}
    for event in third:
        name = str(event.fields.get("contact_name", ""))
        relation = str(event.fields.get("relation", ""))
        reached.setdefault(f"{name} ({relation})" if relation else name)
    return tuple(reached)


def _when(event: Event) -> str:
    return _stamp(event.local)


def _stamp(local: datetime) -> str:
    return local.strftime("%Y-%m-%d %H:%M %z")


def by_weight(items: list[Any], weight: Callable[[Any], Any]) -> Iterator[Any]:
    """The items, lightest first, popped from a heap: only the first few of a whole
    log's events are taken."""
    heap = [(weight(item), index) for index, item in enumerate(items)]
    heapq.heapify(heap)
    while heap:
        yield items[heapq.heappop(heap)[1]]


def tagged_weight(signals: Mapping[str, str], seq: int) -> tuple[int, int, int]:
    """Quotes: most tagged signals first, then most signals, then the lowest number."""
    return (-[*signals.values()].count(STATED), -len(signals), seq)


def _quotes(ctx: Context) -> tuple[Quote, ...]:
    """Two or three verbatim quotes: the borrower's tagged ones first, then the lexicon's."""

    def quotable(e: Event) -> bool:
        return e.incoming and bool(e.fields.get("said")) and e.kind != "fact"

    def ranked() -> Iterator[Event]:
        # Most tagged signals first, then most signals, then the lowest entry number; then
        # the events without signals, in time order. Few events are tagged: the later
        # groups are gathered and weighed only if the earlier ones do not give enough.
        events = ctx.events
        tagged = [e for e in events if STATED in e.signals.values() and quotable(e)]
        yield from by_weight(tagged, lambda e: tagged_weight(e.signals, e.seq))
        inferred = [
            e for e in events if e.signals and STATED not in e.signals.values() and quotable(e)
        ]
        yield from by_weight(inferred, lambda e: (-len(e.signals), e.seq))
        yield from (e for e in events if not e.signals and quotable(e))

    chosen = choose_quotes(ranked(), lambda e: e.fields["said"], lambda e: bool(e.signals))
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


def choose_quotes(
    ranked: Iterable[Any], text: Callable[[Any], Any], signalled: Callable[[Any], bool]
) -> list[Any]:
    """The first distinct texts of ``ranked``: three with signals, two without."""
    chosen: list[Any] = []
    texts: set[str] = set()
    for item in ranked:
        said = str(text(item))
        if said in texts:
            continue  # the same words sent again are one quote
        if len(chosen) >= (MAX_QUOTES if signalled(item) else 2):
            break
        chosen.append(item)
        texts.add(said)
    return chosen


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"


def summarize_columns(table: Columns, jurisdiction: str) -> Summary:
    """:func:`summarize` of the same events, counted over their columns."""
    start, end, label = NIGHT[jurisdiction]
    contacts = np.flatnonzero(table.contacts)
    calls = table.calls
    kinds = table.kind[contacts]
    third = table.third_parties()
    numbers = table.number[contacts]
    if any(map(NUMBER_KEY, third)):
        numbers = numbers[kinds != KIND_CODES["contact"]]
    night = table.outside(start, end)[contacts]
    present = np.unique(table.platform).tolist()
    return Summary(
        zone=table.zone_name,
        platforms=tuple(sorted({table.platforms[p] for p in present} - {""})),
        first=_stamp(table.local_at(int(contacts[0]))) if len(contacts) else None,
        last=_stamp(table.local_at(int(contacts[-1]))) if len(contacts) else None,
        events=len(table),
        calls=int(calls.sum()),
        answered_calls=int((calls & table.answered).sum()),
        night_calls=int((night & (kinds == KIND_CODES["call"])).sum()),
        night_contacts=int(night.sum()),
        night=label,
        sms=int((kinds == KIND_CODES["sms"]).sum()),
        messages=int((kinds == KIND_CODES["message"]).sum()),
        visits=int((kinds == KIND_CODES["visit"]).sum()),
        letters=int(table.of_kind("letter").sum()),
        distinct_numbers=len(np.setdiff1d(numbers, [0])),
        third_party_contacts=len(third),
        contacts_reached=_reached(third),
        collectors=_most_named(table, contacts),
        quotes=_column_quotes(table),
        attachments=tuple(
            (int(table.seq[position]), str(a.name), str(a.sha256))
            for position in table.with_attachments()
            for a in table.attachments(position)
        ),
    )


def _most_named(table: Columns, contacts: np.ndarray) -> tuple[str, ...]:
    """The collectors' names, most frequent first, ties in the order first named
    (``Counter.most_common``)."""
    named = table.collector[contacts]
    named = named[named != 0]
    ids, first, counts = np.unique(named, return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))[:MAX_COLLECTORS]
    return tuple(table.collectors[i] for i in ids[order].tolist())


def _column_quotes(table: Columns) -> tuple[Quote, ...]:
    """:func:`_quotes` of the same events, from their columns and texts."""
    chosen = choose_quotes(_ranked_positions(table), table.text, lambda p: bool(table.signals(p)))
    return tuple(
        Quote(
            int(table.seq[p]),
            _stamp(table.local_at(p)),
            table.kind_name(p),
            table.platforms[int(table.platform[p])],
            _shorten(str(table.text(p))),
            tuple(sorted(table.signals(p))),
        )
        for p in sorted(chosen)
    )


def _ranked_positions(table: Columns) -> Iterator[int]:
    """The quotable events in the order ``_quotes`` weighs them."""
    quotable = table.incoming & table.said
    seqs = table.seq
    tagged, inferred = [], []
    for position in np.flatnonzero(quotable & table.signalled).tolist():
        (tagged if STATED in table.signals(position).values() else inferred).append(position)
    yield from by_weight(tagged, lambda p: tagged_weight(table.signals(p), int(seqs[p])))
    yield from by_weight(inferred, lambda p: (-len(table.signals(p)), int(seqs[p])))
    yield from np.flatnonzero(quotable & ~table.signalled).tolist()
