"""Bundles carry the log's RFC 3161 tokens with consistency proofs; `verify` checks them."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from evidence import timestamps
from evidence.bundle import Options, build_bundle
from evidence.ledger import Log
from evidence.verifier import verify_bundle
from tests import tsafixtures
from tests.bundlefixtures import codes, draft, populate, rewrite
from tests.tsafixtures import TestCa, TestTsa, tamper_token

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca


@pytest.fixture
def stamped(log: Log, tsa: TestTsa, tmp_path: Path) -> Path:
    """A bundle of a log timestamped once in the middle: later entries are not covered."""
    populate(log)
    timestamps.timestamp_log(log, [tsa.url])
    log.append([draft("call", "2026-11-25 23:40", number="13800138000", platform="借呗")])
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options())
    return out


def _records(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as archive:
        return [json.loads(line) for line in archive.read("timestamps.jsonl").splitlines()]


def test_bundle_has_tokens_proofs_and_coverage(stamped: Path, log: Log) -> None:
    records = _records(stamped)
    assert len(records) == 1
    stamp = records[0]
    assert stamp["head_size"] < log.head().size and stamp["consistency"]
    with zipfile.ZipFile(stamped) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    listed = {f["path"] for f in manifest["files"]}
    assert {"timestamps.jsonl", stamp["head_file"], stamp["token_file"]} <= listed
    report = verify_bundle(stamped)
    assert report.ok, report.problems
    assert len(report.timestamps) == 1
    seqs = manifest["selection"]["seqs"]
    assert all(report.covered[s] == stamp["gen_time"] for s in seqs if s < stamp["head_size"])
    assert report.uncovered == [s for s in seqs if s >= stamp["head_size"]] != []
    assert any("not checked against a trust anchor" in note for note in report.unchecked)


def test_tampered_token_in_bundle_fails(stamped: Path, tmp_path: Path) -> None:
    name = _records(stamped)[0]["token_file"]
    with zipfile.ZipFile(stamped) as archive:
        token = archive.read(name)
    bad = rewrite(stamped, tmp_path / "bad.zip", {name: tamper_token(token)}, fix_hashes=True)
    assert "timestamp.token" in codes(verify_bundle(bad))


def test_token_for_another_head_in_bundle_fails(stamped: Path, tmp_path: Path) -> None:
    record = _records(stamped)[0]
    with zipfile.ZipFile(stamped) as archive:
        head = archive.read(record["head_file"])
    forged = head.replace(b"size ", b"size 1", 1)
    bad = rewrite(stamped, tmp_path / "bad.zip", {record["head_file"]: forged}, fix_hashes=True)
    assert "timestamp.head" in codes(verify_bundle(bad))


def test_reordered_heads_in_bundle_fail(stamped: Path, tmp_path: Path) -> None:
    """A record claiming its token is over a later head than it is: no consistency."""
    with zipfile.ZipFile(stamped) as archive:
        data = archive.read("timestamps.jsonl")
    record = json.loads(data)
    record["consistency"] = list(reversed(record["consistency"]))
    changed = (json.dumps(record) + "\n").encode()
    bad = rewrite(stamped, tmp_path / "bad.zip", {"timestamps.jsonl": changed}, fix_hashes=True)
    assert "timestamp.consistency" in codes(verify_bundle(bad))


def test_bundle_without_timestamps_still_verifies(log: Log, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    build_bundle(log, out, Options())
    report = verify_bundle(out)
    assert report.ok and not report.timestamps and report.uncovered


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_a_bundled_token(stamped: Path, tsa_ca: TestCa, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    with zipfile.ZipFile(stamped) as archive:
        archive.extractall(folder)
    (folder / "ca.pem").write_bytes(tsa_ca.root_pem)
    record = _records(stamped)[0]
    result = subprocess.run(
        ["openssl", "ts", "-verify", "-token_in", "-in", record["token_file"],
         "-data", record["head_file"], "-CAfile", "ca.pem"],
        cwd=folder, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stderr
    assert "openssl ts -verify" in (folder / "VERIFY.txt").read_text(encoding="utf-8")


def test_verify_command_shows_timestamps(stamped: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    result = CliRunner().invoke(cli, ["verify", str(stamped)])
    assert result.exit_code == 0, result.output
    assert "timestamp: the first" in result.output
    assert "entries no timestamp covers" in result.output
    assert "not checked" in result.output


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler is not installed")
def test_pdf_says_which_entries_existed_by_when(stamped: Path, tmp_path: Path) -> None:
    from tests.bundlefixtures import pdf_text

    text = " ".join(pdf_text(stamped, tmp_path).split())
    size = _records(stamped)[0]["head_size"]
    assert f"记录 #0–#{size - 1} 不晚于" in text  # the default language is Chinese


def test_verify_tsa_root_checks_the_token_chain(stamped: Path, tsa_ca: TestCa) -> None:
    plain = verify_bundle(stamped)
    assert any(
        "TSA certificate" in n and "not checked against a trust anchor" in n
        for n in plain.unchecked
    )
    anchored = verify_bundle(stamped, tsa_roots=timestamps.load_anchors(tsa_ca.root_pem))
    assert anchored.ok, anchored.problems
    assert not any("TSA certificate" in n for n in anchored.unchecked), anchored.unchecked
    other = verify_bundle(stamped, tsa_roots=[TestCa("Another Root").root])
    assert "timestamp.token" in codes(other)
    assert any("untrusted" in p.detail for p in other.problems)


def test_verify_command_tsa_root(stamped: Path, tsa_ca: TestCa, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    (tmp_path / "root.pem").write_bytes(tsa_ca.root_pem)
    (tmp_path / "other.pem").write_bytes(TestCa("Another Root").root_pem)
    (tmp_path / "junk.pem").write_bytes(b"not a certificate")
    runner = CliRunner()
    good = runner.invoke(cli, ["verify", str(stamped), "--tsa-root", str(tmp_path / "root.pem")])
    assert good.exit_code == 0, good.output
    assert "TSA certificate" not in good.output
    bad = runner.invoke(cli, ["verify", str(stamped), "--tsa-root", str(tmp_path / "other.pem")])
    assert bad.exit_code == 5 and "timestamp.token" in bad.output
    junk = runner.invoke(cli, ["verify", str(stamped), "--tsa-root", str(tmp_path / "junk.pem")])
    assert junk.exit_code != 0 and "not PEM certificates" in junk.output
    assert "Traceback" not in junk.output


def test_a_record_over_a_later_head_than_its_entry_fails(stamped: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(stamped) as archive:
        record = json.loads(archive.read("timestamps.jsonl"))
    record["entry"] = record["head_size"] - 1
    changed = (json.dumps(record) + "\n").encode()
    bad = rewrite(stamped, tmp_path / "bad.zip", {"timestamps.jsonl": changed}, fix_hashes=True)
    assert "timestamp.invalid" in codes(verify_bundle(bad))
