"""Amendments that clear a field: a wrong platform or a stray note removed, visibly."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cli.exit_codes import ExitCode
from evidence import model
from evidence.bundle import Options, build_bundle, stats
from evidence.errors import InvalidInput
from evidence.model import Entry
from evidence.rules.base import effective
from tests import clifixtures
from tests.bundlefixtures import needs_poppler, pdf_text, populate
from tests.clifixtures import Evidence
from tests.rulesfixtures import LOG_ID, RECORDED, Book

AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
evidence = clifixtures.evidence


def _event(kind: str = "call", **fields) -> Entry:
    draft = model.make_draft(kind, AT, {"number": "13800138000", **fields})
    return Entry(LOG_ID, 0, kind, AT, RECORDED, "Asia/Shanghai", draft.fields, (), None, b"")


def test_the_amendment_names_what_it_clears() -> None:
    target = _event(platform="借呗", note="是我妈的号码", collector="王")
    draft = model.amendment_draft(
        target, RECORDED, {"collector": "李"}, "wrong lender", cleared=["platform", "note", "note"]
    )
    assert draft.fields == {
        "target": 0,
        "changes": {"collector": "李"},
        "cleared": ["note", "platform"],
        "reason": "wrong lender",
    }
    only = model.amendment_draft(target, RECORDED, {}, "x", cleared=["platform"])
    assert only.fields["changes"] == {} and only.fields["cleared"] == ["platform"]


@pytest.mark.parametrize(
    ("kind", "fields", "changes", "cleared", "message"),
    [
        ("call", {}, {}, ["location"], "call has no field 'location'"),
        ("call", {}, {}, ["number"], "a call needs number"),
        ("call", {"platform": "借呗"}, {"platform": "花呗"}, ["platform"],
         "both changed and cleared"),
        ("fact", {"fact": "agreed_time", "window": "20:00-21:00"}, {}, ["window"],
         "agreed_time needs window"),
        ("fact", {"fact": "conversation"}, {}, ["fact"], "a fact needs fact"),
    ],
)  # fmt: skip
def test_what_cannot_be_cleared(kind, fields, changes, cleared, message) -> None:
    if kind == "fact":
        draft = model.make_draft("fact", AT, fields)
        target = Entry(
            LOG_ID, 0, "fact", AT, RECORDED, "Asia/Shanghai", draft.fields, (), None, b""
        )
    else:
        target = _event(kind, **fields)
    with pytest.raises(InvalidInput, match=message):
        model.amendment_draft(target, RECORDED, changes, "x", cleared=cleared)


def test_amended_applies_changes_then_removes_and_leaves_its_inputs_alone() -> None:
    fields = {"platform": "借呗", "note": "n", "said": "还钱"}
    later = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
    body = {
        "changes": {"said": "还钱！", "occurred_at": "2026-11-21T01:00:00Z"},
        "cleared": ["note"],
    }
    instant, result = model.amended(AT, fields, body)
    assert (instant, result) == (later, {"platform": "借呗", "said": "还钱！"})
    assert fields == {"platform": "借呗", "note": "n", "said": "还钱"}


def test_rules_bundle_counts_and_pages_agree_on_a_cleared_platform() -> None:
    book = Book()
    call = book.add("call", "2026-11-20 23:30", platform="借呗")
    assert book.hit("CN-TIME-1", platform="借呗") == (call,)
    draft = model.amendment_draft(
        book.entries[call], RECORDED, {}, "not them", cleared=["platform"]
    )
    book._append("amend", RECORDED, draft.fields)
    assert book.hit("CN-TIME-1", platform="借呗") == ()
    assert book.hit("CN-TIME-1") == (call,)  # still a night call, of no known lender
    ((_entry, _when, fields),) = effective(book.entries)
    assert "platform" not in fields
    amendment = book.entries[-1]
    assert "platform" not in stats.effective(book.entries[call], [amendment])


def test_cli_amend_clear_and_show(evidence: Evidence) -> None:
    evidence.init()
    evidence("log", "call", "--number", "13800138000", "--platform", "借呗", "--tag", "威胁")
    evidence("amend", "0", "--clear", "platform", "--clear", "tag", "--reason", "wrong lender")
    shown = evidence("show", "0").output
    assert "platform → (removed)" in shown and "tags → (removed)" in shown
    assert "platform:" in shown  # the original, as recorded, is still shown
    amendment = json.loads(evidence("show", "1", "--json").output)
    assert amendment["fields"]["cleared"] == ["platform", "tags"]
    assert "-platform" in evidence("list").output
    before = evidence.rows()
    refused = evidence("amend", "0", "--clear", "number", "--reason", "x", code=ExitCode.USAGE)
    assert "needs number" in refused.output
    assert evidence.rows() == before


@needs_poppler
def test_the_pdf_shows_a_cleared_field_under_its_entry(log, tmp_path) -> None:
    populate(log)
    log.amend(1, {}, reason="not this lender", cleared=["platform"])
    build_bundle(log, tmp_path / "zh.zip", Options(title="t", borrower="b", purpose="civil"))
    text = pdf_text(tmp_path / "zh.zip", tmp_path).replace("\n", " ")
    assert "platform → 已删除" in text and "not this lender" in text
