"""Bundle download for the API and the web form: both call :func:`evidence.bundle.build_bundle`.

The ZIP is written to a private temporary folder, opened, unlinked, and streamed from the
open file, so nothing of it stays on the server's disk once the response is sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from flask import Response

from evidence import timeutil
from server.errors import ApiError

ARGS = ("platform", "since", "until", "lang")


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
    with tempfile.TemporaryDirectory(prefix="evidence-web-bundle-") as folder:
        path = Path(folder) / "bundle.zip"
        build_bundle(log, path, options)
        handle = path.open("rb")
        os.unlink(path)
    day = log.store.clock().astimezone(log.zone).strftime("%Y%m%d")
    size = os.fstat(handle.fileno()).st_size
    response = Response(_chunks(handle), mimetype="application/zip")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="evidence-bundle-{day}.zip"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _chunks(handle: BinaryIO, size: int = 256 * 1024) -> Iterator[bytes]:
    """The file's bytes; closed when done, or when the client goes away (generator closed)."""
    with handle:
        while chunk := handle.read(size):
            yield chunk
