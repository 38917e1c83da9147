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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evidence import timeutil
from evidence.reading import collector_paused
from evidence.rules import assemble
from evidence.rules import lexicon as lexicon_module
from evidence.rules.base import (
    INFERRED,
    NO_SIGNALS,
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
from evidence.rules.columns import Columns
from evidence.rules.lexicon import Lexicon
from evidence.rules.registry import JURISDICTIONS, rules_for
from evidence.rules.summary import Quote, Summary, summarize, summarize_columns

__all__ = [
    "JURISDICTIONS",
    "TIERS",
    "Citation",
    "Finding",
    "Lexicon",
    "Quote",
    "Report",
    "Rule",
    "Summary",
    "analyze",
    "build_context",
    "load_lexicon",
    "reference_analyze",
    "reference_report",
    "report",
]

load_lexicon = lexicon_module.load


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
        table = assemble.build(entries, zone, platform, since, until, lexicon)
        return _column_findings(rules, table)


def reference_analyze(
    entries: Iterable[Any], jurisdiction: str = "cn", **options: Any
) -> list[Finding]:
    """:func:`analyze` by the reference rules (one event object per event, ``Rule.hits``),
    with the same arguments."""
    with collector_paused():
        return _findings(rules_for(jurisdiction), build_context(entries, **options))


def _findings(rules: Iterable[Any], ctx: Context) -> list[Finding]:
    return [finding for rule in rules if (finding := rule.check(ctx)) is not None]


def _column_findings(rules: Iterable[Any], table: Columns) -> list[Finding]:
    return [finding for rule in rules if (finding := rule.column_check(table)) is not None]


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
    """Findings and the summary a complaint needs, from one pass over the entries.

    The rules count over the log's columns (``rules.columns``); :func:`reference_report`
    gives the same report from one event object per event.
    """
    rules = rules_for(jurisdiction)
    with collector_paused():
        table = assemble.build(entries, zone, platform, since, until, lexicon)
        return Report(
            jurisdiction,
            platform,
            summarize_columns(table, jurisdiction),
            tuple(_column_findings(rules, table)),
        )


def reference_report(entries: Iterable[Any], jurisdiction: str = "cn", **options: Any) -> Report:
    """:func:`report` by the reference rules (one event object per event, ``Rule.hits``),
    with the same arguments."""
    with collector_paused():
        ctx = build_context(entries, **options)
        findings = tuple(_findings(rules_for(jurisdiction), ctx))
        return Report(jurisdiction, options.get("platform"), summarize(ctx, jurisdiction), findings)


def lexicon_from(path: str | Path | None) -> Lexicon:
    return lexicon_module.load(Path(path) if path else None)
