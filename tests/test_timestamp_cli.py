"""`evidence timestamp` and the coverage line of `evidence show`, against a loopback TSA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests import tsafixtures
from tests.tsafixtures import TestCa, TestTsa

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca
PASSPHRASE = "test passphrase 一二三"


class Cli:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.env = {
            "EVIDENCE_STORE": str(tmp_path / "store"),
            "EVIDENCE_PASSPHRASE": PASSPHRASE,
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "EVIDENCE_DATABASE_URL": database_url if database_url.startswith("postgresql") else "",
            "EVIDENCE_TSA": "",
            "EVIDENCE_TSA_CA": "",
        }
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, env: dict[str, str] | None = None):
        result = self.runner.invoke(cli, list(args), env={**self.env, **(env or {})})
        assert result.exit_code == code, (result.exit_code, result.output, result.exception)
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def evidence(tmp_path: Path, database_url: str) -> Cli:
    run = Cli(tmp_path, database_url)
    run("init", "--kdf-memory", "8")
    run("log", "call", "--number", "13800138000", "--at", "2026-11-20 23:15")
    return run


def _count(evidence: Cli) -> int:
    return len(json.loads(evidence("list", "--json").output))


def test_timestamp_then_show_says_when_the_entry_existed(
    evidence: Cli, tsa: TestTsa, tsa_ca: TestCa, tmp_path: Path
) -> None:
    before = evidence("show", "0").output
    assert "none covers it yet" in before
    (tmp_path / "ca.pem").write_bytes(tsa_ca.root_pem)
    result = evidence("timestamp", "--tsa", tsa.url, "--tsa-ca", str(tmp_path / "ca.pem"))
    assert "existed no later than" in result.output and "entry #1" in result.output
    shown = evidence("show", "0").output
    assert "existed no later than" in shown and tsa.url in shown
    assert json.loads(evidence("show", "0", "--json").output)["earliest_timestamp"]["entry"] == 1
    assert "none covers it yet" in evidence("show", "1").output
    assert "RFC 3161 token" in evidence("show", "1").output
    evidence("check")


def test_env_names_the_tsa(evidence: Cli, tsa: TestTsa) -> None:
    result = evidence("timestamp", env={"EVIDENCE_TSA": tsa.url})
    assert "not checked" in result.output  # no trust anchor given
    assert _count(evidence) == 2


def test_no_tsa_configured_is_a_clear_error(evidence: Cli) -> None:
    result = evidence("timestamp", code=1)
    assert "no TSA configured" in result.output
    assert _count(evidence) == 1


@pytest.mark.parametrize("mode", ["tamper", "wrong-imprint", "refuse", "garbage"])
def test_bad_tsa_leaves_the_log_unchanged(evidence: Cli, tsa: TestTsa, mode: str) -> None:
    tsa.mode = mode
    result = evidence("timestamp", "--tsa", tsa.url, code=1)
    assert "no timestamp was obtained" in result.output
    assert _count(evidence) == 1


def test_unreachable_tsa_leaves_the_log_unchanged(evidence: Cli) -> None:
    result = evidence("timestamp", "--tsa", "http://127.0.0.1:9/tsa", code=1)
    assert "could not be reached" in result.output
    assert _count(evidence) == 1


def test_untrusted_tsa_is_refused(evidence: Cli, tsa: TestTsa, tmp_path: Path) -> None:
    (tmp_path / "other.pem").write_bytes(TestCa("Another Root").root_pem)
    result = evidence(
        "timestamp", "--tsa", tsa.url, "--tsa-ca", str(tmp_path / "other.pem"), code=1
    )
    assert "untrusted" in result.output
    assert _count(evidence) == 1
