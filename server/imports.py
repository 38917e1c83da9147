"""Phone-backup uploads: ``POST /api/v1/imports`` runs the CLI's importers on the file sent.

The body is streamed to a private temporary folder (the importers read files: ZIP and
SQLite need a path), with a size limit and an optional declared SHA-256, then imported
by :class:`evidence.importers.engine.ImportRun` exactly as ``evidence import`` does:
same formats, selection, dedup keys (so a re-upload adds nothing), provenance and kept
original. The temporary copy is deleted when the request ends, whatever happens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, jsonify, request

from evidence import timeutil
from evidence.importers import base, csvfile, selection
from evidence.importers.engine import ImportOptions, ImportRun, Summary
from server.api import _SHA, _Limited, authenticated, bp, no_empty_values
from server.errors import ApiError

ARGS = frozenset(
    {"name", "format", "since", "until", "keywords", "numbers", "platform", "zone", "map",
     "dry_run"}
)  # fmt: skip
SINGLE = ("name", "format", "since", "until", "zone", "map", "dry_run")
MAX_NAME = 120
CHUNK = 1024 * 1024
_UNSAFE = re.compile('[\u0000-\u001f\u007f-\u009f/\\\\:*?"<>|]')
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
# What a damaged or hostile file can make a reader raise beyond the importers' own
# InvalidInput: a bad upload is the client's error (422), never a 500.
_UNREADABLE = (
    ValueError,
    LookupError,
    EOFError,
    SyntaxError,
    zipfile.BadZipFile,
    sqlite3.DatabaseError,
)


def file_name(raw: str | None) -> str:
    """A harmless local name that keeps what the importers look at (the suffix, the
    vendor's recording name): the last path part, no control or path characters."""
    text = unicodedata.normalize("NFC", raw or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip(" .")
    if len(text) > MAX_NAME:
        _stem, dot, suffix = text.rpartition(".")
        keep = f".{suffix}" if dot and len(suffix) <= 10 else ""
        text = text[: MAX_NAME - len(keep)] + keep
    return text or "upload"


def _one_line(name: str, values: list[str]) -> list[str]:
    for value in values:
        if _CONTROL.search(value) or len(value) > 1000:
            raise ApiError(422, f"{name} values are single lines of at most 1000 characters")
    return values


def _selection(log: Any, folder: Path) -> selection.Selection:
    """The CLI's selection from the query: the same parsers as --keywords, --numbers,
    --platform-map, --since and --until (numbers and map lines go through their files)."""
    args = request.args
    picked = selection.Selection(
        keywords=selection.keywords_from(_one_line("keywords", args.getlist("keywords")))
    )
    numbers = _one_line("numbers", args.getlist("numbers"))
    if numbers:
        listed = folder / "numbers.txt"
        listed.write_text("\n".join(numbers) + "\n", encoding="utf-8")
        picked.numbers, picked.platform_numbers = selection.read_numbers(listed)
    platforms = _one_line("platform", args.getlist("platform"))
    if platforms:
        mapped = folder / "platform-map.txt"
        mapped.write_text("\n".join(platforms) + "\n", encoding="utf-8")
        by_number, by_keyword = selection.read_platform_map(mapped)
        picked.platform_numbers.update(by_number)
        picked.platform_keywords = by_keyword
    if "since" in args:
        picked.since = timeutil.parse_day(args["since"], log.zone)
    if "until" in args:
        picked.until = timeutil.parse_day(args["until"], log.zone, end=True)
    return picked


def _flag(name: str) -> bool:
    value = request.args.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise ApiError(422, f"{name} is true or false")
    return value in ("true", "1")


def _receive(path: Path, limit: int) -> tuple[str, int]:
    """Stream the body to ``path``; (its SHA-256, its size)."""
    digest = hashlib.sha256()
    stream = _Limited(request.stream, limit, "an import file")
    size = 0
    with path.open("xb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@bp.post("/imports")
@authenticated
def upload_import() -> tuple[Response, int]:
    """Import a phone backup file (the raw body) with the CLI's importers."""
    args = request.args
    unknown = sorted(set(args) - ARGS)
    if unknown:
        raise ApiError(422, f"unknown parameters: {', '.join(unknown)}")
    repeated = [name for name in SINGLE if len(args.getlist(name)) > 1]
    if repeated:
        raise ApiError(422, f"give {', '.join(repeated)} once")
    no_empty_values(args, SINGLE)
    form = args.get("format", "auto")
    if form != "auto" and form not in base.formats():
        raise ApiError(422, f"format must be auto or one of {', '.join(base.formats())}")
    dry_run = _flag("dry_run")
    declared = request.headers.get("X-Content-SHA256")
    if declared is not None:
        declared = declared.strip().lower()
        if not _SHA.match(declared):
            raise ApiError(422, "X-Content-SHA256 is the file's SHA-256 (64 hex digits)")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(415, "send the file itself as the body, not a form")
    limit = current_app.config["EVIDENCE_MAX_IMPORT_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"an import file is at most {limit} bytes")
    request.max_content_length = limit + 64 * 1024  # more than the app's, for this view only
    log = g.log
    name = file_name(args.get("name"))
    zone = timeutil.zone(args["zone"]) if "zone" in args else log.zone
    csv_map = csvfile.parse_map(args["map"]) if "map" in args else {}
    # mkdtemp makes the folder readable by this user only; it goes when the request ends.
    with tempfile.TemporaryDirectory(prefix="evidence-import-") as work:
        folder = Path(work)
        picked = _selection(log, folder)
        (folder / "upload").mkdir(mode=0o700)
        path = folder / "upload" / name
        sha256, size = _receive(path, limit)
        if size == 0:
            raise ApiError(422, "the file is empty")
        if declared is not None and not hmac.compare_digest(sha256, declared):
            raise ApiError(422, "the file received does not match the declared SHA-256")
        options = ImportOptions(
            format=form, selection=picked, zone=zone, dry_run=dry_run, csv_map=csv_map
        )
        run = ImportRun(log, options)
        try:
            summary = run.run([path])
        except _UNREADABLE as exc:
            raise ApiError(
                422,
                f"{name} could not be read ({type(exc).__name__}); " + _committed(run.summary),
            ) from exc
    if not dry_run and (summary.new or summary.attached or summary.originals):
        from server.timestamping import after_upload

        after_upload(log)
    return jsonify(summary_json(summary)), 200


def _committed(summary: Summary) -> str:
    done = summary.new + summary.attached
    if not done:
        return "nothing was added"
    return f"{done} records were added before that; sending the file again adds the rest"


def summary_json(summary: Summary) -> dict[str, Any]:
    """The import summary the CLI prints, as JSON (``already``: in the log before)."""
    return {
        "ok": True,
        "dry_run": summary.dry_run,
        "complete": summary.complete,
        "records": summary.records,
        "new": summary.new,
        "already": summary.duplicates,
        "repeated": summary.repeated,
        "skipped": summary.filtered,
        "rejected": summary.rejected,
        "attached": summary.attached,
        "senders": summary.senders,
        "originals": summary.originals,
        "selection": summary.selection,
        "zone": summary.zone,
        "skipped_by": dict(summary.filtered_by),
        "by_platform": dict(summary.by_platform),
        "rejections": [
            {"file": file, "position": position, "reason": reason}
            for file, position, reason in summary.rejections
        ],
        "notes": list(summary.notes),
        "files": [
            {
                "name": f.name,
                "format": f.format,
                "sha256": f.sha256,
                "records": f.records,
                "new": f.new,
                "already": f.duplicates,
                "repeated": f.repeated,
                "skipped": f.filtered,
                "rejected": f.rejected,
                "attached": f.attached,
                "original_kept": f.original_kept,
            }
            for f in summary.files
        ],
    }
