"""The chronological log, drawn line by line on the canvas.

Paragraphs and Tables cost about 1 ms per row and a big Table grows
super-linearly; here each entry is wrapped by :func:`text.wrap` and its lines are
written by :mod:`evidence.bundle.textrun`. Entries come in blocks that split at page
ends, so the story stays short and each block's lines are computed only when it is
laid out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, NamedTuple

from reportlab.lib import colors
from reportlab.platypus import Flowable

from evidence.bundle import textrun
from evidence.bundle.fonts import Font
from evidence.bundle.labels import label
from evidence.bundle.pages import PageBook
from evidence.bundle.text import visible, wrap
from evidence.model import Entry

GREY = colors.HexColor("#555555")
RED = colors.HexColor("#a00000")
MAX_CONTENT_LINES = 40
BLOCK = 150


class Line(NamedTuple):
    """One drawn line (a tuple: a chronology of 100,000 entries has half a million)."""

    text: str
    size: float
    color: Any = colors.black
    indent: float = 0


@dataclass
class Context:
    font: Font
    lang: str
    zone: tzinfo
    book: PageBook
    line_of: dict[int, int]  # seq -> line in entries.jsonl
    item_of: Callable[[str], str]  # attachment sha256 -> index number
    anchors: dict[int, list[str]] = field(default_factory=dict)  # seq -> findings naming it
    # seq -> "existed no later than …" from the earliest timestamp covering it, if any.
    existed_by: Callable[[int], str | None] = lambda _seq: None
    # The font's subset and code for each character, in this document.
    codes: textrun.Codes = field(default_factory=textrun.new_codes)


def when(instant: Any, zone: tzinfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z")


def number_text(number: dict[str, Any], lang: str) -> str:
    shown = number.get("e164") or number.get("raw") or ""
    if number.get("class") == "hidden":
        shown = ("隐藏号码 " if lang == "zh" else "withheld ") + shown
    extra = [number.get(k) for k in ("name", "region", "carrier") if number.get(k)]
    return " ".join([shown, *extra])


def _describe(entry: Entry, ctx: Context) -> str:
    f, lang = entry.fields, ctx.lang
    parts = [label(f"kind.{entry.kind}", lang)]
    if f.get("direction"):
        parts.append(label(f["direction"], lang))
    if "answered" in f:
        parts.append(label("answered" if f["answered"] else "unanswered", lang))
    if "duration" in f:
        parts.append(f"{f['duration']}s")
    if isinstance(f.get("number"), dict):
        parts.append(number_text(f["number"], lang))
    for key in ("sender", "contact_name", "relation", "channel", "location", "people"):
        if f.get(key):
            parts.append(str(f[key]))
    return "  ".join(parts)


def entry_lines(
    entry: Entry, corrections: Sequence[Entry], ctx: Context, width: float
) -> list[Line]:
    lang, font = ctx.lang, ctx.font
    name = font.name

    def add(
        text: str, size: float, color: Any = colors.black, indent: float = 0, limit: int = 0
    ) -> None:
        safe = visible(text, font)
        pieces = wrap(safe, name, size, width - indent, limit + 1 if limit else 0)
        if limit and len(pieces) > limit:
            pieces = pieces[:limit]
            pieces.append(label("truncated", lang, line=ctx.line_of.get(entry.seq, "?")))
        lines.extend(Line(p, size, color, indent) for p in pieces)

    lines: list[Line] = []
    marks = ""
    if any(c.kind == "retract" for c in corrections):
        marks += label("retracted", lang)
    if any(c.kind == "amend" for c in corrections):
        marks += label("amended", lang)
    add(
        f"#{entry.seq}  {when(entry.occurred_at, ctx.zone)}  {marks}{_describe(entry, ctx)}",
        8.5,
        RED if "retract" in {c.kind for c in corrections} else colors.black,
    )
    f = entry.fields
    who = []
    if f.get("platform"):
        who.append(f"{label('platform', lang)}: {f['platform']}")
    if f.get("collector"):
        who.append(f"{label('collector', lang)}: {f['collector']}")
    who.append(f"{label('recorded', lang)}: {when(entry.recorded_at, ctx.zone)}")
    add("   ".join(who), 7.5, GREY, 10)
    if f.get("said"):
        add(f["said"], 8, colors.black, 10, MAX_CONTENT_LINES)
    if f.get("note"):
        add(f"{label('note', lang)}: {f['note']}", 7.5, GREY, 10, 10)
    meta = []
    if f.get("tags"):
        meta.append(f"{label('tags', lang)}: {', '.join(f['tags'])}")
    meta.append(
        f"{label('source', lang)}: "
        + (
            ", ".join(f"{k}={v}" for k, v in sorted(entry.source.items()))[:300]
            if entry.source
            else label("manual", lang)
        )
    )
    for attachment in entry.attachments:
        meta.append(
            f"{label('attachments', lang)} {ctx.item_of(attachment.sha256)}: {attachment.name}"
        )
    meta.append(f"{label('commitment', lang)} {entry.commitment.hex()[:16]}…")
    existed = ctx.existed_by(entry.seq)
    if existed:
        meta.append(existed)
    add("   ".join(meta), 7, GREY, 10, 6)
    for fix in corrections:
        head = f"↳ #{fix.seq} {label(fix.kind, lang)} ({when(fix.recorded_at, ctx.zone)})"
        if fix.kind == "amend":
            changes = fix.fields.get("changes", {})
            shown = []
            for key in sorted(changes):
                value = changes[key]
                if isinstance(value, dict):
                    value = number_text(value, lang)
                elif isinstance(value, list):
                    value = ", ".join(map(str, value))
                shown.append(f"{key} → {value}")
            shown += [f"{key} → {label('cleared', lang)}" for key in fix.fields.get("cleared", ())]
            head += ": " + "; ".join(shown)
            for attachment in fix.attachments:
                head += (
                    f"; + {label('attachments', lang)} {ctx.item_of(attachment.sha256)} "
                    f"{attachment.name}"
                )
        if fix.fields.get("reason"):
            head += f"  {label('reason', lang)}: {fix.fields['reason']}"
        add(head, 7.5, RED, 10, 12)
    return lines


def _height(lines: Sequence[Line]) -> float:
    return sum(line.size * 1.3 for line in lines) + 5


class RowBlock(Flowable):
    """Up to BLOCK entries; splits between entries at the end of a page."""

    def __init__(self, rows: list[tuple[Entry, list[Entry]]], ctx: Context) -> None:
        super().__init__()
        self.rows, self.ctx = rows, ctx
        self.prepared: list[list[Line]] | None = None
        self.width = self.height = 0

    def _prepare(self, width: float) -> list[list[Line]]:
        if self.prepared is None:
            self.prepared = [entry_lines(e, c, self.ctx, width) for e, c in self.rows]
        return self.prepared

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        self.height = sum(_height(lines) for lines in self._prepare(available_width))
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        prepared = self._prepare(available_width)
        used, fits = 0.0, 0
        for lines in prepared:
            h = _height(lines)
            if used + h > available_height:
                break
            used += h
            fits += 1
        if fits == 0:
            return []
        first = RowBlock(self.rows[:fits], self.ctx)
        first.prepared = prepared[:fits]
        rest = RowBlock(self.rows[fits:], self.ctx)
        rest.prepared = prepared[fits:]
        return [first, rest]

    def draw(self) -> None:
        canv = self.canv
        page = canv.getPageNumber()
        y = self.height
        rules: list[float] = []
        text = textrun.writer(canv, self.ctx.font.name, self.ctx.codes)
        for (entry, _fixes), lines in zip(self.rows, self._prepare(self.width), strict=True):
            self.ctx.book.mark(f"kind:{entry.kind}", page)
            for anchor in self.ctx.anchors.get(entry.seq, ()):
                self.ctx.book.mark(anchor, page)
            y -= 2
            for line in lines:
                y -= line.size * 1.3
                text.line(line.indent, y + line.size * 0.3, line.text, line.size, line.color)
            y -= 3
            rules.append(y)
        canv.drawText(text)
        canv.setStrokeColor(colors.HexColor("#cccccc"))
        canv.setLineWidth(0.3)
        for y in rules:
            canv.line(0, y, self.width, y)
        canv.setFillColor(colors.black)


def blocks(rows: list[tuple[Entry, list[Entry]]], ctx: Context) -> list[RowBlock]:
    return [RowBlock(rows[i : i + BLOCK], ctx) for i in range(0, len(rows), BLOCK)]
