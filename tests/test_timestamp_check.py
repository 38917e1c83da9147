"""`evidence check` re-verifies every RFC 3161 token the log records and names the first bad one.

A bad token cannot come from `evidence timestamp` (it checks before recording), so these
tests record one directly, as a faulty program or a forger writing with the key would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence import model, timestamps, timeutil
from evidence.ledger import Log
from evidence.verify_store import TimestampCheck, check_log
from tests import tsafixtures
from tests.bundlefixtures import draft
from tests.clifixtures import PASSPHRASE, Evidence
from tests.tsafixtures import TestCa, TestTsa, tamper_token

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca


def _record(log: Log, token: bytes, head=None, gen_time: str | None = None) -> int:
    """Append a timestamp entry for ``head`` (default: the current one) holding ``token``."""
    head = head or log.head()
    report = timestamps.check_token(token, head.message())
    when = gen_time or timeutil.format_canonical(report.gen_time)
    entry = model.timestamp_draft(
        log.store.clock(),
        "http://tsa.test/",
        head.size,
        head.root.hex(),
        head.signed_at,
        when,
        timestamps.encode_token(token),
    )
    return log.append([entry])[0].seq


def _token(ca: TestCa, head) -> bytes:
    return ca.token(timestamps.imprint_of(head.message()), None)


@pytest.fixture
def filled(log: Log) -> Log:
    log.append([draft("call", "2026-11-20 23:15", number="13800138000")])
    log.append([draft("call", "2026-11-21 09:00", number="13800138001")])
    return log


def test_good_tokens_check(filled: Log, tsa: TestTsa, tsa_ca: TestCa) -> None:
    timestamps.timestamp_log(filled, [tsa.url])
    filled.append([draft("call", "2026-11-22 23:15", number="13800138000")])
    timestamps.timestamp_log(filled, [tsa.url])
    seen = TimestampCheck()
    report = check_log(filled, None, timestamps.load_anchors(tsa_ca.root_pem), seen)
    assert report.ok, report.problems
    assert seen.tokens == seen.good == 2 and seen.unchecked == []
    plain = TimestampCheck()
    assert check_log(filled, None, (), plain).ok
    assert any("not checked against a trust anchor" in n for n in plain.unchecked)


def test_tampered_token_is_named(filled: Log, tsa: TestTsa, tsa_ca: TestCa) -> None:
    timestamps.timestamp_log(filled, [tsa.url])  # a good one first
    seq = _record(filled, tamper_token(_token(tsa_ca, filled.head())))
    report = check_log(filled)
    assert len(report.problems) == 1, report.problems
    assert report.problems[0].startswith(f"timestamp #{seq} ")
    assert "altered" in report.problems[0]


def test_token_with_wrong_imprint_is_named(filled: Log, tsa_ca: TestCa) -> None:
    head = filled.head()
    token = tsa_ca.token(timestamps.imprint_of(b"another text"), None)
    seq = _record(filled, token, head)
    (problem,) = check_log(filled).problems
    assert problem.startswith(f"timestamp #{seq} ") and "imprint" in problem


def test_token_for_another_head_is_named(filled: Log, tsa_ca: TestCa) -> None:
    older = filled.heads()[0]
    filled.append([draft("call", "2026-11-22 23:15", number="13800138000")])
    seq = _record(filled, _token(tsa_ca, older), filled.head())  # older head's token, newer head
    (problem,) = check_log(filled).problems
    assert problem.startswith(f"timestamp #{seq} ") and "imprint" in problem


def test_recorded_time_must_be_the_tokens(filled: Log, tsa_ca: TestCa) -> None:
    seq = _record(filled, _token(tsa_ca, filled.head()), gen_time="2020-01-01T00:00:00Z")
    (problem,) = check_log(filled).problems
    assert problem.startswith(f"timestamp #{seq} ") and "recorded time" in problem


def test_untrusted_chain_with_anchor_is_named(filled: Log, tsa_ca: TestCa) -> None:
    seq = _record(filled, _token(tsa_ca, filled.head()))
    other = TestCa("Another Root")
    (problem,) = check_log(filled, None, timestamps.load_anchors(other.root_pem)).problems
    assert problem.startswith(f"timestamp #{seq} ") and "untrusted" in problem


def test_first_failing_token_comes_first(filled: Log, tsa_ca: TestCa) -> None:
    first = _record(filled, tamper_token(_token(tsa_ca, filled.head())))
    second = _record(filled, tamper_token(_token(tsa_ca, filled.head())))
    problems = check_log(filled).problems
    assert [p.split(" ")[1] for p in problems] == [f"#{first}", f"#{second}"]


def test_cli_check_names_the_bad_token(tmp_path: Path, database_url: str, tsa: TestTsa) -> None:
    evidence = Evidence(tmp_path, database_url)
    evidence.env.update(EVIDENCE_TSA="", EVIDENCE_TSA_CA="")  # no TSA from the environment
    run = evidence
    run("init", "--kdf-memory", "8")
    run("log", "call", "--number", "13800138000", "--at", "2026-11-20 23:15")
    run("timestamp", "--tsa", tsa.url)
    good = run("check")
    assert "1 timestamp tokens" in good.output and "OK" in good.output
    assert "not checked against a trust anchor" in good.output
    (tmp_path / "ca.pem").write_bytes(tsa.ca.root_pem)
    anchored = run("check", "--tsa-ca", str(tmp_path / "ca.pem"))
    assert "trust anchor" not in anchored.output
    tsa.mode = "tamper"
    from cli import context
    from evidence.ledger import Store

    where = context.location(evidence.store, evidence.database_url, None)
    store = Store.open(where.url, evidence.store / "blobs")
    try:
        (log_id,) = store.log_ids()
        log = store.unlock(log_id, PASSPHRASE)
        seq = _record(log, tamper_token(_token(tsa.ca, log.head())))
    finally:
        store.close()
    bad = run("check", code=5)
    assert f"timestamp #{seq} " in bad.output and "ALTERED" in bad.output


def test_show_and_bundles_ignore_what_check_refuses(filled: Log, tsa_ca: TestCa) -> None:
    """timestamps.stamps (show, bundles, export) refuses the same bad records check names."""
    wrong_time = _record(filled, _token(tsa_ca, filled.head()), gen_time="2020-01-01T00:00:00Z")
    good, problems = timestamps.stamps(filled.heads(), filled.entries())
    assert good == [] and len(problems) == 1 and f"#{wrong_time}:" in problems[0]
