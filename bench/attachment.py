"""Attachment throughput and memory: add, check and extract a large generated recording.

The recording is generated on the fly by a file-like object (nothing is stored
before the run), so the input itself costs no memory. Three phases are timed:

* add: ``Log.add_attachment`` streams it through SHA-256 and AES-256-GCM into
  the blob store (temporary file, fsync, rename);
* check: ``Log.check`` after an entry refers to the attachment, which decrypts,
  authenticates and hashes the whole blob again;
* extract: ``Log.read_attachment`` streamed into a temporary file.

The baseline is plain SHA-256 over the same generated stream, in the same
process. Memory, per phase: the tracemalloc peak, and how far the peak RSS
(VmHWM, what ru_maxrss reports; reset before each phase) rises above the RSS
at the start of the phase. Both must stay at a few MiB whatever the size,
because every step holds one or two 1 MiB chunks at a time.

    .venv/bin/python bench/attachment.py [--mb 500] [--repeat 1]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evidence import crypto, model, timeutil
from evidence.ledger import Log, Store
from evidence.store.engine import sqlite_url

MiB = 1024 * 1024


class GeneratedRecording:
    """A read-only binary stream of ``size`` pseudo-random bytes, made as it is read.

    Each read is a slice of one random block, shifted by the chunk's position so
    that consecutive chunks differ; reading it twice gives the same bytes.
    """

    _BLOCK = random.Random(20261128).randbytes(MiB + 64 * 1024)

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self._reads = 0

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.position
        if n < 0 or n > left:
            n = left
        if n == 0:
            return b""
        parts = []
        wanted = n
        while wanted:
            start = (self._reads * 4099) % (64 * 1024)
            take = min(wanted, MiB)
            parts.append(self._BLOCK[start : start + take])
            self._reads += 1
            wanted -= take
        self.position += n
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readable(self) -> bool:
        return True


def maxrss_mib() -> float:
    """The process's peak RSS: VmHWM, the figure ru_maxrss reports, but resettable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak_rss() -> float:
    """Reset the peak RSS to the current RSS where Linux allows it; return it in MiB."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        pass
    return maxrss_mib()


def phase(size: int, run: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run one phase; return its result, its time and how much memory it took at most."""
    gc.collect()
    rss_before = reset_peak_rss()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    return result, {
        "seconds": seconds,
        "mb_s": size / MiB / seconds,
        "peak_mib": peak / MiB,
        "rss_growth_mib": maxrss_mib() - rss_before,
    }


def baseline_sha256(size: int, chunk: int = crypto.DEFAULT_CHUNK) -> bytes:
    source = GeneratedRecording(size)
    digest = hashlib.sha256()
    while block := source.read(chunk):
        digest.update(block)
    return digest.digest()


def extract(log: Log, sha256_hex: str, folder: Path) -> int:
    written = 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix="extracted-", delete=True) as sink:
        for chunk in log.read_attachment(sha256_hex):
            sink.write(chunk)
            written += len(chunk)
        sink.flush()
    return written


def run_once(size: int, folder: Path) -> dict[str, dict[str, float]]:
    store = Store.open(sqlite_url(folder / "evidence.sqlite3"), folder / "blobs")
    try:
        log, _code = store.create_log(
            "bench passphrase 马", kdf=crypto.KdfParams.fresh(memory_kib=8 * 1024, iterations=1)
        )
        figures = {}
        expected, figures["baseline sha256"] = phase(size, lambda: baseline_sha256(size))
        attachment, figures["add"] = phase(
            size,
            lambda: log.add_attachment(GeneratedRecording(size), "催收电话录音.m4a"),
        )
        if attachment.sha256 != expected.hex() or attachment.size != size:
            raise SystemExit("the attachment's SHA-256 or size differs from the baseline's")
        at = timeutil.utc_now().astimezone(timeutil.zone("Asia/Shanghai"))
        log.append(
            [
                model.make_draft(
                    "call",
                    at,
                    {"number": "138 1234 5678", "said": "录音见附件"},
                    attachments=(attachment,),
                )
            ]
        )
        report, figures["check"] = phase(size, log.check)
        if not report.ok or report.attachments != 1:
            raise SystemExit(f"check failed: {report.problems}")
        written, figures["extract"] = phase(size, lambda: extract(log, attachment.sha256, folder))
        if written != size:
            raise SystemExit(f"extracted {written} bytes, expected {size}")
        return figures
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=500, help="size of the recording in MiB")
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best of each phase")
    args = parser.parse_args(argv)
    if args.mb < 1 or args.repeat < 1:
        parser.error("--mb and --repeat must be positive")
    size = args.mb * MiB
    print(
        f"recording {args.mb} MiB, chunk {crypto.DEFAULT_CHUNK // 1024} KiB, repeat {args.repeat}"
    )
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as folder:
        run_once(MiB, Path(folder))  # warm up: imports, migrations, compiled statements
    rss_start = maxrss_mib()
    tracemalloc.start()
    best: dict[str, dict[str, float]] = {}
    peaks: dict[str, float] = {}
    growth: dict[str, float] = {}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="evidence-bench-") as folder:
            for name, figures in run_once(size, Path(folder)).items():
                if name not in best or figures["seconds"] < best[name]["seconds"]:
                    best[name] = figures
                peaks[name] = max(peaks.get(name, 0.0), figures["peak_mib"])
                growth[name] = max(growth.get(name, 0.0), figures["rss_growth_mib"])
    tracemalloc.stop()
    base = best["baseline sha256"]["seconds"]
    for name, figures in best.items():
        print(
            f"  {name:16s} {figures['mb_s']:7.1f} MiB/s ({figures['seconds']:6.2f} s)  "
            f"ratio {base / figures['seconds']:4.2f}  tracemalloc peak {peaks[name]:4.1f} MiB  "
            f"peak RSS growth {growth[name]:4.1f} MiB"
        )
    print(f"RSS after the warm-up run: {rss_start:.0f} MiB (interpreter and libraries)")


if __name__ == "__main__":
    main()
