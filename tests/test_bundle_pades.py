"""The bundle's PDF is signed (PAdES) with the log's self-signed certificate; pyHanko checks it."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from evidence.bundle import Options, build_bundle, pades
from evidence.ledger import Log
from evidence.verifier import verify_bundle
from tests.bundlefixtures import codes, populate, rewrite

pytest.importorskip("pyhanko")


def _validate(pdf: bytes, log: Log):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _key, cert = pades.log_certificate(log)
    root = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))


@pytest.fixture
def pdf(log: Log, tmp_path: Path) -> bytes:
    populate(log)
    build_bundle(log, tmp_path / "case.zip", Options())
    assert verify_bundle(tmp_path / "case.zip").ok
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["pdf"]["signed"] == "pades"
        return archive.read("evidence.pdf")


def test_signed_pdf_passes_pyhanko_validation(pdf: bytes, log: Log) -> None:
    status = _validate(pdf, log)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert "evidence log " + log.log_id in status.signing_cert.subject.human_friendly


def test_one_changed_byte_breaks_the_signature(pdf: bytes, log: Log) -> None:
    assert _validate(pdf, log).intact
    at = pdf.index(b"stream", len(pdf) // 3) + 20  # inside a stream of the signed range
    changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    status = _validate(changed, log)
    assert not status.intact and not status.bottom_line  # the document digest differs


def test_same_certificate_for_every_bundle_of_a_log(log: Log) -> None:
    _key1, cert1 = pades.log_certificate(log)
    _key2, cert2 = pades.log_certificate(log)
    assert cert1.public_key() == cert2.public_key() and cert1.subject == cert2.subject


def test_verify_checks_the_pdf_signature(log: Log, tmp_path: Path) -> None:
    populate(log)
    build_bundle(log, tmp_path / "case.zip", Options())
    report = verify_bundle(tmp_path / "case.zip")
    assert report.ok and not any("PDF" in note for note in report.unchecked)
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        pdf = archive.read("evidence.pdf")
    at = pdf.index(b"stream", len(pdf) // 3) + 20
    changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    bad = rewrite(
        tmp_path / "case.zip", tmp_path / "bad.zip", {"evidence.pdf": changed}, fix_hashes=True
    )
    assert "pdf.signature" in codes(verify_bundle(bad))
