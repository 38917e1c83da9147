"""How long a recording lasts, read from the file's own headers (no decoding, no new dependency).

Read: WAV (``fmt `` byte rate and ``data`` size), AMR and AMR-WB (20 ms frames
counted from their table-of-contents bytes), MP4 family (``.m4a``, ``.3gp``,
``.3ga``, ``.aac`` in MP4: ``moov/mvhd`` duration and timescale) and MP3
(the Xing/Info or VBRI frame count when there is one, else the constant bitrate
of the first frame). Anything else, or a damaged header, gives ``None``: the
duration is then simply not recorded, the recording is still imported.
Every read is bounded; nothing here trusts a size field beyond the file's end.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAX_AMR_BYTES = 64 * 2**20  # AMR at its highest rate: about 9 hours
_AMR_NB = (13, 14, 16, 18, 20, 21, 27, 32, 6, 0, 0, 0, 0, 0, 0, 1)  # frame bytes by FT
_AMR_WB = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 0, 0, 0, 0, 1, 1)
_MP3_BITRATES = {  # kbit/s by (MPEG-1?, bitrate index), layer III
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def duration_seconds(path: Path) -> float | None:
    """The playing time of ``path`` in seconds, or ``None`` when it cannot be read cheaply."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(64)
            handle.seek(0)
            if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
                seconds = _wav(handle, size)
            elif head.startswith(b"#!AMR-WB\n"):
                seconds = _amr(handle, size, 9, _AMR_WB)
            elif head.startswith(b"#!AMR\n"):
                seconds = _amr(handle, size, 6, _AMR_NB)
            elif head[4:8] == b"ftyp":
                seconds = _mp4(handle, size)
            elif head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] >= 0xE0):
                seconds = _mp3(handle, size)
            else:
                return None
    except (OSError, struct.error, ValueError, ZeroDivisionError):
        return None
    if seconds is None or not 0 <= seconds < 7 * 86400:
        return None
    return seconds


def _wav(handle: BinaryIO, size: int) -> float | None:
    handle.seek(12)
    byte_rate = None
    while handle.tell() + 8 <= size:
        chunk, length = struct.unpack("<4sI", handle.read(8))
        start = handle.tell()
        if chunk == b"fmt " and length >= 16:
            byte_rate = struct.unpack("<I", handle.read(16)[8:12])[0]
        elif chunk == b"data":
            if not byte_rate:
                return None
            return min(length, size - start) / byte_rate
        handle.seek(start + length + (length & 1))
    return None


def _amr(handle: BinaryIO, size: int, magic: int, sizes: tuple[int, ...]) -> float | None:
    if size > MAX_AMR_BYTES:
        return None
    data = handle.read()
    at, frames = magic, 0
    while at < len(data):
        step = sizes[(data[at] >> 3) & 0x0F]
        if step == 0:
            return None  # not a valid frame type: damaged
        at += step
        frames += 1
    return frames * 0.02


def _boxes(handle: BinaryIO, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """The boxes between ``start`` and ``end``: type -> (content start, content end)."""
    found: dict[bytes, tuple[int, int]] = {}
    at = start
    while at + 8 <= end:
        handle.seek(at)
        length, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if length == 1:
            (length,) = struct.unpack(">Q", handle.read(8))
            header = 16
        elif length == 0:
            length = end - at
        if length < header or at + length > end:
            break
        found.setdefault(kind, (at + header, at + length))
        at += length
    return found


def _mp4(handle: BinaryIO, size: int) -> float | None:
    moov = _boxes(handle, 0, size).get(b"moov")
    if moov is None:
        return None
    mvhd = _boxes(handle, *moov).get(b"mvhd")
    if mvhd is None:
        return None
    handle.seek(mvhd[0])
    version = handle.read(4)[0]
    if version == 1:
        _created, _modified, timescale, duration = struct.unpack(">QQIQ", handle.read(28))
    else:
        _created, _modified, timescale, duration = struct.unpack(">IIII", handle.read(16))
    return duration / timescale if timescale else None


def _mp3(handle: BinaryIO, size: int) -> float | None:
    head = handle.read(10)
    start = 0
    if head.startswith(b"ID3") and len(head) == 10:
        start = 10 + (head[6] << 21 | head[7] << 14 | head[8] << 7 | head[9])
    handle.seek(start)
    window = handle.read(64 * 1024)
    for offset in range(len(window) - 4):
        if window[offset] != 0xFF or window[offset + 1] < 0xE0:
            continue
        header = struct.unpack(">I", window[offset : offset + 4])[0]
        version, layer = (header >> 19) & 3, (header >> 17) & 3
        bitrate_index, rate_index = (header >> 12) & 0xF, (header >> 10) & 3
        if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
            continue  # not an MPEG layer III frame header
        mpeg1 = version == 3
        rate = _MP3_RATES[version][rate_index]
        samples = 1152 if mpeg1 else 576
        mono = (header >> 6) & 3 == 3
        side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
        frames = _vbr_frames(window, offset + 4 + side, b"Xing", b"Info")
        if frames is None and window[offset + 36 : offset + 40] == b"VBRI":
            frames = struct.unpack(">I", window[offset + 50 : offset + 54])[0]
        if frames is not None:
            return frames * samples / rate
        bitrate = _MP3_BITRATES[mpeg1][bitrate_index] * 1000
        return (size - start - offset) * 8 / bitrate
    return None


def _vbr_frames(window: bytes, at: int, *tags: bytes) -> int | None:
    if window[at : at + 4] not in tags:
        return None
    flags = struct.unpack(">I", window[at + 4 : at + 8])[0]
    if not flags & 1:
        return None
    return int(struct.unpack(">I", window[at + 8 : at + 12])[0])
