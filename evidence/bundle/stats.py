"""The counts behind the summary and the charts, from the selected entries only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from evidence.model import Entry, amended

NIGHT_START, NIGHT_END = 22, 8  # 22:00–08:00, the hours collection rules forbid


def is_night(hour: int) -> bool:
    return hour >= NIGHT_START or hour < NIGHT_END


def effective(entry: Entry, corrections: list[Entry]) -> dict[str, Any]:
    """The event's fields with its amendments applied, in log order (for display only)."""
    return _as_amended(entry, corrections)[1]


def effective_time(entry: Entry, corrections: list[Entry]) -> datetime:
    return _as_amended(entry, corrections)[0]


def _as_amended(entry: Entry, corrections: list[Entry]) -> tuple[datetime, dict[str, Any]]:
    instant, fields = entry.occurred_at, entry.fields
    for correction in corrections:
        if correction.kind == "amend":
            instant, fields = amended(instant, fields, correction.fields)
    return instant, dict(fields)


@dataclass
class Caller:
    key: str
    shown: str
    region: str
    carrier: str
    count: int = 0
    platforms: set[str] = field(default_factory=set)


@dataclass
class ThirdParty:
    name: str
    relation: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    channels: set[str] = field(default_factory=set)


@dataclass
class Stats:
    events: int = 0
    corrections: int = 0
    retracted: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_day: Counter[date] = field(default_factory=Counter)
    by_hour: Counter[int] = field(default_factory=Counter)
    by_platform: Counter[str] = field(default_factory=Counter)
    night: int = 0
    first: datetime | None = None
    last: datetime | None = None
    callers: dict[str, Caller] = field(default_factory=dict)
    third_parties: dict[tuple[str, str], ThirdParty] = field(default_factory=dict)
    attachments: int = 0

    def top_callers(self, n: int = 15) -> list[Caller]:
        return sorted(self.callers.values(), key=lambda c: (-c.count, c.key))[:n]

    def distinct_days(self) -> int:
        return len(self.by_day)

    def busiest_day(self) -> tuple[date, int] | None:
        if not self.by_day:
            return None
        return max(self.by_day.items(), key=lambda item: (item[1], item[0]))


def compute(entries: list[Entry], corrections: dict[int, list[Entry]], zone: tzinfo) -> Stats:
    from evidence import phone

    stats = Stats()
    for entry in entries:
        stats.attachments += len(entry.attachments)
        if entry.kind in ("amend", "retract"):
            stats.corrections += 1
            continue
        fixes = corrections.get(entry.seq, [])
        if any(c.kind == "retract" for c in fixes):
            stats.retracted += 1
            continue  # shown in the log, not counted as harassment
        fields = effective(entry, fixes)
        local = effective_time(entry, fixes).astimezone(zone)
        stats.events += 1
        stats.by_kind[entry.kind] += 1
        stats.by_day[local.date()] += 1
        stats.by_hour[local.hour] += 1
        stats.night += is_night(local.hour)
        stats.by_platform[fields.get("platform") or "—"] += 1
        stats.first = local if stats.first is None or local < stats.first else stats.first
        stats.last = local if stats.last is None or local > stats.last else stats.last
        number = fields.get("number")
        if isinstance(number, dict) and entry.kind in ("call", "sms", "message"):
            key = phone.key(number)
            caller = stats.callers.get(key)
            if caller is None:
                caller = stats.callers[key] = Caller(
                    key,
                    number.get("e164") or number.get("raw") or "",
                    number.get("region") or number.get("name") or "",
                    number.get("carrier") or "",
                )
            caller.count += 1
            if fields.get("platform"):
                caller.platforms.add(fields["platform"])
        if entry.kind == "contact":
            who = (fields.get("contact_name", ""), fields.get("relation", ""))
            party = stats.third_parties.get(who)
            if party is None:
                party = stats.third_parties[who] = ThirdParty(*who)
            party.count += 1
            party.first = local if party.first is None or local < party.first else party.first
            party.last = local if party.last is None or local > party.last else party.last
            if fields.get("channel"):
                party.channels.add(fields["channel"])
    return stats
