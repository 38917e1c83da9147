"""Mainland China rules: for each, a log that just meets it and one that just breaks it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.rulesfixtures import Book


@pytest.mark.parametrize(
    ("at", "flagged"),
    [
        ("2026-11-20 21:59:59", False),
        ("2026-11-20 22:00:00", True),
        ("2026-11-21 07:59:59", True),
        ("2026-11-21 08:00:00", False),
    ],
)
def test_night_boundaries(at: str, flagged: bool) -> None:
    book = Book()
    seq = book.add("call", at)
    assert book.hit("CN-TIME-1") == ((seq,) if flagged else ())


@pytest.mark.parametrize("kind", ["sms", "message", "visit", "contact"])
def test_night_counts_every_kind_of_contact(kind: str) -> None:
    book = Book()
    seq = book.add(kind, "2026-11-20 23:00")
    assert book.hit("CN-TIME-1") == (seq,)


def test_night_ignores_the_borrowers_own_calls_and_letters() -> None:
    book = Book()
    book.add("call", "2026-11-20 23:00", direction="outgoing")
    book.add("letter", "2026-11-20 23:00")
    assert book.hit("CN-TIME-1") == ()


def test_midnight_in_shanghai_is_the_next_local_day_but_the_previous_utc_day() -> None:
    book = Book()
    seq = book.add("call", datetime(2026, 11, 20, 16, 30, tzinfo=UTC))  # 00:30 on the 21st
    finding = book.findings()["CN-TIME-1"]
    assert finding.entries == (seq,)
    assert finding.days == ("2026-11-21",)


def test_an_agreed_time_covers_night_contact_only_after_it_was_agreed() -> None:
    book = Book()
    before = book.add("call", "2026-11-19 22:30")
    book.fact("agreed_time", "2026-11-20 09:00", window="22:00-23:00")
    inside = book.add("call", "2026-11-20 22:30")
    outside = book.add("call", "2026-11-20 23:00")
    flagged = book.hit("CN-TIME-1")
    assert before in flagged and outside in flagged and inside not in flagged


def test_an_agreed_time_for_another_platform_does_not_count() -> None:
    book = Book()
    book.fact("agreed_time", "2026-11-20 09:00", window="22:00-23:00", platform="美团")
    seq = book.add("call", "2026-11-20 22:30")
    assert book.hit("CN-TIME-1") == (seq,)


def test_three_answered_calls_a_day_meet_the_standard_four_break_it() -> None:
    book = Book()
    book.calls(["2026-11-20 09:00", "2026-11-20 10:00", "2026-11-20 11:00"])
    book.add("call", "2026-11-20 12:00", answered=False)
    assert book.hit("CN-FREQ-1") == ()
    fourth = book.add("call", "2026-11-20 13:00")
    assert fourth in book.hit("CN-FREQ-1")
    assert book.findings()["CN-FREQ-1"].events == 4


def test_answered_calls_are_counted_per_local_day_not_utc_day() -> None:
    book = Book()
    book.calls(["2026-11-20 09:00", "2026-11-20 10:00", "2026-11-20 11:00"])
    # 00:30 on the 21st in Shanghai is still the 20th in UTC: a UTC count would say 4.
    book.add("call", datetime(2026, 11, 20, 16, 30, tzinfo=UTC))
    assert book.hit("CN-FREQ-1") == ()


def test_answered_calls_of_different_platforms_are_not_added_up() -> None:
    book = Book()
    book.calls(["2026-11-20 09:00", "2026-11-20 10:00", "2026-11-20 11:00"])
    book.add("call", "2026-11-20 12:00", platform="美团")
    assert book.hit("CN-FREQ-1") == ()


def test_a_duration_counts_as_answered_when_answered_is_not_recorded() -> None:
    book = Book()
    for hour in (9, 10, 11, 12):
        book.add("call", f"2026-11-20 {hour:02d}:00", answered=None, duration=30)
    assert len(book.hit("CN-FREQ-1")) == 4


def test_six_attempts_a_day_meet_the_standard_seven_break_it() -> None:
    book = Book()
    book.calls([f"2026-11-20 {h:02d}:00" for h in range(9, 15)], answered=False)
    assert book.hit("CN-FREQ-2") == ()
    book.add("call", "2026-11-20 15:00", answered=False)
    assert len(book.hit("CN-FREQ-2")) == 7


def test_attempts_without_a_platform_are_counted_per_calling_number() -> None:
    book = Book()
    book.calls([f"2026-11-20 {h:02d}:00" for h in range(9, 16)], platform=None, answered=False)
    assert len(book.hit("CN-FREQ-2")) == 7
    other = Book()
    for h in range(9, 16):
        other.add("call", f"2026-11-20 {h:02d}:00", platform=None, number=f"1381234567{h % 10}")
    assert other.hit("CN-FREQ-2") == ()


def test_third_parties_contacted() -> None:
    book = Book()
    assert book.hit("CN-3P-1") == ()
    seq = book.add("contact", "2026-11-21 10:00")
    assert book.hit("CN-3P-1") == (seq,)


def test_contact_while_the_borrower_was_reachable() -> None:
    book = Book()
    book.add("call", "2026-11-20 10:00", answered=False)
    early = book.add("contact", "2026-11-21 10:00")
    assert book.hit("CN-3P-2") == ()
    book.add("call", "2026-11-22 10:00")
    late = book.add("contact", "2026-11-29 10:00")  # exactly 7 days after the answered call
    later = book.add("contact", "2026-11-29 10:01")
    assert book.hit("CN-3P-2") == (late,)
    assert early not in book.hit("CN-3P-2") and later not in book.hit("CN-3P-2")


def test_disclosure_to_a_contact_stated_inferred_or_absent() -> None:
    book = Book()
    book.add("contact", "2026-11-21 10:00", said="请他回电话")
    assert book.hit("CN-3P-3") == ()
    stated = book.add("contact", "2026-11-21 11:00", tags=["discloses_debt"])
    inferred = book.add("contact", "2026-11-21 12:00", said="告诉她我欠了钱，让她替我还")
    finding = book.findings()["CN-3P-3"]
    assert finding.stated == (stated,) and finding.inferred == (inferred,)
    assert finding.basis == "stated+inferred"


def test_contact_after_refusal() -> None:
    book = Book()
    before = book.add("contact", "2026-11-21 10:00")
    book.fact("contact_refused", "2026-11-21 11:00", contact_name="妈妈")
    after = book.add("contact", "2026-11-22 10:00")
    other = book.add("contact", "2026-11-22 11:00", contact_name="同事", relation="colleague")
    assert book.hit("CN-3P-4") == (after,)
    assert before not in book.hit("CN-3P-4") and other not in book.hit("CN-3P-4")


def test_a_refusal_can_name_the_contacts_number() -> None:
    book = Book()
    book.fact("contact_refused", "2026-11-21 11:00", number="+86 139 0000 1111")
    seq = book.add("contact", "2026-11-22 10:00", contact_name="舅舅", number="13900001111")
    assert book.hit("CN-3P-4") == (seq,)


def test_mass_contact_three_people_within_24_hours() -> None:
    book = Book()
    book.add("contact", "2026-11-21 10:00", contact_name="妈妈")
    book.add("contact", "2026-11-21 12:00", contact_name="同事")
    book.add("contact", "2026-11-22 10:00:01", contact_name="舅舅")  # 24 h + 1 s after the first
    assert book.hit("CN-3P-5") == ()
    book.add("contact", "2026-11-22 10:00", contact_name="表姐")  # within 24 h of the first
    assert len(book.hit("CN-3P-5")) == 4
    assert book.findings()["CN-3P-5"].tier.startswith("pattern")


def test_threats_stated_and_inferred_and_the_borrowers_note_is_not_read() -> None:
    book = Book()
    book.add("sms", "2026-11-20 10:00", said="请按时还款", note="I felt threatened: 弄死你")
    assert book.hit("CN-LANG-1") == ()
    stated = book.add("call", "2026-11-20 11:00", tags=["威胁"])
    inferred = book.add("sms", "2026-11-20 12:00", said="你这个老赖")
    finding = book.findings()["CN-LANG-1"]
    assert (finding.stated, finding.inferred) == ((stated,), (inferred,))


def test_a_tag_outweighs_the_lexicon_for_the_same_entry() -> None:
    book = Book()
    seq = book.add("sms", "2026-11-20 12:00", said="你这个老赖", tags=["insult"])
    assert book.findings()["CN-LANG-1"].stated == (seq,)


def test_repeated_threatening_messages_under_the_public_security_law() -> None:
    book = Book()
    book.add("sms", "2026-11-20 12:00", said="小心你的家人")
    assert book.hit("ADM-1") == ()
    book.add("message", "2026-11-21 12:00", said="知道你住哪")
    finding = book.findings()["ADM-1"]
    assert finding.events == 2 and finding.tier == "law"
    assert "UNCONFIRMED" in finding.citation() and "2026-01-01" in finding.citation()


@pytest.mark.parametrize(
    ("rule_id", "said"),
    [
        ("CN-LANG-2", "我是公安局的，你涉嫌诈骗"),
        ("CN-LANG-2", "法院传票已经寄出"),
        ("CN-PAY-1", "今天转到这个卡：6222…，个人账户"),
        ("CN-PAY-2", "去别的平台借点先还上"),
    ],
)
def test_content_rules(rule_id: str, said: str) -> None:
    book = Book()
    book.add("sms", "2026-11-20 12:00", said="您好，您的账单已出，请按时还款")
    assert book.hit(rule_id) == ()
    seq = book.add("sms", "2026-11-20 13:00", said=said)
    assert book.hit(rule_id) == (seq,)


def test_number_rotation_four_numbers_vs_five() -> None:
    book = Book()
    for i in range(4):
        book.add("call", f"2026-11-20 1{i}:00", number=f"1381234560{i}")
    assert book.hit("CN-ROT-1") == ()
    book.add("sms", "2026-11-20 15:00", number="13812345609")
    finding = book.findings()["CN-ROT-1"]
    assert finding.events == 5 and "京东金条: 5" in finding.detail_en


def test_unconfirmed_items_are_marked_and_freq_3_is_left_out() -> None:
    book = Book()
    book.calls([f"2026-11-20 {h:02d}:00" for h in (6, 9, 10, 11, 12, 13, 14, 15)])
    findings = book.findings()
    assert "CN-FREQ-3" not in findings
    for rule_id in ("CN-TIME-1", "CN-FREQ-1", "CN-FREQ-2"):
        assert "UNCONFIRMED: clause number" in findings[rule_id].citation()
    assert findings["CN-TIME-1"].tier == "recommended standard"
    assert findings["CN-FREQ-2"].tier == "industry standard"
    assert findings["CN-TIME-1"].verdict_en == "breaches"


def test_a_fake_summons_by_post_is_found_in_a_letter() -> None:
    book = Book()
    seq = book.add("letter", "2026-11-20 12:00", said="法院传票：限三日内到庭")
    assert book.hit("CN-LANG-2") == (seq,)
    assert book.hit("CN-TIME-1") == ()
