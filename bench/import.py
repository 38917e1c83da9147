"""Import throughput: ``evidence import`` of an Android backup against a minimal baseline.

Generates ``--sms`` SMS and ``--calls`` calls as "SMS Backup & Restore" XML
(``sms-….xml``, ``calls-….xml``, the app's layout: every attribute, ``"null"``
values, ``&#10;`` newlines, realistic Chinese collection texts, a few emoji written
as surrogate-pair references) in a temporary folder, then imports both files into
a fresh log with the real engine (``evidence.importers.engine.ImportRun``) as
``evidence import`` runs it: byte pre-cleaning, defused streaming parse,
phone-number normalisation and validation (``make_draft``), provenance and dedup
keys, done for each file in a second process (read-ahead) while this one appends
in batches of 4000 with the Merkle tree and a signed head each, and the original
files kept as encrypted attachments. One run in one process (no read-ahead) is
reported too, and CPU time counts both processes.

The baseline, in the same process and on the same files, does only what no
importer into an encrypted log can avoid: a streaming parse (stdlib ``iterparse``
with element clearing, on the raw bytes: no cleaning, no defusing), per record one
canonical JSON document (``json.dumps`` sorted, compact) of the record's fields,
one SHA-256, one AES-256-GCM encryption with a fresh nonce, and one row in a table
of the same shape as ``entries`` written with stdlib ``sqlite3.executemany`` in one
transaction per batch of 1000 (WAL, ``synchronous=FULL``).

Runs alternate (ABBA) ``--repeat`` times; the best of each and the median of the
per-round ratios are printed. Peak memory is measured afterwards in a child process
(tracemalloc peak and peak-RSS growth of the import), at full size and at a quarter
of it, to show that it does not depend on the size of the file.

    .venv/bin/python bench/import.py [--sms 100000] [--calls 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidence import crypto, phone
from evidence.importers.engine import ImportOptions, ImportRun
from evidence.ledger import Store
from evidence.store.engine import sqlite_url

BATCH = 1000
BASE_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
PLATFORMS = ["安逸花", "借呗", "微粒贷", "京东金条", "美团借钱", "360借条", "分期乐", "招联金融"]
SENTENCES = [
    "您在{p}的借款{a}元已逾期{d}天，",
    "请于今日{h}点前全额还款，否则将移交第三方上门催收并通知您的紧急联系人。",
    "您的逾期记录已上报征信中心，将影响您及家人的出行和就业。",
    "如有疑问请致电{n}，工号{j}。",
    "您的案件已进入诉前调解阶段，请尽快联系处理&#10;逾期不候。",
    "最后通知 😡 再不还款就把你的情况发到通讯录里所有人。",
]


def _numbers(rng: random.Random, count: int = 2500) -> list[str]:
    pool = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.6:
            pool.append(
                rng.choice(["+86", "", "0086"]) + f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            )
        elif roll < 0.8:
            pool.append(f"1069{rng.randrange(10**8):08d}")
        elif roll < 0.9:
            pool.append(f"95{rng.randrange(100, 1000)}")
        else:
            pool.append(f"0{rng.choice(['21', '10', '731'])}{rng.randrange(6 * 10**7, 9 * 10**7)}")
    return pool


def generate(folder: Path, sms: int, calls: int, seed: int = 7) -> tuple[Path, Path]:
    """Write sms-….xml and calls-….xml in the app's layout; return their paths."""
    rng = random.Random(seed)
    pool = _numbers(rng)
    sms_path, calls_path = folder / "sms-20250601120000.xml", folder / "calls-20250601120000.xml"
    head = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
        "<!--File Created By SMS Backup & Restore v10.05.602 on 01/06/2025 12:00:00-->\n"
    )
    with sms_path.open("w", encoding="utf-8") as out:
        out.write(
            head
            + f'<smses count="{sms}" backup_set="{uuid.uuid4()}" '
            + f'backup_date="{BASE_MS}" type="full">\n'
        )
        for i in range(sms):
            text = "".join(
                rng.choice(SENTENCES).format(
                    p=rng.choice(PLATFORMS), a=rng.randrange(800, 60000), d=rng.randrange(3, 400),
                    h=rng.randrange(9, 22), n=rng.choice(pool), j=rng.randrange(1000, 99999),
                )
                for _ in range(rng.randrange(2, 5))
            )  # fmt: skip
            out.write(
                f'  <sms protocol="0" address="{rng.choice(pool)}" date="{BASE_MS + i * 37_000}" '
                f'type="{1 if rng.random() < 0.9 else 2}" subject="null" '
                f'body="【{rng.choice(PLATFORMS)}】{text}" '
                'toa="null" sc_toa="null" service_center="+8613800100500" read="1" status="-1" '
                'locked="0" date_sent="0" sub_id="1" readable_date="x" '
                'contact_name="(Unknown)" />\n'
            )
        out.write("</smses>\n")
    with calls_path.open("w", encoding="utf-8") as out:
        out.write(
            head + f'<calls count="{calls}" backup_set="{uuid.uuid4()}" backup_date="{BASE_MS}">\n'
        )
        for i in range(calls):
            kind = rng.choice([1, 1, 2, 3, 3, 5])
            duration = rng.randrange(5, 600) if kind in (1, 2) else 0
            out.write(
                f'  <call number="{rng.choice(pool)}" duration="{duration}" '
                f'date="{BASE_MS + i * 41_000}" '
                f'type="{kind}" presentation="1" subscription_id="1" post_dial_digits="" '
                'readable_date="x" contact_name="(Unknown)" />\n'
            )
        out.write("</calls>\n")
    return sms_path, calls_path


# --- the two methods ----------------------------------------------------------------------------


def run_baseline(paths: Sequence[Path], folder: Path) -> int:
    conn = sqlite3.connect(folder / "baseline.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE entries (log_id VARCHAR(36) NOT NULL, seq INTEGER NOT NULL, "
        "occurred_us BIGINT NOT NULL, recorded_us BIGINT NOT NULL, commitment BLOB NOT NULL, "
        "sealed BLOB NOT NULL, PRIMARY KEY (log_id, seq))"
    )
    conn.execute("CREATE INDEX ix_entries_log_occurred ON entries (log_id, occurred_us)")
    log_id = str(uuid.uuid4())
    aead = AESGCM(os.urandom(32))
    dumps, sha256, urandom, time_ns = json.dumps, hashlib.sha256, os.urandom, time.time_ns
    seq = 0
    rows: list[tuple[object, ...]] = []

    def flush() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        rows.clear()

    for path in paths:
        root = None
        for event, element in ET.iterparse(path, events=("start", "end")):
            if root is None:
                root = element
                continue
            if event != "end" or element.tag not in ("sms", "call"):
                continue
            attrs = element.attrib
            document = {"v": 1, "log": log_id, "seq": seq, "kind": element.tag,
                        "occurred_ms": attrs.get("date"), "fields": dict(attrs)}  # fmt: skip
            encoded = dumps(document, ensure_ascii=False, sort_keys=True,
                            separators=(",", ":")).encode()  # fmt: skip
            nonce = urandom(12)
            sealed = nonce + aead.encrypt(nonce, encoded, None)
            rows.append((log_id, seq, int(attrs["date"]) * 1000, time_ns() // 1000,
                         sha256(encoded).digest(), sealed))  # fmt: skip
            seq += 1
            element.clear()
            root.clear()
            if len(rows) >= BATCH:
                flush()
    if rows:
        flush()
    (written,) = conn.execute("SELECT count(*) FROM entries").fetchone()
    conn.close()
    return written


def _pretend_append(drafts: Sequence[Any], seqs: dict[str, int]) -> range:
    """``Log.append_new`` without the log: every draft counts as new."""
    seqs.update((draft.dedup_key, seq) for seq, draft in enumerate(drafts))
    return range(len(drafts))


def run_ours(
    paths: Sequence[Path],
    folder: Path,
    keep_source: bool = True,
    append: bool = True,
    read_ahead: bool = True,
) -> int:
    """The real import, as the CLI runs it (files read ahead in a second process).

    With ``append=False``: everything but ``Log.append`` (its cost apart).
    """
    store = Store.open(sqlite_url(folder / "evidence.sqlite3"), folder / "blobs")
    try:
        log, _code = store.create_log(
            "bench passphrase 马", kdf=crypto.KdfParams.fresh(memory_kib=8 * 1024, iterations=1)
        )
        if not append:
            log.append_new = _pretend_append  # type: ignore[method-assign]
            log.count = lambda: 0  # type: ignore[method-assign]
            log.head = lambda: type("H", (), {"size": 0})()  # type: ignore[method-assign]
        options = ImportOptions(keep_source=keep_source, read_ahead=read_ahead)
        summary = ImportRun(log, options).run(list(paths))
        if summary.rejected or log.count() != log.head().size:
            raise SystemExit(f"import went wrong: {summary.rejected} rejected")
        return summary.new
    finally:
        store.close()


def timed(
    method: str,
    paths: Sequence[Path],
    keep_source: bool = True,
    append: bool = True,
    read_ahead: bool = True,
) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds (this process and the reading process it waited for)."""
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as folder:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        if method == "baseline":
            written = run_baseline(paths, Path(folder))
        else:
            written = run_ours(paths, Path(folder), keep_source, append, read_ahead)
        return time.perf_counter() - wall, _cpu_seconds() - cpu, written


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


# --- memory -------------------------------------------------------------------------------------


def _vmhwm_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_child(sms: int, calls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as folder:
        paths = generate(Path(folder), sms, calls)
        phone.normalize("13800138000")  # the numbering data, loaded once per process
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
                clear.write("5")
        except OSError:
            pass
        before = _vmhwm_mib()
        tracemalloc.start()
        with tempfile.TemporaryDirectory(prefix="evidence-bench-") as store:
            run_ours(paths, Path(store))
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = sum(p.stat().st_size for p in paths) / 2**20
    # The reading process (read-ahead) is a fork of this one: its peak RSS includes
    # what it inherited (the numbering data, the interpreter), measured all the same.
    reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"peak": peak / 2**20, "rss_growth": _vmhwm_mib() - before, "mib": size,
                      "reader_rss": reader}))  # fmt: skip


def measure_memory(sms: int, calls: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--sms", str(sms), "--calls", str(calls), "--memory-child"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sms", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.sms, args.calls)
        return
    total = args.sms + args.calls
    version = sys.version.split()[0]
    print(f"{args.sms} SMS + {args.calls} calls, repeat {args.repeat}, Python {version}, "
          f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as folder:
        paths = generate(Path(folder), args.sms, args.calls)
        size = sum(p.stat().st_size for p in paths) / 2**20
        print(f"files: {size:.1f} MiB")
        phone.normalize("13800138000")  # load the numbering data outside any timing
        results: dict[str, list[tuple[float, float]]] = {"baseline": [], "ours": []}
        for round_ in range(args.repeat):
            for method in ("baseline", "ours") if round_ % 2 == 0 else ("ours", "baseline"):
                wall, cpu, written = timed(method, paths)
                if written != total:
                    raise SystemExit(f"{method} wrote {written} records, expected {total}")
                results[method].append((wall, cpu))
                print(f"  round {round_ + 1}  {method:8s} {total / wall:8,.0f} records/s "
                      f"({wall:5.2f} s, CPU {cpu:5.2f} s)")  # fmt: skip
        one_process, _cpu, _written = timed("ours", paths, read_ahead=False)
        no_keep, _cpu, _written = timed("ours", paths, keep_source=False, read_ahead=False)
        no_append, _cpu, _written = timed(
            "ours", paths, keep_source=False, append=False, read_ahead=False
        )
    base = min(w for w, _c in results["baseline"])
    ours = min(w for w, _c in results["ours"])
    median = statistics.median(
        b[0] / o[0] for b, o in zip(results["baseline"], results["ours"], strict=True)
    )
    base_cpu = min(c for _w, c in results["baseline"])
    ours_cpu = min(c for _w, c in results["ours"])
    rows = [
        (
            "baseline (iterparse + json + sha256 + aesgcm + sqlite3)",
            f"{total / base:,.0f} records/s",
        ),
        ("evidence import (everything, originals kept), best", f"{total / ours:,.0f} records/s"),
        ("  ratio import / baseline (best runs)", f"{base / ours:.2f}"),
        ("  median of the per-round ratios", f"{median:.2f}"),
        ("  ratio of CPU times, both processes (best)", f"{base_cpu / ours_cpu:.2f}"),
        (
            "the same in one process (no read-ahead, one run)",
            f"{total / one_process:,.0f} records/s",
        ),
        ("  its ratio to the best baseline", f"{base / one_process:.2f}"),
        ("  ... and --no-keep-source (one run)", f"{total / no_keep:,.0f} records/s"),
        ("  its ratio to the best baseline", f"{base / no_keep:.2f}"),
        (
            "import without Log.append (parse, clean, validate, keys)",
            f"{total / no_append:,.0f} records/s",
        ),
        ("  per record: the importer's own work", f"{no_append / total * 1e6:,.1f} µs"),
        ("  per record: Log.append", f"{(no_keep - no_append) / total * 1e6:,.1f} µs"),
        ("  per record: the whole baseline (best)", f"{base / total * 1e6:,.1f} µs"),
        ("  share of the import's time spent in Log.append", f"{1 - no_append / no_keep:.0%}"),
    ]
    print()
    for label, figure in rows:
        print(f"{label:<58}{figure:>18}")
    if not args.no_memory:
        print()
        for sms, calls in ((args.sms // 4, args.calls // 4), (args.sms, args.calls)):
            m = measure_memory(sms, calls)
            print(f"memory, {sms + calls:,} records ({m['mib']:.0f} MiB of XML): tracemalloc peak "
                  f"{m['peak']:.1f} MiB, peak RSS growth {m['rss_growth']:.1f} MiB, "
                  f"reading process peak RSS {m['reader_rss']:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
