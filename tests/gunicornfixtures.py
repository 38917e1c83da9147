"""gunicorn on loopback for the multi-worker tests: start, wait until it answers, stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import TEST_KDF_MIB

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(database_url: str, store: Path, workers: int = 2, **settings: Any) -> Iterator[str]:
    """``gunicorn --workers N server.wsgi:app`` on a free loopback port; yields its base URL."""
    from evidence.ledger import Store

    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Migrate once here: workers opening a fresh database at the same moment would race.
    Store.open(database_url, store / "blobs").close()
    port = free_port()
    env = {
        **os.environ,
        "EVIDENCE_STORE": str(store),
        "EVIDENCE_DATABASE_URL": database_url,
        "EVIDENCE_KDF_MEMORY_KIB": str(TEST_KDF_MIB * 1024),
        "EVIDENCE_KDF_ITERATIONS": "1",
        "EVIDENCE_LIMIT_PER_CLIENT": "10000",
        "EVIDENCE_LIMIT_PER_NAME": "10000",
        **{k: str(v) for k, v in settings.items()},
    }
    log = (store / "gunicorn.log").open("wb")
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
            "120",
            "server.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError((store / "gunicorn.log").read_text(errors="replace"))
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def call(
    url: str, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """One JSON request; (status, decoded body) for successes and errors alike."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")
