"""Analysis throughput: ``rules.report(log.analysis_source())`` against decrypting and counting.

A fresh SQLite log is filled with realistic events (the SMS and calls of
``bench/append.py``, plus WeChat messages, third-party contacts, a few facts, and 1 %
amendments and 0.5 % retractions). Then, in alternating (ABBA) rounds in the same
process:

* **baseline**: one pass over the stored rows that only decrypts each entry (AES-GCM,
  with its place as associated data), checks its salted commitment and counts it;
* **analyze**: what `evidence analyze` does after unlocking: ``Log.analysis_source()``
  (the log as the columnar analysis reads it, from the sealed analysis cache: one block
  opened per 1024 entries, bound to their commitments, and its rows taken without parsing
  any entry; the last partial block decrypted, checked and parsed entry by entry) and
  ``rules.report`` (assemble the rows into columns with corrections applied, amended events
  read again whole, local times, every rule of the jurisdiction, the summary).

Before the rounds, two single runs are reported: the **first analysis** of the log, which
builds its cache (every entry opened, checked and parsed, the lexicon run, the blocks
sealed and written), and the report **from every entry** (``Log.entries()``, as a bundle
reads the log).

The ratio is baseline time / analyze time (1.0 = analysing costs nothing beyond
decrypting), from wall-clock time and, less disturbed by other processes on a shared
machine, from this process's CPU time. Sizes are given with ``--sizes`` to show how the
cost grows.

    .venv/bin/python bench/analyze.py [--sizes 25000,50000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import append as payloads

from evidence import crypto, hashing, model, rules, timeutil
from evidence.ledger import Store
from evidence.store.engine import sqlite_url

THREATS = ["再不还就让你全家知道", "你这个老赖", "我们是法院的工作人员", "转到我的卡上"]
RELATIONS = [("妈妈", "mother"), ("同事", "colleague"), ("领导", "employer"), ("舅舅", "uncle")]


def make_drafts(count: int, seed: int = 20261128) -> list[model.Draft]:
    rng = random.Random(seed)
    base = payloads.make_payloads(count, seed)
    drafts = []
    for kind, at, fields in base:
        roll = rng.random()
        if roll < 0.03:
            name, relation = rng.choice(RELATIONS)
            fields = {
                "contact_name": name,
                "relation": relation,
                "platform": fields["platform"],
                "said": fields["said"],
            }
            kind = "contact"
        elif roll < 0.08:
            fields = {
                "sender": f"wx_{rng.randrange(500)}",
                "channel": "wechat",
                "platform": fields["platform"],
                "said": rng.choice(THREATS) + fields["said"],
            }
            kind = "message"
        drafts.append(model.make_draft(kind, at, fields))
    at = base[0][1]
    for index in range(max(1, count // 10_000)):
        facts = [
            {"fact": "agreed_time", "window": "22:00-22:30"},
            {"fact": "contact_refused", "contact_name": "妈妈"},
            {"fact": "conversation"},
        ]
        drafts.append(model.make_draft("fact", at + timedelta(days=index), facts[index % 3]))
    return drafts


def fill(folder: Path, count: int) -> tuple[Store, object]:
    store = Store.open(sqlite_url(folder / "bench.sqlite3"), folder / "blobs")
    log, _ = store.create_log("bench passphrase", kdf=crypto.KdfParams.fresh(memory_kib=8192))
    drafts = make_drafts(count)
    made = []
    for start in range(0, len(drafts), 1000):
        made += log.append(drafts[start : start + 1000])
    rng = random.Random(7)
    corrections = []
    events = [e for e in made if e.kind in ("call", "sms")]
    for entry in rng.sample(events, len(events) // 100):
        corrections.append(model.amendment_draft(entry, store.clock(), {"tags": ["辱骂"]}, "tag"))
    for entry in rng.sample(events, len(events) // 200):
        if all(d.fields.get("target") != entry.seq for d in corrections):
            corrections.append(model.retraction_draft(entry, store.clock(), "not collection"))
    for start in range(0, len(corrections), 1000):
        log.append(corrections[start : start + 1000])
    return store, log


def baseline(log) -> int:
    """Decrypt every entry, check its commitment, count it.

    It fetches the rows as ``Log.entries()`` does (``_sealed_rows``: number, commitment
    and ciphertext only), so the two differ only in what is done with the plaintext.
    """
    sealer, _ = log._check_access()
    count = 0
    for seq, commitment, sealed in log._sealed_rows():
        plain = sealer.unseal(sealed, hashing.entry_aad(log.log_id, seq))
        salt, encoded = plain[: hashing.SALT_BYTES], plain[hashing.SALT_BYTES :]
        if hashing.commitment(salt, encoded) != commitment:
            raise SystemExit(f"entry {seq} does not match its commitment")
        count += 1
    return count


def analyze(log) -> int:
    """What `evidence analyze` does after unlocking: the analysis cache, then the report."""
    report = rules.report(log.analysis_source(), "cn")
    return report.summary.events + len(report.findings)


def analyze_entries(log) -> int:
    """The same report from every entry opened and parsed (what a bundle reads)."""
    report = rules.report(log.entries(), "cn")
    return report.summary.events + len(report.findings)


def entries_only(log) -> int:
    """The core's part of `analyze`: the log as analysis reads it, from the cache."""
    source = log.analysis_source()
    return sum(map(len, source.chunks)) + len(source.entries)


def breakdown(log) -> None:
    """Where the time of `analyze` goes, step by step, each step timed alone (best of 3)."""
    import json
    from dataclasses import replace

    from evidence import canonical, reading
    from evidence.rules import assemble
    from evidence.rules.summary import summarize_columns

    rows = list(log._sealed_rows())
    count = len(rows)
    sealer, _ = log._check_access()
    plains = [sealer.unseal(s, hashing.entry_aad(log.log_id, q)) for q, _c, s in rows]
    encoded = [p[hashing.SALT_BYTES :] for p in plains]
    documents = [canonical.decode(e) for e in encoded]
    made = [model.entry_from_document(d, b"") for d in documents]
    entries = log.entries()
    cached = log.analysis_entries()  # builds the cache: the steps below read it
    source = log.analysis_source()
    table = assemble.build(source)
    steps = [
        ("fetch rows (_sealed_rows)", lambda: list(log._sealed_rows())),
        ("AES-GCM unseal", lambda: [sealer.unseal(s, hashing.entry_aad(log.log_id, q))
                                    for q, _c, s in rows]),
        ("salted commitment", lambda: [hashing.commitment(p[: hashing.SALT_BYTES],
                                       p[hashing.SALT_BYTES :]) for p in plains]),
        ("  (json.loads, for comparison)", lambda: [json.loads(e) for e in encoded]),
        ("  (canonical.decode: parse + re-encode, as `check` does)",
         lambda: [canonical.decode(e) for e in encoded]),
        ("  (model.entry_from_document, the general path)",
         lambda: [model.entry_from_document(d, b"") for d in documents]),
        ("  (dataclasses.replace of every entry)",
         lambda: [replace(e, amended_by=(), retracted_by=None) for e in made]),
        ("  (the json module's reading: UTF-8 decode + C scanner)",
         lambda: [reading._json_document(e) for e in encoded]),
        ("JSON parse (reading._document: orjson where it agrees)",
         lambda: [reading._document(e) for e in encoded]),
        ("reading._document + make_entry", lambda: [reading.make_entry(reading._document(e), b"")
                                        for e in encoded]),
        ("Log.entries() in all", lambda: log.entries()),
        ("assemble.build (rows, corrections, local time, lexicon, columns)",
         lambda: assemble.build(entries)),
        ("  of which the lexicon (a fresh one, every text)",
         lambda: [w.match(e.fields["said"]) for w in [rules.load_lexicon(None)]
                  for e in entries if e.fields.get("said")]),
        ("rules.report in all (columns, 14 rules, summary)", lambda: rules.report(entries, "cn")),
        ("  (the reference: rules.reference_report, an object per event)",
         lambda: rules.reference_report(entries, "cn")),
        ("Log.analysis_entries() (from the analysis cache)", lambda: log.analysis_entries()),
        ("Log.analysis_source() (the rows of the analysis cache)", lambda: log.analysis_source()),
        ("  (its commitments, to bind the blocks)", lambda: log._commitments()),
        ("assemble.build on the cached entries (no lexicon)", lambda: assemble.build(cached)),
        ("assemble.build on the cached rows (analysis_source)", lambda: assemble.build(source)),
        ("the 14 CN rules over those columns",
         lambda: [r.column_check(table) for r in rules.rules_for("cn")]),
        ("summarize_columns over them", lambda: summarize_columns(table, "cn")),
        ("rules.report on the cached entries", lambda: rules.report(cached, "cn")),
        ("rules.report on the cached rows", lambda: rules.report(source, "cn")),
    ]  # fmt: skip
    print(f"  breakdown over {count:,} entries (best of 3, µs of CPU time per entry; "
          "indented: not on the path):")  # fmt: skip
    for label, step in steps:
        best = min(timed_cpu(lambda _log, step=step: step(), log)[1] for _ in range(3))
        print(f"    {label:<58} {best / count * 1e6:7.1f}")


def timed_cpu(function, log) -> tuple[float, float]:
    """Wall-clock and CPU seconds of this process (the CPU time is less disturbed when
    other processes share the machine)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    function(log)
    return time.perf_counter() - wall, time.process_time() - cpu


def run(size: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store, log = fill(Path(folder), size)
        entries = log.count()
        print(f"\n{size:,} events ({entries:,} entries with corrections and facts), "
              f"filled in {time.perf_counter() - started:.1f} s")  # fmt: skip
        analyze_entries(log)  # warm-up: imports, lexicon compilation, phone caches
        # The first analysis of a log builds its cache; every later one reads it.
        first, first_cpu = timed_cpu(analyze, log)
        uncached, uncached_cpu = timed_cpu(analyze_entries, log)
        base_times, ours_times, entries_times = [], [], []
        base_cpu, ours_cpu, entries_cpu = [], [], []
        for round_ in range(repeat):
            order = [baseline, analyze] if round_ % 2 == 0 else [analyze, baseline]
            for function in order:
                seconds, cpu = timed_cpu(function, log)
                (base_times if function is baseline else ours_times).append(seconds)
                (base_cpu if function is baseline else ours_cpu).append(cpu)
            seconds, cpu = timed_cpu(entries_only, log)
            entries_times.append(seconds)
            entries_cpu.append(cpu)
        store.close()
    ratios = [b / o for b, o in zip(base_times, ours_times, strict=True)]
    best_base, best_ours = min(base_times), min(ours_times)
    print(f"  baseline (decrypt + count): best {best_base:.2f} s "
          f"({best_base / entries * 1e6:.1f} µs/entry), runs {_fmt(base_times)}")  # fmt: skip
    print(f"  first analysis (builds the cache): {first:.2f} s "
          f"({first / entries * 1e6:.1f} µs/entry, CPU {first_cpu / entries * 1e6:.1f}); "
          f"from every entry (as a bundle reads): {uncached:.2f} s "
          f"({uncached / entries * 1e6:.1f} µs/entry, "
          f"CPU {uncached_cpu / entries * 1e6:.1f})")  # fmt: skip
    print(f"  analyze (cache + report): best {best_ours:.2f} s "
          f"({best_ours / entries * 1e6:.1f} µs/entry), runs {_fmt(ours_times)}")  # fmt: skip
    best_entries = min(entries_times)
    print(f"  of which Log.analysis_source() alone: best {best_entries:.2f} s "
          f"({best_entries / entries * 1e6:.1f} µs/entry); rules.report: "
          f"{(best_ours - best_entries) / entries * 1e6:.1f} µs/entry")  # fmt: skip
    print(f"  ratio of best runs {best_base / best_ours:.2f}; "
          f"median of per-round ratios {statistics.median(ratios):.2f}")  # fmt: skip
    cpu_base, cpu_ours, cpu_entries = min(base_cpu), min(ours_cpu), min(entries_cpu)
    print(f"  CPU time of this process, best: baseline {cpu_base / entries * 1e6:.1f}, "
          f"analysis_source() {cpu_entries / entries * 1e6:.1f}, analyze "
          f"{cpu_ours / entries * 1e6:.1f} µs/entry; ratio {cpu_base / cpu_ours:.2f}")  # fmt: skip
    return {
        "cpu_baseline": cpu_base,
        "cpu_entries": cpu_entries,
        "cpu_analyze": cpu_ours,
        "entries": entries,
        "baseline": best_base,
        "analyze": best_ours,
        "ratio": best_base / best_ours,
        "entries_only": best_entries,
        "median": statistics.median(ratios),
        "first": first,
        "uncached": uncached,
    }


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--breakdown", type=int, metavar="N", help="only time each step on N")
    args = parser.parse_args()
    if args.breakdown:
        with tempfile.TemporaryDirectory() as folder:
            store, log = fill(Path(folder), args.breakdown)
            breakdown(log)
            store.close()
        return
    print(f"Python {sys.version.split()[0]}; zone {timeutil.DEFAULT_ZONE}; rules: cn")
    results = [run(int(size), args.repeat) for size in args.sizes.split(",")]
    print("\n  wall clock (best)                                      CPU time (best)")
    print("  entries   µs/entry: baseline  cache read  analyze   ratio (median)"
          "   baseline  cache read  analyze  ratio   first  uncached")  # fmt: skip
    for result in results:
        keys = ("baseline", "entries_only", "analyze", "cpu_baseline", "cpu_entries", "cpu_analyze")
        per = {k: result[k] / result["entries"] * 1e6 for k in keys}
        print(
            f"{result['entries']:>9,}   {per['baseline']:>17.1f}  {per['entries_only']:>13.1f}"
            f"  {per['analyze']:>7.1f}   {result['ratio']:.2f} ({result['median']:.2f})"
            f"  {per['cpu_baseline']:>9.1f}  {per['cpu_entries']:>13.1f}"
            f"  {per['cpu_analyze']:>7.1f}  {result['cpu_baseline'] / result['cpu_analyze']:.2f}"
            f"  {result['first'] / result['entries'] * 1e6:>6.1f}"
            f"  {result['uncached'] / result['entries'] * 1e6:>8.1f}"
        )


if __name__ == "__main__":
    main()
