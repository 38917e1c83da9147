"""The PAdES signature of a bundle's PDF (docs/SECURITY.md §11), checked with pyHanko.

pyHanko is optional: without it, the PDF's signature is reported as not checked (its
bytes are still checked against the manifest, which the log key signs).
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from evidence.verifier import layout, safezip

MAX_PDF = 2 * 1024**3


def check(checker: Any) -> None:
    report = checker.report
    signed = (checker.manifest.get("pdf") or {}).get("signed") if checker.manifest else None
    if signed is None:
        report.unchecked.append("the PDF is not signed (PAdES)")
        return
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.status import SignatureCoverageLevel
        from pyhanko_certvalidator import ValidationContext
    except ImportError:
        report.unchecked.append("pyHanko is not installed: the PDF's PAdES signature not checked")
        return
    info = checker.members.get(layout.PDF)
    if info is None:
        return
    try:
        data = safezip.read(checker.archive, info, MAX_PDF)
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            checker.problem("pdf.signature", layout.PDF, f"{len(signatures)} signatures, not one")
            return
        cert = signatures[0].signer_cert
        status = validate_pdf_signature(signatures[0], ValidationContext(trust_roots=[cert]))
    except Exception as exc:  # a damaged or hostile PDF: any parser error is a failure
        checker.problem("pdf.signature", layout.PDF, f"cannot be checked: {type(exc).__name__}")
        return
    if not (status.intact and status.valid):
        checker.problem("pdf.signature", layout.PDF, "the PAdES signature does not verify")
        return
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        checker.problem("pdf.signature", layout.PDF, "the PDF was changed after it was signed")
        return
    fingerprint = hashlib.sha256(report.public_key).hexdigest() if report.public_key else ""
    subject = cert.subject.native
    if subject.get("common_name") != f"evidence log {report.log_id}" or (
        subject.get("organizational_unit_name") != fingerprint
    ):
        checker.problem("pdf.signature", layout.PDF, "the signing certificate is not this log's")
