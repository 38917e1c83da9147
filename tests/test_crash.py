"""Crash safety: a writer killed with SIGKILL in the middle of a batch leaves no partial batch."""

from __future__ import annotations

import os
import queue
import signal
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime

import pytest

from evidence import model
from tests.conftest import PASSPHRASE

BATCH = 500

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from datetime import datetime, timezone
    from pathlib import Path

    from evidence import model
    from evidence.ledger import Store

    url, blob_root, log_id, batch = sys.argv[1:5]
    store = Store.open(url, Path(blob_root))
    log = store.unlock(log_id, os.environ["EVIDENCE_TEST_PASSPHRASE"])
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    drafts = [
        model.make_draft("sms", at, {"number": "1069012345", "said": f"第 {i} 条催收短信"})
        for i in range(int(batch))
    ]
    while True:
        print("begin", flush=True)
        started = time.perf_counter()
        made = log.append(drafts)
        print("committed", made[-1].seq + 1, time.perf_counter() - started, flush=True)
    """
)

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _lines(stream, sink: queue.Queue) -> None:
    for line in stream:
        sink.put(line.split())
    sink.put(None)


def kill_mid_batch(script, database_url, blob_root, log_id, fraction):
    """Run the writer until it has committed 3 batches, then SIGKILL it `fraction` into the next.

    Returns the size the writer last reported as committed.
    """
    child = subprocess.Popen(
        [sys.executable, str(script), database_url, str(blob_root), log_id, str(BATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "EVIDENCE_TEST_PASSPHRASE": PASSPHRASE},
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_lines, args=(child.stdout, lines), daemon=True)
    reader.start()
    committed, durations = 0, []
    try:
        while True:
            line = lines.get(timeout=60)
            assert line is not None, f"the writer stopped: {child.stderr.read()}"
            if line[0] == "committed":
                committed, durations = int(line[1]), [*durations, float(line[2])]
            elif len(durations) >= 3:  # "begin" of the fourth batch or later
                time.sleep(statistics.median(durations) * fraction)
                child.send_signal(signal.SIGKILL)
                break
    finally:
        child.kill()
        child.communicate()
        reader.join(timeout=10)
    assert child.returncode == -signal.SIGKILL
    while (line := lines.get(timeout=10)) is not None:  # a commit that raced the kill
        if line[0] == "committed":
            committed = int(line[1])
    return committed


def test_sigkill_mid_batch_leaves_whole_batches(tmp_path, database_url, store, log):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    blob_root = tmp_path / "blobs"
    rounds = []
    for fraction in (0.2, 0.5, 0.3):
        reported = kill_mid_batch(script, database_url, blob_root, log.log_id, fraction)
        # Reopen as a new process would: the log opens, is intact and ends on a whole batch.
        reopened = store.unlock(log.log_id, PASSPHRASE)
        count = reopened.count()
        report = reopened.check()
        assert report.problems == []
        assert count == reopened.head().size == report.entries
        assert count % BATCH == 0
        assert count in (reported, reported + BATCH)  # the killed batch: all or nothing
        rounds.append(count == reported)
    # The kill landed inside an open transaction at least once (not only between batches).
    assert any(rounds)
    # The log is not wedged: the next writer appends where the last whole batch ended.
    before = reopened.count()
    at = datetime(2026, 11, 2, tzinfo=UTC)
    (made,) = reopened.append([model.make_draft("other", at, {"said": "after the crash"})])
    assert made.seq == before
    assert reopened.count() == before + 1 and reopened.check().ok
