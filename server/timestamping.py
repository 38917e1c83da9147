"""RFC 3161 timestamps at an interval: after an upload, when the log's latest is too old.

With a TSA configured (``EVIDENCE_TSA``, the CLI's setting, and ``EVIDENCE_TSA_CA``), a
successful upload (API events or imports, the web form) starts a timestamp of the new
head in a background thread when the log has none recorded within
``EVIDENCE_TIMESTAMP_INTERVAL`` seconds. It is recorded exactly as ``evidence timestamp``
does (:func:`evidence.timestamps.timestamp_log`), so one token covers every entry before
the head. The answer to the upload never waits for it; a TSA that is down or slow costs
one bounded attempt (``EVIDENCE_TIMESTAMP_TIMEOUT`` seconds per TSA), is logged without
secrets, and is tried again after a pause, never more often.

What is kept in the process is only a bounded memo of "this log has a recent timestamp"
or "its last attempt failed at": another worker without it reads the log's recent entries
to find out (stopping at the first entry older than the interval), so any worker can
serve any request.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from evidence import model, timestamps

LOG = logging.getLogger("evidence.server.timestamps")
MEMO_SIZE = 1024
SCAN_CHUNK = 256
SCAN_LIMIT = 5000  # entries read back at most; past that, the log is treated as not covered
RETRY_AFTER = timedelta(minutes=5)  # after a failure, at most this often per log
_USERINFO = re.compile(r"//[^/@\s]*@")


def configure(app: Flask) -> None:
    """Check the settings once at start (a bad URL or CA file stops the app from starting)."""
    raw = app.config.get("EVIDENCE_TSA") or ""
    urls = timestamps.configured_tsas(raw.replace(",", " ").split()) if raw.strip() else []
    interval = app.config["EVIDENCE_TIMESTAMP_INTERVAL"]
    timeout = app.config["EVIDENCE_TIMESTAMP_TIMEOUT"]
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
        raise ValueError("EVIDENCE_TIMESTAMP_INTERVAL is a whole number of seconds (0 or more)")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 60:
        raise ValueError("EVIDENCE_TIMESTAMP_TIMEOUT is a whole number of seconds from 1 to 60")
    ca = app.config.get("EVIDENCE_TSA_CA")
    anchors = timestamps.load_anchors(Path(ca).read_bytes()) if urls and ca else []
    app.extensions["evidence.timestamps"] = _Stamper(
        urls, anchors, timedelta(seconds=interval), float(timeout)
    )


def pdf_settings() -> tuple[list[str], list[Any]]:
    """The app's TSA URLs and trust anchors, for the bundle PDF's document timestamp."""
    stamper: _Stamper | None = current_app.extensions.get("evidence.timestamps")
    return (list(stamper.urls), list(stamper.anchors)) if stamper is not None else ([], [])


def after_upload(log: Any) -> None:
    """Start a timestamp of ``log``'s head if it is due (never raises, never waits)."""
    stamper: _Stamper | None = current_app.extensions.get("evidence.timestamps")
    if stamper is None or not stamper.urls:
        return
    try:
        stamper.maybe_start(log)
    except Exception as exc:  # a timestamp is an addition, never a reason to fail an upload
        LOG.warning("no timestamp was started: %s", _clean(exc))


def wait(app: Flask, timeout: float = 30.0) -> None:
    """Wait for the timestamps started by ``app`` (tests, and a clean shutdown)."""
    stamper: _Stamper | None = app.extensions.get("evidence.timestamps")
    if stamper is not None:
        stamper.join(timeout)


def _clean(error: BaseException) -> str:
    """An error's message for the server log: one line, no user:password@ in URLs."""
    return f"{type(error).__name__}: {loggable(str(error))}"


def loggable(text: str) -> str:
    """``text`` for the server log: one line, no user:password@ in URLs, bounded."""
    return _USERINFO.sub("//", text).replace("\n", " ")[:500]


class _Stamper:
    def __init__(
        self, urls: list[str], anchors: list[Any], interval: timedelta, timeout: float
    ) -> None:
        self.urls = urls
        self.anchors = anchors
        self.interval = interval
        self.timeout = timeout
        self._lock = threading.Lock()
        self._covered: OrderedDict[str, datetime] = OrderedDict()  # log id -> newest stamp
        self._failed: OrderedDict[str, datetime] = OrderedDict()  # log id -> last failure
        self._running: dict[str, threading.Thread] = {}

    # --- is one due? ----------------------------------------------------------------------

    def maybe_start(self, log: Any) -> None:
        now = log.store.clock()
        with self._lock:
            if log.log_id in self._running:
                return
            covered = self._covered.get(log.log_id)
            if covered is not None and now - covered < self.interval:
                return
            failed = self._failed.get(log.log_id)
            if failed is not None and now - failed < min(RETRY_AFTER, self.interval or RETRY_AFTER):
                return
            thread = threading.Thread(
                target=self._run, args=(log, now), name="evidence-timestamp", daemon=True
            )
            self._running[log.log_id] = thread
        thread.start()

    def latest_within(self, log: Any, since: datetime) -> datetime | None:
        """When the newest timestamp entry recorded at or after ``since`` was recorded.

        Reads the log backwards from its head and stops at the first entry recorded
        before ``since`` (entries are numbered in the order they were recorded).
        """
        end = log.head().size
        read = 0
        while end > 0 and read < SCAN_LIMIT:
            start = max(0, end - SCAN_CHUNK)
            for opened in reversed(log.disclose(range(start, end))):
                entry = model.entry_from_document(json.loads(opened.canonical), opened.commitment)
                if entry.recorded_at < since:
                    return None
                if entry.kind == "timestamp":
                    return entry.recorded_at
            read += end - start
            end = start
        return None

    # --- taking one -----------------------------------------------------------------------

    def _run(self, log: Any, now: datetime) -> None:
        """In the background: read back whether a recent timestamp exists, else take one."""
        try:
            latest = self.latest_within(log, now - self.interval)
        except Exception as exc:
            LOG.warning("the log %s could not be read back: %s", log.log_id[:8], _clean(exc))
            latest = None
        if latest is not None:
            self._remember(self._covered, log.log_id, latest)
            with self._lock:
                self._running.pop(log.log_id, None)
            return
        self._stamp(log)

    def _stamp(self, log: Any) -> None:
        timeout = self.timeout

        def post(url: str, body: bytes, _default: float) -> bytes:
            return timestamps.http_post(url, body, timeout)

        try:
            entry, _report = timestamps.timestamp_log(log, self.urls, self.anchors, post)
        except Exception as exc:  # logged, retried later; the upload is long answered
            self._remember(self._failed, log.log_id, log.store.clock())
            LOG.warning("timestamp of log %s failed: %s", log.log_id[:8], _clean(exc))
        else:
            self._remember(self._covered, log.log_id, entry.recorded_at)
            with self._lock:
                self._failed.pop(log.log_id, None)
        finally:
            with self._lock:
                self._running.pop(log.log_id, None)

    def _remember(self, memo: OrderedDict[str, datetime], log_id: str, when: datetime) -> None:
        with self._lock:
            memo[log_id] = when
            memo.move_to_end(log_id)
            while len(memo) > MEMO_SIZE:
                memo.popitem(last=False)

    def join(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._running.values())
        for thread in threads:
            thread.join(timeout)
