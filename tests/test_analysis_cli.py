"""`evidence analyze`, `evidence complaint` and `evidence log fact`, as a borrower runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.exit_codes import ExitCode
from cli.main import cli

PASSPHRASE = "test passphrase 一二三"


class Evidence:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        url = database_url if database_url.startswith("postgresql") else ""
        self.env = {
            "EVIDENCE_STORE": str(tmp_path / "store"),
            "EVIDENCE_PASSPHRASE": PASSPHRASE,
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "EVIDENCE_DATABASE_URL": url,
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0):
        result = self.runner.invoke(cli, list(args), env=self.env)
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def evidence(tmp_path: Path, database_url: str) -> Evidence:
    run = Evidence(tmp_path, database_url)
    run("init", "--kdf-memory", "8")
    return run


def _harassment(evidence: Evidence) -> None:
    for at in (
        "2026-11-20 21:59:59",
        "2026-11-20 22:00:00",
        "2026-11-20 23:30",
        "2026-11-21 09:00",
    ):
        evidence("log", "call", "--number", "138 1234 5678", "--at", at, "--platform", "京东金条",
                 "--answered", "--said", "你这个老赖，再不还就发到你们公司群")  # fmt: skip
    evidence("log", "call", "--number", "139 0000 2222", "--at", "2026-11-21 09:30",
             "--platform", "京东金条", "--tag", "威胁", "--said", "知道你家在哪",
             "--collector", "王经理 工号8837")  # fmt: skip
    evidence("log", "contact", "--who", "妈妈", "--relation", "mother", "--platform", "京东金条",
             "--at", "2026-11-21 10:05", "--said", "告诉她我欠了钱，让她替我还")  # fmt: skip
    evidence(
        "log", "fact", "--fact", "contact_refused", "--who", "妈妈", "--at", "2026-11-21 11:00"
    )
    evidence("log", "contact", "--who", "妈妈", "--relation", "mother", "--platform", "京东金条",
             "--at", "2026-11-22 10:05")  # fmt: skip


def test_analyze_prints_a_table_with_tiers_and_citations(evidence: Evidence) -> None:
    _harassment(evidence)
    out = evidence("analyze").output
    assert "times in Asia/Shanghai" in out
    for rule_id in ("CN-TIME-1", "CN-3P-3", "CN-3P-4", "CN-LANG-1"):
        assert rule_id in out
    assert "recommended standard" in out and "GB/T 45251" in out and "UNCONFIRMED" in out
    assert re.search(r"CN-TIME-1\s+recommended standard\s+2\s+2026-11-20\s+#1,#2", out)
    assert "stated+inferred" in out  # CN-LANG-1: one tagged, four found by the lexicon
    assert "不得采用恐吓" in evidence("analyze", "--lang", "zh").output


def test_analyze_json_and_retraction(evidence: Evidence) -> None:
    _harassment(evidence)
    data = json.loads(evidence("analyze", "--json").output)
    night = next(f for f in data["findings"] if f["rule_id"] == "CN-TIME-1")
    assert night["entries"] == [1, 2] and night["days"] == ["2026-11-20"]
    assert night["tier"] == "recommended standard"
    assert data["summary"]["calls"] == 5 and data["summary"]["night_calls"] == 2
    evidence("retract", "2", "--reason", "it was my brother")
    data = json.loads(evidence("analyze", "--json").output)
    night = next(f for f in data["findings"] if f["rule_id"] == "CN-TIME-1")
    assert night["entries"] == [1] and data["summary"]["calls"] == 4


def test_analyze_filters_by_platform_and_dates(evidence: Evidence) -> None:
    _harassment(evidence)
    evidence("log", "call", "--number", "138 1234 5678", "--at", "2026-11-20 23:00",
             "--platform", "美团")  # fmt: skip
    only = json.loads(evidence("analyze", "--json", "--platform", "美团").output)
    assert only["summary"]["calls"] == 1 and only["summary"]["platforms"] == ["美团"]
    day = json.loads(evidence("analyze", "--json", "--since", "2026-11-21").output)
    assert day["summary"]["calls"] == 2
    assert "CN-TIME-1" not in {f["rule_id"] for f in day["findings"]}


def test_us_rules_with_a_zone_and_dst(evidence: Evidence) -> None:
    # 01:30 UTC on 9 March 2026 is 21:30 EDT on the 8th (DST began that morning).
    evidence("log", "call", "--number", "+1 212 555 0100", "--at", "2026-03-09T01:30:00Z")
    data = json.loads(
        evidence("analyze", "--json", "--jurisdiction", "us", "--zone", "America/New_York").output
    )
    finding = next(f for f in data["findings"] if f["rule_id"] == "US-TIME-1")
    assert finding["days"] == ["2026-03-08"] and finding["tier"] == "law"
    evidence("log", "fact", "--fact", "debtor_zone", "--zone", "America/New_York", "--at",
             "2026-03-01 00:00")  # fmt: skip
    again = json.loads(evidence("analyze", "--json", "--jurisdiction", "us").output)
    assert again["summary"]["zone"] == "America/New_York"
    assert any(f["rule_id"] == "US-TIME-1" for f in again["findings"])


def test_log_fact_validates_and_lists(evidence: Evidence) -> None:
    result = evidence("log", "fact", "--fact", "agreed_time", code=ExitCode.USAGE)
    assert "needs window" in result.output
    evidence("log", "fact", "--fact", "agreed_time", "--window", "22:00-23:00", "--at",
             "2026-11-20 09:00")  # fmt: skip
    evidence("log", "call", "--number", "138 1234 5678", "--at", "2026-11-20 22:30")
    assert "agreed_time 22:00-23:00" in evidence("list").output
    assert "CN-TIME-1" not in evidence("analyze").output


def test_the_lexicon_file_option(evidence: Evidence, tmp_path: Path) -> None:
    evidence(
        "log", "sms", "--number", "1069012345", "--said", "你个烂人", "--at", "2026-11-20 12:00"
    )
    assert "CN-LANG-1" not in evidence("analyze").output
    words = tmp_path / "words.txt"
    words.write_text("insult: 烂人\n", encoding="utf-8")
    assert "CN-LANG-1" in evidence("analyze", "--lexicon", str(words)).output
    words.write_text("anger: 烂人\n", encoding="utf-8")
    result = evidence("analyze", "--lexicon", str(words), code=ExitCode.USAGE)
    assert "unknown signal" in result.output


def test_terminal_output_escapes_collector_text(evidence: Evidence) -> None:
    evidence("log", "contact", "--who", "妈\x1b]0;pwned\x07妈", "--platform", "京\u202e东",
             "--at", "2026-11-20 23:00")  # fmt: skip
    out = evidence("analyze").output
    assert "\x1b" not in out and "\u202e" not in out and "\\u202e" in out
    draft = evidence("complaint", "--to", "12378").output
    assert "\x1b" not in draft and "\x07" not in draft and "\u202e" not in draft
    assert "妈\\u001b]0;pwned\\u0007妈" in draft


def test_every_number_in_a_draft_equals_analyze_json(evidence: Evidence, tmp_path: Path) -> None:
    _harassment(evidence)
    summary = json.loads(evidence("analyze", "--json").output)["summary"]
    out = tmp_path / "draft.txt"
    evidence("complaint", "--to", "12378", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    facts = text.split("二、主要事实")[1].split("\n\n")[0]
    numbers = [int(n) for n in re.findall(r"(?<![\d:\-+])(\d+)(?![\d:\-])", facts)]
    assert numbers == [
        summary["calls"],
        summary["answered_calls"],
        summary["night_calls"],
        summary["sms"],
        summary["messages"],
        summary["visits"],
        summary["distinct_numbers"],
        summary["third_party_contacts"],
    ]
    assert summary["first"] in facts and summary["last"] in facts
    assert "【草稿】" in text and "CN-3P-4" in text and "GB/T 45251" in text
    assert "知道你家在哪" in text  # the tagged quote comes first
    assert "催收人员自称：王经理 工号8837" in text and summary["collectors"] == ["王经理 工号8837"]
    evidence("complaint", "--to", "12378", "--out", str(out), code=ExitCode.CONFLICT)
    english = evidence("complaint", "--to", "cfpb").output
    assert english.startswith("[DRAFT]") and "15 U.S.C." in english


@pytest.mark.parametrize("target", ["nifa", "12321", "police", "court"])
def test_each_recipient(evidence: Evidence, target: str) -> None:
    _harassment(evidence)
    text = evidence("complaint", "--to", target, "--lang", "en").output
    assert text.startswith("[DRAFT]") and "Verbatim quotes" in text


@pytest.mark.parametrize(
    ("target", "jurisdiction"), [("12378", "us"), ("cfpb", "cn"), ("nifa", "uk")]
)
def test_the_draft_uses_the_chosen_rule_set(
    evidence: Evidence, target: str, jurisdiction: str
) -> None:
    _harassment(evidence)
    found = json.loads(evidence("analyze", "--json", "--jurisdiction", jurisdiction).output)
    text = evidence(
        "complaint", "--to", target, "--jurisdiction", jurisdiction, "--lang", "en"
    ).output
    rules_cited = set(re.findall(r"^- ([A-Z]+(?:-[A-Z0-9]+)*-\d+) \(", text, flags=re.MULTILINE))
    assert rules_cited == {f["rule_id"] for f in found["findings"]}
    assert rules_cited  # the harassment breaks rules of every jurisdiction
    for finding in found["findings"]:
        assert finding["citation"] in text
    facts = text.split("2. What happened")[1].split("\n\n")[0]
    summary = found["summary"]
    assert f"{summary['night_calls']} of them {summary['night']}" in facts
    assert "Judged under the rules of" in text
    default = evidence("complaint", "--to", target, "--lang", "en").output
    assert "Judged under the rules of" not in default
