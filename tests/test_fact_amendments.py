"""Amending the facts the conduct rules read: their own fields, checked as amended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evidence import model, phone, rules
from evidence.errors import InvalidInput
from evidence.model import Entry
from tests.rulesfixtures import LOG_ID, RECORDED, Book

AT = datetime(2026, 11, 1, tzinfo=UTC)


def _fact(**fields) -> Entry:
    draft = model.make_draft("fact", AT, fields)
    return Entry(LOG_ID, 0, "fact", AT, RECORDED, "Asia/Shanghai", draft.fields, (), None, b"")


@pytest.mark.parametrize(
    ("fact", "changes", "expected"),
    [
        ({"fact": "agreed_time", "window": "20:00-21:00"}, {"window": "21:00 - 22:30"},
         {"window": "21:00-22:30"}),
        ({"fact": "cease_request"}, {"written": True}, {"written": True}),
        ({"fact": "cease_request", "written": True}, {"written": False}, {"written": False}),
        ({"fact": "debtor_zone", "zone": "Asia/Shanghai"}, {"zone": "America/New_York"},
         {"zone": "America/New_York"}),
        ({"fact": "contact_refused", "contact_name": "妈妈"}, {"number": "138 1234 5678"},
         {"number": phone.normalize("138 1234 5678")}),
        ({"fact": "agreed_time", "window": "20:00-21:00"},
         {"fact": "debtor_zone", "zone": "Europe/London"},
         {"fact": "debtor_zone", "zone": "Europe/London"}),
    ],
)  # fmt: skip
def test_a_facts_own_fields_can_be_amended(fact: dict, changes: dict, expected: dict) -> None:
    draft = model.amendment_draft(_fact(**fact), RECORDED, changes, "corrected")
    assert draft.fields["changes"] == expected


@pytest.mark.parametrize(
    ("fact", "changes", "message"),
    [
        ({"fact": "agreed_time", "window": "20:00-21:00"}, {"fact": "debtor_zone"},
         "debtor_zone needs zone"),
        ({"fact": "cease_request"}, {"fact": "agreed_time"}, "agreed_time needs window"),
        ({"fact": "conversation"}, {"fact": "contact_refused"}, "contact_name or number"),
        ({"fact": "agreed_time", "window": "20:00-21:00"}, {"window": "late"}, "20:00-21:30"),
        ({"fact": "debtor_zone", "zone": "Asia/Shanghai"}, {"zone": "Mars/Olympus"}, "zone"),
        ({"fact": "conversation"}, {"fact": "birthday"}, "fact must be one of"),
        ({"fact": "conversation"}, {"duration": 3}, "no field 'duration'"),
    ],
)  # fmt: skip
def test_an_amended_fact_must_still_be_a_valid_fact(fact: dict, changes: dict, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        model.amendment_draft(_fact(**fact), RECORDED, changes, "corrected")


def test_an_amended_agreed_window_is_what_the_rules_apply() -> None:
    book = Book()
    fact = book.fact("agreed_time", "2026-11-01 09:00", window="22:00-23:00")
    book.add("call", "2026-11-20 22:30")
    assert book.hit("CN-TIME-1") == ()
    book.amend(fact, window="23:00-23:30")
    assert book.hit("CN-TIME-1") == (1,)


def test_an_amended_debtor_zone_moves_the_local_day() -> None:
    book = Book()
    fact = book.fact("debtor_zone", "2026-11-01 09:00", zone="Asia/Shanghai")
    book.add("call", "2026-11-20 10:30")  # 10:30 in Shanghai, 21:30 the day before in New York
    assert book.hit("US-TIME-1", "us") == ()
    book.amend(fact, zone="America/New_York")
    assert book.hit("US-TIME-1", "us") == (1,)


def test_facts_missing_what_their_kind_needs_are_ignored_not_fatal() -> None:
    """Such facts could only come from amendments made before they were checked."""
    book = Book()
    for fields in ({"fact": "agreed_time"}, {"fact": "debtor_zone"}):
        seq = len(book.entries)
        book.entries.append(
            Entry(LOG_ID, seq, "fact", AT, RECORDED, "Asia/Shanghai", fields, (), None, b"")
        )
    book.add("call", "2026-11-20 22:30")
    for jurisdiction in ("cn", "us", "uk"):
        rules.report(book.entries, jurisdiction)
    assert book.hit("CN-TIME-1") == (2,)


def test_amending_a_fact_through_the_ledger(log) -> None:
    (fact,) = log.append([model.make_draft("fact", AT, {"fact": "cease_request"})])
    log.amend(fact.seq, {"written": True}, "it was a letter")
    with pytest.raises(InvalidInput, match="needs window"):
        log.amend(fact.seq, {"fact": "agreed_time"}, "wrong kind")
    (amended,) = rules.effective(log.entries())
    assert amended[2] == {"fact": "cease_request", "written": True}
