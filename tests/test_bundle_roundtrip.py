"""Bundle then verify: whole log, subsets, consistency between bundles, nothing to bundle."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from evidence.bundle import Options, build_bundle
from evidence.errors import NotFound
from evidence.ledger import Log
from evidence.verifier import verify_bundle
from tests.bundlefixtures import codes, draft, needs_poppler, pdf_text, populate


def test_whole_log_round_trip(log: Log, tmp_path: Path) -> None:
    populate(log)
    result = build_bundle(log, tmp_path / "case.zip", Options(title="张三诉某贷", borrower="张三"))
    assert (result.entries, result.events, result.attachments) == (7, 5, 3)
    report = verify_bundle(tmp_path / "case.zip")
    assert report.ok, report.problems
    assert (report.entries, report.attachments, report.head["size"]) == (7, 3, 7)
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("head.txt") == log.head().message()
    assert {"attachments/1-2_rec.m4a", "attachments/2-2_截图_1_.png"} <= names
    assert manifest["selection"]["seqs"] == list(range(7))
    assert manifest["log"]["fingerprint"] == log.info.fingerprint


def test_nothing_matches_writes_nothing(log: Log, tmp_path: Path) -> None:
    populate(log)
    with pytest.raises(NotFound, match="no entries match"):
        build_bundle(log, tmp_path / "none.zip", Options(platforms=("花呗",)))
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".evidence*")) == []


def test_empty_log_writes_nothing(log: Log, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        build_bundle(log, tmp_path / "none.zip", Options())
    assert not (tmp_path / "none.zip").exists()


def _subset(log: Log, tmp_path: Path) -> Path:
    populate(log)
    build_bundle(log, tmp_path / "jd.zip", Options(platforms=("京东金条",), lang="en"))
    return tmp_path / "jd.zip"


def test_subset_verifies_and_reveals_nothing_of_excluded_entries(log: Log, tmp_path: Path) -> None:
    path = _subset(log, tmp_path)
    report = verify_bundle(path)
    assert report.ok, report.problems
    assert report.entries == 4  # 3 events of 京东金条 and the amendment of entry 0
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        contents = b"".join(archive.read(n) for n in archive.namelist())
    forbidden = ["美团", "XYZZY", "PLUGH", "13912345679", "15012345678", "SECRET-ATTACHMENT",
                 "meituan", "wrong number"]  # fmt: skip
    for word in forbidden:
        assert word.encode() not in raw and word.encode() not in contents, word


@needs_poppler
def test_subset_pdf_text_reveals_nothing_of_excluded_entries(log: Log, tmp_path: Path) -> None:
    text = pdf_text(_subset(log, tmp_path), tmp_path)
    assert "京东金条" in text and "张妈妈" in text
    for word in ["美团", "XYZZY", "PLUGH", "13912345679", "15012345678", "meituan"]:
        assert word not in text, word


def test_period_selection(log: Log, tmp_path: Path) -> None:
    from evidence import timeutil

    populate(log)
    options = Options(
        since=timeutil.parse_day("2026-11-21", log.zone),
        until=timeutil.parse_day("2026-11-21", log.zone, end=True),
    )
    build_bundle(log, tmp_path / "day.zip", options)
    report = verify_bundle(tmp_path / "day.zip")
    assert report.ok, report.problems
    assert report.entries == 2


def test_two_bundles_of_one_log_are_consistent(log: Log, tmp_path: Path) -> None:
    populate(log)
    build_bundle(log, tmp_path / "early.zip", Options(platforms=("美团",)))
    log.append([draft("sms", "2026-11-25 08:30", number="95188", said="later")])
    build_bundle(log, tmp_path / "late.zip", Options())
    report = verify_bundle(tmp_path / "late.zip", against=tmp_path / "early.zip")
    assert report.ok, (report.problems, report.against and report.against.problems)
    assert report.against is not None and report.against.head["size"] == 7
    assert report.head["size"] == 8


def test_bundles_of_different_logs_are_not_consistent(log: Log, tmp_path: Path) -> None:
    from tests.conftest import PASSPHRASE, cheap_kdf

    populate(log)
    other, _ = log.store.create_log(PASSPHRASE, kdf=cheap_kdf())
    other.append([draft("call", "2026-11-20 10:00", number="95188")])
    build_bundle(log, tmp_path / "a.zip", Options())
    build_bundle(other, tmp_path / "b.zip", Options())
    report = verify_bundle(tmp_path / "a.zip", against=tmp_path / "b.zip")
    assert not report.ok
    assert "against.log" in codes(report)
