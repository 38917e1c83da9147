"""United States: FDCPA (15 USC 1692 et seq., law) and Regulation F (12 CFR 1006, regulation).

Built from ../shared/rules.md §2. Times are the consumer's local times (DST-aware, from
the zone database). Reg F's call-frequency presumption counts per debt: a debt is the
platform (creditor) recorded on the call; calls without a platform are counted per
calling number. US-ID-1 (1006.18(e) wording UNCONFIRMED) and the 1006.14(b)(3)
exclusions (list UNCONFIRMED) are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta

import numpy as np

from evidence.rules.base import (
    CREDITOR,
    LAW,
    REGULATION,
    Citation,
    Context,
    Event,
    Hit,
    Rule,
    SignalRule,
    counted,
    group_by,
    rolling_excess,
)
from evidence.rules.columns import Columns, Hits, micros, rolling_excess_days
from evidence.rules.registry import register

FDCPA = "Fair Debt Collection Practices Act, 15 U.S.C."
REG_F = "Regulation F, 12 C.F.R."
EARLIEST, LATEST = time(8, 0), time(21, 0)


class InconvenientTime(Rule):
    id = "US-TIME-1"
    jurisdiction = "us"
    rule_zh = "推定不便时间：消费者所在地当地时间上午8:00之前或晚上9:00之后"
    rule_en = (
        "Presumed inconvenient: before 8:00 a.m. or after 9:00 p.m. local time at the "
        "consumer's location"
    )
    citations = (
        Citation(FDCPA, "§ 1692c(a)(1)", LAW, "primary"),
        Citation(REG_F, "§ 1006.6(b)(1)(i)", REGULATION, "primary"),
    )

    def hits(self, ctx: Context) -> list[Hit]:
        # "after 9:00 p.m.": 21:00:00 itself is the borderline and is not flagged.
        return counted([e for e in ctx.contacts() if e.clock < EARLIEST or e.clock > LATEST])

    def column_hits(self, columns: Columns) -> Hits:
        return columns.counted(columns.contacts & columns.before_or_after(EARLIEST, LATEST))

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.inconvenient(len(hits), len({h.event.day for h in hits}), ctx.zone_name)

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.inconvenient(len(hits), columns.days(hits), columns.zone_name)

    def inconvenient(self, count: int, days: int, zone: str) -> tuple[str, str]:
        return (
            f"{count} communications before 8:00 a.m. or after 9:00 p.m. ({zone}) on {days} days",
            f"{days} 天内共 {count} 次在上午8点前或晚上9点后联系（{zone}）",
        )


class SevenInSeven(Rule):
    id = "US-FREQ-1"
    jurisdiction = "us"
    rule_zh = "7天内就同一笔债务致电超过7次，推定构成骚扰（可反驳）"
    rule_en = (
        "Presumed harassment: more than 7 calls about a particular debt within 7 consecutive "
        "days (rebuttable)"
    )
    citations = (
        Citation(REG_F, "§ 1006.14(b)(2)(i)(A)", REGULATION, unconfirmed="subparagraph lettering"),
        Citation(FDCPA, "§ 1692d(5)", LAW, "primary"),
    )

    def hits(self, ctx: Context) -> list[Hit]:
        found: list[Hit] = []
        for group in group_by(ctx.calls(), CREDITOR).values():
            found += counted(rolling_excess(group, limit=7, days=7))
        return found

    def column_hits(self, columns: Columns) -> Hits:
        calls = np.flatnonzero(columns.calls)
        found = []
        creditors = columns.creditor[calls]
        for creditor in np.unique(creditors).tolist():
            group = calls[creditors == creditor]
            found.append(group[rolling_excess_days(columns.day[group], limit=7, window=7)])
        return columns.counted(np.sort(np.concatenate(found)) if found else calls[:0])

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.eighth(len(hits))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.eighth(len(hits))

    def eighth(self, count: int) -> tuple[str, str]:
        return (
            f"{count} calls that were the 8th or later within 7 consecutive days for one debt",
            f"{count} 次电话是同一笔债务连续7天内的第8次或以后",
        )


class AfterConversation(Rule):
    id = "US-FREQ-2"
    jurisdiction = "us"
    rule_zh = "就同一笔债务通话后7天内（通话当日为第1天）再次致电，推定构成骚扰（可反驳）"
    rule_en = (
        "Presumed harassment: a call about a debt within 7 days after a telephone "
        "conversation about it (the conversation's day is day 1; rebuttable)"
    )
    citations = (
        Citation(REG_F, "§ 1006.14(b)(2)(i)(B)", REGULATION, unconfirmed="subparagraph lettering"),
        Citation(FDCPA, "§ 1692d(5)", LAW, "primary"),
    )

    def hits(self, ctx: Context) -> list[Hit]:
        conversations = [f for f in ctx.facts if f.fields.get("fact") == "conversation"]
        found = []
        for event in ctx.calls():
            for talk in conversations:
                if talk.platform and talk.platform != event.creditor:
                    continue
                if talk.at < event.at and event.day <= talk.day + timedelta(days=6):
                    found.append(Hit(event))
                    break
        return found

    def column_hits(self, columns: Columns) -> Hits:
        found = np.zeros(len(columns), bool)
        for talk in columns.facts:
            if talk.fields.get("fact") != "conversation":
                continue
            after = (columns.instant > micros(talk.at)) & (columns.day <= talk.day.toordinal() + 6)
            if talk.platform:
                after &= columns.creditor == columns.creditor_id(talk.platform)
            found |= after
        return columns.counted(columns.calls & found)

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.after_talk(len(hits))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.after_talk(len(hits))

    def after_talk(self, count: int) -> tuple[str, str]:
        return (
            f"{count} calls within 7 days after a recorded conversation",
            f"{count} 次电话发生在记录的通话之后7天内",
        )


class AfterCease(Rule):
    id = "US-CEASE-1"
    jurisdiction = "us"
    rule_zh = "消费者书面要求停止联系后，债务催收人应停止联系（有限例外）"
    rule_en = "After the consumer's written refusal or cease request, communication must stop"
    citations = (Citation(FDCPA, "§ 1692c(c)", LAW, "primary"),)

    def hits(self, ctx: Context) -> list[Hit]:
        if not ctx.facts_of("cease_request"):
            return []  # none recorded: no need to look at every contact
        found = []
        for event in ctx.contacts():
            if event.kind == "contact":
                continue
            if any(f.at < event.at for f in ctx.facts_of("cease_request", event)):
                found.append(Hit(event))
        return found

    def column_hits(self, columns: Columns) -> Hits:
        found = np.zeros(len(columns), bool)
        for fact in columns.facts_named("cease_request"):
            after = columns.instant > micros(fact.at)
            if fact.platform:
                after &= columns.platform == columns.platform_id(fact.platform)
            found |= after
        return columns.counted(columns.contacts & ~columns.of_kind("contact") & found)

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.after_cease(len(hits), ctx.facts_of("cease_request"))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.after_cease(len(hits), columns.facts_named("cease_request"))

    def after_cease(self, count: int, requests: Sequence[Event]) -> tuple[str, str]:
        written = any(f.fields.get("written") for f in requests)
        note = "" if written else " (the request is not recorded as written: 1692c(c) needs it)"
        return (
            f"{count} communications after a cease request{note}",
            f"停止联系要求后仍联系 {count} 次",
        )


class ThirdPartyRepeat(Rule):
    id = "US-3P-2"
    jurisdiction = "us"
    rule_zh = "为查找位置联系第三人时，每个第三人只能联系一次，且不得说明消费者欠债"
    rule_en = (
        "Location calls: each third party may be contacted once, and must not be told that "
        "the consumer owes a debt"
    )
    third_parties_only = True
    citations = (Citation(FDCPA, "§ 1692b(2), (3)", LAW, "primary"),)

    def hits(self, ctx: Context) -> list[Hit]:
        third = [e for e in ctx.events if e.kind == "contact"]
        found = [h for h in ctx.with_signal("discloses_debt", kinds=("contact",))]
        for group in group_by(third, lambda e: str(e.fields.get("contact_name", ""))).values():
            found.extend(Hit(e) for e in group[1:])
        return found


class ThirdPartyCommunication(Rule):
    id = "US-3P-1"
    jurisdiction = "us"
    rule_zh = "未经同意，不得与消费者以外的人（律师、征信机构、债权人等除外）沟通债务"
    rule_en = (
        "No communication about the debt with anyone but the consumer (and their attorney, "
        "a credit bureau, the creditor) without consent"
    )
    third_parties_only = True
    citations = (Citation(FDCPA, "§ 1692c(b)", LAW, "primary"),)

    def hits(self, ctx: Context) -> list[Hit]:
        return ctx.with_signal("discloses_debt", kinds=("contact",))


class Harassment(SignalRule):
    id = "US-HAR-1"
    jurisdiction = "us"
    rule_zh = "不得以骚扰、压迫、辱骂为自然后果的行为催收：暴力威胁、淫秽或辱骂性语言"
    rule_en = "No harassment or abuse: threats of violence, obscene, profane or abusive language"
    signals = ("threat", "insult")
    citations = (Citation(FDCPA, "§ 1692d(1), (2)", LAW, "primary"),)


class FalseRepresentation(SignalRule):
    id = "US-DEC-1"
    jurisdiction = "us"
    rule_zh = "不得虚假陈述：冒充政府、以逮捕或监禁相威胁、伪造法律文书"
    rule_en = (
        "No false representation: implied government affiliation, threats of arrest or "
        "imprisonment, simulated legal process"
    )
    signals = ("impersonates_authority", "threat_arrest", "fake_legal_doc")
    citations = (
        Citation(FDCPA, "§ 1692e(1), (4), (5), (9)", LAW, "primary"),
        Citation(REG_F, "§ 1006.18", REGULATION, unconfirmed="mapping of its subsections"),
    )


register(
    "us",
    (
        InconvenientTime(),
        SevenInSeven(),
        AfterConversation(),
        AfterCease(),
        ThirdPartyCommunication(),
        ThirdPartyRepeat(),
        Harassment(),
        FalseRepresentation(),
    ),
)
