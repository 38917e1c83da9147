"""The PDF a judge reads: cover, summary and charts, evidence index, log, appendix, integrity.

Every piece of collector-supplied text goes through :func:`text.markup` (for
Paragraphs) or :func:`text.visible` (for canvas strings) first.
"""

from __future__ import annotations

import warnings
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from evidence.bundle import charts, chronology, stats
from evidence.bundle.fonts import Font
from evidence.bundle.index import Item
from evidence.bundle.labels import KIND_GROUP, label
from evidence.bundle.pages import Anchor, PageBook, PageRef, canvas_class
from evidence.bundle.selection import Options, Selection
from evidence.bundle.text import markup, visible
from evidence.hashing import Head

MARGIN = 18 * mm
MAX_IMAGE_PIXELS = 60_000_000
TABLE_CHUNK = 100


@dataclass
class Document:
    """Everything the PDF shows, prepared by the bundle builder."""

    options: Options
    selection: Selection
    stats: stats.Stats
    items: list[Item]
    zone: tzinfo
    zone_name: str
    log_id: str
    fingerprint: str
    head: Head
    public_key_pem: str
    generated_at: datetime
    files: dict[str, Path]  # attachment sha256 -> extracted file
    line_of: dict[int, int]
    stamps: list[Any] = field(default_factory=list)  # evidence.timestamps.Stamp, oldest first
    findings: list[Any] = field(default_factory=list)  # evidence.rules.Finding, in rule order


class _Styles:
    def __init__(self, font: Font) -> None:
        base = {"fontName": font.name, "wordWrap": "CJK"}
        self.title = ParagraphStyle("title", fontSize=20, leading=28, spaceAfter=12, **base)
        self.h1 = ParagraphStyle("h1", fontSize=14, leading=20, spaceAfter=8, spaceBefore=6, **base)
        self.h2 = ParagraphStyle("h2", fontSize=11, leading=16, spaceAfter=4, spaceBefore=6, **base)
        self.body = ParagraphStyle("body", fontSize=9.5, leading=14, **base)
        self.cell = ParagraphStyle("cell", fontSize=8, leading=10.5, **base)
        self.mono = ParagraphStyle("mono", fontSize=7.5, leading=10, **base)


def _table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf3")))
    table.setStyle(TableStyle(style))
    return table


class Renderer:
    def __init__(self, doc: Document, font: Font) -> None:
        self.doc, self.font = doc, font
        self.lang = doc.options.lang
        self.s = _Styles(font)
        self.book = PageBook(font.name)
        self.width = A4[0] - 2 * MARGIN
        self.title = doc.options.title or label("title", self.lang)

    def L(self, key: str, **values: object) -> str:
        return label(key, self.lang, **values)

    def p(self, text: object, style: ParagraphStyle | None = None) -> Paragraph:
        return Paragraph(markup(text, self.font), style or self.s.body)

    def local(self, instant: datetime) -> str:
        return instant.astimezone(self.doc.zone).strftime("%Y-%m-%d %H:%M")

    # --- page frame ----------------------------------------------------------------------------

    def _on_page(self, canv: Any, _doc: Any) -> None:
        page = canv.getPageNumber()
        self.book.pages = max(self.book.pages, page)
        canv.saveState()
        canv.setFont(self.font.name, 8)
        canv.setFillColor(colors.HexColor("#444444"))
        top = A4[1] - MARGIN + 8
        canv.drawString(MARGIN, top, visible(self.title, self.font, False)[:70])
        generated = self.doc.generated_at.astimezone(self.doc.zone).strftime("%Y-%m-%d %H:%M %Z")
        canv.drawRightString(A4[0] - MARGIN, top, f"{self.L('generated')}: {generated}")
        canv.setStrokeColor(colors.HexColor("#999999"))
        canv.setLineWidth(0.4)
        canv.line(MARGIN, top - 3, A4[0] - MARGIN, top - 3)
        text = self.L("page", x=page)
        x = A4[0] / 2 - 30
        canv.drawString(x, MARGIN - 18, text)
        canv.translate(x + canv.stringWidth(text, self.font.name, 8), MARGIN - 18)
        canv.doForm(self.total_form)
        canv.restoreState()

    # --- sections ------------------------------------------------------------------------------

    def cover(self) -> list[Flowable]:
        d, o, st = self.doc, self.doc.options, self.doc.stats
        period_from = (
            o.since.astimezone(d.zone).strftime("%Y-%m-%d")
            if o.since
            else (self.local(st.first) if st.first else "—")
        )
        period_to = (
            o.until.astimezone(d.zone).strftime("%Y-%m-%d") + " (excl.)"
            if o.until
            else (self.local(st.last) if st.last else "—")
        )
        counts = "; ".join(
            f"{self.L('kind.' + k)} {st.by_kind[k]}" for k in KIND_GROUP if st.by_kind[k]
        )
        if st.corrections:
            counts += f"; {self.L('kind.amend')}/{self.L('kind.retract')} {st.corrections}"
        rows = [
            [self.L("borrower"), o.borrower or "—"],
            [self.L("purpose"), self.L(f"purpose.{o.purpose}")],
            [self.L("platforms"), ", ".join(o.platforms) or self.L("all")],
            [self.L("period"), f"{period_from} — {period_to}"],
            [
                self.L("generated"),
                d.generated_at.astimezone(d.zone).strftime("%Y-%m-%d %H:%M:%S %Z (UTC%z)")
                + f" {d.zone_name}",
            ],
            [self.L("counts"), f"{len(d.selection.entries)} ({counts})"],
            [self.L("log_id"), d.log_id],
            [self.L("head"), f"size {d.head.size}, root {d.head.root.hex()}, {d.head.signed_at}"],
            [self.L("fingerprint"), d.fingerprint],
        ]
        table = _table(
            [[self.p(k, self.s.cell), self.p(v, self.s.cell)] for k, v in rows],
            [40 * mm, self.width - 40 * mm],
            header=False,
        )
        return [
            Spacer(1, 30 * mm),
            self.p(self.title, self.s.title),
            Spacer(1, 8 * mm),
            table,
            PageBreak(),
        ]

    def summary(self) -> list[Flowable]:
        st, zh = self.doc.stats, self.lang == "zh"
        out: list[Flowable] = [self.p(self.L("summary"), self.s.h1)]
        kinds = ("、" if zh else ", ").join(
            f"{self.L('kind.' + k)} {st.by_kind[k]}" for k in KIND_GROUP if st.by_kind[k]
        )
        platforms = ("、" if zh else ", ").join(
            f"{name} ({n})" for name, n in st.by_platform.most_common(5)
        )
        busiest = st.busiest_day()
        first = self.local(st.first) if st.first else "—"
        last = self.local(st.last) if st.last else "—"
        if zh:
            text = (
                f"在 {first} 至 {last} 期间（有记录的共 {st.distinct_days()} 天），"
                f"共记录催收相关事件 "
                f"{st.events} 次：{kinds}。其中 {st.night} 次发生在晚 22:00 至次日 08:00 之间。"
                f"来电、短信和消息来自 {len(st.callers)} 个不同号码。"
                f"涉及平台：{platforms or '无'}。"
                f"催收方联系了 {len(st.third_parties)} 位第三人（亲友、同事等）。"
            )
            if busiest:
                text += f"单日最多 {busiest[1]} 次（{busiest[0]}）。"
            if st.retracted or st.corrections:
                text += (
                    f"另有 {st.corrections} 条更正或撤回记录，已撤回的 {st.retracted} "
                    "条不计入上述统计，但仍列于日志中。"
                )
        else:
            text = (
                f"Between {first} and {last} ({st.distinct_days()} days with entries), "
                f"{st.events} collection events were recorded: {kinds}. {st.night} of "
                f"them happened between 22:00 and 08:00. Calls, SMS and messages came from "
                f"{len(st.callers)} different numbers. Platforms: {platforms or 'none'}. "
                f"The collectors contacted {len(st.third_parties)} third parties "
                "(family, friends, colleagues)."
            )
            if busiest:
                text += f" The busiest day had {busiest[1]} events ({busiest[0]})."
            if st.retracted or st.corrections:
                text += (
                    f" {st.corrections} corrections were recorded; the {st.retracted} "
                    "retracted entries are not counted above but stay in the log."
                )
        out.append(self.p(text))
        out.append(Spacer(1, 4 * mm))
        days = sorted(st.by_day)
        if days:
            from datetime import timedelta

            span = (days[-1] - days[0]).days + 1
            all_days = [days[0] + timedelta(n) for n in range(min(span, 3660))]
            out.append(
                charts.bar_chart(
                    [charts.Bar(d.strftime("%m-%d"), st.by_day.get(d, 0)) for d in all_days],
                    self.font,
                    self.L("per_day"),
                    self.width,
                    max_labels=16,
                )
            )
        out.append(
            charts.bar_chart(
                [
                    charts.Bar(f"{h:02d}", st.by_hour.get(h, 0), stats.is_night(h))
                    for h in range(24)
                ],
                self.font,
                self.L("by_hour"),
                self.width,
            )
        )
        half = self.width / 2 - 4
        platform_chart = charts.bar_chart(
            [charts.Bar(name, n) for name, n in st.by_platform.most_common(10)],
            self.font,
            self.L("by_platform"),
            half,
        )
        kind_chart = charts.bar_chart(
            [charts.Bar(self.L("kind." + k), st.by_kind[k]) for k in KIND_GROUP if st.by_kind[k]],
            self.font,
            self.L("by_kind"),
            half,
        )
        side = Table([[platform_chart, kind_chart]], colWidths=[half + 4, half + 4])
        side.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        out.append(side)
        out.append(self.p(self.L("top_numbers"), self.s.h2))
        callers = st.top_callers()
        if callers:
            rows = [
                [
                    self.p(self.L(k), self.s.cell)
                    for k in ("number", "region", "carrier", "times", "platforms")
                ]
            ]
            rows += [
                [
                    self.p(c.shown, self.s.cell),
                    self.p(c.region, self.s.cell),
                    self.p(c.carrier, self.s.cell),
                    self.p(c.count, self.s.cell),
                    self.p(", ".join(sorted(c.platforms)), self.s.cell),
                ]
                for c in callers
            ]
            w = self.width
            out.append(_table(rows, [0.26 * w, 0.24 * w, 0.14 * w, 0.1 * w, 0.26 * w]))
        else:
            out.append(self.p(self.L("none")))
        out.append(self.p(self.L("third_parties"), self.s.h2))
        parties = sorted(st.third_parties.values(), key=lambda t: (t.first or st.first, t.name))
        if parties:
            rows = [[self.p(self.L(k), self.s.cell) for k in ("who", "relation", "when", "times")]]
            rows += [
                [
                    self.p(t.name, self.s.cell),
                    self.p(t.relation, self.s.cell),
                    self.p(
                        f"{self.local(t.first)} — {self.local(t.last)}"
                        if t.first and t.last
                        else "",
                        self.s.cell,
                    ),
                    self.p(t.count, self.s.cell),
                ]
                for t in parties[:200]
            ]
            w = self.width
            out.append(_table(rows, [0.3 * w, 0.2 * w, 0.38 * w, 0.12 * w]))
        else:
            out.append(self.p(self.L("none")))
        out.append(PageBreak())
        return out

    def findings(self) -> list[Flowable]:
        """Each finding: rule, tier, citation, counts, days and the entries it rests on."""
        d, zh = self.doc, self.lang == "zh"
        out: list[Flowable] = [self.p(self.L("findings"), self.s.h1)]
        out.append(
            self.p(
                self.L("findings.intro", jurisdiction=d.options.jurisdiction.upper()), self.s.cell
            )
        )
        out.append(Spacer(1, 2 * mm))
        if not d.findings:
            out.append(self.p(self.L("findings.none")))
            out.append(PageBreak())
            return out
        prefix = "证据" if zh else "E"
        items_of: dict[int, list[str]] = {}
        for item in d.items:
            for seq in item.entries:
                items_of.setdefault(seq, []).append(prefix + item.number)
        sep = "、" if zh else ", "
        w = self.width
        for number, f in enumerate(d.findings, start=1):
            anchor = f"finding:{number}"
            stated, inferred = set(f.stated), set(f.inferred)

            def entry_text(
                seq: int, stated: set[int] = stated, inferred: set[int] = inferred
            ) -> str:
                mark = ""
                if seq in stated:
                    mark = self.L("findings.stated_mark")
                elif seq in inferred:
                    mark = self.L("findings.inferred_mark")
                where = items_of.get(seq)
                refs = f" ({sep.join(where)})" if where else ""
                return f"#{seq}{mark}{refs}"

            shown = f.entries[:200]
            entries = " ".join(entry_text(s) for s in shown)
            if len(f.entries) > len(shown):
                entries += " " + self.L("findings.more", n=len(f.entries) - len(shown))
            days = sep.join(f.days[:60]) + (" …" if len(f.days) > 60 else "")
            rows = [
                [self.L("findings.rule"), f.rule(self.lang)],
                [self.L("findings.tier"), f.tier_text(self.lang)],
                [self.L("findings.citation"), f.citation()],
                [self.L("findings.count"), f"{f.events}; {f.detail(self.lang)}"],
                [self.L("findings.days"), f"{len(f.days)}: {days}" if f.days else "—"],
                [self.L("findings.basis"), self.L(f"findings.basis.{f.basis}")],
                [self.L("findings.entries"), entries],
            ]
            table = _table(
                [[self.p(k, self.s.cell), self.p(v, self.s.cell)] for k, v in rows]
                + [[self.p(self.L("findings.pages"), self.s.cell), PageRef(self.book, anchor)]],
                [32 * mm, w - 32 * mm],
                header=False,
            )
            out.append(self.p(f"{number}. {f.rule_id}", self.s.h2))
            out.append(table)
            out.append(Spacer(1, 3 * mm))
        out.append(self.p(self.L("findings.note"), self.s.cell))
        out.append(PageBreak())
        return out

    def index(self) -> list[Flowable]:
        d, o = self.doc, self.doc.options
        out: list[Flowable] = [self.p(self.L("index"), self.s.h1)]
        out.append(
            self.p(
                self.L(
                    "index.header",
                    title=self.title,
                    borrower=o.borrower or "—",
                    date=d.generated_at.astimezone(d.zone).strftime("%Y-%m-%d"),
                ),
                self.s.cell,
            )
        )
        out.append(Spacer(1, 3 * mm))
        header = [
            self.p(self.L(k), self.s.cell)
            for k in ("index.no", "index.name", "index.source", "index.purpose", "index.page")
        ]
        w = self.width
        widths = [0.1 * w, 0.27 * w, 0.27 * w, 0.26 * w, 0.1 * w]
        prefix = "证据" if self.lang == "zh" else "E"
        rows = [
            [
                self.p(prefix + item.number, self.s.cell),
                self.p(item.name, self.s.cell),
                self.p(item.source, self.s.cell),
                self.p(item.purpose, self.s.cell),
                PageRef(self.book, item.anchor),
            ]
            for item in d.items
        ]
        for start in range(0, len(rows), TABLE_CHUNK):
            out.append(_table([header, *rows[start : start + TABLE_CHUNK]], widths))
        out.append(PageBreak())
        return out

    def log(self) -> list[Flowable]:
        d = self.doc
        items = {i.attachment.sha256: i.number for i in d.items if i.attachment}
        prefix = "证据" if self.lang == "zh" else "E"
        ctx = chronology.Context(
            self.font,
            self.lang,
            d.zone,
            self.book,
            d.line_of,
            lambda sha: prefix + items.get(sha, "?"),
            self._finding_anchors(),
            self._existed_by(),
        )
        rows = [(e, d.selection.corrections.get(e.seq, [])) for e in d.selection.events]
        note = (
            "时间为 {zone} 当地时间；每条记录后附其承诺值前缀，完整数据及证明见 ZIP。"
            if self.lang == "zh"
            else "Times are local to {zone}; each entry ends with its commitment prefix; "
            "full data and proofs are in the ZIP."
        )
        return [
            self.p(self.L("chronology"), self.s.h1),
            self.p(note.format(zone=d.zone_name), self.s.cell),
            Spacer(1, 2 * mm),
            *chronology.blocks(rows, ctx),
            PageBreak(),
        ]

    def _finding_anchors(self) -> dict[int, list[str]]:
        anchors: dict[int, list[str]] = {}
        for number, f in enumerate(self.doc.findings, start=1):
            for seq in f.entries:
                anchors.setdefault(seq, []).append(f"finding:{number}")
        return anchors

    def appendix(self) -> list[Flowable]:
        d = self.doc
        attached = [i for i in d.items if i.attachment]
        if not attached:
            return []
        out: list[Flowable] = [self.p(self.L("appendix"), self.s.h1)]
        prefix = "证据" if self.lang == "zh" else "E"
        events = {e.seq: e for e in d.selection.entries}
        for item in attached:
            a = item.attachment
            assert a is not None
            lines = [
                f"{prefix}{item.number}  {a.name}",
                f"{self.L('file')}: {item.path}    {a.media_type}    {a.size} bytes",
                f"SHA-256: {a.sha256}",
                f"{self.L('entry')}: " + ", ".join(f"#{s}" for s in item.entries),
            ]
            block: list[Flowable] = [
                Anchor(self.book, item.anchor),
                self.p("\n".join(lines), self.s.mono),
            ]
            path = d.files.get(a.sha256)
            if a.media_type.startswith("image/") and path is not None:
                block.append(self._image(path))
            elif a.media_type.startswith("audio/"):
                block.append(
                    self.p(
                        f"{self.L('duration')}: {self._duration(path, item, events)}", self.s.mono
                    )
                )
            block.append(Spacer(1, 5 * mm))
            out.append(KeepTogether(block))
        out.append(PageBreak())
        return out

    def _image(self, path: Path) -> Flowable:
        from PIL import Image as PILImage

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                with PILImage.open(path) as picture:
                    w, h = picture.size
                    if w * h > MAX_IMAGE_PIXELS or w <= 0 or h <= 0:
                        raise ValueError("too large")
                    picture.verify()
        except Exception:
            return self.p(self.L("not_shown"), self.s.mono)
        scale = min(self.width / w, 120 * mm / h, 1.0 if w > 200 else 2.0)
        return Image(str(path), width=w * scale, height=h * scale)

    def _duration(self, path: Path | None, item: Item, events: dict[int, Any]) -> str:
        from evidence.importers.audio import duration_seconds  # WAV, AMR, MP4/M4A, MP3

        seconds = duration_seconds(path) if path is not None else None
        if seconds is not None:
            return f"{seconds:.1f} s"
        for seq in item.entries:
            entry = events.get(seq)
            if entry is not None and "duration" in entry.fields:
                return (
                    f"{entry.fields['duration']} s（通话记录所述）"
                    if self.lang == "zh"
                    else f"{entry.fields['duration']} s (as stated for the call)"
                )
        return "—"

    def integrity(self) -> list[Flowable]:
        d, zh = self.doc, self.lang == "zh"
        head_text = d.head.message().decode("ascii")
        sig = d.head.signature.hex()
        out: list[Flowable] = [
            Anchor(self.book, "integrity"),
            self.p(self.L("integrity"), self.s.h1),
        ]
        if zh:
            intro = (
                "本证据包中的每条记录在记录时即被计算承诺值（SHA-256，加入 32 字节随机盐），"
                "所有承诺值组成 Merkle 树（RFC 9162），其根哈希连同日志编号、条目数和时间"
                "构成“树头”，由日志的 Ed25519 私钥签名。ZIP 中附有每条披露记录的原始字节、"
                "盐、包含证明，全部承诺值（未披露记录只以承诺值出现，不泄露任何内容），"
                "以及每个文件的 SHA-256。任何人无需本软件和口令即可核对：见 ZIP 中的 "
                "VERIFY.txt（sha256sum、openssl 及 `evidence verify` 的用法）。"
            )
        else:
            intro = (
                "Each entry was committed when it was recorded (SHA-256 over a 32-byte random "
                "salt and its canonical bytes); the commitments form a Merkle tree (RFC "
                "9162) whose root, with the log id, size and time, is the head signed with "
                "the log's Ed25519 key. The ZIP holds each disclosed entry's exact bytes, "
                "salt and inclusion proof, every commitment of the log (entries not "
                "disclosed appear only as salted commitments, which reveal nothing), and "
                "the SHA-256 of every file. Anyone can check it without this software or a "
                "passphrase: see VERIFY.txt in the ZIP (sha256sum, openssl, "
                "`evidence verify`)."
            )
        out.append(self.p(intro))
        out.append(self.p("head.txt", self.s.h2))
        out.append(self.p(head_text, self.s.mono))
        out.append(self.p("head.sig (Ed25519)", self.s.h2))
        out.append(self.p(" ".join(sig[i : i + 32] for i in range(0, 128, 32)), self.s.mono))
        out.append(self.p("pub.pem", self.s.h2))
        out.append(self.p(d.public_key_pem, self.s.mono))
        out.append(self.p(f"{self.L('fingerprint')}: {d.fingerprint}", self.s.mono))
        out.extend(self._stamps())
        if not self.font.embedded:
            out.append(
                self.p(
                    "注意：本机未找到可嵌入的中文字体，本 PDF 使用未嵌入的 STSong-Light 字体。"
                    if zh
                    else "Note: no embeddable CJK font was found; this PDF uses the non-embedded "
                    "STSong-Light font.",
                    self.s.mono,
                )
            )
        return out

    def _existed_by(self) -> Callable[[int], str | None]:
        """seq -> the chronology's line for the earliest timestamp that covers the entry."""
        stamps = self.doc.stamps  # oldest first, so their head sizes never decrease
        sizes = [stamp.head_size for stamp in stamps]
        texts: dict[int, str] = {}

        def existed_by(seq: int) -> str | None:
            at = bisect_right(sizes, seq)  # the first stamp whose head covers seq
            if at == len(stamps):
                return None
            if at not in texts:
                stamp = stamps[at]
                texts[at] = label(
                    "existed_by", self.lang, when=self.local(stamp.gen_time), tsa=stamp.tsa
                )
            return texts[at]

        return existed_by

    def _stamps(self) -> list[Flowable]:
        """RFC 3161 timestamps: which entries existed no later than when (BUNDLE-FORMAT §7)."""
        zh = self.lang == "zh"
        if not self.doc.stamps:
            return []
        out: list[Flowable] = [
            self.p("可信时间戳（RFC 3161）" if zh else "Trusted timestamps (RFC 3161)", self.s.h2)
        ]
        done = 0
        for stamp in self.doc.stamps:
            if stamp.head_size <= done:
                continue  # an earlier token already covers these entries
            when = self.local(stamp.gen_time)
            span = f"#{done}–#{stamp.head_size - 1}"
            token = f"timestamps/{stamp.seq}.tsr"
            out.append(
                self.p(
                    f"记录 {span} 不晚于 {when} 已存在（时间戳机构 {stamp.tsa}；令牌 {token}）"
                    if zh
                    else f"Entries {span} existed no later than {when} "
                    f"(TSA {stamp.tsa}; token {token})"
                )
            )
            done = stamp.head_size
        return out

    def render(self, path: Path) -> int:
        self.book.forms.clear()
        suffix = self.L("page_end")
        self.total_form = self.book.form_for("#total")
        story = (
            self.cover()
            + self.summary()
            + self.findings()
            + self.index()
            + self.log()
            + self.appendix()
            + self.integrity()
        )
        template = BaseDocTemplate(
            str(path),
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN,
            title=visible(self.title, self.font, False),
            author="evidence",
            creator="evidence bundle",
            invariant=1,
        )
        frame = Frame(MARGIN, MARGIN, self.width, A4[1] - 2 * MARGIN, id="body")
        template.addPageTemplates([PageTemplate("page", [frame], onPage=self._on_page)])
        original = self.book.text

        def text(anchor: str) -> str:
            return original(anchor) + (suffix if anchor == "#total" else "")

        self.book.text = text  # type: ignore[method-assign]
        # Binary page streams: ASCII85 only serves 7-bit channels (the PDF travels in a ZIP),
        # adds a quarter to every stream and, without reportlab's C extension, is a slow
        # pure-Python pass over each of them.
        rl_config.useA85 = 0
        template.build(story, canvasmaker=canvas_class(self.book))
        return self.book.pages


def render(path: Path, document: Document, font: Font) -> int:
    """Write the PDF; return its page count."""
    return Renderer(document, font).render(path)
