"""Complaint drafts filled from a :class:`~evidence.rules.Report`.

Every number in a draft is read from the report's summary and findings, the same values
`evidence analyze --json` prints. Text from collectors is quoted verbatim, except that
control and bidirectional-override characters become visible ``\\uXXXX`` escapes, so a
draft cannot hide or reorder text when it is printed, pasted or opened.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from evidence.errors import InvalidInput
from evidence.rules import Report

TARGETS = ("12378", "nifa", "12321", "police", "court", "cfpb")
JURISDICTION = {"12378": "cn", "nifa": "cn", "12321": "cn", "police": "cn", "court": "cn"}
JURISDICTION["cfpb"] = "us"

# The rule sets, named in a draft that cites one other than its recipient's.
RULE_SETS = {
    "cn": ("中国大陆", "mainland China"),
    "us": ("美国（FDCPA / Regulation F）", "the United States (FDCPA / Regulation F)"),
    "uk": ("英国（FCA CONC 7.9）", "the United Kingdom (FCA CONC 7.9)"),
}

_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}

RECIPIENT = {
    "12378": ("国家金融监督管理总局 金融消费者投诉（12378 热线 / 网上投诉）",
              "National Financial Regulatory Administration, consumer complaints (hotline 12378)"),
    "nifa": ("中国互联网金融协会 举报平台（jubao.nifa.org.cn，须实名）",
             "National Internet Finance Association of China, reporting platform (real name)"),
    "12321": ("12321 网络不良与垃圾信息举报受理中心",
              "12321 Network Harmful Information and Spam Reporting Center"),
    "police": ("____ 公安局 ____ 派出所", "____ Public Security Bureau, ____ police station"),
    "court": ("____ 人民法院（民事起诉状草稿）", "____ People's Court (draft civil complaint)"),
    "cfpb": ("消费者金融保护局（CFPB）在线投诉 consumerfinance.gov/complaint",
             "Consumer Financial Protection Bureau, consumerfinance.gov/complaint"),
}  # fmt: skip

REMEDY = {
    "12378": (
        "请求责令被投诉机构立即停止上述违规催收行为，核查其本身及委托的催收机构和人员，"
        "依法处理，并书面答复处理结果。",
        "I ask that the institution be ordered to stop the collection conduct described, that "
        "it and its collection agencies be investigated and dealt with, and that I receive a "
        "written reply.",
    ),
    "nifa": (
        "请求协会核查会员机构及其催收合作机构的上述行为，依自律规则处理，并督促其停止违规催收。",
        "I ask the Association to examine the conduct of its member and its collection agencies, "
        "act under its self-regulatory rules and see that the conduct stops.",
    ),
    "12321": (
        "请求对上述骚扰电话和短信号码进行核查处置，并将线索转交有关部门。",
        "I ask that the harassing numbers listed be examined and dealt with, and the report "
        "passed to the competent authorities.",
    ),
    "police": (
        "请求依法调查处理上述恐吓、骚扰行为（《治安管理处罚法》(2012) 第42条；2026年1月1日起"
        "施行的修订版对应条文待核实），并出具接报回执。",
        "I ask that the threats and harassment be investigated under the Public Security "
        "Administration Punishments Law (2012) art. 42 (the article number in the revision in "
        "force from 2026-01-01 is unconfirmed) and that I be given a receipt for this report.",
    ),
    "court": (
        "诉讼请求：1. 判令被告立即停止以电话、短信等方式侵扰原告及其亲友的私人生活安宁；"
        "2. 判令被告赔礼道歉；3. 判令被告赔偿损失（含精神损害抚慰金）____元；"
        "4. 本案诉讼费用由被告承担。（依据：《民法典》第1032条、第1033条、第1165条、"
        "第1183条；《个人信息保护法》第69条）",
        "Claims: 1. that the defendant stop intruding on the peace of the plaintiff's private "
        "life and that of the plaintiff's family by calls and messages; 2. an apology; "
        "3. damages, including for mental distress, of ____; 4. costs. (Civil Code arts. "
        "1032, 1033, 1165, 1183; Personal Information Protection Law art. 69)",
    ),
    "cfpb": (
        "希望对方停止骚扰性联系，按法律规定的时间和频率联系，更正不实陈述，并对违法行为负责。",
        "I want the company to stop the harassing communications, contact me only at lawful "
        "times and frequencies, correct its false statements, and be held accountable "
        "(FDCPA 15 U.S.C. 1692k provides for damages; suits must be brought within one year).",
    ),
}


VERDICT_ZH = {"may violate": "可能违反", "breaches": "不符合", "shows": "呈现"}


def visible(text: Any) -> str:
    """Untrusted text made safe to print or paste: control and bidi characters escaped."""
    out = []
    for char in str(text):
        if char == "\n":
            out.append(" ⏎ ")
        elif char in _BIDI or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"}:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def draft(report: Report, target: str, lang: str = "zh") -> str:
    """The text of a complaint draft to ``target`` in ``lang`` ("zh" or "en")."""
    if target not in TARGETS:
        raise InvalidInput(f"unknown recipient {target!r}: use one of {', '.join(TARGETS)}")
    if lang not in ("zh", "en"):
        raise InvalidInput("the language is zh or en")
    zh = lang == "zh"
    s = report.summary
    who = visible(report.platform or ("、" if zh else ", ").join(s.platforms))
    who = who or ("____（请填写机构名称）" if zh else "____ (name of the company)")
    lines: list[str] = []
    add = lines.append
    if zh:
        add("【草稿】本文由 evidence 根据您的记录自动生成，仅供参考，不是法律意见。")
        add("提交前请逐句核对、修改并补全 ____ 处；确认每一项事实属实后再签名提交。")
    else:
        add("[DRAFT] Generated by evidence from your log. It is not legal advice.")
        add("Read and correct every sentence and fill in each ____ before you send it; "
            "sign only what you have checked is true.")  # fmt: skip
    add("")
    recipient_zh, recipient_en = RECIPIENT[target]
    add(("致：" if zh else "To: ") + (recipient_zh if zh else recipient_en))
    if zh:
        add("投诉人：____　身份证号：____　联系电话：____　地址：____")
        add(f"被投诉机构：{who}")
        if s.collectors:
            add("催收人员自称：" + "；".join(visible(c) for c in s.collectors))
    else:
        add("From: ____  Address: ____  Phone: ____  Account number (if any): ____")
        add(f"Company: {who}")
        if s.collectors:
            add("Collectors' stated names: " + "; ".join(visible(c) for c in s.collectors))
    add("")
    add("一、投诉请求" if zh else "1. What I ask for")
    add(REMEDY[target][0 if zh else 1])
    if target == "cfpb":
        add(
            "（CFPB 表格的叙述栏在2015年约限4000字符，现行上限待核实；必要时删减第二部分。）"
            if zh
            else "(The form's narrative box held about 4,000 characters in 2015; the current "
            "limit is unconfirmed. Shorten section 2 if the form refuses it.)"
        )
    add("")
    add("二、主要事实" if zh else "2. What happened")
    add(_facts(report, zh))
    if s.quotes:
        add("")
        add("催收方原话摘录（逐字）：" if zh else "Verbatim quotes from the collectors:")
        for quote in s.quotes:
            add(f"- “{visible(quote.text)}”（{quote.when}，记录第 {quote.seq} 条）" if zh
                else f'- "{visible(quote.text)}" ({quote.when}, entry {quote.seq})')  # fmt: skip
    add("")
    add("三、相关依据" if zh else "3. Rules the conduct appears to break")
    if report.jurisdiction != JURISDICTION[target]:
        add(f"（以下按 {RULE_SETS[report.jurisdiction][0]} 的规则判断。）" if zh
            else f"(Judged under the rules of {RULE_SETS[report.jurisdiction][1]}.)")  # fmt: skip
    if not report.findings:
        add("（记录中未发现可自动判断的违规项；请自行补充。）" if zh
            else "(No finding the rules can compute; add your own grounds.)")  # fmt: skip
    for finding in report.findings:
        verdict = VERDICT_ZH[finding.verdict_en]
        if zh:
            add(
                f"- {finding.rule_id}（{finding.tier_text('zh')}）{verdict}：{finding.rule_zh}。"
                f"{finding.detail_zh}；涉及记录 {_seqs(finding.entries)}。"
                f"依据：{finding.citation()}"
            )
        else:
            add(f"- {finding.rule_id} ({finding.tier}; {finding.verdict_en}): {finding.rule_en}. "
                f"{finding.detail_en}; entries {_seqs(finding.entries)}. "
                f"Citation: {finding.citation()}")  # fmt: skip
        if finding.inferred:
            add(
                "  （其中部分内容由词库推断，请核对原话）"
                if zh
                else "  (some of these were inferred from the words by a lexicon: check them)"
            )
    add("")
    add("四、证据（附件）清单" if zh else "4. Attachments")
    add("1. evidence 导出的证据包（PDF 及 ZIP，含完整时间记录、哈希与签名）" if zh
        else "1. The evidence bundle exported by evidence (PDF and ZIP, with the full dated "
        "log, hashes and signature)")  # fmt: skip
    for index, (seq, name, sha) in enumerate(s.attachments, start=2):
        add(f"{index}. {visible(name)}（记录第 {seq} 条，SHA-256 {sha}）" if zh
            else f"{index}. {visible(name)} (entry {seq}, SHA-256 {sha})")  # fmt: skip
    add("")
    add("此致" if zh else "Signed: ____   Date: ____")
    if zh:
        add("投诉人（签名）：____　　日期：____")
    return "\n".join(lines) + "\n"


def _facts(report: Report, zh: bool) -> str:
    s = report.summary
    people = (
        "、".join(visible(p) for p in s.contacts_reached)
        if zh
        else ", ".join(visible(p) for p in s.contacts_reached)
    )
    if zh:
        text = (
            f"自 {s.first or '____'} 至 {s.last or '____'}（时区 {s.zone}），"
            f"我共收到催收电话 {s.calls} 次（接通 {s.answered_calls} 次），"
            f"其中夜间（{s.night}）{s.night_calls} 次；短信 {s.sms} 条，其他消息 {s.messages} 条，"
            f"上门 {s.visits} 次；对方共使用 {s.distinct_numbers} 个不同号码。"
        )
        if s.third_party_contacts:
            text += f"催收方还联系了我的亲友或同事共 {s.third_party_contacts} 次（{people}）。"
        return text + "以上均有逐条记录，时间、号码、内容见附件。"
    text = (
        f"From {s.first or '____'} to {s.last or '____'} (time zone {s.zone}) I received "
        f"{s.calls} collection calls ({s.answered_calls} answered), {s.night_calls} of them "
        f"{s.night}; {s.sms} text messages, {s.messages} other messages and {s.visits} visits, "
        f"from {s.distinct_numbers} different numbers."
    )
    if s.third_party_contacts:
        text += (
            f" The collectors also contacted my family, friends or colleagues "
            f"{s.third_party_contacts} times ({people})."
        )
    return text + " Each event is recorded with its time, number and content (attached)."


def _seqs(seqs: tuple[int, ...], limit: int = 12) -> str:
    shown = ", ".join(f"#{s}" for s in seqs[:limit])
    return shown + (f" … ({len(seqs)})" if len(seqs) > limit else "")
