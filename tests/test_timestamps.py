"""RFC 3161 timestamps over the signed head, against a local TSA on loopback (no network)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, tsp

from evidence import timestamps
from evidence.ledger import Log
from tests import tsafixtures
from tests.bundlefixtures import draft
from tests.tsafixtures import TestCa, TestTsa, tamper_token

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca


def _anchors(ca: TestCa) -> list:
    return timestamps.load_anchors(ca.root_pem)


def test_request_is_rfc3161_with_sha256_of_head_text(log: Log) -> None:
    message = log.head().message()
    der, nonce = timestamps.build_request(message)
    request = tsp.TimeStampReq.load(der)
    assert request["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert request["message_imprint"]["hashed_message"].native == timestamps.imprint_of(message)
    assert request["nonce"].native == nonce
    assert request["cert_req"].native is True


def test_token_round_trip(log: Log, tsa: TestTsa, tsa_ca: TestCa) -> None:
    log.append([draft("call", "2026-11-20 23:15", number="13800138000")])
    head = log.head()
    entry, report = timestamps.timestamp_log(log, [tsa.url], _anchors(tsa_ca))
    assert report.ok and not report.unchecked, report
    assert entry.kind == "timestamp" and entry.fields["head_size"] == head.size == 1
    assert log.head().size == 2
    good, problems = timestamps.stamps(log.heads(), log.entries(), _anchors(tsa_ca))
    assert not problems and len(good) == 1
    assert timestamps.earliest_cover(good, 0) == good[0]
    assert timestamps.earliest_cover(good, 1) is None  # the timestamp entry itself is later
    assert log.check().ok


def test_without_trust_anchor_reports_what_was_not_checked(log: Log, tsa: TestTsa) -> None:
    _entry, report = timestamps.timestamp_log(log, [tsa.url])
    assert report.ok
    assert any("not checked against a trust anchor" in line for line in report.unchecked)


def test_tsas_are_tried_in_order(log: Log, tsa: TestTsa) -> None:
    dead = "http://127.0.0.1:9/nothing-listens-here"
    _entry, _report = timestamps.timestamp_log(log, [dead, tsa.url])
    assert log.entries()[-1].fields["tsa"] == tsa.url


def test_env_configures_tsas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(timestamps.ENV_TSA, "http://a.example/tsa, https://b.example/tsa")
    assert timestamps.configured_tsas() == ["http://a.example/tsa", "https://b.example/tsa"]
    assert timestamps.configured_tsas(["http://c.example"]) == ["http://c.example"]
    with pytest.raises(timestamps.TimestampFailed):
        timestamps.configured_tsas(["file:///etc/passwd"])


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("tamper", "signed digest"),
        ("wrong-imprint", "imprint"),
        ("wrong-nonce", "nonce"),
        ("refuse", "refused"),
        ("garbage", "not an RFC 3161 response"),
    ],
)
def test_bad_answers_leave_the_log_unchanged(log: Log, tsa: TestTsa, mode: str, says: str) -> None:
    tsa.mode = mode
    before = log.head()
    with pytest.raises(timestamps.TimestampFailed, match=says):
        timestamps.timestamp_log(log, [tsa.url])
    assert log.head() == before


def test_unreachable_tsa_leaves_the_log_unchanged(log: Log) -> None:
    before = log.head()
    with pytest.raises(timestamps.TimestampFailed, match="could not be reached"):
        timestamps.timestamp_log(log, ["http://127.0.0.1:9/tsa"])
    assert log.head() == before


def test_untrusted_tsa_certificate_is_refused(log: Log, tsa: TestTsa) -> None:
    other = TestCa("Someone Else's Root")
    with pytest.raises(timestamps.TimestampFailed, match="untrusted"):
        timestamps.timestamp_log(log, [tsa.url], _anchors(other))


def test_tsa_certificate_without_time_stamping_usage_is_refused(log: Log) -> None:
    server = TestTsa(TestCa(eku=False))
    try:
        with pytest.raises(timestamps.TimestampFailed, match="extended key usage"):
            timestamps.timestamp_log(log, [server.url])
    finally:
        server.close()


def test_tampered_token_fails(log: Log, tsa_ca: TestCa) -> None:
    message = log.head().message()
    token = tsa_ca.token(timestamps.imprint_of(message), None)
    assert timestamps.check_token(token, message).ok
    report = timestamps.check_token(tamper_token(token), message)
    assert not report.ok


def test_tampered_signature_fails(log: Log, tsa_ca: TestCa) -> None:
    message = log.head().message()
    token = tsa_ca.token(timestamps.imprint_of(message), None)
    info = cms.ContentInfo.load(token)
    signature = info["content"]["signer_infos"][0]["signature"].native
    at = token.index(signature) + 10
    bad = token[:at] + bytes([token[at] ^ 0xFF]) + token[at + 1 :]
    assert any("does not verify" in p for p in timestamps.check_token(bad, message).problems)


def test_wrong_imprint_fails(log: Log, tsa_ca: TestCa) -> None:
    message = log.head().message()
    token = tsa_ca.token(timestamps.imprint_of(message + b"x"), None)
    assert any("imprint" in p for p in timestamps.check_token(token, message).problems)


def test_token_for_another_head_fails(log: Log, tsa: TestTsa) -> None:
    timestamps.timestamp_log(log, [tsa.url])  # over the empty head (size 0)
    entry = log.entries()[-1]
    log.append([draft("call", "2026-11-20 23:15", number="13800138000")])
    other = log.head()
    token = timestamps.decode_token(entry.fields["token"])
    report = timestamps.check_token(token, other.message())
    assert any("imprint" in p for p in report.problems)


def test_reordered_heads_fail(log: Log, tsa: TestTsa) -> None:
    """A timestamp entry that claims a different signed head than its token is rejected."""
    log.append([draft("call", "2026-11-20 23:15", number="13800138000")])
    timestamps.timestamp_log(log, [tsa.url])  # covers head size 1
    log.append([draft("sms", "2026-11-21 08:00", number="13800138000")])
    heads = log.heads()
    good, problems = timestamps.stamps(heads, log.entries())
    assert len(good) == 1 and not problems
    # Swap the roots of two heads: the token no longer matches "its" head.
    swapped = [
        type(h)(h.log_id, h.size, heads[(i + 1) % len(heads)].root, h.signed_at, h.signature)
        for i, h in enumerate(heads)
    ]
    good, problems = timestamps.stamps(swapped, log.entries())
    assert not good and problems and "not a signed head" in problems[0]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_ts_verify_accepts_exported_token(
    log: Log, tsa: TestTsa, tsa_ca: TestCa, tmp_path: Path
) -> None:
    log.append([draft("call", "2026-11-20 23:15", number="13800138000")])
    head = log.head()
    timestamps.timestamp_log(log, [tsa.url])
    token = timestamps.decode_token(log.entries()[-1].fields["token"])
    (tmp_path / "head.txt").write_bytes(head.message())
    (tmp_path / "token.tsr").write_bytes(token)
    (tmp_path / "ca.pem").write_bytes(tsa_ca.root_pem)
    command = ["openssl", "ts", "-verify", "-token_in", "-in", "token.tsr"]
    ok = subprocess.run(
        [*command, "-data", "head.txt", "-CAfile", "ca.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr
    (tmp_path / "head.txt").write_bytes(head.message().replace(b"size 1", b"size 2"))
    bad = subprocess.run(
        [*command, "-data", "head.txt", "-CAfile", "ca.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
