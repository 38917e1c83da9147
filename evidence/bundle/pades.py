"""The bundle PDF signed (PAdES) with pyHanko, so PDF readers show who signed it and when.

Two certificate choices (docs/SECURITY.md §11):

* **self-signed, per log** (the default): an ECDSA P-256 key derived from the log's data
  key (:meth:`Log.pdf_signing_seed`), a subject naming the log id and the fingerprint of
  its Ed25519 key. No CA vouches for it;
* **user-supplied**: a certificate and key the user holds (from a CA, a notary, a bar
  association), given with ``evidence bundle --sign-cert --sign-key``.

Either way, what binds the PDF to the log is the log key's signature over the manifest,
which lists the PDF's SHA-256. The signing time is the real clock's (never the store's
injectable clock). When a TSA is configured (``--tsa`` or EVIDENCE_TSA, as for
``evidence timestamp``) and answers, a PAdES document timestamp (RFC 3161) is appended;
when none answers, the PDF is still signed and a note says so: nothing fails.

pyHanko is optional (``pip install 'evidence[pades]'``): without it, the PDF is written
unsigned and everything else is unchanged.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from evidence.errors import InvalidInput

if TYPE_CHECKING:
    from evidence.ledger import Log

FIELD_NAME = "EvidenceLog"
TIMESTAMP_FIELD = "EvidenceTimestamp"
ENV_SIGN_KEY_PASSPHRASE = "EVIDENCE_SIGN_KEY_PASSPHRASE"  # noqa: S105 (a variable name)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def available() -> bool:
    try:
        import pyhanko.sign  # noqa: F401
    except ImportError:
        return False
    return True


# --- how to sign: chosen by the caller (the CLI), read by sign_pdf -----------------------------


@dataclass
class UserSigner:
    """A user-supplied signing certificate, its key and the rest of its chain."""

    key: SigningKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


@dataclass
class PdfSigning:
    """How to sign the PDF, and (filled in by :func:`sign_pdf`) what happened.

    ``tsas`` None means EVIDENCE_TSA, as for ``evidence timestamp``; an empty tuple means
    no document timestamp. ``tsa_anchors`` are roots the TSA certificate must chain to.
    """

    tsas: Sequence[str] | None = None
    tsa_anchors: Sequence[x509.Certificate] = ()
    signer: UserSigner | None = None
    tsa_timeout: float = 15.0  # seconds per request; a silent TSA costs this once, then the next
    # outcome
    signed_at: datetime | None = None
    signer_subject: str = ""
    timestamp_tsa: str = ""
    timestamp_time: datetime | None = None
    notes: list[str] = field(default_factory=list)


_SETTINGS: contextvars.ContextVar[PdfSigning | None] = contextvars.ContextVar(
    "evidence_pdf_signing", default=None
)


@contextlib.contextmanager
def configured(settings: PdfSigning) -> Iterator[PdfSigning]:
    """Use ``settings`` for every PDF signed inside the block (and see what happened)."""
    token = _SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _SETTINGS.reset(token)


# --- the per-log certificate --------------------------------------------------------------------


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


# --- a user-supplied certificate ----------------------------------------------------------------


def key_is_encrypted(key_pem: bytes) -> bool:
    """Whether a PEM or DER private key needs a passphrase to load."""
    try:
        _load_key(key_pem, None)
    except TypeError:
        return True
    except ValueError:
        return False
    return False


def _load_key(data: bytes, passphrase: bytes | None) -> Any:
    if b"-----BEGIN" in data:
        return serialization.load_pem_private_key(data, passphrase)
    return serialization.load_der_private_key(data, passphrase)


def load_user_signer(
    cert_data: bytes, key_data: bytes, passphrase: str | None = None, now: datetime | None = None
) -> UserSigner:
    """The certificate (PEM, the signer's first or anywhere, with its chain) and its key.

    Refuses, with a message a user understands, a key that does not open, a key of a
    kind PDF readers do not check, a certificate that is not the key's, or one that is
    not valid now.
    """
    try:
        certs = x509.load_pem_x509_certificates(cert_data)
    except ValueError:
        try:
            certs = [x509.load_der_x509_certificate(cert_data)]
        except ValueError as exc:
            raise InvalidInput("--sign-cert is not a PEM or DER certificate") from exc
    try:
        key = _load_key(key_data, passphrase.encode("utf-8") if passphrase else None)
    except TypeError as exc:
        raise InvalidInput(
            f"the signing key is encrypted: set {ENV_SIGN_KEY_PASSPHRASE} or type its "
            "passphrase when asked"
            if not passphrase
            else "the signing key is not encrypted, but a passphrase was given"
        ) from exc
    except ValueError as exc:
        raise InvalidInput(
            "the signing key does not open (wrong passphrase, or not a PEM/DER private key)"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InvalidInput("the signing key must be RSA or ECDSA (what PDF readers check)")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, spki)
    leaf = next(
        (c for c in certs if c.public_key().public_bytes(serialization.Encoding.DER, spki) == mine),
        None,
    )
    if leaf is None:
        raise InvalidInput("--sign-cert holds no certificate for the --sign-key key")
    when = now or datetime.now(UTC)
    if not leaf.not_valid_before_utc <= when <= leaf.not_valid_after_utc:
        raise InvalidInput(
            f"the signing certificate is not valid now (valid {leaf.not_valid_before_utc:%Y-%m-%d}"
            f" to {leaf.not_valid_after_utc:%Y-%m-%d})"
        )
    return UserSigner(key, leaf, tuple(c for c in certs if c != leaf))


# --- signing ------------------------------------------------------------------------------------


def _asn1_cert(cert: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(
    path: Path,
    key: SigningKey,
    cert: x509.Certificate,
    settings: PdfSigning | None = None,
) -> PdfSigning:
    """Sign the PDF at ``path`` in place (an incremental update; the content is unchanged).

    ``key``/``cert`` are the log's; a user-supplied signer in ``settings`` (or in the
    settings made current by :func:`configured`) replaces them. The signing time is the
    real clock's when pyHanko signs (never the store's clock, which tests and imports
    may set); it is read back from the signature into ``signed_at``. Then a document
    timestamp is added when a TSA is configured and answers; otherwise a note says why
    there is none.
    """
    from asn1crypto import keys as asn1_keys
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    settings = settings or _SETTINGS.get() or PdfSigning()
    chain: tuple[x509.Certificate, ...] = ()
    if settings.signer is not None:
        key, cert, chain = settings.signer.key, settings.signer.cert, settings.signer.chain
    asn1_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    asn1_cert = _asn1_cert(cert)
    signer = signers.SimpleSigner(
        signing_cert=asn1_cert,
        signing_key=asn1_key,
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_cert, *(_asn1_cert(c) for c in chain)]
        ),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="evidence bundle: the log's entries as disclosed",
    )
    with path.open("rb") as source:
        writer = IncrementalPdfFileWriter(source, strict=False)
        # Room for the signature given up front: otherwise pyHanko signs once more only to
        # measure it (a third of the signing time for a small bundle).
        reserved = 8192 + 2 * sum(
            len(c.public_bytes(serialization.Encoding.DER)) for c in (cert, *chain)
        )
        data = signers.sign_pdf(writer, meta, signer=signer, bytes_reserved=reserved).getvalue()
    settings.signed_at = signing_time(data)
    settings.signer_subject = cert.subject.rfc4514_string()
    data = _document_timestamp(data, settings)
    path.write_bytes(data)
    return settings


def signing_time(data: bytes) -> datetime | None:
    """The time the PDF's signature states (its /M), in UTC."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    for signature in reader.embedded_signatures:
        if signature.sig_object_type == "/Sig" and signature.self_reported_timestamp:
            return signature.self_reported_timestamp.astimezone(UTC)
    return None


# --- the document timestamp ---------------------------------------------------------------------


def _timestamper(url: str, timeout: float) -> Any:
    """A pyHanko TimeStamper posting through :func:`evidence.timestamps.http_post`."""
    import asyncio

    from asn1crypto import tsp
    from pyhanko.sign.timestamps.api import TimeStamper

    from evidence import timestamps

    class _Http(TimeStamper):
        async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
            data = await asyncio.to_thread(timestamps.http_post, url, req.dump(), timeout)
            try:
                return tsp.TimeStampResp.load(data, strict=True)
            except ValueError as exc:
                raise timestamps.TimestampFailed(
                    f"the TSA {url} did not send an RFC 3161 response"
                ) from exc

    return _Http()


def _document_timestamp(data: bytes, settings: PdfSigning) -> bytes:
    """``data`` with a PAdES document timestamp from the first TSA that gives a good one."""
    from evidence import timestamps

    try:
        # None: EVIDENCE_TSA, as for `evidence timestamp`; an empty list: none at all.
        given = settings.tsas
        urls = timestamps.configured_tsas(given or ()) if given is None or given else []
    except timestamps.TimestampFailed as exc:
        settings.notes.append(f"the PDF has no document timestamp: {exc}")
        return data
    if not urls:
        settings.notes.append(
            f"the PDF has no document timestamp: no TSA configured (--tsa or {timestamps.ENV_TSA})"
        )
        return data
    from evidence.verifier.pdfsig import quiet

    failures = []
    for url in urls:
        try:
            with quiet():  # pyHanko logs a failed path with a traceback: the note says it
                stamped = _stamp_with(data, url, settings.tsa_timeout)
                tsa, when = check_document_timestamp(stamped, settings.tsa_anchors)
        except Exception as exc:  # a TSA's failure never fails the bundle
            failures.append(_reason(url, exc))
            continue
        settings.timestamp_tsa, settings.timestamp_time = url, when
        if not settings.tsa_anchors:
            settings.notes.append(
                f"the PDF's document timestamp ({tsa}): chain not checked against a trust anchor"
            )
        return stamped
    settings.notes.append(
        "the PDF is signed but has no document timestamp: " + " | ".join(failures)
    )
    return data


def _reason(url: str, exc: Exception) -> str:
    from evidence import timestamps

    if isinstance(exc, timestamps.TimestampFailed):
        return str(exc)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the TSA {url}: {detail}"


def _stamp_with(data: bytes, url: str, timeout: float) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    stamper = signers.PdfTimeStamper(_timestamper(url, timeout), field_name=TIMESTAMP_FIELD)
    return stamper.timestamp_pdf(writer, "sha256").getvalue()


def check_document_timestamp(
    data: bytes, anchors: Sequence[x509.Certificate] = ()
) -> tuple[str, datetime]:
    """The TSA subject and time of the PDF's (last) document timestamp, once it validates.

    Raises ValueError when it does not: not intact, not valid, or (with ``anchors``) not
    leading to one of them.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    stamps = [s for s in reader.embedded_signatures if s.sig_object_type == "/DocTimeStamp"]
    if not stamps:
        raise ValueError("no document timestamp in the PDF")
    stamp = stamps[-1]
    tsa_cert = stamp.signer_cert
    roots = [_asn1_cert(a) for a in anchors] if anchors else [tsa_cert]
    status = validate_pdf_timestamp(stamp, ValidationContext(trust_roots=roots))
    if not (status.intact and status.valid):
        raise ValueError("the document timestamp does not verify")
    if anchors and not status.trusted:
        raise ValueError("the TSA certificate does not lead to a trusted root (untrusted)")
    name = tsa_cert.subject.native.get("common_name") or tsa_cert.subject.human_friendly
    return str(name), status.timestamp.astimezone(UTC)


def env_passphrase() -> str | None:
    return os.environ.get(ENV_SIGN_KEY_PASSPHRASE) or None
