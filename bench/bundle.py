"""Bundle cost: ``build_bundle`` against a baseline of plain chunked tables, same rows, same run.

For each size a store of realistic entries is filled once (not timed). Then, each in a
fresh child process so that peak memory is its own:

* **bundle**: ``build_bundle`` for the whole log: read and decrypt every entry, select,
  statistics, charts, evidence index, the chronological log, integrity page, proofs,
  commitments, CSV, manifest and ZIP;
* **baseline**: read and decrypt every entry (``Log.entries``), then render the same rows
  (time, kind, number, platform, text) with reportlab as Tables of 150 rows of plain
  strings, with the same embedded CJK font, and no charts, index or proofs.

Both sides import their modules before the timer starts (reportlab for the baseline;
reportlab, pyHanko and the rules for the bundle), so module import time counts for
neither. With ``--repeat N`` the two alternate (ABBA), each run in a fresh child.

Printed per size: seconds (best run), pages, peak RSS (ru_maxrss of the child),
milliseconds per entry, the ratio baseline seconds / bundle seconds of the best runs and
the median of the per-round ratios (≥ 0.5 is the target; per-entry cost at the largest
size within 1.3x of the next smaller; peak memory under 1 GiB).

    .venv/bin/python bench/bundle.py [--sizes 1000,10000] [--repeat 1]
    .venv/bin/python bench/bundle.py --sizes 1000,10000,100000   # about 10 minutes here
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench passphrase"
PLATFORMS = ["京东金条", "美团借钱", "马上消费", "借呗", "花呗"]
TEXTS = [
    "【{p}】您的借款已逾期{d}天，欠款{a}元，请于今日18点前还款，否则将联系您的紧急联系人及单位。",
    "你好，我是{p}的催收专员，工号A{d}，你再不还{a}块我们就上门找你家里人谈谈。",
    "{p}提醒：您已被列入重点催收名单，案件将移交法务部门处理，请立即回电 400-123-4567。",
    "说你再不接电话就打你老婆和你领导的电话，让所有人都知道你欠钱不还。",
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2040, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def fill(folder: Path, n: int) -> None:
    from evidence import crypto, model, timeutil
    from evidence.ledger import Store

    rng = random.Random(n)
    zone = timeutil.zone("Asia/Shanghai")
    store = Store.open(f"sqlite:///{folder / 'e.sqlite3'}", folder / "blobs", clock=Clock())
    log, _ = store.create_log(PASSPHRASE, kdf=crypto.KdfParams.fresh(8 * 1024, 1))
    numbers = [f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" for _ in range(300)]
    start = datetime(2026, 1, 1, tzinfo=zone)
    span = max(60, n // 40)  # days
    batch = []
    for i in range(n):
        when = start + timedelta(days=span * i / n, minutes=rng.randrange(0, 24 * 60))
        platform = rng.choice(PLATFORMS)
        said = rng.choice(TEXTS).format(p=platform, d=rng.randrange(1, 200),
                                        a=rng.randrange(500, 90000))  # fmt: skip
        kind = "call" if i % 3 else "sms"
        fields = {"number": rng.choice(numbers), "platform": platform, "said": said}
        if kind == "call":
            fields.update(direction="incoming", answered=bool(i % 2), duration=rng.randrange(90))
        batch.append(model.make_draft(kind, when, fields))
        if len(batch) == 1000:
            log.append(batch)
            batch = []
    log.append(batch)
    store.close()


def _open(folder: Path):
    from evidence.ledger import Store

    store = Store.open(f"sqlite:///{folder / 'e.sqlite3'}", folder / "blobs")
    return store.unlock(store.log_ids()[0], PASSPHRASE)


def warm_imports() -> None:
    """Import what ``build_bundle`` imports lazily, as the baseline imports reportlab first.

    Module imports (reportlab.platypus, pyHanko, the rules) cost about 0.4 s once per
    process; the baseline imports its reportlab modules before its timer starts, so
    ours are imported before our timer too. Nothing is rendered or cached here.
    """
    import importlib

    for name in (
        "evidence.bundle.pdf", "evidence.bundle.pades", "evidence.bundle.package",
        "evidence.bundle.findings", "evidence.bundle.index", "evidence.bundle.stats",
        "evidence.bundle.table", "evidence.bundle.verify_text", "evidence.rules",
        "evidence.rules.complaint", "evidence.timestamps", "evidence.verifier.layout",
        "pyhanko.sign", "pyhanko.sign.fields", "pyhanko.sign.signers",
        "pyhanko.pdf_utils.incremental_writer", "pyhanko_certvalidator.registry",
    ):  # fmt: skip
        importlib.import_module(name)


def run_bundle(folder: Path) -> dict[str, float]:
    from evidence.bundle import Options, build_bundle
    from evidence.bundle.fonts import load

    load()  # the font is parsed once per process, as in the CLI
    warm_imports()
    log = _open(folder)
    started = time.perf_counter()
    result = build_bundle(log, folder / "case.zip", Options(title="bench"))
    seconds = time.perf_counter() - started
    (folder / "case.zip").unlink()
    return {"seconds": seconds, "pages": result.pages}


def run_baseline(folder: Path) -> dict[str, float]:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    from evidence.bundle.fonts import load

    font = load()
    log = _open(folder)
    started = time.perf_counter()
    entries = log.entries()
    rows = [
        [e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.kind,
         e.fields.get("number", {}).get("e164", ""), e.fields.get("platform", ""),
         e.fields.get("said", "")[:40]]
        for e in entries
    ]  # fmt: skip
    style = TableStyle([("FONT", (0, 0), (-1, -1), font.name, 7),
                        ("GRID", (0, 0), (-1, -1), 0.3, "#999999")])  # fmt: skip
    story = [Table(rows[i : i + 150], style=style) for i in range(0, len(rows), 150)]
    pages = []
    doc = SimpleDocTemplate(str(folder / "baseline.pdf"), pagesize=A4)
    doc.build(story, onLaterPages=lambda c, d: pages.append(1))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": len(pages) + 1}


def child(kind: str, folder: str) -> None:
    result = (run_bundle if kind == "bundle" else run_baseline)(Path(folder))
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, folder: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(folder)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"{'entries':>8} {'bundle s':>9} {'pages':>6} {'ms/entry':>9} {'peak MiB':>9} "
          f"{'base s':>7} {'b.pages':>7} {'b.MiB':>6} {'ratio':>6} {'median':>7}")  # fmt: skip
    for n in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as work:
            folder = Path(work)
            fill(folder, n)
            bundles, bases = [], []
            for round_ in range(args.repeat):  # ABBA: the machine's load changes by the minute
                order = ("bundle", "baseline") if round_ % 2 == 0 else ("baseline", "bundle")
                for kind in order:
                    (bundles if kind == "bundle" else bases).append(measure(kind, folder))
            b = min(bundles, key=lambda r: r["seconds"])
            base = min(bases, key=lambda r: r["seconds"])
            median = statistics.median(
                x["seconds"] / y["seconds"] for x, y in zip(bases, bundles, strict=True)
            )
            print(f"{n:>8} {b['seconds']:>9.2f} {b['pages']:>6} {1000 * b['seconds'] / n:>9.2f} "
                  f"{b['peak_mib']:>9.0f} {base['seconds']:>7.2f} {base['pages']:>7} "
                  f"{base['peak_mib']:>6.0f} {base['seconds'] / b['seconds']:>6.2f} "
                  f"{median:>7.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
