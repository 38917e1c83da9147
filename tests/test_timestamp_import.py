"""`evidence import` takes a timestamp after importing when a TSA is configured (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path

from tests import tsafixtures
from tests.importfixtures import collection_sms, write_sms_xml
from tests.test_timestamp_cli import Cli
from tests.tsafixtures import TestCa, TestTsa

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca


def _kinds(evidence: Cli) -> list[str]:
    return [e["kind"] for e in json.loads(evidence("list", "--json").output)]


def _setup(tmp_path: Path, database_url: str) -> tuple[Cli, Path]:
    evidence = Cli(tmp_path, database_url)
    evidence("init", "--kdf-memory", "8")
    return evidence, write_sms_xml(tmp_path / "sms-1.xml", collection_sms(5))


def test_import_then_timestamp_covers_everything_imported(
    tmp_path: Path, database_url: str, tsa: TestTsa, tsa_ca: TestCa
) -> None:
    evidence, backup = _setup(tmp_path, database_url)
    (tmp_path / "ca.pem").write_bytes(tsa_ca.root_pem)
    env = {"EVIDENCE_TSA": tsa.url, "EVIDENCE_TSA_CA": str(tmp_path / "ca.pem")}
    result = evidence("import", str(backup), "--quiet", env=env)
    assert "Timestamped: the first" in result.output
    kinds = _kinds(evidence)
    assert kinds[-1] == "timestamp" and kinds.count("timestamp") == 1
    assert "existed no later than" in evidence("show", "0").output
    # Importing the same file again adds nothing, so no new timestamp either.
    evidence("import", str(backup), "--quiet", env=env)
    assert _kinds(evidence).count("timestamp") == 1
    assert tsa.requests == 1


def test_a_failing_tsa_never_undoes_the_import(
    tmp_path: Path, database_url: str, tsa: TestTsa
) -> None:
    evidence, backup = _setup(tmp_path, database_url)
    tsa.close()
    result = evidence("import", str(backup), "--quiet", env={"EVIDENCE_TSA": tsa.url})
    assert "the import is complete, but no timestamp was taken" in result.output
    kinds = _kinds(evidence)
    assert "timestamp" not in kinds and kinds.count("sms") == 5
    assert "OK" in evidence("check").output


def test_no_timestamp_and_no_tsa_mean_no_request(
    tmp_path: Path, database_url: str, tsa: TestTsa
) -> None:
    evidence, backup = _setup(tmp_path, database_url)
    evidence("import", str(backup), "--quiet", "--no-timestamp", env={"EVIDENCE_TSA": tsa.url})
    assert tsa.requests == 0 and "timestamp" not in _kinds(evidence)
