"""Writing the ZIP: every file streamed in, hashed as it goes, then the manifest and sums.

The ZIP is written next to its destination under a temporary name and renamed
into place only when complete, so a failed or interrupted bundle leaves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from evidence.verifier import layout

_STORED = (
    ".pdf",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".webp",
    ".m4a",
    ".mp3",
    ".mp4",
    ".amr",
    ".aac",
    ".ogg",
    ".opus",
    ".zip",
    ".heic",
    ".mov",
)
_CHUNK = 1024 * 1024
_LEVEL_FIELD = "compress_level" if hasattr(zipfile.ZipInfo, "compress_level") else "_compresslevel"


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


class ZipWriter:
    """Adds members with fixed timestamps, recording each one's size and SHA-256."""

    def __init__(self, archive: zipfile.ZipFile, when: datetime) -> None:
        self.archive = archive
        self.date_time = (
            max(when.year, 1980),
            when.month,
            when.day,
            when.hour,
            when.minute,
            when.second,
        )
        self.files: list[dict[str, Any]] = []

    def add(self, name: str, chunks: Iterable[bytes]) -> None:
        info = zipfile.ZipInfo(name, self.date_time)
        info.external_attr = 0o644 << 16
        stored = name.lower().endswith(_STORED)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        # zlib's fastest level: the text members (proofs, entries, CSV) come out about a
        # tenth larger and several times faster. Python 3.13 names the field compress_level.
        setattr(info, _LEVEL_FIELD, 1)
        sha = hashlib.sha256()
        size = 0
        pending: list[bytes] = []
        held = 0
        with self.archive.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                sha.update(chunk)
                size += len(chunk)
                # Many small chunks (a line per entry) are written together: one compressor
                # call per line would cost more than the compression itself.
                pending.append(chunk)
                held += len(chunk)
                if held >= _CHUNK:
                    member.write(b"".join(pending))
                    pending, held = [], 0
            if pending:
                member.write(b"".join(pending))
        self.files.append({"path": name, "size": size, "sha256": sha.hexdigest()})

    def finish(
        self, manifest: dict[str, Any], sign: Callable[[bytes], tuple[bytes, bytes]]
    ) -> None:
        """Write the manifest, the log key's signed statement over it, then SHA256SUMS."""
        manifest["files"] = list(self.files)
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        data += b"\n"
        self.add(layout.MANIFEST, [data])
        statement, signature = sign(hashlib.sha256(data).digest())
        self.add(layout.MANIFEST_STATEMENT, [statement])
        self.add(layout.MANIFEST_SIG, [signature])
        sums = "".join(f"{f['sha256']}  {f['path']}\n" for f in self.files)
        self.add(layout.SUMS, [sums.encode("utf-8")])


def write_atomically(out: Path, fill: Any) -> None:
    """Call ``fill(ZipFile)`` on a temporary file next to ``out``; rename it when done."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=out.parent, prefix=".evidence-bundle-", suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(temp, "w", allowZip64=True) as archive:
            fill(archive)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
