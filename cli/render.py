"""Rendering for the terminal. Every collector-supplied string passes through `clean`.

SMS bodies and names come from collectors and may carry terminal escape
sequences or bidirectional overrides meant to hide text; they are shown as
visible escapes instead.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


def clean(text: Any, one_line: bool = False) -> str:
    """Make untrusted text safe to print: control and bidi characters become \\uXXXX."""
    out = []
    for char in str(text):
        if char == "\n":
            out.append(" ⏎ " if one_line else "\n")
        elif char == "\t":
            out.append(" " if one_line else "\t")
        elif char in _BIDI or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"}:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def truncate(text: str, columns: int) -> str:
    if width(text) <= columns:
        return text
    out, used = [], 0
    for char in text:
        w = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + w > columns - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(headers: list[str], rows: list[list[str]], limits: dict[int, int] | None = None) -> str:
    limits = limits or {}
    cells = [[truncate(c, limits[i]) if i in limits else c for i, c in enumerate(r)] for r in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(pad(h, widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(c, widths[i]) for i, c in enumerate(r)).rstrip() for r in cells]
    return "\n".join(lines)


def to_json(value: Any) -> str:
    """JSON for machines: escapes are JSON's own, so control characters are safe."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
