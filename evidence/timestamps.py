"""RFC 3161 trusted timestamps over the log's signed head.

A time-stamping authority (TSA) signs a token saying that a SHA-256 digest existed
at its ``genTime``. The digest is that of the exact head text the log key signs
(:meth:`evidence.hashing.Head.message`), so one token proves that every entry the
head covers existed no later than ``genTime``. docs/FORMAT.md §15 describes the
wire format; anyone can check a token with ``openssl ts -verify``.

ASN.1 is parsed and built with asn1crypto (the library pyHanko uses); signatures
and certificates are checked with ``cryptography``. Nothing here is hand-written DER.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from evidence.errors import EvidenceError

if TYPE_CHECKING:
    from evidence.hashing import Head
    from evidence.ledger import Log
    from evidence.model import Entry

ENV_TSA = "EVIDENCE_TSA"
ENV_TSA_CA = "EVIDENCE_TSA_CA"
# No TSA is contacted unless the user names one (--tsa or EVIDENCE_TSA): sending a
# digest to a third party is the user's choice. docs/FORMAT.md §15 lists public TSAs.
REQUEST_TYPE = "application/timestamp-query"
RESPONSE_TYPE = "application/timestamp-reply"
TIMEOUT = 15.0
MAX_RESPONSE = 256 * 1024
_HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


class TimestampFailed(EvidenceError):
    """A TSA could not be reached, refused, or answered with a token that does not check."""


@dataclass
class TokenReport:
    """What a token says and how far it could be checked.

    ``problems`` are failures (the token does not prove what it should);
    ``unchecked`` lists what could not be checked (e.g. no trust anchor given).
    """

    gen_time: datetime | None = None
    tsa: str = ""
    serial: int | None = None
    policy: str = ""
    imprint: bytes = b""
    nonce: int | None = None
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- requests -----------------------------------------------------------------------------------


def imprint_of(message: bytes) -> bytes:
    """The digest a token over ``message`` carries: SHA-256 of the exact bytes."""
    return hashlib.sha256(message).digest()


def build_request(message: bytes, nonce: int | None = None) -> tuple[bytes, int]:
    """A DER TimeStampReq for SHA-256(``message``), asking for the TSA certificate."""
    if nonce is None:
        nonce = secrets.randbits(63) | 1 << 62
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": imprint_of(message),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    return request.dump(), nonce


def configured_tsas(given: Sequence[str] = ()) -> list[str]:
    """TSAs to try in order: ``--tsa`` options, else EVIDENCE_TSA (space or comma separated)."""
    urls = [u.strip() for u in given if u.strip()]
    if not urls:
        raw = os.environ.get(ENV_TSA, "")
        urls = [u for u in raw.replace(",", " ").split() if u]
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise TimestampFailed(f"a TSA is an http:// or https:// URL, not {url!r}")
    return urls


Poster = Callable[[str, bytes, float], bytes]


def http_post(url: str, body: bytes, timeout: float = TIMEOUT) -> bytes:
    """POST a request to a TSA; read at most MAX_RESPONSE bytes of the reply."""
    if not url.startswith(("http://", "https://")):
        raise TimestampFailed(f"a TSA is an http:// or https:// URL, not {url!r}")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=body, method="POST", headers={"Content-Type": REQUEST_TYPE}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read(MAX_RESPONSE + 1)
    except urllib.error.HTTPError as exc:
        raise TimestampFailed(f"the TSA {url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampFailed(f"the TSA {url} could not be reached: {reason}") from exc
    if len(data) > MAX_RESPONSE:
        raise TimestampFailed(f"the TSA {url} sent more than {MAX_RESPONSE} bytes")
    return data


def token_from_response(response: bytes) -> bytes:
    """The token (DER ContentInfo) out of a TimeStampResp; refuses anything but 'granted'."""
    try:
        outer = core.Sequence.load(response, strict=True)
        status_info = tsp.PKIStatusInfo.load(outer[0].dump())
        status = status_info["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = status_info["status_string"].native or []
            detail = "; ".join(str(t) for t in text)
            raise TimestampFailed(f"the TSA refused: {status}" + (f" ({detail})" if detail else ""))
        parsed = tsp.TimeStampResp.load(response, strict=True)
        token = parsed["time_stamp_token"]
        if not isinstance(token, cms.ContentInfo) or token.native is None:
            raise TimestampFailed("the TSA's reply holds no token")
        return token.dump(force=False)
    except TimestampFailed:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampFailed("the TSA's reply is not an RFC 3161 response") from exc


def request_token(
    urls: Sequence[str],
    message: bytes,
    anchors: Sequence[x509.Certificate] = (),
    post: Poster = http_post,
    timeout: float = TIMEOUT,
) -> tuple[str, bytes, TokenReport]:
    """Ask each TSA in turn for a token over ``message``; return the first that checks.

    Raises :class:`TimestampFailed` naming every TSA's failure when none gives one.
    """
    if not urls:
        raise TimestampFailed(
            f"no TSA configured: give --tsa URL or set {ENV_TSA} (docs/FORMAT.md §15 lists some)"
        )
    failures = []
    for url in urls:
        body, nonce = build_request(message)
        try:
            token = token_from_response(post(url, body, timeout))
        except TimestampFailed as exc:
            failures.append(str(exc))
            continue
        report = check_token(token, message, nonce=nonce, anchors=anchors)
        if report.ok:
            return url, token, report
        failures.append(f"the token from {url} does not check: " + "; ".join(report.problems))
    raise TimestampFailed("no timestamp was obtained: " + " | ".join(failures))


# --- checking tokens ----------------------------------------------------------------------------


def load_anchors(pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampFailed("the TSA trust anchors are not PEM certificates") from exc


def check_token(
    token: bytes,
    message: bytes,
    nonce: int | None = None,
    anchors: Sequence[x509.Certificate] = (),
) -> TokenReport:
    """Check a token over ``message``: imprint, nonce, CMS signature, TSA certificate.

    Never raises for a bad token: every failure is a line in ``problems``.
    """
    report = TokenReport()
    try:
        _check(token, message, nonce, anchors, report)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        report.problems.append(f"the token is not a well-formed RFC 3161 token ({exc})")
    return report


def _check(
    token: bytes,
    message: bytes,
    nonce: int | None,
    anchors: Sequence[x509.Certificate],
    report: TokenReport,
) -> None:
    info = cms.ContentInfo.load(token, strict=True)
    if info["content_type"].native != "signed_data":
        report.problems.append("the token is not CMS SignedData")
        return
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        report.problems.append("the token does not hold a TSTInfo")
        return
    content = encap["content"]
    raw_tst = content.contents if isinstance(content, core.ParsableOctetString) else b""
    tst = tsp.TSTInfo.load(raw_tst, strict=True)
    report.gen_time = tst["gen_time"].native.astimezone(UTC)
    report.serial = tst["serial_number"].native
    report.policy = tst["policy"].dotted
    report.nonce = tst["nonce"].native
    tsa_name = tst["tsa"]
    imprint = tst["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    report.imprint = imprint["hashed_message"].native
    if algorithm not in _HASHLIB:
        report.problems.append(f"the token's imprint uses {algorithm}, not SHA-2")
    elif _HASHLIB[algorithm](message).digest() != report.imprint:
        report.problems.append("the token's imprint is not the digest of this head's text")
    if nonce is not None and report.nonce != nonce:
        report.problems.append("the token's nonce is not the one asked for (a replayed answer)")

    signers = signed["signer_infos"]
    if len(signers) != 1:
        report.problems.append(f"the token has {len(signers)} signers, not one")
        return
    signer = signers[0]
    certs = [c.chosen for c in signed["certificates"] or [] if c.name == "certificate"]
    tsa_cert = _find_signer(signer["sid"], certs)
    if tsa_cert is None:
        report.problems.append("the token does not include the TSA certificate: cannot check it")
        return
    report.tsa = tsa_cert.subject.human_friendly
    named = tsa_name.chosen if tsa_name.native is not None else None
    if named is not None and tsa_name.name == "directory_name" and named != tsa_cert.subject:
        report.problems.append("the token's TSA name is not its certificate's subject")
    _check_signed_attrs(signer, raw_tst, tsa_cert, report)
    _check_signature(signer, tsa_cert, report)
    _check_certificate(tsa_cert, certs, anchors, report)


def _find_signer(
    sid: cms.SignerIdentifier, certs: Iterable[asn1_x509.Certificate]
) -> asn1_x509.Certificate | None:
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.issuer == wanted["issuer"]
                and cert.serial_number == wanted["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None


def _attr(signer: cms.SignerInfo, name: str) -> list | None:
    for attribute in signer["signed_attrs"] or []:
        if attribute["type"].native == name:
            return list(attribute["values"])
    return None


def _check_signed_attrs(
    signer: cms.SignerInfo, raw_tst: bytes, cert: asn1_x509.Certificate, report: TokenReport
) -> None:
    if not signer["signed_attrs"]:
        report.problems.append("the token's signature has no signed attributes")
        return
    content_type = _attr(signer, "content_type")
    if not content_type or content_type[0].native != "tst_info":
        report.problems.append("the signed content type is not TSTInfo")
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHLIB:
        report.problems.append(f"the token is signed with digest {digest_name}, not SHA-2")
        return
    digest = _attr(signer, "message_digest")
    if not digest or digest[0].native != _HASHLIB[digest_name](raw_tst).digest():
        report.problems.append("the signed digest is not that of the token's TSTInfo (altered)")
    # RFC 3161 §2.4.1 / RFC 5816: the signed attributes name the TSA certificate.
    for name in ("signing_certificate_v2", "signing_certificate"):
        values = _attr(signer, name)
        if not values:
            continue
        ids = values[0]["certs"]
        if not ids:
            break
        first = ids[0]
        algo = first["hash_algorithm"]["algorithm"].native if name.endswith("v2") else "sha1"
        hasher = getattr(hashlib, algo, None)
        if hasher is None or hasher(cert.dump()).digest() != first["cert_hash"].native:
            report.problems.append("the signed attributes name another TSA certificate")
        return
    report.unchecked.append("the token does not name its TSA certificate in a signed attribute")


def _check_signature(
    signer: cms.SignerInfo, cert: asn1_x509.Certificate, report: TokenReport
) -> None:
    # The attributes are signed as a SET (tag 0x31), not as the [0] IMPLICIT they are sent as.
    signed_bytes = b"\x31" + signed_attrs_body(signer)
    signature = signer["signature"].native
    digest_name = signer["digest_algorithm"]["algorithm"].native
    algo = signer["signature_algorithm"]
    key = x509.load_der_x509_certificate(cert.dump()).public_key()
    try:
        kind = algo.signature_algo
        if isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            key.verify(signature, signed_bytes, padding.PKCS1v15(), _HASHES[digest_name]())
        elif isinstance(key, rsa.RSAPublicKey) and kind == "rsassa_pss":
            params = algo["parameters"]
            pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]()
            salt = params["salt_length"].native
            key.verify(
                signature,
                signed_bytes,
                padding.PSS(padding.MGF1(pss_hash), salt),
                pss_hash,
            )
        elif isinstance(key, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            key.verify(signature, signed_bytes, ec.ECDSA(_HASHES[digest_name]()))
        elif isinstance(key, ed25519.Ed25519PublicKey) and kind == "ed25519":
            key.verify(signature, signed_bytes)
        else:
            report.unchecked.append(f"the token's signature algorithm {kind} is not supported")
    except InvalidSignature:
        report.problems.append("the TSA's signature over the token does not verify (altered)")
    except (KeyError, ValueError) as exc:
        report.problems.append(f"the TSA's signature cannot be checked ({exc})")


def signed_attrs_body(signer: cms.SignerInfo) -> bytes:
    """The signed attributes as sent, without their [0] tag byte (length and content kept)."""
    return signer["signed_attrs"].dump(force=False)[1:]


def _check_certificate(
    cert: asn1_x509.Certificate,
    certs: Sequence[asn1_x509.Certificate],
    anchors: Sequence[x509.Certificate],
    report: TokenReport,
) -> None:
    usage = cert.extended_key_usage_value
    if usage is None or "time_stamping" not in usage.native:
        report.problems.append("the TSA certificate is not for time-stamping (extended key usage)")
    leaf = x509.load_der_x509_certificate(cert.dump())
    when = report.gen_time
    if when is not None and not (leaf.not_valid_before_utc <= when <= leaf.not_valid_after_utc):
        report.problems.append("the TSA certificate was not valid at the token's time")
    # The chain as far as the token gives it (and the anchors complete it): each
    # certificate must be signed by the next and valid at the token's time.
    pool = [x509.load_der_x509_certificate(c.dump()) for c in certs]
    current = leaf
    for _ in range(8):
        if any(current == anchor for anchor in anchors):
            return
        issuer = next(
            (c for c in [*anchors, *pool] if c.subject == current.issuer and c != current), None
        )
        if issuer is None:
            break
        try:
            current.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            report.problems.append("the TSA certificate chain has a bad signature")
            return
        if when is not None and not (
            issuer.not_valid_before_utc <= when <= issuer.not_valid_after_utc
        ):
            report.problems.append("a certificate of the TSA chain was not valid at its time")
            return
        current = issuer
    if not anchors:
        report.unchecked.append(
            f"the TSA certificate ({report.tsa}): chain not checked against a trust anchor "
            "(give the TSA's root certificate, or check with `openssl ts -verify -CAfile`)"
        )
        return
    if any(current == anchor for anchor in anchors):
        return
    report.problems.append("the TSA certificate does not lead to a trusted root (untrusted)")


# --- stored form --------------------------------------------------------------------------------


def encode_token(token: bytes) -> str:
    return base64.b64encode(token).decode("ascii")


def decode_token(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# --- the log ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """A checked token recorded in the log: every entry before ``head_size`` existed by then."""

    seq: int
    tsa: str
    head_size: int
    gen_time: datetime
    token: bytes
    head_text: bytes


def timestamp_log(
    log: Log,
    urls: Sequence[str],
    anchors: Sequence[x509.Certificate] = (),
    post: Poster = http_post,
) -> tuple[Entry, TokenReport]:
    """Get a token over the log's current signed head and append it as a "timestamp" entry.

    Nothing is appended unless a TSA answered with a token that checks.
    """
    from evidence import model, timeutil

    head = log.head()
    url, token, report = request_token(urls, head.message(), anchors, post)
    assert report.gen_time is not None
    draft = model.timestamp_draft(
        log.store.clock(),
        url,
        head.size,
        head.root.hex(),
        head.signed_at,
        timeutil.format_canonical(report.gen_time),
        encode_token(token),
    )
    return log.append([draft])[0], report


def stamps(
    heads: Iterable[Head], entries: Iterable[Entry], anchors: Sequence[x509.Certificate] = ()
) -> tuple[list[Stamp], list[str]]:
    """The timestamp entries whose token checks against the log's own signed head.

    Returns the good stamps (oldest token first) and a problem line for each bad one.
    """
    from evidence import timeutil

    by_size = {h.size: h for h in heads}
    good: list[Stamp] = []
    problems: list[str] = []
    for entry in entries:
        if entry.kind != "timestamp":
            continue
        fields = entry.fields
        head = by_size.get(int(fields.get("head_size", -1)))
        if (
            head is None
            or head.size > entry.seq
            or head.root.hex() != fields.get("head_root")
            or (head.signed_at != fields.get("head_signed_at"))
        ):
            problems.append(f"timestamp #{entry.seq}: its head is not a signed head of this log")
            continue
        try:
            token = decode_token(str(fields["token"]))
        except (ValueError, KeyError):
            problems.append(f"timestamp #{entry.seq}: the token is not base64")
            continue
        report = check_token(token, head.message(), anchors=anchors)
        if not report.ok or report.gen_time is None:
            problems.append(f"timestamp #{entry.seq}: " + "; ".join(report.problems))
            continue
        if fields.get("gen_time") != timeutil.format_canonical(report.gen_time):
            problems.append(f"timestamp #{entry.seq}: its recorded time differs from the token's")
            continue
        good.append(
            Stamp(entry.seq, str(fields["tsa"]), head.size, report.gen_time, token, head.message())
        )
    good.sort(key=lambda s: (s.gen_time, s.seq))
    return good, problems


def earliest_cover(stamps_: Sequence[Stamp], seq: int) -> Stamp | None:
    """The earliest token whose head covers entry ``seq``."""
    return next((s for s in stamps_ if s.head_size > seq), None)


# --- export for outsiders -----------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """What :func:`export_tokens` wrote, and the timestamp entries it left out (and why)."""

    folder: Path
    stamps: list[Stamp]
    problems: list[str]


def export_tokens(log: Log, folder: Path) -> Export:
    """Write each checked token with the head text it is over, for ``openssl ts -verify``.

    In ``folder`` (new or empty): ``<n>.tsr`` (the DER token, byte for byte as recorded in
    entry n), ``<n>.head.txt`` (the signed head text; its SHA-256 is the token's imprint),
    ``<n>.head.sig`` (the log key's Ed25519 signature over it), ``pub.pem`` (the log's
    public key) and ``README.txt`` with the commands. Tokens that do not check are left
    out and named in ``problems``. No TSA is contacted.
    """
    from evidence import crypto, timeutil

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TimestampFailed(f"{folder} is not an empty folder: choose a new one")
    heads = log.heads()
    good, problems = stamps(heads, log.entries())
    signature = {h.size: h.signature for h in heads}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pub.pem").write_text(crypto.public_key_pem(log.info.public_key), encoding="ascii")
    lines = []
    for stamp in sorted(good, key=lambda s: s.seq):
        n = stamp.seq
        (folder / f"{n}.tsr").write_bytes(stamp.token)
        (folder / f"{n}.head.txt").write_bytes(stamp.head_text)
        (folder / f"{n}.head.sig").write_bytes(signature[stamp.head_size])
        lines.append(
            f"  {n:>6}  {timeutil.format_canonical(stamp.gen_time)}  entries 0–"
            f"{stamp.head_size - 1}  {stamp.tsa}"
        )
    (folder / "README.txt").write_text(
        _EXPORT_README.format(
            log=log.log_id,
            fingerprint=log.info.fingerprint,
            tokens="\n".join(lines) or "  (none)",
        ),
        encoding="utf-8",
    )
    return Export(folder, sorted(good, key=lambda s: s.seq), problems)


_EXPORT_README = """\
RFC 3161 timestamps of evidence log {log}
Log key fingerprint (SHA-256 of the Ed25519 public key): {fingerprint}

Each N.tsr is a time-stamp token (DER CMS ContentInfo, SignedData over a TSTInfo),
byte for byte as the time-stamping authority (TSA) sent it and as entry N of the log
records it. N.head.txt is the signed head of the log it is over: the token's message
imprint is the SHA-256 of that file's exact bytes. The token proves that the head, and
so every entry it covers, existed no later than the token's time (genTime).

Check a token with OpenSSL and the TSA's root certificate (from the TSA's website):

    openssl ts -verify -token_in -in N.tsr -data N.head.txt -CAfile tsa-root.pem

It prints "Verification: OK". Show its time, serial number and TSA:

    openssl ts -reply -token_in -in N.tsr -token_out -text

Check that the log's key signed the head text (Ed25519, OpenSSL 3):

    openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in N.head.txt -sigfile N.head.sig

The format is docs/FORMAT.md §15 of the evidence project.

     N  time (TSA)            covers               TSA
{tokens}
"""
