"""United States (FDCPA, Reg F) and United Kingdom (CONC 7.9) rules at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.rulesfixtures import Book

NY = "America/New_York"


@pytest.mark.parametrize(
    ("at", "flagged"),
    [
        ("2026-11-20 07:59:59", True),
        ("2026-11-20 08:00:00", False),
        ("2026-11-20 21:00:00", False),  # "after 9:00 p.m.": 21:00 itself is the borderline
        ("2026-11-20 21:00:01", True),
    ],
)
def test_inconvenient_time_boundaries(at: str, flagged: bool) -> None:
    book = Book(NY)
    seq = book.add("call", at)
    assert book.hit("US-TIME-1", "us") == ((seq,) if flagged else ())


def test_dst_spring_forward_in_new_york() -> None:
    # 2026-03-09 01:30 UTC is 21:30 EDT on the 8th (DST began that morning), but 20:30 with
    # the winter offset: a fixed -05:00 would miss it.
    book = Book(NY)
    seq = book.add("call", datetime(2026, 3, 9, 1, 30, tzinfo=UTC))
    finding = book.findings("us")["US-TIME-1"]
    assert finding.entries == (seq,) and finding.days == ("2026-03-08",)
    day_before = Book(NY)
    day_before.add("call", datetime(2026, 3, 8, 1, 30, tzinfo=UTC))  # 20:30 EST on the 7th
    assert day_before.hit("US-TIME-1", "us") == ()


def test_dst_fall_back_in_new_york() -> None:
    # 2026-11-02 01:30 UTC is 20:30 EST on 1 November (DST ended that morning): allowed.
    book = Book(NY)
    book.add("call", datetime(2026, 11, 2, 1, 30, tzinfo=UTC))
    assert book.hit("US-TIME-1", "us") == ()
    day_before = Book(NY)
    seq = day_before.add("call", datetime(2026, 11, 1, 1, 30, tzinfo=UTC))  # 21:30 EDT
    assert day_before.hit("US-TIME-1", "us") == (seq,)


def test_the_zone_can_come_from_a_debtor_zone_fact_or_the_option() -> None:
    book = Book("Asia/Shanghai")  # the log's zone
    book.fact("debtor_zone", "2026-11-01 00:00", zone=NY)
    seq = book.add("call", datetime(2026, 11, 21, 3, 0, tzinfo=UTC))  # 22:00 in New York
    assert book.hit("US-TIME-1", "us") == (seq,)
    assert book.hit("US-TIME-1", "us", zone="Asia/Shanghai") == ()  # 11:00 in Shanghai
    assert book.findings("us")["US-TIME-1"].detail_en.endswith(f"({NY}) on 1 days")


def _daily(book: Book, days: range, **fields) -> list[int]:
    return [book.add("call", f"2026-11-{d:02d} 10:00", **fields) for d in days]


def test_seven_calls_in_seven_days_are_presumed_compliant_the_eighth_is_not() -> None:
    book = Book(NY)
    _daily(book, range(1, 8))
    assert book.hit("US-FREQ-1", "us") == ()
    eighth = book.add("call", "2026-11-07 11:00")
    assert book.hit("US-FREQ-1", "us") == (eighth,)


def test_the_window_rolls_an_eighth_call_on_day_eight_is_fine() -> None:
    book = Book(NY)
    _daily(book, range(1, 9))  # one call a day for 8 days: never 8 in 7 days
    assert book.hit("US-FREQ-1", "us") == ()


def test_seven_in_seven_is_per_debt() -> None:
    book = Book(NY)
    _daily(book, range(1, 5))
    _daily(book, range(1, 5), platform="Acme Collections")
    assert book.hit("US-FREQ-1", "us") == ()


@pytest.mark.parametrize(("day", "flagged"), [(7, True), (8, False)])
def test_a_call_within_seven_days_after_a_conversation(day: int, flagged: bool) -> None:
    book = Book(NY)
    book.fact("conversation", "2026-11-01 10:00", platform="京东金条")  # 1 November is day 1
    seq = book.add("call", f"2026-11-{day:02d} 09:00")
    assert book.hit("US-FREQ-2", "us") == ((seq,) if flagged else ())


def test_a_call_before_the_conversation_is_not_after_it() -> None:
    book = Book(NY)
    book.add("call", "2026-11-01 09:00")
    book.fact("conversation", "2026-11-01 10:00")
    assert book.hit("US-FREQ-2", "us") == ()


def test_communication_after_a_cease_request() -> None:
    book = Book(NY)
    book.add("call", "2026-11-01 09:00")
    book.fact("cease_request", "2026-11-01 10:00", written=True)
    seq = book.add("sms", "2026-11-02 09:00")
    assert book.hit("US-CEASE-1", "us") == (seq,)
    assert "not recorded as written" not in book.findings("us")["US-CEASE-1"].detail_en


def test_an_unwritten_cease_request_is_said_to_be_unwritten() -> None:
    book = Book(NY)
    book.fact("cease_request", "2026-11-01 10:00")
    book.add("call", "2026-11-02 09:00")
    assert "not recorded as written" in book.findings("us")["US-CEASE-1"].detail_en


def test_a_third_party_may_be_contacted_once() -> None:
    book = Book(NY)
    book.add("contact", "2026-11-01 10:00", contact_name="Mom", said="please ask him to call")
    assert book.hit("US-3P-2", "us") == ()
    second = book.add("contact", "2026-11-02 10:00", contact_name="Mom")
    assert book.hit("US-3P-2", "us") == (second,)


def test_telling_a_third_party_about_the_debt() -> None:
    book = Book(NY)
    seq = book.add("contact", "2026-11-01 10:00", contact_name="Boss", said="He owes money")
    assert book.hit("US-3P-1", "us") == (seq,)
    assert book.findings("us")["US-3P-1"].inferred == (seq,)


@pytest.mark.parametrize(
    ("rule_id", "said"),
    [
        ("US-HAR-1", "you worthless deadbeat"),
        ("US-DEC-1", "you will be arrested tomorrow"),
        ("US-DEC-1", "this is the police"),
    ],
)
def test_us_content_rules(rule_id: str, said: str) -> None:
    book = Book(NY)
    book.add("sms", "2026-11-01 10:00", said="Please call us about your account")
    assert book.hit(rule_id, "us") == ()
    seq = book.add("sms", "2026-11-01 11:00", said=said)
    assert book.hit(rule_id, "us") == (seq,)
    assert book.findings("us")[rule_id].tier == "law"


def test_uk_sets_no_numeric_hours_and_says_so() -> None:
    book = Book("Europe/London")
    seq = book.add("call", "2026-11-20 21:00:01")
    finding = book.findings("uk")["UK-TIME-2"]
    assert finding.entries == (seq,)
    assert "no numeric hours" in finding.rule_en and "analogy" in finding.rule_en
    assert "UNCONFIRMED" in finding.citation() and "MCOB" in finding.citation()
    assert book.hit("UK-TIME-1", "uk") == ()  # no request recorded: nothing to honour


def test_uk_honours_the_customers_request_on_when_to_call() -> None:
    book = Book("Europe/London")
    book.fact("agreed_time", "2026-11-01 09:00", window="18:00-20:00")
    book.add("call", "2026-11-20 19:59:59")
    outside = book.add("call", "2026-11-20 20:00:00")
    assert book.hit("UK-TIME-1", "uk") == (outside,)


def test_uk_disclosure_to_third_parties() -> None:
    book = Book("Europe/London")
    seq = book.add("contact", "2026-11-20 12:00", contact_name="Neighbour", tags=["discloses_debt"])
    finding = book.findings("uk")["UK-3P-1"]
    assert finding.entries == (seq,) and finding.stated == (seq,)
    assert finding.tier == "regulation" and "CONC 7.9.7R" in finding.citation()
