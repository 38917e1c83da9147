"""The bundle PDF signed (PAdES B-B) with pyHanko, so PDF readers show who signed it.

The certificate is self-signed and per log: an ECDSA P-256 key derived from the log's
data key (:meth:`Log.pdf_signing_seed`), a subject naming the log id and the fingerprint
of its Ed25519 key. It says nothing a CA vouched for; what binds the PDF to the log is
the log key's signature over the manifest, which lists the PDF's SHA-256 (docs/SECURITY.md
§11). pyHanko is optional (``pip install 'evidence[pades]'``): without it, the PDF is
written unsigned and everything else is unchanged.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from evidence.ledger import Log

FIELD_NAME = "EvidenceLog"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def available() -> bool:
    try:
        import pyhanko.sign  # noqa: F401
    except ImportError:
        return False
    return True


def signing_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    """The P-256 key for a 32-byte seed (a scalar in [1, n-1])."""
    scalar = int.from_bytes(hashlib.sha256(b"evidence/pdf-key/v1\x00" + seed).digest(), "big")
    return ec.derive_private_key(scalar % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def certificate(
    key: ec.EllipticCurvePrivateKey, log_id: str, fingerprint_hex: str, created_at: datetime
) -> x509.Certificate:
    """The self-signed certificate for a log's PDF signing key."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"evidence log {log_id}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, fingerprint_hex[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "evidence (self-signed, per log)"),
        ]
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    serial = int.from_bytes(hashlib.sha256(public).digest()[:16], "big") >> 1
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial or 1)
        .not_valid_before(created_at - timedelta(days=1))
        .not_valid_after(created_at + timedelta(days=365 * 30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def log_certificate(log: Log) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = signing_key(log.pdf_signing_seed())
    fingerprint = log.info.fingerprint.replace(" ", "")
    return key, certificate(key, log.log_id, fingerprint, log.info.created_at)


def sign_pdf(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    """Sign the PDF at ``path`` in place (an incremental update; the content is unchanged)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    asn1_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    asn1_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    signer = signers.SimpleSigner(
        signing_cert=asn1_cert,
        signing_key=asn1_key,
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="evidence bundle: the log's entries as disclosed",
    )
    with path.open("rb") as source:
        writer = IncrementalPdfFileWriter(source, strict=False)
        signed = signers.sign_pdf(writer, meta, signer=signer)
    path.write_bytes(signed.getvalue())
