"""The bundle's PDF carries a PAdES document timestamp (RFC 3161) from the configured TSA.

Against the loopback TSA: pyHanko validates the timestamp, one changed byte breaks it,
`verify` reports it (and, without --tsa-root, that its chain was not checked against a
trust anchor); an unreachable or untrusted TSA leaves the PDF signed, with a note.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from evidence.bundle import Options, build_bundle, pades
from evidence.ledger import Log
from evidence.verifier import verify_bundle
from tests import tsafixtures
from tests.bundlefixtures import codes, populate, rewrite
from tests.tsafixtures import TestCa, TestTsa

pytest.importorskip("pyhanko")

tsa = tsafixtures.tsa
tsa_ca = tsafixtures.tsa_ca


def _pdf(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("evidence.pdf")


def _bundle(log: Log, out: Path, settings: pades.PdfSigning) -> pades.PdfSigning:
    with pades.configured(settings):
        build_bundle(log, out, Options())
    return settings


def _validate_stamp(pdf: bytes, root):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    kinds = [s.sig_object_type for s in reader.embedded_signatures]
    assert kinds == ["/Sig", "/DocTimeStamp"]
    stamp = reader.embedded_signatures[1]
    with pades_quiet():
        return validate_pdf_timestamp(stamp, ValidationContext(trust_roots=[trust]))


def pades_quiet():
    from evidence.verifier.pdfsig import quiet

    return quiet()


def _changed(pdf: bytes) -> bytes:
    at = pdf.index(b"stream", len(pdf) // 3) + 20  # inside a stream every signature covers
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


@pytest.fixture
def timestamped(log: Log, tsa: TestTsa, tsa_ca: TestCa, tmp_path: Path) -> Path:
    populate(log)
    out = tmp_path / "case.zip"
    settings = _bundle(log, out, pades.PdfSigning(tsas=[tsa.url], tsa_anchors=[tsa_ca.root]))
    assert settings.timestamp_tsa == tsa.url and settings.timestamp_time is not None
    assert settings.notes == []
    return out


def test_pdf_document_timestamp_passes_pyhanko_validation(
    timestamped: Path, tsa_ca: TestCa
) -> None:
    status = _validate_stamp(_pdf(timestamped), tsa_ca.root)
    assert status.intact and status.valid and status.trusted
    assert "Evidence Test TSA" in status.signing_cert.subject.human_friendly


def test_pdf_document_timestamp_one_changed_byte_fails(timestamped: Path, tsa_ca: TestCa) -> None:
    status = _validate_stamp(_changed(_pdf(timestamped)), tsa_ca.root)
    assert not status.intact


def test_verify_reports_the_pdf_timestamp(timestamped: Path, tsa_ca: TestCa) -> None:
    report = verify_bundle(timestamped, tsa_roots=[tsa_ca.root])
    assert report.ok, report.problems
    (stamp,) = report.pdf["document_timestamps"]
    assert stamp["trusted"] and "Evidence Test TSA" in stamp["tsa"]
    assert not any("PDF" in note for note in report.unchecked), report.unchecked
    plain = verify_bundle(timestamped)
    assert plain.ok and not plain.pdf["document_timestamps"][0]["trusted"]
    assert any(
        "document timestamp" in n and "not checked against a trust anchor" in n
        for n in plain.unchecked
    )


def test_verify_refuses_a_pdf_timestamp_from_an_untrusted_tsa(timestamped: Path) -> None:
    report = verify_bundle(timestamped, tsa_roots=[TestCa("Another Root").root])
    assert "pdf.timestamp" in codes(report)


def test_verify_fails_a_changed_timestamped_pdf(timestamped: Path, tmp_path: Path) -> None:
    bad = rewrite(
        timestamped,
        tmp_path / "bad.zip",
        {"evidence.pdf": _changed(_pdf(timestamped))},
        fix_hashes=True,
    )
    assert {"pdf.signature", "pdf.timestamp"} & set(codes(verify_bundle(bad)))


def test_unreachable_tsa_leaves_the_pdf_signed_with_a_note(log: Log, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    settings = _bundle(log, out, pades.PdfSigning(tsas=["http://127.0.0.1:9/tsa"]))
    assert settings.signed_at is not None and settings.timestamp_time is None
    assert any("could not be reached" in note for note in settings.notes)
    report = verify_bundle(out)
    assert report.ok and report.pdf["signed"] and report.pdf["document_timestamps"] == []
    assert any("no document timestamp" in note for note in report.unchecked)


def test_untrusted_tsa_gives_no_pdf_timestamp(log: Log, tsa: TestTsa, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    other = TestCa("Another Root").root
    settings = _bundle(log, out, pades.PdfSigning(tsas=[tsa.url], tsa_anchors=[other]))
    assert settings.timestamp_time is None and "untrusted" in " ".join(settings.notes)
    assert verify_bundle(out).ok


@pytest.mark.parametrize("mode", ["garbage", "refuse", "tamper"])
def test_bad_tsa_gives_no_pdf_timestamp(log: Log, tsa: TestTsa, tmp_path: Path, mode: str) -> None:
    populate(log)
    tsa.mode = mode
    out = tmp_path / "case.zip"
    settings = _bundle(log, out, pades.PdfSigning(tsas=[tsa.url]))
    assert settings.timestamp_time is None and settings.notes
    report = verify_bundle(out)
    assert report.ok and report.pdf["document_timestamps"] == []


def test_the_next_tsa_is_tried(log: Log, tsa: TestTsa, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    settings = _bundle(log, out, pades.PdfSigning(tsas=["http://127.0.0.1:9/tsa", tsa.url]))
    assert settings.timestamp_tsa == tsa.url
    assert len(verify_bundle(out).pdf["document_timestamps"]) == 1


def test_environment_names_the_tsa(
    log: Log, tsa: TestTsa, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(log)
    monkeypatch.setenv("EVIDENCE_TSA", tsa.url)
    build_bundle(log, tmp_path / "case.zip", Options())  # no settings: EVIDENCE_TSA, as ever
    assert len(verify_bundle(tmp_path / "case.zip").pdf["document_timestamps"]) == 1
    monkeypatch.setenv("EVIDENCE_TSA", "")
    build_bundle(log, tmp_path / "none.zip", Options())
    assert verify_bundle(tmp_path / "none.zip").pdf["document_timestamps"] == []


def _cli(tmp_path: Path, database_url: str, tsa_url: str = "") -> tuple:
    env = {
        "EVIDENCE_STORE": str(tmp_path / "store"),
        "EVIDENCE_PASSPHRASE": "test passphrase",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "EVIDENCE_DATABASE_URL": database_url if database_url.startswith("postgresql") else "",
        "EVIDENCE_TSA": tsa_url,
        "EVIDENCE_TSA_CA": "",
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0, **extra: str):
        result = runner.invoke(cli, list(args), env={**env, **extra})
        assert result.exit_code == code, (result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    run("init", "--kdf-memory", "8")
    run("log", "call", "--number", "13800138000", "--at", "2026-11-20 23:15")
    return run


def test_cli_bundle_and_verify_with_a_pdf_timestamp(
    tmp_path: Path, database_url: str, tsa: TestTsa, tsa_ca: TestCa
) -> None:
    run = _cli(tmp_path, database_url)
    (tmp_path / "root.pem").write_bytes(tsa_ca.root_pem)
    out = str(tmp_path / "case.zip")
    made = run("bundle", "--out", out, "--tsa", tsa.url, "--tsa-ca", str(tmp_path / "root.pem"))
    assert "PDF signed (PAdES)" in made.output and "PDF document timestamp" in made.output
    checked = run("verify", out, "--tsa-root", str(tmp_path / "root.pem"))
    assert "PDF document timestamp:" in checked.output and "VERIFIED" in checked.output
    assert "not checked against a trust anchor" not in checked.output
    plain = run("verify", out)
    assert "chain not checked against a trust anchor" in plain.output
    data = json.loads(run("verify", out, "--json").output)
    assert data["pdf"]["document_timestamps"][0]["gen_time"]
    (tmp_path / "other.pem").write_bytes(TestCa("Another Root").root_pem)
    refused = run("verify", out, "--tsa-root", str(tmp_path / "other.pem"), code=5)
    assert "pdf.timestamp" in refused.output


def test_cli_bundle_with_an_unreachable_tsa_still_writes_a_signed_pdf(
    tmp_path: Path, database_url: str
) -> None:
    run = _cli(tmp_path, database_url, tsa_url="http://127.0.0.1:9/tsa")
    made = run("bundle", "--out", str(tmp_path / "case.zip"))
    assert "PDF signed (PAdES)" in made.output
    assert "no document timestamp" in made.output and "could not be reached" in made.output
    assert "VERIFIED" in run("verify", str(tmp_path / "case.zip")).output


def _append_update(pdf: bytes) -> bytes:
    """An incremental update after everything: a new document title (no signature covers it)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    info = generic.DictionaryObject(
        {generic.NameObject("/Title"): generic.TextStringObject("changed later")}
    )
    writer.set_info(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_update_after_the_document_timestamp_fails(timestamped: Path, tmp_path: Path) -> None:
    changed = _append_update(_pdf(timestamped))
    bad = rewrite(timestamped, tmp_path / "bad.zip", {"evidence.pdf": changed}, fix_hashes=True)
    details = [p.detail for p in verify_bundle(bad).problems if p.code.startswith("pdf.")]
    assert any("changed after it was" in d for d in details), details


def test_an_update_after_an_untimestamped_signature_fails(log: Log, tmp_path: Path) -> None:
    populate(log)
    out = tmp_path / "case.zip"
    _bundle(log, out, pades.PdfSigning(tsas=()))
    changed = _append_update(_pdf(out))
    bad = rewrite(out, tmp_path / "bad.zip", {"evidence.pdf": changed}, fix_hashes=True)
    details = [p.detail for p in verify_bundle(bad).problems if p.code == "pdf.signature"]
    assert details == ["the PDF was changed after it was signed"]


def test_a_second_signature_fails(timestamped: Path, log: Log, tmp_path: Path) -> None:
    pdf = tmp_path / "twice.pdf"
    pdf.write_bytes(_pdf(timestamped))
    key, cert = pades.log_certificate(log)
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    with pdf.open("rb") as source:
        writer = IncrementalPdfFileWriter(source, strict=False)
        signer = signers.SimpleSigner(
            signing_cert=pades._asn1_cert(cert),
            signing_key=_asn1_key(key),
            cert_registry=None,
        )
        data = signers.sign_pdf(
            writer, signers.PdfSignatureMetadata(field_name="Second"), signer=signer
        ).getvalue()
    bad = rewrite(timestamped, tmp_path / "bad.zip", {"evidence.pdf": data}, fix_hashes=True)
    details = [p.detail for p in verify_bundle(bad).problems if p.code == "pdf.signature"]
    assert details == ["2 signatures, not one"]


def _asn1_key(key):
    from asn1crypto import keys as asn1_keys
    from cryptography.hazmat.primitives import serialization

    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_user_certificate_with_a_document_timestamp(
    log: Log, tsa: TestTsa, tsa_ca: TestCa, tmp_path: Path
) -> None:
    from tests.test_bundle_pades import SigningCa

    populate(log)
    ca = SigningCa()
    signer = pades.load_user_signer(ca.chain_pem(), ca.key_pem(), None)
    out = tmp_path / "case.zip"
    done = _bundle(log, out, pades.PdfSigning(tsas=[tsa.url], signer=signer))
    assert done.timestamp_time is not None and "Zhang San" in done.signer_subject
    report = verify_bundle(out, tsa_roots=[tsa_ca.root])
    assert report.ok, report.problems
    assert report.pdf["certificate"] == "user-supplied"
    assert report.pdf["document_timestamps"][0]["trusted"]
    assert _validate_stamp(_pdf(out), tsa_ca.root).trusted


def test_a_silent_tsa_costs_one_timeout_then_the_next_is_tried(
    log: Log, tsa: TestTsa, tmp_path: Path
) -> None:
    import socket
    import time

    populate(log)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/tsa"
        started = time.monotonic()
        done = _bundle(
            log, tmp_path / "case.zip", pades.PdfSigning(tsas=[url, tsa.url], tsa_timeout=1.0)
        )
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert done.timestamp_tsa == tsa.url and elapsed < 12  # not the default 15 s
    assert verify_bundle(tmp_path / "case.zip").ok
