"""SQLite writers queue on a file lock (a faster queue than SQLite's sleeping retries)."""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

import server
from tests.serverfixtures import ApiUser, call_event


def _held_for(app, seconds: float, holding: threading.Event) -> None:
    with app.app_context(), server.write_turn():
        holding.set()
        time.sleep(seconds)


def test_uploads_wait_for_the_writer_before_them(app, database_url) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the queue is for SQLite only")
    user = ApiUser(app.test_client(), "alice")
    holding = threading.Event()
    other = threading.Thread(target=_held_for, args=(app, 0.5, holding))
    other.start()
    assert holding.wait(5)
    started = time.monotonic()
    response = user.events(call_event("c1"))
    waited = time.monotonic() - started
    other.join()
    assert response.status_code == 200
    assert waited >= 0.3  # it queued behind the holder, then stored its event
    lock = app.config["EVIDENCE_STORE"] + "/" + server.WRITERS_LOCK
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600
    # Released: the next turn is immediate.
    started = time.monotonic()
    assert user.events(call_event("c2")).status_code == 200
    assert time.monotonic() - started < 0.3


def test_a_failed_write_releases_the_turn(app, database_url) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the queue is for SQLite only")
    with app.app_context():
        with pytest.raises(RuntimeError), server.write_turn():
            raise RuntimeError("the append failed")
        done = threading.Event()

        def take() -> None:
            with app.app_context(), server.write_turn():
                done.set()

        taker = threading.Thread(target=take)
        taker.start()
        assert done.wait(2)
        taker.join()


def test_no_queue_on_postgresql(app, database_url) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks per log row; nothing to queue")
    with app.app_context(), server.write_turn():
        pass
    assert not os.path.exists(app.config["EVIDENCE_STORE"] + "/" + server.WRITERS_LOCK)
