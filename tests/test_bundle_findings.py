"""The bundle's findings section and the optional complaint draft (complaint.txt)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence.bundle import Options, build_bundle
from evidence.errors import InvalidInput
from evidence.ledger import Log
from evidence.verifier import verify_bundle
from tests.bundlefixtures import HOSTILE, draft, needs_poppler, pdf_text, populate


def _flat(text: str) -> str:
    return "".join(text.split())


@needs_poppler
def test_pdf_shows_the_night_call_finding_with_rule_id_and_citation(
    log: Log, tmp_path: Path
) -> None:
    from evidence import rules

    populate(log)
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(lang="en", jurisdiction="cn"))
    text = _flat(pdf_text(out, tmp_path))
    found = {f.rule_id: f for f in rules.analyze(log.entries(), "cn")}
    night = found["CN-TIME-1"]
    assert 0 in night.entries
    assert _flat("Findings: collection conduct against the rules") in text
    assert "CN-TIME-1" in text
    assert _flat(night.citation())[:40] in text
    assert _flat(night.rule("en"))[:40] in text
    assert "#0" in text and "(E1-1" in text  # the entry and its evidence-index item
    assert _flat("counted from the recorded times") in text


@needs_poppler
def test_chinese_findings_section(log: Log, tmp_path: Path) -> None:
    from evidence import rules

    populate(log)
    out = tmp_path / "zh.zip"
    build_bundle(log, out, Options(lang="zh"))
    text = _flat(pdf_text(out, tmp_path))
    night = {f.rule_id: f for f in rules.analyze(log.entries(), "cn")}["CN-TIME-1"]
    assert "催收行为与规则对照" in text
    assert _flat(night.rule("zh"))[:20] in text
    assert "证据1-1" in text


@needs_poppler
def test_stated_and_inferred_are_told_apart(log: Log, tmp_path: Path) -> None:
    log.append(
        [
            draft(
                "sms",
                "2026-11-21 10:00",
                number="1069012345",
                platform="P",
                tags=["threat"],
                said="hello",
            ),
            draft(
                "sms",
                "2026-11-21 11:00",
                number="1069012345",
                platform="P",
                said="不还钱就弄死你全家",
            ),
        ]
    )
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(lang="en"))
    text = _flat(pdf_text(out, tmp_path))
    assert "[stated]" in text or "[inferred]" in text


@needs_poppler
def test_hostile_text_is_printed_literally(log: Log, tmp_path: Path) -> None:
    platform = "<b>坏</b>&amp;<font size=40>"
    log.append(
        [
            draft(
                "call",
                "2026-11-20 23:30",
                number="13812345678",
                platform=platform,
                said=HOSTILE,
                answered=True,
            ),
        ]
    )
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(lang="en", platforms=(platform,)))
    text = pdf_text(out, tmp_path)
    assert "CN-TIME-1" in text
    assert "<b>坏</b>&amp;<font size=40>" in text


def test_complaint_draft_is_in_the_zip_and_verify_passes(log: Log, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(complaint="12378"))
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert "complaint.txt" in names
        letter = archive.read("complaint.txt").decode("utf-8")
        manifest = json.loads(archive.read("manifest.json"))
    assert "草稿" in letter
    assert "complaint.txt" in {f["path"] for f in manifest["files"]}
    assert manifest["selection"]["complaint"] == "12378"
    assert manifest["selection"]["jurisdiction"] == "cn"
    report = verify_bundle(out)
    assert report.ok, [p.code for p in report.problems]


def test_no_complaint_unless_asked(log: Log, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options(jurisdiction="us"))
    with zipfile.ZipFile(out) as archive:
        assert "complaint.txt" not in archive.namelist()
    assert verify_bundle(out).ok


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Options(jurisdiction="fr")
    with pytest.raises(InvalidInput):
        Options(complaint="nobody")


def test_cli_bundle_has_the_options() -> None:
    from cli.main import cli

    result = CliRunner().invoke(cli, ["bundle", "--help"])
    assert "--with-complaint" in result.output and "--jurisdiction" in result.output


@pytest.mark.parametrize(
    ("complaint_jurisdiction", "cited", "not_cited"),
    [(None, "CN-", "US-"), ("us", "US-", "CN-")],
)
def test_complaint_follows_an_explicit_jurisdiction(
    log: Log, tmp_path: Path, complaint_jurisdiction, cited: str, not_cited: str
) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    options = Options(
        lang="en",
        jurisdiction=complaint_jurisdiction or "cn",
        complaint="12378",
        complaint_jurisdiction=complaint_jurisdiction,
    )
    build_bundle(log, out, options)
    with zipfile.ZipFile(out) as archive:
        letter = archive.read("complaint.txt").decode("utf-8")
    assert cited in letter and not_cited not in letter
    assert ("Judged under the rules of" in letter) == (complaint_jurisdiction is not None)
    assert verify_bundle(out).ok
