"""Helpers for the rule tests: logs built in memory (fast), entries exactly as the ledger
returns them, with corrections as real `amend`/`retract` entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from evidence import model, rules, timeutil
from evidence.model import Entry

LOG_ID = "00000000-0000-4000-8000-000000000000"
RECORDED = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

DEFAULTS: dict[str, dict[str, Any]] = {
    "call": {"number": "138 1234 5678", "platform": "京东金条", "answered": True},
    "sms": {"number": "1069012345", "platform": "京东金条"},
    "message": {"sender": "wx_collector01", "channel": "wechat", "platform": "京东金条"},
    "contact": {"contact_name": "妈妈", "relation": "mother", "platform": "京东金条"},
    "visit": {"location": "单位门口", "platform": "京东金条"},
    "letter": {"sender": "某律师事务所"},
    "other": {"said": "something"},
    "fact": {},
}


class Book:
    """A log in memory: ``add`` returns the new entry's number."""

    def __init__(self, zone: str = "Asia/Shanghai") -> None:
        self.zone = zone
        self.entries: list[Entry] = []

    def _at(self, at: str | datetime) -> datetime:
        if isinstance(at, datetime):
            return at
        return timeutil.parse_instant(at, timeutil.zone(self.zone))

    def _append(self, kind: str, at: datetime, fields: dict[str, Any]) -> int:
        seq = len(self.entries)
        self.entries.append(
            Entry(LOG_ID, seq, kind, at, RECORDED, self.zone, fields, (), None, b"")
        )
        return seq

    def add(self, kind: str, at: str | datetime, **fields: Any) -> int:
        values = {**DEFAULTS[kind], **fields}
        values = {k: v for k, v in values.items() if v is not None}
        draft = model.make_draft(kind, self._at(at), values)
        return self._append(kind, draft.occurred_at, draft.fields)

    def calls(self, times: list[str], **fields: Any) -> list[int]:
        return [self.add("call", t, **fields) for t in times]

    def fact(self, name: str, at: str | datetime, **fields: Any) -> int:
        return self.add("fact", at, fact=name, **fields)

    def amend(self, target: int, new_time: str | None = None, **changes: Any) -> int:
        entry = self.entries[target]
        draft = model.amendment_draft(
            entry, RECORDED, changes, "test", self._at(new_time) if new_time else None
        )
        return self._append("amend", RECORDED, draft.fields)

    def retract(self, target: int) -> int:
        draft = model.retraction_draft(self.entries[target], RECORDED, "test")
        return self._append("retract", RECORDED, draft.fields)

    def findings(self, jurisdiction: str = "cn", **options: Any) -> dict[str, rules.Finding]:
        found = rules.analyze(self.entries, jurisdiction, **options)
        return {f.rule_id: f for f in found}

    def hit(self, rule_id: str, jurisdiction: str = "cn", **options: Any) -> tuple[int, ...]:
        """The entry numbers a rule flags (empty when it does not fire)."""
        finding = self.findings(jurisdiction, **options).get(rule_id)
        return finding.entries if finding else ()


def shape(findings: list[rules.Finding]) -> list[tuple[str, int, tuple[str, ...]]]:
    """What a finding says without its entry numbers (which depend on append order)."""
    return sorted((f.rule_id, f.events, f.days) for f in findings)
