"""entries.csv: the disclosed entries as a spreadsheet, safe to open in Excel or WPS.

A cell starting with = + - @ (or a tab or carriage return) would run as a formula
in a spreadsheet: collector text is hostile, so such cells get a leading
apostrophe. UTF-8 with a byte-order mark, so Excel reads the Chinese correctly.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import tzinfo

from evidence.model import Entry

COLUMNS = [
    "seq",
    "kind",
    "occurred_local",
    "recorded_local",
    "platform",
    "collector",
    "number",
    "region",
    "carrier",
    "said",
    "note",
    "tags",
    "target",
    "attachments",
    "commitment",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def rows(entries: Iterable[Entry], zone: tzinfo) -> Iterable[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield "\ufeff".encode()
    writer.writerow(COLUMNS)
    for entry in entries:
        f = entry.fields
        number = f.get("number") if isinstance(f.get("number"), dict) else {}
        writer.writerow(
            [
                _cell(v)
                for v in (
                    entry.seq,
                    entry.kind,
                    entry.occurred_at.astimezone(zone).isoformat(),
                    entry.recorded_at.astimezone(zone).isoformat(),
                    f.get("platform"),
                    f.get("collector"),
                    number.get("e164") or number.get("raw"),
                    number.get("region"),
                    number.get("carrier"),
                    f.get("said")
                    if entry.kind not in ("amend", "retract")
                    else json.dumps(f, ensure_ascii=False, sort_keys=True),
                    f.get("note"),
                    ", ".join(f.get("tags", [])),
                    entry.target,
                    " ".join(a.sha256 for a in entry.attachments),
                    entry.commitment.hex(),
                )
            ]
        )
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
