"""United Kingdom: FCA Handbook, CONC 7.9 (regulation). CONC sets **no numeric hours**.

Built from ../shared/rules.md §3. The 08:00–21:00 figure is MCOB 13.5 guidance for
mortgage arrears, used here only as an analogy and labelled so; CONC rule numbers after
7.9.4R are partly inferred and marked UNCONFIRMED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from evidence.rules.base import (
    REGULATION,
    Citation,
    Context,
    Hit,
    Rule,
    SignalRule,
    agreed_at,
    agreed_windows,
    counted,
)
from evidence.rules.columns import Columns, Hits
from evidence.rules.registry import register

HANDBOOK = "FCA Handbook"
NO_HOURS = "CONC sets no numeric hours"
EARLIEST, LATEST = time(8, 0), time(21, 0)  # the MCOB analogy, not a CONC limit


class UnreasonableTimeByRequest(Rule):
    id = "UK-TIME-1"
    jurisdiction = "uk"
    rule_zh = "不得在不合理时间联系；应尊重客户关于联系时间的合理要求（CONC 未规定具体钟点）"
    rule_en = (
        "No contact at unreasonable times; honour the customer's reasonable requests on when "
        "to be contacted (CONC sets no numeric hours)"
    )
    citations = (Citation(HANDBOOK, "CONC 7.9.4R", REGULATION, "primary"),)

    def hits(self, ctx: Context) -> list[Hit]:
        windows = agreed_windows(ctx)
        if not windows:
            return []
        # False: windows apply to the event and it is in none of them.
        return counted([e for e in ctx.contacts() if agreed_at(e, windows, ctx.ranked) is False])

    def column_hits(self, columns: Columns) -> Hits:
        windows = columns.agreed_windows()
        if not windows:
            return columns.counted(columns.contacts[:0])
        applies, inside = columns.agreed(windows)
        return columns.counted(columns.contacts & applies & ~inside)

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.outside_asked(len(hits))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.outside_asked(len(hits))

    def outside_asked(self, count: int) -> tuple[str, str]:
        return (
            f"{count} contacts outside the times the customer asked for",
            f"{count} 次联系不在客户要求的时间内",
        )


class OutsideUsualHours(Rule):
    id = "UK-TIME-2"
    jurisdiction = "uk"
    rule_zh = (
        "参照（仅类比）：按揭欠款指引称合理时间“通常在上午8点至晚上9点之间”；CONC 本身未规定钟点"
    )
    rule_en = (
        "By analogy only: mortgage-arrears guidance calls a reasonable hour 'usually between "
        "8 am and 9 pm'; CONC itself sets no numeric hours"
    )
    citations = (
        Citation(HANDBOOK, "MCOB 13.5.3R, 13.5.4G (mortgages; analogy)", REGULATION, "primary",
                 unconfirmed=NO_HOURS + " — this is an analogy, not a CONC limit"),
        Citation(HANDBOOK, "CONC 7.9.4R", REGULATION, "primary"),
    )  # fmt: skip

    def hits(self, ctx: Context) -> list[Hit]:
        return counted([e for e in ctx.contacts() if e.clock < EARLIEST or e.clock > LATEST])

    def column_hits(self, columns: Columns) -> Hits:
        return columns.counted(columns.contacts & columns.before_or_after(EARLIEST, LATEST))


class ThirdPartyDisclosure(SignalRule):
    id = "UK-3P-1"
    jurisdiction = "uk"
    rule_zh = "不得向第三人不当披露债务，不得使客户公开难堪"
    rule_en = "No unfair disclosure of the debt to third parties; nothing publicly embarrassing"
    third_parties_only = True
    signals = ("discloses_debt", "privacy_exposure")
    citations = (
        Citation(HANDBOOK, "CONC 7.9.7R, 7.9.10R", REGULATION, unconfirmed="rule numbering"),
    )

    def hits(self, ctx: Context) -> list[Hit]:
        return ctx.with_signal(*self.signals, kinds=("contact",))


register("uk", (UnreasonableTimeByRequest(), OutsideUsualHours(), ThirdPartyDisclosure()))
