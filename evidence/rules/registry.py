"""The registry of rule sets: one module per jurisdiction registers its rules on import."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from evidence.errors import InvalidInput

JURISDICTIONS = ("cn", "us", "uk")
_RULES: dict[str, tuple[object, ...]] = {}


def register(jurisdiction: str, rules: Sequence[object]) -> None:
    _RULES[jurisdiction] = tuple(rules)


def rules_for(jurisdiction: str) -> tuple[object, ...]:
    """The rules of a jurisdiction, importing its module on first use."""
    if jurisdiction not in JURISDICTIONS:
        raise InvalidInput(f"unknown jurisdiction {jurisdiction!r}: use {', '.join(JURISDICTIONS)}")
    if jurisdiction not in _RULES:
        importlib.import_module(f"evidence.rules.{jurisdiction}")
    return _RULES[jurisdiction]
