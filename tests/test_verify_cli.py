"""`evidence bundle` and `evidence verify` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.bundlefixtures import rewrite
from tests.clifixtures import Evidence


@pytest.fixture
def evidence(tmp_path: Path, database_url: str) -> Evidence:
    return Evidence(tmp_path, database_url)


def _bundle(evidence: Evidence, tmp_path: Path) -> Path:
    evidence.init()
    evidence("log", "call", "--number", "138 1234 5678", "--platform", "京东金条",
             "--said", "<b>明天去你单位</b>", "--at", "2026-11-20 23:15")  # fmt: skip
    evidence("log", "sms", "--number", "1069012345", "--platform", "美团", "--said", "逾期",
             "--at", "2026-11-21 09:00")  # fmt: skip
    out = tmp_path / "case.zip"
    result = evidence("bundle", "--out", str(out), "--platform", "京东金条", "--title", "张三")
    assert "Wrote" in result.output and "1 events" in result.output
    return out


def test_bundle_then_verify_without_store_or_passphrase(evidence: Evidence, tmp_path: Path):
    out = _bundle(evidence, tmp_path)
    result = CliRunner().invoke(cli, ["verify", str(out)], env={"EVIDENCE_STORE": "/nonexistent"})
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output
    zh = CliRunner().invoke(cli, ["verify", str(out), "--lang", "zh"])
    assert zh.exit_code == 0 and "验证通过" in zh.output
    data = json.loads(CliRunner().invoke(cli, ["verify", str(out), "--json"]).output)
    assert data["ok"] is True and data["entries"] == 1 and data["problems"] == []


def test_verify_names_every_problem_and_exits_5(evidence: Evidence, tmp_path: Path) -> None:
    out = _bundle(evidence, tmp_path)
    bad = rewrite(out, tmp_path / "bad.zip", change={"head.sig": b"\0" * 64, "pub.pem": None})
    result = CliRunner().invoke(cli, ["verify", str(bad)])
    assert result.exit_code == 5
    assert "NOT VERIFIED" in result.output and "pub.pem" in result.output
    assert "head.sig" in result.output
    data = json.loads(CliRunner().invoke(cli, ["verify", str(bad), "--json"]).output)
    assert {p["code"] for p in data["problems"]} >= {"file.missing", "file.hash"}


def test_bundle_with_no_match_writes_nothing(evidence: Evidence, tmp_path: Path) -> None:
    evidence.init()
    evidence("log", "other", "--said", "x")
    result = evidence("bundle", "--out", str(tmp_path / "x.zip"), "--platform", "无", code=4)
    assert "no entries match" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_bundle_refuses_to_overwrite(evidence: Evidence, tmp_path: Path) -> None:
    out = _bundle(evidence, tmp_path)
    evidence("bundle", "--out", str(out), code=6)
    evidence("bundle", "--out", str(out), "--force", "--lang", "en")


def test_verify_against(evidence: Evidence, tmp_path: Path) -> None:
    out = _bundle(evidence, tmp_path)
    evidence("log", "sms", "--number", "95188", "--said", "later", "--platform", "京东金条")
    later = tmp_path / "later.zip"
    evidence("bundle", "--out", str(later))
    result = CliRunner().invoke(cli, ["verify", str(later), "--against", str(out)])
    assert result.exit_code == 0, result.output
