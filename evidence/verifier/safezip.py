"""Reading a ZIP nobody vouches for: list members safely, never extract.

Every member is read into memory or hashed as a stream, with the limits of
:mod:`layout` checked on the declared sizes first. ``zipfile`` stops reading a
member at its declared size and checks its CRC, so a member cannot expand
beyond what was declared. Names that could escape a folder if extracted
(absolute, ``..``, backslashes, drive letters), symbolic links, duplicates and
encrypted members are reported as problems and never read.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Callable

from evidence.verifier import layout

Report = Callable[[str, str, str], None]  # (code, where, detail)

_CHUNK = 1024 * 1024


def name_problem(name: str) -> str | None:
    """Why a member name is unsafe or not one a bundle writes, or None."""
    if not name or len(name) > layout.MAX_NAME:
        return "empty or longer than 255 characters"
    if any(ord(c) < 0x20 or c == "\x7f" for c in name):
        return "contains control characters"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "has an empty, '.' or '..' path component"
    folders = (layout.ATTACHMENTS_DIR, layout.TIMESTAMPS_DIR)
    if len(parts) > 2 or (len(parts) == 2 and parts[0] + "/" not in folders):
        return "is not a file a bundle contains"
    if len(parts) == 1 and name not in layout.REQUIRED and name not in layout.OPTIONAL:
        return "is not a file a bundle contains"
    return None


def index(archive: zipfile.ZipFile, report: Report) -> dict[str, zipfile.ZipInfo]:
    """The members that are safe to read, by name; every other member is reported."""
    infos = archive.infolist()
    if len(infos) > layout.MAX_MEMBERS:
        report("zip.too_many", "", f"{len(infos)} members (limit {layout.MAX_MEMBERS})")
        return {}
    counts: dict[str, int] = {}
    for info in infos:
        counts[info.filename] = counts.get(info.filename, 0) + 1
    for name, count in counts.items():
        if count > 1:
            report("zip.duplicate", name, f"{count} members have this name")
    safe: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if counts[name] > 1:
            continue
        mode = info.external_attr >> 16
        if info.is_dir():
            report("zip.unexpected", name, "a folder entry")
            continue
        why = name_problem(name)
        if why:
            report("zip.unsafe_name", name, why)
            continue
        if stat.S_ISLNK(mode):
            report("zip.symlink", name, "a symbolic link")
            continue
        if info.flag_bits & 0x1:
            report("zip.encrypted", name, "an encrypted member")
            continue
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            report("zip.method", name, f"compression method {info.compress_type}")
            continue
        if info.file_size > layout.MAX_MEMBER_BYTES:
            report("zip.bomb", name, f"declares {info.file_size} bytes")
            continue
        if info.file_size > layout.MAX_RATIO_FLOOR and (
            info.file_size > layout.MAX_RATIO * max(info.compress_size, 1)
        ):
            report(
                "zip.bomb",
                name,
                f"expands {info.compress_size} bytes to {info.file_size} "
                f"(more than {layout.MAX_RATIO} times)",
            )
            continue
        total += info.file_size
        if total > layout.MAX_TOTAL_BYTES:
            report("zip.bomb", name, f"the members declare more than {layout.MAX_TOTAL_BYTES}")
            return {}
        safe[name] = info
    return safe


def read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes; ValueError when it declares more than ``limit``."""
    if info.file_size > limit:
        raise ValueError(f"{info.file_size} bytes, more than the {limit} allowed")
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) != info.file_size:
        raise ValueError("its size differs from the size declared in the ZIP")
    return data


def digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int]:
    """SHA-256 (hex) and size of a member, streamed."""
    sha = hashlib.sha256()
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size
