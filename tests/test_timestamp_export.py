"""`evidence timestamp --export DIR`: tokens and head texts an outsider checks with OpenSSL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from evidence import model, timestamps, timeutil
from evidence.ledger import Log
from tests import tsafixtures
from tests.bundlefixtures import draft
from tests.clifixtures import Evidence
from tests.tsafixtures import TestCa, TestTsa, tamper_token

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not found")


@pytest.fixture
def stamped(log: Log, tsa: TestTsa) -> Log:
    log.append([draft("call", "2026-11-20 23:15", number="13800138000")])
    timestamps.timestamp_log(log, [tsa.url])
    log.append([draft("call", "2026-11-21 23:15", number="13800138000")])
    timestamps.timestamp_log(log, [tsa.url])
    return log


def test_export_writes_each_token_with_its_head(stamped: Log, tmp_path: Path) -> None:
    done = timestamps.export_tokens(stamped, tmp_path / "out")
    assert [s.seq for s in done.stamps] == [1, 3] and done.problems == []
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(
        ["README.txt", "pub.pem", *(f"{n}.{ext}" for n in (1, 3) for ext in ("tsr", "head.txt",
         "head.sig"))]
    )  # fmt: skip
    for stamp in done.stamps:
        token = (tmp_path / "out" / f"{stamp.seq}.tsr").read_bytes()
        head = (tmp_path / "out" / f"{stamp.seq}.head.txt").read_bytes()
        recorded = stamped.entries()[stamp.seq].fields["token"]
        assert token == timestamps.decode_token(recorded)  # byte for byte as recorded
        assert timestamps.check_token(token, head).ok
    readme = (tmp_path / "out" / "README.txt").read_text(encoding="utf-8")
    assert "openssl ts -verify -token_in -in N.tsr -data N.head.txt" in readme
    assert stamped.log_id in readme


def test_export_refuses_a_folder_in_use(stamped: Log, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    with pytest.raises(timestamps.TimestampFailed, match="not an empty folder"):
        timestamps.export_tokens(stamped, tmp_path / "out")
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep me"


def test_export_leaves_out_a_bad_token(stamped: Log, tsa_ca: TestCa, tmp_path: Path) -> None:
    head = stamped.head()
    token = tamper_token(tsa_ca.token(timestamps.imprint_of(head.message()), None))
    bad = stamped.append(
        [
            model.timestamp_draft(
                stamped.store.clock(), "http://tsa.test/", head.size, head.root.hex(),
                head.signed_at, timeutil.format_canonical(stamped.store.clock()),
                timestamps.encode_token(token),
            )
        ]
    )[0]  # fmt: skip
    done = timestamps.export_tokens(stamped, tmp_path / "out")
    assert [s.seq for s in done.stamps] == [1, 3]
    assert len(done.problems) == 1 and f"#{bad.seq}" in done.problems[0]
    assert not (tmp_path / "out" / f"{bad.seq}.tsr").exists()


def _openssl(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)


@needs_openssl
def test_openssl_checks_exported_tokens(stamped: Log, tsa_ca: TestCa, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    timestamps.export_tokens(stamped, folder)
    (folder / "tsa-root.pem").write_bytes(tsa_ca.root_pem)
    for n in (1, 3):
        ok = _openssl(folder, "ts", "-verify", "-token_in", "-in", f"{n}.tsr",
                      "-data", f"{n}.head.txt", "-CAfile", "tsa-root.pem")  # fmt: skip
        assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr
        signed = _openssl(folder, "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
                          "-in", f"{n}.head.txt", "-sigfile", f"{n}.head.sig")  # fmt: skip
        assert signed.returncode == 0, signed.stderr
        shown = _openssl(folder, "ts", "-reply", "-token_in", "-in", f"{n}.tsr", "-token_out",
                         "-text")  # fmt: skip
        assert shown.returncode == 0 and "Time stamp:" in shown.stdout, shown.stderr
    wrong = _openssl(folder, "ts", "-verify", "-token_in", "-in", "1.tsr",
                     "-data", "3.head.txt", "-CAfile", "tsa-root.pem")  # fmt: skip
    assert wrong.returncode != 0  # a token proves nothing about another head
    (folder / "other.pem").write_bytes(TestCa("Another Root").root_pem)
    untrusted = _openssl(folder, "ts", "-verify", "-token_in", "-in", "1.tsr",
                         "-data", "1.head.txt", "-CAfile", "other.pem")  # fmt: skip
    assert untrusted.returncode != 0


def test_cli_export(tmp_path: Path, database_url: str, tsa: TestTsa) -> None:
    evidence = Evidence(tmp_path, database_url)
    evidence.env.update(EVIDENCE_TSA="", EVIDENCE_TSA_CA="")  # no TSA from the environment
    run = evidence
    run("init", "--kdf-memory", "8")
    run("log", "call", "--number", "13800138000", "--at", "2026-11-20 23:15")
    run("timestamp", "--tsa", tsa.url)
    before = tsa.requests
    out = run("timestamp", "--export", str(tmp_path / "tokens"))
    assert "Wrote 1 timestamp token(s)" in out.output and "openssl ts -verify" in out.output
    assert tsa.requests == before  # exporting asks no TSA
    assert (tmp_path / "tokens" / "1.tsr").exists()
    again = run("timestamp", "--export", str(tmp_path / "tokens"), code=1)
    assert "not an empty folder" in again.output
