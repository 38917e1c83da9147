"""The engine: corrections, properties, the lexicon, findings as values, complaint drafts."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import model, rules, timeutil
from evidence.errors import InvalidInput
from evidence.rules import complaint, lexicon
from tests.rulesfixtures import Book, shape

# --- corrections -------------------------------------------------------------------------------


def test_retracted_entries_do_not_count() -> None:
    book = Book()
    seq = book.add("call", "2026-11-20 23:00")
    book.retract(seq)
    assert book.findings() == {}


def test_an_amended_time_moves_an_event_out_of_and_into_the_night() -> None:
    book = Book()
    night = book.add("call", "2026-11-20 23:00")
    day = book.add("call", "2026-11-20 12:00")
    book.amend(night, new_time="2026-11-20 21:00")
    book.amend(day, new_time="2026-11-20 22:00")
    assert book.hit("CN-TIME-1") == (day,)


def test_amended_fields_apply_in_order() -> None:
    book = Book()
    seq = book.add("sms", "2026-11-20 12:00", said="请还款")
    book.amend(seq, said="你这个老赖")
    assert book.findings()["CN-LANG-1"].inferred == (seq,)
    book.amend(seq, tags=["insult"])
    assert book.findings()["CN-LANG-1"].stated == (seq,)


def test_a_retracted_fact_no_longer_applies() -> None:
    book = Book()
    fact = book.fact("agreed_time", "2026-11-20 09:00", window="22:00-23:00")
    call = book.add("call", "2026-11-20 22:30")
    assert book.hit("CN-TIME-1") == ()
    book.retract(fact)
    assert book.hit("CN-TIME-1") == (call,)


def test_corrections_through_the_real_ledger(log, make_draft) -> None:
    """On SQLite and PostgreSQL: what `Log.entries()` returns is what the rules read."""
    drafts = [make_draft("call", at=f"2026-11-20 {h:02d}:00") for h in (9, 10, 11, 23)]
    made = log.append(drafts)
    log.retract(made[0].seq, "not a collection call")
    log.amend(made[3].seq, {}, "typo in the time", new_time=made[3].occurred_at.replace(hour=13))
    findings = {f.rule_id: f for f in rules.analyze(log.entries(), "cn")}
    assert "CN-FREQ-1" not in findings  # 4 answered calls, one retracted
    assert "CN-TIME-1" not in findings  # 23:00 was corrected to 13:00
    log.append([make_draft("call", at="2026-11-20 14:00")])
    findings = {f.rule_id: f for f in rules.analyze(log.entries(), "cn")}
    assert findings["CN-FREQ-1"].entries == (1, 2, 3, 6)


def test_entries_that_are_not_events_never_count() -> None:
    book = Book()
    book.add("call", "2026-11-20 23:00")
    book.entries.append(
        dataclasses.replace(book.entries[0], seq=1, kind="timestamp", fields={"tsa": "x"})
    )
    report = rules.report(book.entries, "cn")
    assert report.summary.events == 1 and report.findings[0].entries == (0,)


def test_facts_are_validated_at_the_boundary() -> None:
    at = timeutil.parse_instant("2026-11-20 09:00", timeutil.zone("Asia/Shanghai"))
    for fields, message in [
        ({"fact": "nonsense"}, "fact must be one of"),
        ({"fact": "agreed_time"}, "needs window"),
        ({"fact": "agreed_time", "window": "25:00-26:00"}, "like 20:00-21:30"),
        ({"fact": "debtor_zone"}, "needs zone"),
        ({"fact": "debtor_zone", "zone": "Mars/Olympus"}, "unknown time zone"),
        ({"fact": "contact_refused"}, "needs contact_name or number"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            model.make_draft("fact", at, fields)
    window = model.make_draft("fact", at, {"fact": "agreed_time", "window": "9:00-21:30"})
    assert window.fields["window"] == "09:00-21:30"


# --- properties --------------------------------------------------------------------------------

EVENTS = [
    ("call", "2026-11-20 22:30", {}),
    ("call", "2026-11-20 09:00", {}),
    ("call", "2026-11-20 10:00", {}),
    ("call", "2026-11-20 11:00", {"platform": "美团", "said": "你这个老赖"}),
    ("call", "2026-11-20 12:00", {}),
    ("sms", "2026-11-21 07:00", {"said": "小心你的家人", "platform": "美团"}),
    ("contact", "2026-11-21 10:00", {"said": "他欠钱不还"}),
    ("contact", "2026-11-21 11:00", {"contact_name": "同事", "platform": "美团"}),
    ("contact", "2026-11-21 12:00", {"contact_name": "舅舅"}),
    ("contact", "2026-11-21 13:00", {"contact_name": "表姐"}),
    ("message", "2026-11-22 23:59:59", {"said": "转到我的卡", "platform": "美团"}),
]


def _book(events) -> Book:
    book = Book()
    for kind, at, fields in events:
        book.add(kind, at, **fields)
    return book


@pytest.mark.parametrize("jurisdiction", ["cn", "us", "uk"])
def test_findings_do_not_depend_on_the_order_of_appending(jurisdiction: str) -> None:
    expected = shape(rules.analyze(_book(EVENTS).entries, jurisdiction))
    assert expected
    for seed in range(5):
        shuffled = EVENTS[:]
        random.Random(seed).shuffle(shuffled)
        assert shape(rules.analyze(_book(shuffled).entries, jurisdiction)) == expected


def test_splitting_the_log_by_platform_and_merging_gives_the_same_findings() -> None:
    whole = _book(EVENTS)
    by_platform = []
    for platform in ("京东金条", "美团"):
        part = _book([e for e in EVENTS if e[2].get("platform", "京东金条") == platform])
        assert shape(rules.analyze(part.entries, "cn")) == shape(
            rules.analyze(whole.entries, "cn", platform=platform)
        )
        by_platform += rules.analyze(whole.entries, "cn", platform=platform)
    merged: dict[str, tuple[int, set]] = {}
    for finding in by_platform:
        count, days = merged.get(finding.rule_id, (0, set()))
        merged[finding.rule_id] = (count + finding.events, days | set(finding.days))
    whole_findings = {f.rule_id: f for f in rules.analyze(whole.entries, "cn")}
    # Per-platform rules add up exactly; ADM-1 needs two messages, which only the whole has.
    for rule_id, (count, days) in merged.items():
        assert whole_findings[rule_id].events == count, rule_id
        assert set(whole_findings[rule_id].days) == days, rule_id


# --- the lexicon -------------------------------------------------------------------------------


def test_the_lexicon_is_extended_by_a_file(tmp_path: Path) -> None:
    path = tmp_path / "words.txt"
    path.write_text("# my words\ninsult: 烂人  # what they call me\nthreat: break your legs\n")
    words = rules.load_lexicon(path)
    assert words.match("你个烂人") == {"insult"}
    assert words.match("We will BREAK YOUR LEGS") == {"threat"}
    assert lexicon.default().match("你个烂人") == set()
    book = Book()
    seq = book.add("sms", "2026-11-20 12:00", said="你个烂人")
    assert book.hit("CN-LANG-1", lexicon=words) == (seq,)
    assert book.hit("CN-LANG-1") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [("insult 烂人", "write it as 'signal: phrase'"), ("anger: 烂人", "unknown signal 'anger'")],
)
def test_a_bad_lexicon_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "words.txt"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        rules.load_lexicon(path)


def test_short_english_terms_match_whole_words_only() -> None:
    words = lexicon.default()
    assert "insult" in words.match("你个sb")
    assert "insult" not in words.match("asbestos removal")
    assert lexicon.stated(["威胁", "Insult", "unrelated"]) == {"threat", "insult"}


def test_overlapping_terms_are_all_found() -> None:
    # "借钱还" (a new loan) and "还钱" (the debt) overlap in "借钱还钱".
    assert lexicon.default().match("借钱还钱") >= {"induce_new_loan", "discloses_debt"}
    assert lexicon.default().match("WE KNOW WHERE YOU LIVE") == {"threat"}


# --- findings as values ------------------------------------------------------------------------


def test_findings_are_immutable_and_serialisable() -> None:
    book = _book(EVENTS)
    findings = rules.analyze(book.entries, "cn")
    with pytest.raises(dataclasses.FrozenInstanceError):
        findings[0].events = 0  # type: ignore[misc]
    for finding in findings:
        data = json.loads(json.dumps(finding.to_dict(), ensure_ascii=False))
        assert data["rule_id"] == finding.rule_id
        assert data["rule"]["zh"] and data["rule"]["en"] and data["citation"]
        assert data["tier"] in rules.TIERS
        assert data["basis"] in ("counted", "stated", "inferred", "stated+inferred")
        assert sorted(data["entries"]) == data["entries"] and data["events"] == len(data["entries"])


def test_unknown_jurisdiction() -> None:
    with pytest.raises(InvalidInput, match="unknown jurisdiction"):
        rules.analyze([], "fr")


# --- complaint drafts --------------------------------------------------------------------------


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?<![\d#:.\-])(\d+)(?![\d:.\-])", text)]


@pytest.mark.parametrize("target", complaint.TARGETS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_draft_states_the_facts_and_citations(target: str, lang: str) -> None:
    book = _book(EVENTS)
    report = rules.report(book.entries, complaint.JURISDICTION[target])
    text = complaint.draft(report, target, lang)
    s = report.summary
    assert ("草稿" if lang == "zh" else "DRAFT") in text.splitlines()[0]
    facts = text.split("二、主要事实" if lang == "zh" else "2. What happened")[1].split("\n\n")[0]
    for value in (s.calls, s.answered_calls, s.night_calls, s.sms, s.distinct_numbers):
        assert value in _numbers(facts)
    assert s.third_party_contacts in _numbers(facts)
    assert "舅舅" in facts and s.first and s.first in facts
    for finding in report.findings:
        assert finding.rule_id in text and finding.citations[0].instrument in text
    assert 2 <= len(s.quotes) <= 3 and all(q.text in text for q in s.quotes)


def test_a_draft_escapes_control_and_bidi_characters() -> None:
    book = Book()
    book.add("sms", "2026-11-20 12:00", said="老赖\x1b[2J\u202e转到我的卡\x07", tags=["insult"])
    book.add("contact", "2026-11-20 13:00", contact_name="妈\u202e妈")
    text = complaint.draft(rules.report(book.entries, "cn"), "police", "zh")
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "\\u001b[2J\\u202e转到我的卡\\u0007" in text and "妈\\u202e妈" in text


def test_a_draft_without_events_or_findings_still_says_what_to_fill_in() -> None:
    text = complaint.draft(rules.report([], "cn"), "12378", "zh")
    assert "____" in text and "未发现" in text
    with pytest.raises(InvalidInput):
        complaint.draft(rules.report([], "cn"), "fbi", "zh")


# --- properties, generated ---------------------------------------------------------------------

_KINDS = st.sampled_from(["call", "call", "call", "sms", "message", "contact"])
_SAID = st.sampled_from(["", "请还款", "你这个老赖", "告诉她我欠了钱", "转到我的卡", "知道你住哪"])
_EVENT = st.tuples(
    _KINDS,
    st.integers(0, 14 * 24 * 60),  # minutes into two weeks
    st.sampled_from(["京东金条", "美团"]),
    st.sampled_from(["138 1234 5678", "139 0000 1111", "150 2222 3333"]),
    st.booleans(),
    _SAID,
    st.sampled_from(["妈妈", "同事", "舅舅"]),
)


def _generated(events, order) -> Book:
    book = Book()
    start = datetime(2026, 11, 1, tzinfo=timeutil.zone("Asia/Shanghai"))
    for index in order:
        kind, minutes, platform, number, answered, said, who = events[index]
        fields: dict = {"platform": platform, "said": said or None}
        if kind in ("call", "sms"):
            fields["number"] = number
        if kind == "call":
            fields["answered"] = answered
        if kind == "contact":
            fields["contact_name"] = who
        book.add(kind, start + timedelta(minutes=minutes, seconds=index), **fields)
    return book


@settings(max_examples=40, deadline=None)
@given(events=st.lists(_EVENT, min_size=1, max_size=40), seed=st.integers(0, 1000))
def test_generated_logs_give_the_same_findings_in_any_order(events, seed) -> None:
    order = list(range(len(events)))
    shuffled = order[:]
    random.Random(seed).shuffle(shuffled)
    for jurisdiction in ("cn", "us"):
        one = rules.analyze(_generated(events, order).entries, jurisdiction)
        other = rules.analyze(_generated(events, shuffled).entries, jurisdiction)
        assert shape(one) == shape(other)


@settings(max_examples=40, deadline=None)
@given(events=st.lists(_EVENT, min_size=1, max_size=40))
def test_ordering_hits_by_rank_equals_ordering_them_by_time(events) -> None:
    """Rule.check orders by each event's rank; by (instant, entry number) it is the same."""
    from evidence.rules.base import Rule

    book = _generated(events, list(range(len(events))))
    for jurisdiction in ("cn", "us", "uk"):
        ranked = rules.build_context(book.entries)
        assert ranked.ranked
        assert [e.rank for e in ranked.events] == list(range(len(ranked.events)))
        assert ranked.events == sorted(ranked.events, key=lambda e: (e.at, e.seq))
        unranked = dataclasses.replace(ranked, ranked=False)
        for rule in rules.rules_for(jurisdiction):
            assert isinstance(rule, Rule)
            assert rule.check(ranked) == rule.check(unranked)


_FACT = st.tuples(
    st.sampled_from(["agreed_time", "agreed_time", "contact_refused", "cease_request"]),
    st.integers(0, 14 * 24 * 60),
    st.sampled_from(["21:30-23:00", "23:00-01:00", "07:00-08:30", "22:00-22:01"]),
    st.sampled_from(["京东金条", "美团", None]),
)


@settings(max_examples=60, deadline=None)
@given(events=st.lists(_EVENT, min_size=1, max_size=40), facts=st.lists(_FACT, max_size=5))
def test_facts_apply_the_same_by_rank_as_by_time(events, facts) -> None:
    """Agreed windows, refusals and cease requests: the ranked context's shortcuts (facts
    placed among the events by rank) find what comparing instants finds."""
    book = _generated(events, list(range(len(events))))
    start = datetime(2026, 11, 1, tzinfo=timeutil.zone("Asia/Shanghai"))
    for name, minutes, window, platform in facts:
        # On the minute, so that a fact may share its instant with an event.
        fields = {"window": window} if name == "agreed_time" else {}
        if name == "contact_refused":
            fields = {"contact_name": "妈妈"}
        book.fact(name, start + timedelta(minutes=minutes), platform=platform, **fields)
    for jurisdiction in ("cn", "us", "uk"):
        ranked = rules.build_context(book.entries)
        unranked = dataclasses.replace(ranked, ranked=False)
        for rule in rules.rules_for(jurisdiction):
            assert rule.check(ranked) == rule.check(unranked), rule.id


# --- the lexicon, against its definition ----------------------------------------------------

_PIECES = st.sampled_from(
    [
        *[t for terms in lexicon.CURATED.values() for t in terms],
        "逮捕令",
        "SB",
        "asbestos",
        "Prison",
        "1",
        "。",
        " ",
        "a",
        "你",
        "还",
        "借钱",
    ]
)
_TEXTS = st.lists(_PIECES | st.text(max_size=3), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=_TEXTS)
def test_the_lexicon_finds_exactly_the_terms_in_the_text(text: str) -> None:
    words = lexicon.default()
    assert words.match(text) == lexicon.reference_match(words, text)


@settings(max_examples=200, deadline=None)
@given(
    extra=st.dictionaries(
        st.sampled_from(lexicon.SIGNALS),
        st.lists(st.text(alphabet="ab借钱还 .1", min_size=1, max_size=5), max_size=4),
        max_size=4,
    ),
    text=st.text(alphabet="ab借钱还 .1AB", max_size=30),
)
def test_an_extended_lexicon_finds_exactly_the_terms_in_the_text(extra, text: str) -> None:
    words = lexicon.default().extended(extra)
    assert words.match(text) == lexicon.reference_match(words, text)


def test_terms_sharing_characters_are_all_found() -> None:
    # 打死你 (threat) and 你妈的 (insult) share the 你; 借钱还 and 还钱 share a 还.
    words = lexicon.default()
    assert words.match("打死你妈的") == {"threat", "insult"}
    assert words.match("去借钱还钱") == {"induce_new_loan", "discloses_debt"}
    assert words.match("asbestos 你个SB") == {"insult"}
    assert words.match("asbestos") == set()


def test_a_term_inside_a_longer_term_is_found_too() -> None:
    # 逮捕 (threat_arrest) is the start of 逮捕令 (fake_legal_doc): the text has both.
    assert lexicon.default().match("已签发逮捕令") == {"threat_arrest", "fake_legal_doc"}
