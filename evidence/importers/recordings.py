"""Call-recording folders: the number and the local start time are in the file name.

The patterns are a table (vendor, regex, time format), tried in order; add a
row for a new phone. Times in names carry no zone: they are the phone's local
time, read in the zone the caller gives (the log's zone by default), and every
entry records which zone was assumed. The audio's playing time, where the file's
headers tell it cheaply (:mod:`evidence.importers.audio`: WAV, AMR, M4A/3GP, MP3),
becomes the call's ``duration`` and ``source.audio_ms`` (integer milliseconds).
Each recording becomes a call with the file attached, unless the engine finds
an already-logged call of the same number starting close enough, which then
gets the file by an amendment.
See ../shared/formats.md §3.1.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from evidence.importers import audio, base
from evidence.importers.base import Blob, Importer, Item, Note, ReadContext, Record, Rejected, Unit

AUDIO = {".mp3", ".m4a", ".aac", ".amr", ".wav", ".3gp", ".3ga", ".ogg", ".opus", ".flac", ".awb"}

# (vendor, pattern on the file name without its folder, strptime format of <ts>)
PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    # Xiaomi MIUI: 通话录音@name(number)_yyyyMMddHHmmss.mp3 (the prefix depends on the locale)
    ("miui", re.compile(r"^(?:[^@]*@)?(?P<name>.*?)\((?P<num>[^)]*)\)_(?P<ts>\d{14})\.\w+$"),
     "%Y%m%d%H%M%S"),
    # Huawei / Honor EMUI: name@number_yyyyMMddHHmmss.amr
    ("huawei", re.compile(r"^(?P<name>.*)@(?P<num>[+\d ]+)_(?P<ts>\d{14})\.\w+$"), "%Y%m%d%H%M%S"),
    # Samsung: Call recording <number or name>_yyMMdd_HHmmss.m4a
    ("samsung", re.compile(r"^Call recording (?P<num>.+?)_(?P<ts>\d{6}_\d{6})\.\w+$"),
     "%y%m%d_%H%M%S"),
    # Newer MIUI and some Huawei: number_yyyyMMddHHmmss.m4a ("134 1096 1780_20220425103455")
    ("number-time", re.compile(r"^(?P<num>[+\d][\d +\-]{2,})_(?P<ts>\d{14})\.\w+$"),
     "%Y%m%d%H%M%S"),
    # Anything else ending in _yyyyMMddHHmmss: a contact name and no number.
    ("name-time", re.compile(r"^(?P<name>.+?)_(?P<ts>\d{14})\.\w+$"), "%Y%m%d%H%M%S"),
]  # fmt: skip


def parse_name(name: str) -> tuple[str, str | None, str | None, str] | None:
    """``(vendor, number, contact name, timestamp text + format)`` from a file name."""
    for vendor, pattern, fmt in PATTERNS:
        match = pattern.match(name)
        if match:
            groups = match.groupdict()
            number = groups.get("num")
            if number is not None:
                # MIUI writes + as 00, a comma (pause) as p and * as s.
                number = number.strip()
            return (
                vendor,
                number or None,
                (groups.get("name") or "").strip() or None,
                (f"{groups['ts']}|{fmt}"),
            )
    return None


def _audio_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    found = []
    for folder, _dirs, files in os.walk(path):
        for name in files:
            if Path(name).suffix.lower() in AUDIO:
                found.append(Path(folder) / name)
    return sorted(found)


@base.register
class Recordings(Importer):
    name = "recordings"
    label = "call-recording files or folders (MIUI, EMUI, Samsung… file names)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_file():
            return path.suffix.lower() in AUDIO
        return path.is_dir() and any(True for _ in _audio_files(path))

    def units(self, path: Path) -> list[Unit]:
        return [Unit(path, path.name, keep=False)]

    def rank(self, unit: Unit) -> int:
        return 3  # after the calls of the same command, so that they can be matched

    def size(self, unit: Unit) -> int:
        return sum(p.stat().st_size for p in _audio_files(unit.path))

    def read(self, unit: Unit, ctx: ReadContext) -> Iterator[Item]:
        zone_name = str(getattr(ctx.zone, "key", ctx.zone))
        yield Note(f"{unit.name}: times in recording file names were read as {zone_name}")
        root = unit.path if unit.path.is_dir() else unit.path.parent
        for path in _audio_files(unit.path):
            relative = path.relative_to(root).as_posix()
            parsed = parse_name(path.name)
            if parsed is None:
                ctx.advance(path.stat().st_size)
                yield Rejected(relative, "the file name carries no number and time we know")
                continue
            vendor, number, contact, stamp = parsed
            text, fmt = stamp.split("|")
            try:
                local = datetime.strptime(text, fmt)  # the zone is added next
                occurred = local.replace(tzinfo=ctx.zone)
                with path.open("rb") as handle:
                    sha = hashlib.file_digest(handle, "sha256").hexdigest()
                    ctx.advance(handle.tell())
                stat = path.stat()
            except (ValueError, OSError) as error:
                yield Rejected(relative, f"cannot read the recording: {error}")
                continue
            notes = [f"recording {path.name}"]
            if contact and number is None:
                notes.append(f"name in the file: {contact}; no number in the file name")
            elif contact:
                notes.append(f"联系人 contact: {contact}")
            fields: dict[str, object] = {
                "number": number or contact or "unknown",
                "tags": ["recording"],
                "note": "; ".join(notes),
            }
            seconds = audio.duration_seconds(path)
            timing = {} if seconds is None else {"audio_ms": round(seconds * 1000)}
            if seconds is not None:
                fields["duration"] = round(seconds)
            yield Record(
                "call", occurred, fields, relative, f"recording|{sha}",
                blobs=(Blob.of_file(path.name, path),), text=contact or "", match_call=True,
                extra_source={
                    "file": path.name, "file_sha256": sha, "vendor_pattern": vendor,
                    "zone_assumed": zone_name,
                    "file_mtime": datetime.fromtimestamp(stat.st_mtime, ctx.zone).isoformat(),
                    **timing,
                },
            )  # fmt: skip
