"""Server upload throughput: gunicorn workers on loopback against the core's own append rate.

Starts ``gunicorn --workers W server.wsgi:app`` on a free loopback port (the embedded
SQLite store in a temporary folder, or PostgreSQL with ``--database-url``, each run in a
fresh schema), signs up one account per client (or one shared account), then N client
threads each upload ``--batches`` batches of ``--batch`` events through
``POST /api/v1/events`` at the same time. Prints events/s over the wall time, p50 and p99
latency per batch, and the ratio against the core measured in the same run on a fresh
store of the same kind: one process, one log, the same JSON events turned into drafts
(with the same client-id dedup keys) and appended in batches of the same size, i.e. the
work the server's handler asks the core to do, without HTTP, JSON, auth or processes.

    .venv/bin/python bench/server.py [--clients 8] [--batches 20] [--batch 100] [--workers 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--shared-account]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import append as payloads

from evidence import crypto, model, timeutil
from evidence.ledger import Store

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password 马上还"
KDF_KIB = 8 * 1024


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def fresh_database(base_url: str | None, folder: Path, name: str) -> Iterator[str]:
    """A SQLite file in ``folder``, or a new PostgreSQL schema dropped afterwards."""
    if not base_url:
        yield f"sqlite:///{folder / name}.sqlite3"
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- the events ---------------------------------------------------------------------------------


def make_batches(clients: int, batches: int, size: int) -> list[list[list[dict]]]:
    """JSON events per client and batch (realistic SMS and calls from bench/append.py)."""
    found = payloads.make_payloads(clients * batches * size)
    result: list[list[list[dict]]] = []
    n = 0
    for client in range(clients):
        mine = []
        for batch in range(batches):
            events = []
            for i in range(size):
                kind, at, fields = found[n]
                n += 1
                events.append(
                    {
                        "id": f"c{client}-b{batch}-{i}",
                        "kind": kind,
                        "occurred_at": timeutil.format_canonical(at),
                        "fields": fields,
                    }
                )
            mine.append(events)
        result.append(mine)
    return result


# --- the core alone -----------------------------------------------------------------------------


def core_rate(url: str, folder: Path, batches: Sequence[list[dict]]) -> tuple[float, float]:
    """(events/s drafting + appending, events/s appending prebuilt drafts) on one log."""
    store = Store.open(url, folder / "core-blobs")
    try:
        log, _code = store.create_log(
            PASSWORD, kdf=crypto.KdfParams.fresh(memory_kib=KDF_KIB, iterations=1)
        )

        def drafts(events: list[dict], prefix: str) -> list[model.Draft]:
            return [
                model.make_draft(
                    e["kind"],
                    timeutil.parse_instant(e["occurred_at"], log.zone),
                    e["fields"],
                    (),
                    source={"via": "api"},
                    dedup_key=f"{prefix}{e['id']}",
                )
                for e in events
            ]

        log.append(drafts(batches[0], "warm-up/"))  # phone data, caches, like a warm worker
        count = sum(len(b) for b in batches)
        started = time.perf_counter()
        for events in batches:
            log.append(drafts(events, "api/v1/"), skip_duplicates=True)
        with_drafts = count / (time.perf_counter() - started)
        built = [drafts(events, "again/") for events in batches]
        started = time.perf_counter()
        for ready in built:
            log.append(ready, skip_duplicates=True)
        append_only = count / (time.perf_counter() - started)
        if log.check().problems:
            raise SystemExit("the core's log does not check clean")
        return with_drafts, append_only
    finally:
        store.close()


# --- gunicorn and the clients -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by the processes ``master`` forked (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@contextmanager
def gunicorn(url: str, folder: Path, workers: int) -> Iterator[tuple[int, int]]:
    folder.mkdir(parents=True, exist_ok=True)
    Store.open(url, folder / "blobs").close()  # migrate once, before the workers race to
    port = free_port()
    env = {
        **os.environ,
        "EVIDENCE_STORE": str(folder),
        "EVIDENCE_DATABASE_URL": url,
        "EVIDENCE_KDF_MEMORY_KIB": str(KDF_KIB),
        "EVIDENCE_KDF_ITERATIONS": "1",
        "EVIDENCE_LIMIT_PER_CLIENT": "100000",
        "EVIDENCE_LIMIT_PER_NAME": "100000",
        "EVIDENCE_MAX_BATCH": "1000",
    }
    log = (folder / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
            "server.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while request(port, "GET", "/healthz")[0] != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit((folder / "gunicorn.log").read_text(errors="replace"))
            time.sleep(0.1)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()


def request(
    port: int, method: str, path: str, body: bytes | None = None, token: str | None = None
) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
    except OSError:
        return 0, {}
    return response.status, json.loads(data or b"{}")


def sign_up(port: int, name: str) -> str:
    account = json.dumps({"name": name, "password": PASSWORD}).encode()
    status, body = request(port, "POST", "/api/v1/accounts", account)
    if status not in (201, 409):
        raise SystemExit(f"sign-up failed: {status} {body}")
    status, body = request(port, "POST", "/api/v1/tokens", account)
    if status != 201:
        raise SystemExit(f"token issue failed: {status} {body}")
    return body["token"]


def run_clients(
    port: int, tokens: list[str], bodies: list[list[bytes]]
) -> tuple[float, list[float], int]:
    """(wall seconds, per-batch latencies in seconds, events stored) with all clients at once."""
    start = threading.Barrier(len(tokens) + 1)
    latencies: list[float] = []
    stored = [0] * len(tokens)
    failures: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        mine = []
        start.wait()
        for body in bodies[n]:
            began = time.perf_counter()
            status, answer = request(port, "POST", "/api/v1/events", body, tokens[n])
            mine.append(time.perf_counter() - began)
            if status != 200:
                failures.append(f"{status} {answer}")
                return
            stored[n] += sum(r["status"] == "stored" for r in answer["results"])
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise SystemExit(f"uploads failed: {failures[:3]}")
    return wall, latencies, sum(stored)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20, help="batches per client")
    parser.add_argument("--batch", type=int, default=100, help="events per batch")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL base URL (default: SQLite)")
    parser.add_argument(
        "--shared-account", action="store_true", help="all clients upload to one account's log"
    )
    args = parser.parse_args(argv)

    batches = make_batches(args.clients, args.batches + 1, args.batch)  # +1: warm-up
    bodies = [[json.dumps({"events": b}).encode() for b in mine] for mine in batches]
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{kind}; gunicorn {args.workers} workers; {args.clients} clients x {args.batches} "
        f"batches of {args.batch} events; {os.cpu_count()} CPUs; "
        f"{'one shared account' if args.shared_account else 'one account per client'}"
    )
    with tempfile.TemporaryDirectory(prefix="evidence-bench-server-") as work:
        folder = Path(work)
        with (
            fresh_database(args.database_url, folder, "server") as url,
            gunicorn(url, folder / "store", args.workers) as (port, master),
        ):
            names = (
                ["bench_shared"] * args.clients
                if args.shared_account
                else [f"bench_{n}" for n in range(args.clients)]
            )
            tokens = [sign_up(port, name) for name in names]
            # Warm-up: every client's first batch (imports, pools, caches in each worker).
            run_clients(port, tokens, [mine[:1] for mine in bodies])
            cpu_before, client_before = workers_cpu(master), time.process_time()
            wall, latencies, stored = run_clients(port, tokens, [m[1:] for m in bodies])
            cpu = workers_cpu(master) - cpu_before
            client_cpu = time.process_time() - client_before
        expected = args.clients * args.batches * args.batch
        if stored != expected:
            raise SystemExit(f"stored {stored} events, expected {expected}")
        server_rate = stored / wall
        flat = [b for mine in batches for b in mine[1:]][: max(20, args.batches)]
        with fresh_database(args.database_url, folder, "core") as url:
            with_drafts, append_only = core_rate(url, folder, flat)

    p50 = statistics.median(latencies) * 1000
    p99 = percentile(latencies, 99) * 1000
    ratio = server_rate / with_drafts
    print(f"server: {stored} events in {wall:.2f} s = {server_rate:,.0f} events/s")
    print(
        f"  per batch of {args.batch}: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max "
        f"{max(latencies) * 1000:.0f} ms"
    )
    print(
        f"  server CPU per batch (both workers, user + system): "
        f"{cpu / len(latencies) * 1000:.1f} ms; the clients' (this process): "
        f"{client_cpu / len(latencies) * 1000:.1f} ms; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"core (one process, drafts + append): {with_drafts:,.0f} events/s; "
        f"append of prebuilt drafts: {append_only:,.0f} events/s"
    )
    print(
        f"ratio server / core: {ratio:.2f} (target >= 0.5); against append only: "
        f"{server_rate / append_only:.2f}"
    )
    print(
        f"p99 target < 250 ms: {'met' if p99 < 250 else 'NOT met'}; "
        f"ratio target: {'met' if ratio >= 0.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
