"""Bundle download for the API and the web form: both call :func:`evidence.bundle.build_bundle`.

The ZIP is written to a private temporary folder, opened, unlinked, and streamed from the
open file, so nothing of it stays on the server's disk once the response is sent.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from flask import Response

from evidence import timeutil
from server.errors import ApiError
from server.timestamping import loggable, pdf_settings

ARGS = ("platform", "since", "until", "lang")
PDF_TSA_TIMEOUT = 5.0  # seconds per TSA for the PDF's document timestamp, inside a request
_log = logging.getLogger(__name__)


def options_from(log: Any, args: Any) -> Any:
    """The core's bundle :class:`~evidence.bundle.Options` from query arguments."""
    from evidence.bundle import Options

    unknown = sorted(set(args) - set(ARGS))
    if unknown:
        raise ApiError(422, f"unknown parameters: {', '.join(unknown)}")
    from server.api import no_empty_values

    no_empty_values(args, ("since", "until", "lang"))
    platforms = tuple(p.strip() for p in args.getlist("platform") if p.strip())
    since, until = args.get("since") or None, args.get("until") or None
    return Options(
        platforms=platforms,
        since=timeutil.parse_day(since, log.zone) if since else None,
        until=timeutil.parse_day(until, log.zone, end=True) if until else None,
        lang=args.get("lang") or "zh",
    )


def bundle_response(log: Any, args: Any) -> Response:
    """Build the bundle for ``args`` and answer with the ZIP as a download."""
    from evidence.bundle import build_bundle

    options = options_from(log, args)
    signing = _pdf_signing()
    if signing is not None:
        options = replace(options, pdf_signing=signing)
    with tempfile.TemporaryDirectory(prefix="evidence-web-bundle-") as folder:
        path = Path(folder) / "bundle.zip"
        build_bundle(log, path, options)
        for note in signing.notes if signing is not None else ():
            _log.warning("bundle PDF: %s", loggable(note))
        handle = path.open("rb")
        os.unlink(path)
    day = log.store.clock().astimezone(log.zone).strftime("%Y%m%d")
    size = os.fstat(handle.fileno()).st_size
    response = Response(_chunks(handle), mimetype="application/zip")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="evidence-bundle-{day}.zip"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _pdf_signing() -> Any:
    """The PDF's signing settings for a request: a document timestamp from the app's
    EVIDENCE_TSA (none without it), where a silent TSA may hold the answer back only
    briefly (the CLI waits longer)."""
    from evidence.bundle import pades

    if not pades.available():
        return None
    urls, anchors = pdf_settings()
    return pades.PdfSigning(tsas=urls, tsa_anchors=anchors, tsa_timeout=PDF_TSA_TIMEOUT)


def _chunks(handle: BinaryIO, size: int = 256 * 1024) -> Iterator[bytes]:
    """The file's bytes; closed when done, or when the client goes away (generator closed)."""
    with handle:
        while chunk := handle.read(size):
            yield chunk
