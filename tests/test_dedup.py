"""Idempotent appends (imports, API retries) and selective disclosure for bundles."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from evidence import canonical, hashing, merkle
from evidence.errors import Conflict, NotFound
from evidence.store.schema import entries


def keyed(draft, key: str):
    return replace(draft, dedup_key=key)


def test_duplicates_are_skipped_across_and_within_batches(log, make_draft) -> None:
    first = log.append([keyed(make_draft(), "a"), keyed(make_draft("sms"), "b")])
    assert [e.seq for e in first] == [0, 1]
    again = log.append(
        [keyed(make_draft(), "a"), keyed(make_draft("sms"), "c"), keyed(make_draft("sms"), "c")],
        skip_duplicates=True,
    )
    assert [e.seq for e in again] == [2]
    assert log.count() == 3
    assert log.append([keyed(make_draft(), "a")], skip_duplicates=True) == []
    assert log.head().size == 3
    assert log.check().ok


def test_append_new_gives_the_outcome_by_seq(log, make_draft) -> None:
    seqs: dict[str, int] = {}
    assert log.append_new([keyed(make_draft(), "a"), make_draft("sms")], seqs) == range(0, 2)
    assert seqs == {"a": 0}
    seqs = {}
    made = log.append_new(
        [keyed(make_draft(), "a"), keyed(make_draft("sms"), "c"), keyed(make_draft("sms"), "c")],
        seqs,
    )
    assert made == range(2, 3) and seqs == {"a": 0, "c": 2}
    seqs = {}
    assert log.append_new([keyed(make_draft(), "c")], seqs) == range(0) and seqs == {"c": 2}
    assert [e.kind for e in log.entries()] == ["call", "sms", "sms"]
    assert log.head().size == 3 and log.check().ok


def test_a_duplicate_without_skip_is_a_conflict_and_changes_nothing(log, make_draft) -> None:
    log.append([keyed(make_draft(), "a")])
    head = log.head()
    with pytest.raises(Conflict):
        log.append([make_draft(), keyed(make_draft(), "a")])
    assert log.count() == 1 and log.head() == head


def test_existing_keys_and_stored_digest_reveal_nothing(store, log, make_draft) -> None:
    log.append([keyed(make_draft(), "sms|+8613812345678|1700000000000")])
    assert log.existing_dedup_keys(["sms|+8613812345678|1700000000000", "other"]) == {
        "sms|+8613812345678|1700000000000"
    }
    with store.engine.connect() as conn:
        stored = conn.execute(select(entries.c.dedup)).scalar_one()
    assert len(stored) == 16 and b"+86138" not in stored
    other_log, _ = store.create_log("another passphrase", kdf=log_kdf())
    assert other_log.dedup_digest("x") != log.dedup_digest("x")


def log_kdf():
    from tests.conftest import cheap_kdf

    return cheap_kdf()


def test_disclosure_recomputes_commitment_and_proves_inclusion(log, make_draft) -> None:
    log.append([make_draft(), make_draft("sms"), make_draft("contact")])
    log.append([make_draft("visit")])
    head = log.head()
    tree = merkle.Tree(log.leaves())
    for disclosure in log.disclose([3, 1]):
        assert hashing.commitment(disclosure.salt, disclosure.canonical) == disclosure.commitment
        assert canonical.decode(disclosure.canonical)["seq"] == disclosure.seq
        proof = tree.inclusion_proof(disclosure.seq, head.size)
        leaf = hashing.leaf(disclosure.commitment)
        assert merkle.verify_inclusion(leaf, disclosure.seq, head.size, proof, head.root)
    assert [d.seq for d in log.disclose([2, 0, 2])] == [0, 2]
    with pytest.raises(NotFound, match="no entry 9"):
        log.disclose([1, 9])
