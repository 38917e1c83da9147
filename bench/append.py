"""Append throughput: ``Log.append`` against a minimal baseline, in the same process.

The events are realistic Chinese collection SMS and calls (70-200 characters of
text with amounts, dates, a phone number, a platform and a collector). Drafts are
built (phone numbers normalised) before the timed section; the time to build them
is reported as a second figure.

The baseline does only the work no encrypted log can avoid, per event: one
canonical JSON document (``json.dumps``, sorted keys, compact), one SHA-256, one
AES-GCM encryption with a fresh nonce, and one row in a table of the same shape
as ``entries`` (same primary key and index) with the same SQLite settings (WAL,
``synchronous=FULL``), inserted with stdlib ``sqlite3`` ``executemany`` in one
transaction per batch. ``Log.append`` additionally salts each commitment, binds
each ciphertext to its place, extends the Merkle tree, signs a head per batch and
returns the appended entries.

Baseline and ``Log.append`` runs alternate (ABBA order) ``--repeat`` times, each
on a fresh database in a temporary folder, because the machine is noisy: the
ratio of the best runs, the median of the per-round ratios and the ratio of CPU
times are printed. Memory is measured afterwards in a child process per method:
the tracemalloc peak, and how far the peak RSS (VmHWM, what ru_maxrss reports)
rises above the RSS at the start of the appending loop (the high-water mark is
reset there).

    .venv/bin/python bench/append.py [--events 100000] [--batch 1000] [--repeat 5]
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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from evidence import crypto, model, phone, timeutil
from evidence.ledger import Store
from evidence.model import Draft
from evidence.store.engine import sqlite_url

ZONE = timeutil.zone("Asia/Shanghai")

# --- realistic payloads -------------------------------------------------------------------------

PLATFORMS = [
    "安逸花", "借呗", "微粒贷", "京东金条", "美团借钱", "360借条", "分期乐", "招联金融",
    "拍拍贷", "度小满", "小赢卡贷", "平安普惠", "宜人贷", "你我贷", "榕树贷款", "洋钱罐",
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
ROLES = ["专员", "经理", "主管", "律师", "法务", "调解员"]
CITIES = ["长沙", "郑州", "成都", "合肥", "南昌", "武汉", "济南", "石家庄", "昆明", "贵阳"]
CONTACTS = ["母亲", "父亲", "配偶", "同事", "领导", "姐姐", "哥哥", "朋友"]
MOBILE_PREFIXES = ["138", "139", "150", "151", "152", "157", "158", "159", "186", "187", "177"]
SENTENCES = [
    "您在{platform}的借款{amount}元已逾期{days}天，",
    "请于{month}月{day}日{hour}点前全额还款，",
    "否则我司将依法移交第三方机构上门催收，并通知您的紧急联系人（{contact}）。",
    "您的逾期记录已上报征信中心，将影响您及家人的出行、就业和子女入学。",
    "我们已联系您单位的人事部门核实您的工作情况。",
    "如有疑问请致电{phone}，工号{job}，{collector}为您处理。",
    "最后通知：今天{hour}点前不处理，{month}月{day}日将安排外访人员到您户籍地{city}走访。",
    "已为您申请减免{reduce}元，仅限今日有效，逾期不候。",
    "您的案件已进入诉前调解阶段，案号（{year}）第{case}号，请尽快联系。",
    "再不还款就把你的情况发到通讯录里所有人，让大家都知道你欠钱不还。",
    "当前应还本金{amount}元，罚息及违约金{fee}元，合计{total}元。",
]


def _mobile(rng: random.Random) -> str:
    digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    style = rng.randrange(4)
    if style == 0:
        return digits
    if style == 1:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def _number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return _mobile(rng)
    if roll < 0.75:
        return f"1069{rng.randrange(10**8):08d}"
    if roll < 0.85:
        return f"95{rng.randrange(100, 1000)}"
    if roll < 0.95:
        area = rng.choice(["21", "10", "731", "371", "28"])
        return f"0{area}-{rng.randrange(6 * 10**7, 9 * 10**7)}"
    return f"400-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"


def _said(rng: random.Random, platform: str, collector: str, number: str) -> str:
    values = {
        "platform": platform,
        "amount": f"{rng.randrange(800, 60000)}.{rng.randrange(100):02d}",
        "days": rng.randrange(3, 400),
        "month": rng.randrange(1, 13),
        "day": rng.randrange(1, 29),
        "hour": rng.randrange(9, 22),
        "contact": rng.choice(CONTACTS),
        "phone": number,
        "job": rng.randrange(1000, 99999),
        "collector": collector,
        "city": rng.choice(CITIES),
        "reduce": rng.randrange(100, 3000),
        "year": rng.randrange(2023, 2027),
        "case": rng.randrange(10000, 999999),
        "fee": f"{rng.randrange(50, 9000)}.{rng.randrange(100):02d}",
        "total": f"{rng.randrange(1000, 70000)}.{rng.randrange(100):02d}",
    }
    target = rng.randrange(70, 201)
    text = f"【{platform}】尊敬的客户，"
    for sentence in rng.sample(SENTENCES, len(SENTENCES)):
        piece = sentence.format(**values)
        if len(text) >= target:
            break
        text += piece
    if len(text) > 200:
        text = text[:199] + "。"
    return text


def make_payloads(count: int, seed: int = 20261128) -> list[tuple[str, datetime, dict]]:
    """(kind, occurred_at, fields) for ``count`` events; the same for every method."""
    rng = random.Random(seed)
    numbers = [_number(rng) for _ in range(max(50, count // 40))]
    collectors = [f"{rng.choice(SURNAMES)}{rng.choice(ROLES)}" for _ in range(200)]
    at = timeutil.utc_now().astimezone(ZONE) - timedelta(seconds=count * 200)
    payloads = []
    for _ in range(count):
        at += timedelta(seconds=rng.randrange(1, 200))
        platform = rng.choice(PLATFORMS)
        collector = rng.choice(collectors)
        number = rng.choice(numbers)
        fields: dict = {
            "number": number,
            "direction": "incoming",
            "platform": platform,
            "collector": collector,
            "said": _said(rng, platform, collector, rng.choice(numbers)),
        }
        if rng.random() < 0.3:
            kind = "call"
            fields["duration"] = rng.randrange(0, 900)
            fields["answered"] = fields["duration"] > 0
        else:
            kind = "sms"
        if rng.random() < 0.2:
            fields["tags"] = rng.sample(["威胁", "爆通讯录", "冒充公检法", "辱骂", "深夜"], 2)
        payloads.append((kind, at, fields))
    return payloads


def build_drafts(payloads: Sequence[tuple[str, datetime, dict]]) -> list[Draft]:
    cache = getattr(phone, "_normalize", None)
    if hasattr(cache, "cache_clear"):
        cache.cache_clear()  # every build starts with phone.normalize's cache empty
    return [model.make_draft(kind, at, fields) for kind, at, fields in payloads]


# --- the two methods ----------------------------------------------------------------------------

ENTRIES_TABLE = """
CREATE TABLE entries (
    log_id VARCHAR(36) NOT NULL, seq BIGINT NOT NULL, occurred_us BIGINT NOT NULL,
    recorded_us BIGINT NOT NULL, commitment BLOB NOT NULL, sealed BLOB NOT NULL,
    PRIMARY KEY (log_id, seq)
)"""


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class Meter:
    """Measures the appending loop only: its time, each batch's time and, if asked, memory."""

    def __init__(self, trace_memory: bool = False) -> None:
        self.trace_memory = trace_memory
        self.batches: list[float] = []
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.tracemalloc_peak_mib = 0.0
        self.maxrss_before_mib = 0.0
        self.maxrss_growth_mib = 0.0

    def start(self) -> None:
        gc.collect()
        if self.trace_memory:
            self.maxrss_before_mib = reset_peak_rss()
            tracemalloc.start()
        self._cpu_began = time.process_time()
        self._began = self._last = time.perf_counter()

    def batch_done(self) -> None:
        now = time.perf_counter()
        self.batches.append(now - self._last)
        self._last = now

    def stop(self) -> None:
        self.seconds = time.perf_counter() - self._began
        self.cpu_seconds = time.process_time() - self._cpu_began
        if self.trace_memory:
            self.tracemalloc_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            self.maxrss_growth_mib = maxrss_mib() - self.maxrss_before_mib

    def rate(self, batch: int, first: bool, fraction: float = 0.1) -> float:
        """Events per second over the first (or last) tenth of the batches."""
        count = max(1, round(len(self.batches) * fraction))
        part = self.batches[:count] if first else self.batches[-count:]
        return count * batch / sum(part)


def run_baseline(drafts: Sequence[Draft], batch: int, folder: Path, meter: Meter) -> int:
    """The unavoidable work only; return the number of rows written."""
    conn = sqlite3.connect(folder / "baseline.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(ENTRIES_TABLE)
    conn.execute("CREATE INDEX ix_entries_log_occurred ON entries (log_id, occurred_us)")
    log_id = str(uuid.uuid4())
    aead = AESGCM(os.urandom(32))
    dumps, sha256, urandom, time_ns = json.dumps, hashlib.sha256, os.urandom, time.time_ns
    meter.start()
    for start in range(0, len(drafts), batch):
        rows = []
        for seq, draft in enumerate(drafts[start : start + batch], start):
            document = {
                "v": 1,
                "log": log_id,
                "seq": seq,
                "kind": draft.kind,
                "occurred_at": draft.occurred_at.isoformat(),
                "fields": draft.fields,
            }
            encoded = dumps(
                document, ensure_ascii=False, sort_keys=True, separators=(",", ":")
            ).encode()
            nonce = urandom(12)
            rows.append(
                (
                    log_id,
                    seq,
                    (draft.occurred_at - EPOCH) // MICROSECOND,
                    time_ns() // 1000,
                    sha256(encoded).digest(),
                    nonce + aead.encrypt(nonce, encoded, None),
                )
            )
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        meter.batch_done()
    meter.stop()
    (written,) = conn.execute("SELECT count(*) FROM entries").fetchone()
    conn.close()
    return written


def run_ours(drafts: Sequence[Draft], batch: int, folder: Path, meter: Meter) -> int:
    """``Log.append`` on a fresh SQLite store; return the size of its last signed head."""
    store = Store.open(sqlite_url(folder / "evidence.sqlite3"), folder / "blobs")
    try:
        log, _code = store.create_log(
            "bench passphrase 马", kdf=crypto.KdfParams.fresh(memory_kib=8 * 1024, iterations=1)
        )
        meter.start()
        for start in range(0, len(drafts), batch):
            log.append(drafts[start : start + batch])
            meter.batch_done()
        meter.stop()
        size = log.head().size
        if log.count() != size:
            raise SystemExit("the log and its head disagree")
        return size
    finally:
        store.close()


RUNNERS = {"baseline": run_baseline, "ours": run_ours}

# --- measurement --------------------------------------------------------------------------------


def measured(method: str, drafts: Sequence[Draft], batch: int, trace: bool = False) -> Meter:
    """Run one method on a fresh temporary folder (removed afterwards); check the row count."""
    meter = Meter(trace_memory=trace)
    with tempfile.TemporaryDirectory(prefix="evidence-bench-") as folder:
        written = RUNNERS[method](drafts, batch, Path(folder), meter)
    if written != len(drafts):
        raise SystemExit(f"{method} wrote {written} rows, expected {len(drafts)}")
    return meter


def maxrss_mib() -> float:
    """The process's peak RSS: VmHWM, the figure ru_maxrss reports, but resettable.

    ru_maxrss itself never goes below the size of the parent at the moment of the
    fork, so in a child of a large process it says nothing; VmHWM does not inherit.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak_rss() -> float:
    """Reset the peak RSS to the current RSS where Linux allows it; return it in MiB.

    Without the reset the peak is the high-water mark of everything before
    (building the drafts), and appending would show no growth at all.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        pass
    return maxrss_mib()


def memory_child(method: str, events: int, batch: int) -> None:
    """Run one method once under tracemalloc; print its figures as JSON (for the parent)."""
    meter = measured(method, build_drafts(make_payloads(events)), batch, trace=True)
    print(
        json.dumps(
            {
                "tracemalloc_peak_mib": meter.tracemalloc_peak_mib,
                "maxrss_before_mib": meter.maxrss_before_mib,
                "maxrss_growth_mib": meter.maxrss_growth_mib,
            }
        )
    )


def measure_memory(method: str, events: int, batch: int) -> dict[str, float]:
    """A child process per method, so that each has a peak RSS of its own."""
    output = subprocess.run(
        [sys.executable, __file__, "--events", str(events), "--batch", str(batch),
         "--memory-child", method],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to append")
    parser.add_argument("--batch", type=int, default=1000, help="events per Log.append call")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each method; best counts")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--memory-child", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.events < 1 or args.batch < 1 or args.repeat < 1:
        parser.error("--events, --batch and --repeat must be positive")
    if args.memory_child:
        memory_child(args.memory_child, args.events, args.batch)
        return

    n, batch = args.events, args.batch
    print(
        f"events {n}, batch {batch}, repeat {args.repeat}, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    payloads = make_payloads(n)
    model.make_draft(*payloads[0])  # load phonenumbers' metadata once, outside any timing
    said = [len(fields["said"]) for _kind, _at, fields in payloads]
    print(f"payload 'said': {min(said)}-{max(said)} characters, mean {statistics.mean(said):.0f}")

    meters: dict[str, list[Meter]] = {"baseline": [], "ours": []}
    draft_times: list[float] = []
    for round_ in range(args.repeat):
        gc.collect()
        start = time.perf_counter()
        drafts = build_drafts(payloads)
        draft_times.append(time.perf_counter() - start)
        for method in ("baseline", "ours") if round_ % 2 == 0 else ("ours", "baseline"):
            meter = measured(method, drafts, batch)
            meters[method].append(meter)
            print(
                f"  round {round_ + 1}  {method:8s} {n / meter.seconds:8,.0f} events/s "
                f"({meter.seconds:5.2f} s, CPU {meter.cpu_seconds:5.2f} s; first 10% of batches "
                f"{meter.rate(batch, True):7,.0f}/s, last 10% {meter.rate(batch, False):7,.0f}/s)"
            )

    base = min(m.seconds for m in meters["baseline"])
    ours = min(m.seconds for m in meters["ours"])
    base_cpu = min(m.cpu_seconds for m in meters["baseline"])
    ours_cpu = min(m.cpu_seconds for m in meters["ours"])
    drafting = min(draft_times)
    median_ratio = statistics.median(
        b.seconds / o.seconds for b, o in zip(meters["baseline"], meters["ours"], strict=True)
    )
    print()
    print(f"baseline (json + sha256 + aesgcm + sqlite3) {n / base:8,.0f} events/s (best)")
    print(f"Log.append, drafts prebuilt                 {n / ours:8,.0f} events/s (best)")
    print(f"  ratio ours / baseline                     {base / ours:8.2f}")
    print(f"  median of the per-round ratios            {median_ratio:8.2f}")
    print(f"  ratio of CPU times (best)                 {base_cpu / ours_cpu:8.2f}")
    print(f"make_draft alone (phone normalisation)      {n / drafting:8,.0f} events/s (best)")
    print(f"make_draft + Log.append                     {n / (drafting + ours):8,.0f} events/s")
    print(f"  ratio against the same baseline           {base / (drafting + ours):8.2f}")
    print(
        f"per event: baseline {base / n * 1e6:.1f} us, Log.append {ours / n * 1e6:.1f} us, "
        f"make_draft {drafting / n * 1e6:.1f} us"
    )

    if not args.no_memory:
        print()
        print("memory while appending (a child process per method, drafts built beforehand):")
        for method in ("baseline", "ours"):
            m = measure_memory(method, n, batch)
            print(
                f"  {method:8s} tracemalloc peak {m['tracemalloc_peak_mib']:6.1f} MiB, "
                f"peak RSS growth {m['maxrss_growth_mib']:6.1f} MiB "
                f"(RSS before: {m['maxrss_before_mib']:.0f} MiB, with the drafts)"
            )


if __name__ == "__main__":
    main()
