"""The bundle's PDF is signed (PAdES): with the log's self-signed certificate or a user's.

pyHanko checks the signature; its signing time is the real clock's; a user-supplied
certificate (from a test CA built with `cryptography`) validates against that CA.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from cli.main import cli
from evidence.bundle import Options, build_bundle, pades
from evidence.errors import InvalidInput
from evidence.ledger import Log
from evidence.verifier import verify_bundle
from tests.bundlefixtures import codes, populate, rewrite
from tests.tsafixtures import root_certificate

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
    assert report.ok and not any("PAdES" in note for note in report.unchecked)
    assert report.pdf["certificate"] == "self-signed, per log"
    assert report.pdf["signer"].endswith("evidence log " + log.log_id) or (
        "evidence log " + log.log_id in report.pdf["signer"]
    )
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        pdf = archive.read("evidence.pdf")
    at = pdf.index(b"stream", len(pdf) // 3) + 20
    changed = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]
    bad = rewrite(
        tmp_path / "case.zip", tmp_path / "bad.zip", {"evidence.pdf": changed}, fix_hashes=True
    )
    assert "pdf.signature" in codes(verify_bundle(bad))


def test_signing_time_is_the_real_clock(log: Log, tmp_path: Path) -> None:
    """The store's clock (a fake one here) dates the bundle; the signature uses the real one."""
    populate(log)
    before = datetime.now(UTC).replace(microsecond=0)
    build_bundle(log, tmp_path / "case.zip", Options())
    after = datetime.now(UTC)
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        pdf = archive.read("evidence.pdf")
        generated = json.loads(archive.read("manifest.json"))["generated_at"]
    signed = pades.signing_time(pdf)
    assert signed is not None and before <= signed <= after + timedelta(seconds=1)
    fake = datetime.fromisoformat(generated.replace("Z", "+00:00"))
    assert abs(signed - fake) > timedelta(seconds=5)  # not the store's (fake) clock
    assert verify_bundle(tmp_path / "case.zip").pdf["signing_time"] == (
        signed.isoformat().replace("+00:00", "Z")
    )


# --- a user-supplied certificate ----------------------------------------------------------------


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


class SigningCa:
    """A test CA and a document-signing certificate it issued (ECDSA P-256)."""

    def __init__(self, days: int = 365, start: datetime | None = None, rsa_key: bool = False):
        now = start or datetime.now(UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = root_certificate(self.root_key, "Evidence Test Signing CA", now)
        self.key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if rsa_key
            else ec.generate_private_key(ec.SECP256R1())
        )
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Zhang San, attorney"))
            .issuer_name(self.root.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .sign(self.root_key, hashes.SHA256())
        )

    def chain_pem(self) -> bytes:
        pem = serialization.Encoding.PEM
        return self.cert.public_bytes(pem) + self.root.public_bytes(pem)

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        encryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


@pytest.fixture(scope="module")
def signing_ca() -> SigningCa:
    return SigningCa()


def _validate_with(pdf: bytes, root: x509.Certificate):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[trust]))


def test_user_supplied_certificate_signs_the_pdf(
    log: Log, tmp_path: Path, signing_ca: SigningCa
) -> None:
    populate(log)
    signer = pades.load_user_signer(
        signing_ca.chain_pem(), signing_ca.key_pem(b"key secret"), "key secret"
    )
    with pades.configured(pades.PdfSigning(tsas=(), signer=signer)) as done:
        build_bundle(log, tmp_path / "case.zip", Options())
    assert "Zhang San" in done.signer_subject
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        pdf = archive.read("evidence.pdf")
    status = _validate_with(pdf, signing_ca.root)  # the CA vouches for the signer
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert "Zhang San" in status.signing_cert.subject.human_friendly
    assert not _validate_with(_changed(pdf), signing_ca.root).intact
    report = verify_bundle(tmp_path / "case.zip")
    assert report.ok, report.problems
    assert report.pdf["certificate"] == "user-supplied" and "Zhang San" in report.pdf["signer"]
    assert any("signing certificate" in n and "trust anchor" in n for n in report.unchecked)


def test_user_supplied_rsa_certificate(log: Log, tmp_path: Path) -> None:
    populate(log)
    ca = SigningCa(rsa_key=True)
    signer = pades.load_user_signer(ca.chain_pem(), ca.key_pem(), None)
    with pades.configured(pades.PdfSigning(tsas=(), signer=signer)):
        build_bundle(log, tmp_path / "case.zip", Options())
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        status = _validate_with(archive.read("evidence.pdf"), ca.root)
    assert status.bottom_line and status.trusted
    assert verify_bundle(tmp_path / "case.zip").ok


def _changed(pdf: bytes) -> bytes:
    at = pdf.index(b"stream", len(pdf) // 3) + 20
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def test_a_certificate_claiming_another_log_fails_verify(log: Log, tmp_path: Path) -> None:
    populate(log)
    key = ec.generate_private_key(ec.SECP256R1())
    forged = pades.certificate(key, "another-log", "00" * 32, datetime.now(UTC))
    signer = pades.UserSigner(key, forged)
    with pades.configured(pades.PdfSigning(tsas=(), signer=signer)):
        build_bundle(log, tmp_path / "case.zip", Options())
    assert "pdf.signature" in codes(verify_bundle(tmp_path / "case.zip"))


def test_user_signer_is_refused_with_a_clear_message(signing_ca: SigningCa) -> None:
    chain, locked = signing_ca.chain_pem(), signing_ca.key_pem(b"right")
    assert pades.key_is_encrypted(locked) and not pades.key_is_encrypted(signing_ca.key_pem())
    with pytest.raises(InvalidInput, match="does not open"):
        pades.load_user_signer(chain, locked, "wrong")
    with pytest.raises(InvalidInput, match="encrypted"):
        pades.load_user_signer(chain, locked, None)
    other = SigningCa()
    with pytest.raises(InvalidInput, match="no certificate for"):
        pades.load_user_signer(chain, other.key_pem(), None)
    expired = SigningCa(days=10, start=datetime.now(UTC) - timedelta(days=400))
    with pytest.raises(InvalidInput, match="not valid now"):
        pades.load_user_signer(expired.chain_pem(), expired.key_pem(), None)
    edwards = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(InvalidInput, match="RSA or ECDSA"):
        pades.load_user_signer(chain, edwards, None)
    with pytest.raises(InvalidInput, match="not a PEM or DER certificate"):
        pades.load_user_signer(b"nonsense", signing_ca.key_pem(), None)


def _cli(tmp_path: Path, database_url: str):
    env = {
        "EVIDENCE_STORE": str(tmp_path / "store"),
        "EVIDENCE_PASSPHRASE": "test passphrase",
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "EVIDENCE_DATABASE_URL": database_url if database_url.startswith("postgresql") else "",
        "EVIDENCE_TSA": "",
        "EVIDENCE_TSA_CA": "",
        "EVIDENCE_SIGN_KEY_PASSPHRASE": "",
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0, input: str | None = None, **extra: str):
        result = runner.invoke(cli, list(args), env={**env, **extra}, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        assert "Traceback" not in result.output
        return result

    run("init", "--kdf-memory", "8")
    run("log", "call", "--number", "13800138000", "--at", "2026-11-20 23:15")
    return run


def test_cli_bundle_with_a_user_certificate(
    tmp_path: Path, database_url: str, signing_ca: SigningCa
) -> None:
    run = _cli(tmp_path, database_url)
    (tmp_path / "cert.pem").write_bytes(signing_ca.chain_pem())
    (tmp_path / "key.pem").write_bytes(signing_ca.key_pem(b"s3cret"))
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    made = run(
        "bundle", "--out", str(tmp_path / "a.zip"), "--sign-cert", cert, "--sign-key", key,
        EVIDENCE_SIGN_KEY_PASSPHRASE="s3cret",
    )  # fmt: skip
    assert "Zhang San" in made.output and "no document timestamp" in made.output
    checked = run("verify", str(tmp_path / "a.zip"))
    assert "user-supplied" in checked.output and "VERIFIED" in checked.output
    asked = run(
        "bundle", "--out", str(tmp_path / "b.zip"), "--sign-cert", cert, "--sign-key", key,
        input="s3cret\n",
    )  # fmt: skip
    assert "Passphrase of the signing key" in asked.output and "Zhang San" in asked.output
    assert "s3cret" not in asked.output
    wrong = run(
        "bundle", "--out", str(tmp_path / "c.zip"), "--sign-cert", cert, "--sign-key", key,
        code=2, EVIDENCE_SIGN_KEY_PASSPHRASE="wrong",
    )  # fmt: skip
    assert "does not open" in wrong.output and not (tmp_path / "c.zip").exists()
    alone = run("bundle", "--out", str(tmp_path / "d.zip"), "--sign-cert", cert, code=2)
    assert "go together" in alone.output
