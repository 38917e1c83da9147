"""Mainland China: industry and recommended standards (which set the numbers) and law hooks.

Built from ../shared/rules.md §1. Every number comes from a standard (GB/T 45251—2025,
NIFA 2024, CBA 2026), never from a statute; clause numbers of those standards are not
confirmed and are not given. CN-FREQ-3 ("催收间隔周期", meaning unconfirmed) is left out.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import time, timedelta

import numpy as np

from evidence.rules.base import (
    CREDITOR,
    CREDITOR_DAY,
    INDUSTRY,
    LAW,
    NUMBER_KEY,
    PATTERN,
    PLATFORM,
    RECOMMENDED,
    REGULATION,
    Citation,
    Context,
    Hit,
    Rule,
    SignalRule,
    agreed_at,
    agreed_windows,
    counted,
    group_by,
)
from evidence.rules.columns import DAY_US, Columns, Hits
from evidence.rules.registry import register

GB45251 = "GB/T 45251—2025《互联网金融 个人网络消费信贷 贷后催收风控指引》"
NIFA2024 = "中国互联网金融协会《互联网金融贷后催收业务指引》(2024)"
NIFA2018 = "中国互联网金融协会《互联网金融逾期债务催收自律公约（试行）》(2018)"
CBA2026 = "中国银行业协会《金融机构个人消费类贷款催收工作指引（试行）》(2026)"
CC2011 = "《商业银行信用卡业务监督管理办法》(2011)"
NO_CLAUSE = "clause number not confirmed"

NIGHT_START, NIGHT_END = time(22, 0), time(8, 0)
# 爆通讯录: no instrument sets a number; this is the pattern threshold, stated as such.
MASS_CONTACTS, MASS_WINDOW = 3, timedelta(hours=24)
# Third parties contacted although the borrower answered a call from the platform within:
REACHABLE_DAYS = 7
ROTATION_NUMBERS = 5

CIVIL_CODE = "《中华人民共和国民法典》"
PIPL = "《中华人民共和国个人信息保护法》"
CIV_1033 = Citation(CIVIL_CODE, "第1032条、第1033条第(一)项 (私人生活安宁)", LAW, "primary")


class NightContact(Rule):
    id = "CN-TIME-1"
    jurisdiction = "cn"
    rule_zh = "未约定催收时间的，不应在每日22:00至次日8:00催收"
    rule_en = "No collection between 22:00 and 08:00 unless the borrower agreed a time"
    citations = (
        Citation(GB45251, "(双方未约定催收时间的，催收作业不应在每日22:00至次日8:00)", RECOMMENDED,
                 unconfirmed=NO_CLAUSE),
        Citation(NIFA2024, "(same wording)", INDUSTRY, unconfirmed=NO_CLAUSE),
        Citation(CBA2026, "(未经债务人同意，严禁在每日晚22:00至次日早8:00…催收)", INDUSTRY,
                 unconfirmed=NO_CLAUSE),
        CIV_1033,
    )  # fmt: skip

    def hits(self, ctx: Context) -> list[Hit]:
        night = [e for e in ctx.contacts() if not NIGHT_END <= e.clock < NIGHT_START]
        windows = agreed_windows(ctx)
        if windows:
            night = [e for e in night if not agreed_at(e, windows, ctx.ranked)]
        return counted(night)

    def column_hits(self, columns: Columns) -> Hits:
        night = columns.contacts & columns.outside(NIGHT_START, NIGHT_END)
        windows = columns.agreed_windows()
        if windows:
            night &= ~columns.agreed(windows)[1]
        return columns.counted(night)

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.at_night(len(hits), len({h.event.day for h in hits}), ctx.zone_name)

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.at_night(len(hits), columns.days(hits), columns.zone_name)

    def at_night(self, count: int, days: int, zone: str) -> tuple[str, str]:
        return (
            f"{count} contacts between 22:00 and 08:00 ({zone}) on {days} days",
            f"{days} 天内共 {count} 次在 22:00 至次日 8:00 之间催收（{zone}）",
        )


class AnsweredCallsPerDay(Rule):
    id = "CN-FREQ-1"
    jurisdiction = "cn"
    rule_zh = "同一机构（含其委托机构）每日拨通债务人电话合计不应超过3次"
    rule_en = "At most 3 answered calls a day from one creditor (with its agencies)"
    citations = (
        Citation(GB45251, "(拨通电话频次每日合计不应超过3次)", RECOMMENDED, unconfirmed=NO_CLAUSE),
        Citation(NIFA2024, "(same wording)", INDUSTRY, unconfirmed=NO_CLAUSE),
        CIV_1033,
    )

    def hits(self, ctx: Context) -> list[Hit]:
        answered = [e for e in ctx.calls() if e.answered]
        found: list[Hit] = []
        for group in group_by(answered, CREDITOR_DAY).values():
            if len(group) > 3:
                found += counted(group)
        return found

    def column_hits(self, columns: Columns) -> Hits:
        answered = columns.calls & columns.answered
        return columns.counted(columns.in_groups_above(answered, columns.creditor_day(), 3))

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.per_day(len(hits), _creditor_days(hits))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.per_day(len(hits), columns.distinct(columns.creditor_day()[hits.index]))

    def per_day(self, count: int, days: int) -> tuple[str, str]:
        return (
            f"more than 3 answered calls from one creditor on {days} days ({count} calls)",
            f"有 {days} 天同一机构拨通电话超过 3 次（共 {count} 次）",
        )


class AttemptsPerDay(Rule):
    id = "CN-FREQ-2"
    jurisdiction = "cn"
    rule_zh = "债务人未接通的，同一联系方式当天尝试拨打不宜超过6次（另有约定除外）"
    rule_en = "At most 6 call attempts a day to the same number of the borrower (unless agreed)"
    citations = (
        Citation(CBA2026, "(…尝试拨打次数当天不宜超过6次；与债务人另有约定除外)", INDUSTRY,
                 unconfirmed=NO_CLAUSE),
        CIV_1033,
    )  # fmt: skip

    def hits(self, ctx: Context) -> list[Hit]:
        found: list[Hit] = []
        for group in group_by(ctx.calls(), CREDITOR_DAY).values():
            if len(group) > 6:
                found += counted(group)
        return found

    def column_hits(self, columns: Columns) -> Hits:
        return columns.counted(columns.in_groups_above(columns.calls, columns.creditor_day(), 6))

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.per_day(len(hits), _creditor_days(hits))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.per_day(len(hits), columns.distinct(columns.creditor_day()[hits.index]))

    def per_day(self, count: int, days: int) -> tuple[str, str]:
        return (
            f"more than 6 call attempts from one creditor on {days} days ({count} calls)",
            f"有 {days} 天同一机构拨打超过 6 次（共 {count} 次）",
        )


def _creditor_days(hits: Sequence[Hit]) -> int:
    return len({(h.event.creditor, h.event.day) for h in hits})


def _third_parties(ctx: Context) -> list:
    return [e for e in ctx.events if e.kind == "contact"]


class ContactWhileReachable(Rule):
    id = "CN-3P-2"
    jurisdiction = "cn"
    rule_zh = "只有联系不上债务人时，才可联系事先约定的联系人；不得骚扰无关第三人"
    rule_en = (
        "Contacts may be called only when the borrower cannot be reached, and only "
        "pre-agreed contacts; unrelated third parties must not be harassed"
    )
    citations = (
        Citation(NIFA2018, "第14条、第13条 (paraphrase of a reprint)", INDUSTRY),
        Citation(GB45251, "(只向债务人催收，不应向联系人催收)", RECOMMENDED, unconfirmed=NO_CLAUSE),
        Citation(CBA2026, "(债务人失联时方可联系无关第三人)", INDUSTRY, unconfirmed=NO_CLAUSE),
        Citation(CC2011, "第68条 (不得向与债务无关的第三人催收; card issuers)", REGULATION),
        Citation(PIPL, "第6条、第10条、第13条", LAW, "primary"),
    )  # fmt: skip

    def hits(self, ctx: Context) -> list[Hit]:
        reached = group_by([e for e in ctx.calls() if e.answered], PLATFORM)
        times = {platform: [e.at for e in calls] for platform, calls in reached.items()}
        window = timedelta(days=REACHABLE_DAYS)
        found = []
        for event in _third_parties(ctx):
            answered = times.get(event.platform, []) if event.platform else []
            # the latest answered call at or before the contact (calls are in time order)
            index = bisect.bisect_right(answered, event.at) - 1
            if index >= 0 and event.at - window <= answered[index]:
                found.append(Hit(event))
        return found

    def column_hits(self, columns: Columns) -> Hits:
        third = columns.of_kind("contact") & (columns.platform != 0)
        answered = columns.calls & columns.answered
        window = REACHABLE_DAYS * DAY_US
        found = []
        for platform in np.unique(columns.platform[third]).tolist():
            calls = columns.instant[answered & (columns.platform == platform)]
            contacts = np.flatnonzero(third & (columns.platform == platform))
            instants = columns.instant[contacts]
            # the latest answered call at or before each contact
            latest = np.searchsorted(calls, instants, side="right") - 1
            reached = latest >= 0
            reached[reached] = calls[latest[reached]] >= instants[reached] - window
            found.append(contacts[reached])
        return columns.counted(np.sort(np.concatenate(found)) if found else np.empty(0, int))

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        return self.reachable(len(hits))

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        return self.reachable(len(hits))

    def reachable(self, count: int) -> tuple[str, str]:
        return (
            f"{count} contacts of third parties although the borrower had answered a call "
            f"from the same platform within the {REACHABLE_DAYS} days before",
            f"{count} 次联系第三人，而债务人在此前 {REACHABLE_DAYS} 天内接听过同一平台的电话",
        )


class ThirdPartiesContacted(Rule):
    id = "CN-3P-1"
    jurisdiction = "cn"
    rule_zh = "只向债务人催收，不应向联系人催收"
    rule_en = "Collect only from the borrower, never from contacts"
    third_parties_only = True
    citations = (
        Citation(GB45251, "(只向债务人催收，不应向联系人催收)", RECOMMENDED, unconfirmed=NO_CLAUSE),
        Citation(NIFA2018, "第13条 (paraphrase)", INDUSTRY),
        Citation(CC2011, "第68条 (card issuers)", REGULATION),
    )

    def hits(self, ctx: Context) -> list[Hit]:
        return counted(_third_parties(ctx))

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        people = len({str(h.event.fields.get("contact_name", "")) for h in hits})
        return (
            f"{people} third parties contacted {len(hits)} times",
            f"共 {len(hits)} 次联系了 {people} 名第三人",
        )


class DisclosedToThirdParty(Rule):
    id = "CN-3P-3"
    jurisdiction = "cn"
    rule_zh = "与联系人沟通时不应透露债务人的欠款金额、欠款时间等欠款信息"
    rule_en = "Never disclose the debt (amount, how overdue) to a contact"
    third_parties_only = True
    citations = (
        Citation(GB45251, "(不应透露债务人的逾期欠款金额，欠款时间等欠款信息)", RECOMMENDED,
                 unconfirmed=NO_CLAUSE),
        Citation(NIFA2018, "第18条 (paraphrase)", INDUSTRY),
        Citation(PIPL, "第10条、第25条", LAW, "primary"),
        Citation(CIVIL_CODE, "第1024条 (名誉权)", LAW, "primary"),
    )  # fmt: skip

    def hits(self, ctx: Context) -> list[Hit]:
        return ctx.with_signal("discloses_debt", kinds=("contact",))


class ContactAfterRefusal(Rule):
    id = "CN-3P-4"
    jurisdiction = "cn"
    rule_zh = "联系人明确拒绝或要求不得再联系的，不应再与其联系"
    rule_en = "A contact who refused or asked not to be contacted again must not be contacted"
    third_parties_only = True
    citations = (
        Citation(GB45251, "(联系人明确拒绝…或要求催收人员不得再联系的，催收人员不应再与其联系)",
                 RECOMMENDED, unconfirmed=NO_CLAUSE),
        CIV_1033,
    )  # fmt: skip

    def hits(self, ctx: Context) -> list[Hit]:
        if not ctx.facts_of("contact_refused"):
            return []  # none recorded: no need to look at every contact
        found = []
        for event in _third_parties(ctx):
            for fact in ctx.facts_of("contact_refused", event):
                if fact.at < event.at and _same_contact(fact, event):
                    found.append(Hit(event))
                    break
        return found


def _same_contact(fact, event) -> bool:
    name = str(fact.fields.get("contact_name", "")).strip()
    if name and name == str(event.fields.get("contact_name", "")).strip():
        return True
    key = fact.number_key
    return bool(key) and key == event.number_key


class MassContact(Rule):
    id = "CN-3P-5"
    jurisdiction = "cn"
    rule_zh = f"爆通讯录：同一平台24小时内联系{MASS_CONTACTS}名以上第三人（无文件规定具体数字）"
    rule_en = (
        f"Address-book blasting (爆通讯录): {MASS_CONTACTS} or more third parties contacted by one "
        "platform within 24 hours (a pattern threshold; no instrument sets a number)"
    )
    third_parties_only = True
    citations = (
        Citation(NIFA2018, "第13条、第14条 (paraphrase)", INDUSTRY),
        Citation(PIPL, "第6条、第10条、第13条、第23条", LAW, "primary"),
        CIV_1033,
    )  # fmt: skip

    @property
    def tier(self) -> str:
        return PATTERN

    def hits(self, ctx: Context) -> list[Hit]:
        found: dict[int, Hit] = {}
        for group in group_by(_third_parties(ctx), CREDITOR).values():
            end = 0
            for index, event in enumerate(group):
                while end < len(group) and group[end].at - event.at <= MASS_WINDOW:
                    end += 1
                window = group[index:end]
                people = {str(e.fields.get("contact_name", "")) for e in window}
                if len(people) >= MASS_CONTACTS:
                    found.update({e.seq: Hit(e) for e in window})
        return list(found.values())


class ThreatsInsults(SignalRule):
    id = "CN-LANG-1"
    jurisdiction = "cn"
    rule_zh = "不得采用恐吓、辱骂、威胁、暴力等不当手段催收"
    rule_en = "No threats, intimidation, insults or violence in collection"
    signals = ("threat", "threat_arrest", "insult", "privacy_exposure")
    citations = (
        Citation(CBA2026, "(严禁…采用恐吓、辱骂、欺诈、威胁、暴力、涉黑等不当手段)", INDUSTRY,
                 unconfirmed=NO_CLAUSE),
        Citation(NIFA2018, "第16条 (paraphrase)", INDUSTRY),
        Citation(CC2011, "第68条 (card issuers)", REGULATION),
        Citation(CIVIL_CODE, "第1024条 (名誉权)、第1032条", LAW, "primary"),
    )  # fmt: skip


class RepeatedThreats(Rule):
    id = "ADM-1"
    jurisdiction = "cn"
    rule_zh = "多次发送侮辱、恐吓或者其他信息，干扰他人正常生活的，可处拘留或罚款"
    rule_en = (
        "Sending insulting or threatening messages repeatedly (多次) to disturb someone's life "
        "may be punished by detention or a fine"
    )
    citations = (
        Citation("《中华人民共和国治安管理处罚法》(2012)", "第42条第(五)项", LAW, "primary",
                 unconfirmed="article number in the revision in force from 2026-01-01"),
    )  # fmt: skip

    signals = ("threat", "threat_arrest", "insult")

    def hits(self, ctx: Context) -> list[Hit]:
        hits = ctx.with_signal(*self.signals, kinds=("sms", "message"))
        # 多次: the statute sets no count; two or more are reported.
        return hits if len(hits) >= 2 else []

    def column_hits(self, columns: Columns) -> Hits:
        hits = columns.with_signal(*self.signals, kinds=("sms", "message"))
        return hits if len(hits) >= 2 else columns.counted(np.empty(0, int))


class Impersonation(SignalRule):
    id = "CN-LANG-2"
    jurisdiction = "cn"
    rule_zh = "不得冒用行政机关、司法机关等名义催收，不得伪造法律文书"
    rule_en = "No impersonating police, courts or government, and no fake legal documents"
    signals = ("impersonates_authority", "fake_legal_doc")
    citations = (
        Citation(CBA2026, "(严禁冒用行政机关、司法机关等名义…)", INDUSTRY, unconfirmed=NO_CLAUSE),
        Citation(NIFA2018, "(equivalent article)", INDUSTRY, unconfirmed="whether it exists"),
    )


class PrivatePayment(SignalRule):
    id = "CN-PAY-1"
    jurisdiction = "cn"
    rule_zh = "只能通过机构指定渠道还款；不得要求转入个人账户或收取额外催收费用"
    rule_en = "Payment only through the lender's designated channel; no personal accounts or fees"
    signals = ("private_payment_channel", "extra_fee")
    citations = (
        Citation(NIFA2018, "第19条 (paraphrase)", INDUSTRY),
        Citation(CBA2026, "", INDUSTRY, unconfirmed=NO_CLAUSE),
    )


class NewLoans(SignalRule):
    id = "CN-PAY-2"
    jurisdiction = "cn"
    rule_zh = "不得诱导、强迫债务人通过新增借贷等方式还款"
    rule_en = "No inducing or forcing the borrower to take new loans to repay"
    signals = ("induce_new_loan",)
    citations = (Citation(CBA2026, "", INDUSTRY, unconfirmed=NO_CLAUSE),)


class NumberRotation(Rule):
    id = "CN-ROT-1"
    jurisdiction = "cn"
    rule_zh = f"号码轮换：同一平台使用{ROTATION_NUMBERS}个以上不同号码联系（无文件规定具体数字）"
    rule_en = (
        f"Number rotation: {ROTATION_NUMBERS} or more distinct numbers used by one platform "
        "(a pattern; no instrument sets a number)"
    )
    citations = (
        Citation(NIFA2018, "第17条 (不得频繁…打电话; paraphrase)", INDUSTRY),
        CIV_1033,
    )

    @property
    def tier(self) -> str:
        return PATTERN

    def hits(self, ctx: Context) -> list[Hit]:
        numbered = [e for e in ctx.contacts() if e.platform and e.kind != "contact"]
        rotating = {
            platform
            for platform, group in group_by(numbered, PLATFORM).items()
            if len(set(map(NUMBER_KEY, group)) - {""}) >= ROTATION_NUMBERS
        }
        # In time order rather than platform by platform: Rule.check need not sort them.
        return counted([e for e in numbered if e.number_key and e.platform in rotating])

    def column_hits(self, columns: Columns) -> Hits:
        numbered = (
            columns.contacts
            & (columns.platform != 0)
            & ~columns.of_kind("contact")
            & (columns.number != 0)
        )
        counts = _numbers_per_platform(columns, numbered)
        rotating = [p for p, n in counts.items() if n >= ROTATION_NUMBERS]
        return columns.counted(numbered & np.isin(columns.platform, rotating))

    def detail(self, ctx: Context, hits: Sequence[Hit]) -> tuple[str, str]:
        groups = group_by([h.event for h in hits], PLATFORM)
        return self.numbers({p: len(set(map(NUMBER_KEY, g))) for p, g in groups.items()})

    def column_detail(self, columns: Columns, hits: Hits) -> tuple[str, str]:
        mask = np.zeros(len(columns), bool)
        mask[hits.index] = True
        counts = _numbers_per_platform(columns, mask)
        return self.numbers({columns.platforms[p]: n for p, n in counts.items()})

    def numbers(self, per_platform: dict[str, int]) -> tuple[str, str]:
        parts = [f"{p}: {n}" for p, n in sorted(per_platform.items())]
        return (
            "distinct numbers per platform — " + ", ".join(parts),
            "各平台使用的不同号码数 — " + "，".join(parts),
        )


def _numbers_per_platform(columns: Columns, mask: np.ndarray) -> dict[int, int]:
    """Distinct numbers (other than none) per platform among the masked events."""
    pairs = np.unique(columns.platform[mask] * (1 << 32) + columns.number[mask])
    pairs = pairs[pairs % (1 << 32) != 0]
    platforms, counts = np.unique(pairs >> 32, return_counts=True)
    return dict(zip(platforms.tolist(), counts.tolist(), strict=True))


register(
    "cn",
    (
        NightContact(),
        AnsweredCallsPerDay(),
        AttemptsPerDay(),
        ThirdPartiesContacted(),
        ContactWhileReachable(),
        DisclosedToThirdParty(),
        ContactAfterRefusal(),
        MassContact(),
        ThreatsInsults(),
        RepeatedThreats(),
        Impersonation(),
        PrivatePayment(),
        NewLoans(),
        NumberRotation(),
    ),
)
