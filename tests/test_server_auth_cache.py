"""Per-worker reuse of unlocked logs, and one-lookup uploads: faster, and nothing weaker.

The cache may only save the unwrapping of a log's keys; every request still reads its
credential, so revocation, expiry and password changes take effect on the next request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from evidence.accounts import _UnlockedLogs
from evidence.ledger import Store
from tests.serverfixtures import PASSWORD, ApiUser, WebUser, assert_error, call_event


@pytest.fixture
def alice(client) -> ApiUser:
    return ApiUser(client, "alice")


@pytest.fixture
def unlocks(monkeypatch) -> list[str]:
    """The slot ids ``Store.unlock_with_secret`` is called with, in order."""
    calls: list[str] = []
    real = Store.unlock_with_secret

    def counting(self, log_id, slot_id, secret):
        calls.append(slot_id)
        return real(self, log_id, slot_id, secret)

    monkeypatch.setattr(Store, "unlock_with_secret", counting)
    return calls


def test_a_token_unlocks_its_log_once_per_process(alice, unlocks) -> None:
    for _ in range(3):
        assert alice.get("/api/v1/head").status_code == 200
    assert alice.events(call_event("c1")).status_code == 200
    assert unlocks == [alice.token_id]


def test_a_revoked_token_is_refused_at_once_even_when_cached(alice, client, unlocks) -> None:
    second = client.post(
        "/api/v1/tokens", json={"name": "alice", "password": PASSWORD, "label": "tablet"}
    ).get_json()
    assert alice.get("/api/v1/head").status_code == 200  # now in the cache
    tablet = {"Authorization": f"Bearer {second['token']}"}
    assert client.delete(f"/api/v1/tokens/{alice.token_id}", headers=tablet).status_code == 204
    assert_error(alice.get("/api/v1/head"), 401)
    assert_error(alice.events(call_event("after-revoke")), 401)
    entries = client.get("/api/v1/entries", headers=tablet).get_json()["entries"]
    assert entries == []


def test_a_wrong_secret_for_a_cached_token_id_is_refused(alice) -> None:
    assert alice.get("/api/v1/head").status_code == 200
    prefix, _, secret = alice.token.partition(".")
    forged = prefix + "." + ("A" if secret[0] != "A" else "B") + secret[1:]
    response = alice.client.get("/api/v1/head", headers={"Authorization": f"Bearer {forged}"})
    assert_error(response, 401)


def test_a_password_change_ends_cached_tokens_at_once(app, client) -> None:
    web = WebUser(client, "carol")
    phone = client.post("/api/v1/tokens", json={"name": "carol", "password": PASSWORD}).get_json()
    auth = {"Authorization": f"Bearer {phone['token']}"}
    assert client.get("/api/v1/head", headers=auth).status_code == 200  # cached
    changed = web.submit(
        "/password", {"old": PASSWORD, "new": "new password!", "new2": "new password!"}
    )
    assert changed.status_code == 200
    assert_error(client.get("/api/v1/head", headers=auth), 401)
    # The session that changed it goes on working, on the same (unchanged) data key.
    assert client.get("/timeline").status_code == 200


def test_an_expired_token_is_refused_even_when_cached(app, alice) -> None:
    assert alice.get("/api/v1/head").status_code == 200
    clock = app.config["EVIDENCE_STORE_OPTIONS"]["clock"]
    clock.now += timedelta(days=app.config["EVIDENCE_TOKEN_DAYS"] + 1)
    assert_error(alice.get("/api/v1/head"), 401)


def test_the_cache_is_bounded_and_short_lived() -> None:
    logs = [object(), object(), object()]
    cache = _UnlockedLogs(size=2, seconds=60)
    for n, log in enumerate(logs):
        cache.put(f"id{n}", b"h", log)  # type: ignore[arg-type]
    assert cache.get("id0", b"h") is None  # the oldest went
    assert cache.get("id1", b"h") is logs[1] and cache.get("id2", b"h") is logs[2]
    assert cache.get("id2", b"other") is None  # another secret hash never matches
    assert cache.get("id2", b"h") is None  # ... and dropped the entry
    stale = _UnlockedLogs(size=2, seconds=0)
    stale.put("id", b"h", logs[0])  # type: ignore[arg-type]
    assert stale.get("id", b"h") is None
    off = _UnlockedLogs(size=0, seconds=60)
    off.put("id", b"h", logs[0])  # type: ignore[arg-type]
    assert off.get("id", b"h") is None


def test_a_batch_mixing_stored_and_new_ids_answers_every_seq(alice) -> None:
    first = alice.events(call_event("a"), call_event("b")).get_json()["results"]
    seq_a, seq_b = first[0]["seq"], first[1]["seq"]
    mixed = alice.events(call_event("b"), call_event("c"), call_event("a"), call_event("c"))
    results = mixed.get_json()["results"]
    assert [r["status"] for r in results] == ["stored"] * 4
    assert results[0]["seq"] == seq_b and results[2]["seq"] == seq_a
    assert results[1]["seq"] == results[3]["seq"] == max(seq_a, seq_b) + 1
    entries = alice.get("/api/v1/entries").get_json()["entries"]
    assert len(entries) == 3


def test_a_retried_batch_with_a_refused_item_answers_the_same(alice) -> None:
    batch = [call_event("ok"), call_event("later", occurred_at="2099-01-01T00:00:00+08:00")]
    first = alice.events(*batch).get_json()
    assert [r["status"] for r in first["results"]] == ["stored", "rejected"]
    assert alice.events(*batch).get_json() == first
    assert len(alice.get("/api/v1/entries").get_json()["entries"]) == 1
