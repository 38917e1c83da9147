"""The PAdES signature and document timestamp of a bundle's PDF (docs/SECURITY.md §11).

Checked with pyHanko. The PDF has exactly one signature; it may be followed by document
timestamps (RFC 3161), which must cover the whole file, and nothing else may have been
added after the signature. The signer is either the log's self-signed certificate
(``CN=evidence log <id>``, ``OU=<fingerprint of the log key>``) or a certificate the user
supplied; a certificate that claims to be a log's but is not this one's is a failure.
Document timestamps are checked against the ``--tsa-root`` anchors when given; without
them, the report says the chain was not checked against a trust anchor.

pyHanko is optional: without it, the PDF's signature is reported as not checked (its
bytes are still checked against the manifest, which the log key signs).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from evidence.verifier import layout, safezip

MAX_PDF = 2 * 1024**3
LOG_CN_PREFIX = "evidence log "


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """pyHanko logs failed path building with a traceback: the report says it instead."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check(checker: Any) -> None:
    report = checker.report
    signed = (checker.manifest.get("pdf") or {}).get("signed") if checker.manifest else None
    if signed is None:
        report.unchecked.append("the PDF is not signed (PAdES)")
        return
    try:
        import pyhanko.sign.validation  # noqa: F401
    except ImportError:
        report.unchecked.append("pyHanko is not installed: the PDF's PAdES signature not checked")
        return
    info = checker.members.get(layout.PDF)
    if info is None:
        return
    try:
        data = safezip.read(checker.archive, info, MAX_PDF)
        with quiet():
            _check_pdf(checker, data)
    except Exception as exc:  # a damaged or hostile PDF: any parser error is a failure
        checker.problem("pdf.signature", layout.PDF, f"cannot be checked: {type(exc).__name__}")


def _check_pdf(checker: Any, data: bytes) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import ModificationLevel, SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    report = checker.report
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    embedded = reader.embedded_signatures
    signatures = [s for s in embedded if s.sig_object_type == "/Sig"]
    stamps = [s for s in embedded if s.sig_object_type == "/DocTimeStamp"]
    if len(signatures) != 1 or len(signatures) + len(stamps) != len(embedded):
        checker.problem("pdf.signature", layout.PDF, f"{len(signatures)} signatures, not one")
        return
    signature = signatures[0]
    cert = signature.signer_cert
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[cert]))
    if not (status.intact and status.valid):
        checker.problem("pdf.signature", layout.PDF, "the PAdES signature does not verify")
        return
    later_stamps_only = (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
        and bool(stamps)
    )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE and not later_stamps_only:
        checker.problem("pdf.signature", layout.PDF, "the PDF was changed after it was signed")
        return
    pdf: dict[str, Any] = {
        "signed": True,
        "signer": str(cert.subject.native.get("common_name") or cert.subject.human_friendly),
        "issuer": str(cert.issuer.native.get("common_name") or cert.issuer.human_friendly),
        "signing_time": _iso(signature.self_reported_timestamp),
        "certificate": "",
        "document_timestamps": [],
    }
    report.pdf = pdf
    fingerprint = hashlib.sha256(report.public_key).hexdigest() if report.public_key else ""
    subject = cert.subject.native
    common_name = str(subject.get("common_name") or "")
    if common_name.startswith(LOG_CN_PREFIX):
        if common_name != f"{LOG_CN_PREFIX}{report.log_id}" or (
            subject.get("organizational_unit_name") != fingerprint
        ):
            checker.problem(
                "pdf.signature", layout.PDF, "the signing certificate is not this log's"
            )
            return
        pdf["certificate"] = "self-signed, per log"
    else:
        pdf["certificate"] = "user-supplied"
        report.unchecked.append(
            f"the PDF's signing certificate ({cert.subject.human_friendly}, issued by "
            f"{cert.issuer.human_friendly}): chain not checked against a trust anchor"
        )
    for number, stamp in enumerate(stamps, start=1):
        if not _check_stamp(checker, stamp, number, last=number == len(stamps)):
            return
    if not stamps:
        report.unchecked.append("the PDF carries no document timestamp (RFC 3161)")


def _check_stamp(checker: Any, stamp: Any, number: int, last: bool) -> bool:
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    report = checker.report
    anchors = list(getattr(checker, "tsa_roots", []) or [])
    tsa_cert = stamp.signer_cert
    tsa = str(tsa_cert.subject.native.get("common_name") or tsa_cert.subject.human_friendly)
    roots = [_asn1(a) for a in anchors] if anchors else [tsa_cert]
    status = validate_pdf_timestamp(stamp, ValidationContext(trust_roots=roots))
    where = f"{layout.PDF} (document timestamp {number})"
    if not (status.intact and status.valid):
        checker.problem("pdf.timestamp", where, "the document timestamp does not verify")
        return False
    if last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        checker.problem("pdf.timestamp", where, "the PDF was changed after it was timestamped")
        return False
    if anchors and not status.trusted:
        checker.problem(
            "pdf.timestamp",
            where,
            f"the TSA certificate ({tsa}) does not lead to a --tsa-root anchor (untrusted)",
        )
        return False
    record = {"gen_time": _iso(status.timestamp), "tsa": tsa, "trusted": bool(anchors)}
    report.pdf["document_timestamps"].append(record)
    if not anchors:
        note = (
            f"the PDF's document timestamp ({tsa}): chain not checked against a trust anchor "
            "(give --tsa-root)"
        )
        if note not in report.unchecked:
            report.unchecked.append(note)
    return True


def _asn1(cert: Any) -> Any:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
