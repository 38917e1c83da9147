"""Two gunicorn workers on PostgreSQL: interleaved uploads lose nothing and store nothing twice.

Several client threads (each with its own API token, two accounts) upload batches at the
same moment, resend every batch (a retry after a lost answer), and all of one account's
clients also send the same shared events. Afterwards every event is stored exactly once,
the log's entries are numbered without a gap, each retry got the same answer, and the log
checks clean. Runs when EVIDENCE_TEST_DATABASE_URL is set (the machine's PostgreSQL).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from evidence import keyring
from evidence.accounts import Accounts
from evidence.ledger import Store
from tests.conftest import POSTGRES_URL
from tests.gunicornfixtures import call, gunicorn
from tests.serverfixtures import PASSWORD, call_event

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="set EVIDENCE_TEST_DATABASE_URL to run gunicorn on PostgreSQL"
)

CLIENTS = {"alice": 5, "bob": 2}
BATCHES = 6
PER_BATCH = 20
SHARED = 5  # events every one of alice's clients sends in each batch


def _event(client_id: str) -> dict:
    return call_event(
        client_id,
        occurred_at="2026-11-20T23:15:00+08:00",
        fields={"number": "138 1234 5678", "said": client_id, "platform": "某贷"},
    )


def _upload(url: str, token: str, who: str, thread: int, start: threading.Barrier) -> dict:
    """One client: every batch sent twice; returns client id -> seq from the answers."""
    seen: dict[str, int] = {}
    start.wait()
    for batch in range(BATCHES):
        ids = [f"{who}-{thread}-{batch}-{i}" for i in range(PER_BATCH)]
        if who == "alice":
            ids += [f"shared-{batch}-{i}" for i in range(SHARED)]
        body = {"events": [_event(i) for i in ids]}
        status, first = call(url, "POST", "/api/v1/events", body, token)
        assert status == 200, first
        status, again = call(url, "POST", "/api/v1/events", body, token)
        assert status == 200 and again == first, (first, again)
        for result in first["results"]:
            assert result["status"] == "stored", result
            assert seen.setdefault(result["id"], result["seq"]) == result["seq"]
    return seen


def _entries(url: str, token: str) -> list[dict]:
    found: list[dict] = []
    after = None
    while True:
        query = "/api/v1/entries?limit=1000" + (f"&after={after}" if after is not None else "")
        status, body = call(url, "GET", query, token=token)
        assert status == 200, body
        found += body["entries"]
        after = body["next_after"]
        if after is None:
            return found


def test_two_workers_store_interleaved_uploads_exactly_once(
    database_url: str, tmp_path: Path
) -> None:
    store_path = tmp_path / "store"
    with gunicorn(database_url, store_path, workers=2) as url:
        tokens: dict[str, list[str]] = {}
        for who, threads in CLIENTS.items():
            status, body = call(
                url, "POST", "/api/v1/accounts", {"name": who, "password": PASSWORD}
            )
            assert status == 201, body
            tokens[who] = []
            for n in range(threads):
                status, body = call(
                    url,
                    "POST",
                    "/api/v1/tokens",
                    {"name": who, "password": PASSWORD, "label": f"phone {n}"},
                )
                assert status == 201, body
                tokens[who].append(body["token"])

        start = threading.Barrier(sum(CLIENTS.values()))
        with ThreadPoolExecutor(max_workers=sum(CLIENTS.values())) as pool:
            futures = {
                (who, n): pool.submit(_upload, url, token, who, n, start)
                for who, their in tokens.items()
                for n, token in enumerate(their)
            }
            answers = {key: future.result(timeout=300) for key, future in futures.items()}

        for who, their in tokens.items():
            expected = {
                f"{who}-{t}-{b}-{i}"
                for t in range(len(their))
                for b in range(BATCHES)
                for i in range(PER_BATCH)
            }
            if who == "alice":
                expected |= {f"shared-{b}-{i}" for b in range(BATCHES) for i in range(SHARED)}
            entries = _entries(url, their[0])
            said = Counter(e["fields"]["said"] for e in entries)
            assert set(said) == expected  # nothing lost, nothing of the other account
            assert max(said.values()) == 1  # nothing stored twice
            assert [e["seq"] for e in entries] == list(range(len(expected)))
            seq_of = {e["fields"]["said"]: e["seq"] for e in entries}
            for (owner, _n), seen in answers.items():
                if owner == who:  # every answer named the entry that holds the event
                    assert all(seq_of[i] == seq for i, seq in seen.items())
            status, head = call(url, "GET", "/api/v1/head", token=their[0])
            assert status == 200 and head["head"]["size"] == len(expected)

    store = Store.open(database_url, store_path / "blobs")
    try:
        service = Accounts(store)
        for who in CLIENTS:
            log = service.sign_in(who, PASSWORD, keyring.SESSION).log
            report = log.check()
            assert report.ok, report.problems
            assert report.entries == len(log.entries())
    finally:
        store.close()
