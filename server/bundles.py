"""Bundle download for the API and the web form: both call :func:`evidence.bundle.build_bundle`.

The ZIP is written to a private temporary folder, opened, unlinked, and streamed from the
open file, so nothing of it stays on the server's disk once the response is sent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, send_file

from evidence import timeutil
from server.errors import ApiError

ARGS = ("platform", "since", "until", "lang")


def options_from(log: Any, args: Any) -> Any:
    """The core's bundle :class:`~evidence.bundle.Options` from query arguments."""
    from evidence.bundle import Options

    unknown = sorted(set(args) - set(ARGS))
    if unknown:
        raise ApiError(422, f"unknown parameters: {', '.join(unknown)}")
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
    response = send_file(
        handle,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"evidence-bundle-{day}.zip",
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
