"""Guards against states that must never be signed over or trusted."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from evidence import crypto
from evidence.errors import Conflict, IntegrityFailure
from evidence.store.schema import key_slots
from tests.conftest import PASSPHRASE, tamper


def test_append_refuses_to_sign_over_a_damaged_frontier(store, log, make_draft) -> None:
    log.append([make_draft(), make_draft()])
    tamper(
        store,
        "UPDATE heads SET frontier = :f WHERE log_id = :l AND size = 2",
        f=b"\x00" * 32,
        l=log.log_id,
    )
    with pytest.raises(Conflict, match="damaged"):
        log.append([make_draft()])
    assert log.count() == 2


def test_replaced_public_key_is_refused_on_unlock(store, log) -> None:
    other = crypto.public_key_of(crypto.new_signing_key())
    tamper(store, "UPDATE logs SET public_key = :k WHERE id = :l", k=other, l=log.log_id)
    with pytest.raises(IntegrityFailure, match="public key"):
        store.unlock(log.log_id, PASSPHRASE)


def test_a_forged_remembered_head_is_reported(log, make_draft) -> None:
    log.append([make_draft()])
    forged = replace(log.head(), size=5, signature=b"\x01" * 64)
    problems = log.check(witness=forged).problems
    assert problems == [
        "the head of size 5 remembered on this machine is not signed by this log's key "
        "(the remembered head was replaced)"
    ]
    assert log.check(witness=log.head()).ok


def test_passwd_keeps_the_chosen_kdf_cost(store, log) -> None:
    log.change_passphrase("another passphrase")
    with store.engine.connect() as conn:
        kdf = json.loads(
            conn.execute(
                select(key_slots.c.kdf).where(key_slots.c.kind == "passphrase")
            ).scalar_one()
        )
    assert kdf["memory_kib"] == 8 * 1024 and kdf["iterations"] == 1
    assert store.unlock(log.log_id, "another passphrase").count() == 0


class Trickle(io.RawIOBase):
    """A stream that returns at most 1000 bytes per read, like a pipe or a socket."""

    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 1000 if size < 0 else min(size, 1000)
        chunk = self.data[self.position : self.position + size]
        self.position += len(chunk)
        return chunk


def test_short_reads_do_not_truncate_attachments(log) -> None:
    data = bytes(range(256)) * 20_000  # 5 MB, several chunks
    attachment = log.add_attachment(Trickle(data), "from-a-pipe.m4a")
    assert attachment.size == len(data)
    assert b"".join(log.read_attachment(attachment.sha256)) == data


@pytest.mark.parametrize("change", ["passphrase", "recovery"])
def test_a_replaced_key_slot_leaves_no_copy_in_the_sqlite_files(
    database_url, store, log, make_draft, change
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps no files of its own next to the store")
    log.append([make_draft()])
    with store.engine.connect() as conn:
        old = conn.execute(select(key_slots.c.wrapped).where(key_slots.c.kind == change)).scalar()
    assert old is not None and len(old) >= 32
    if change == "passphrase":
        log.change_passphrase("another passphrase")
    else:
        log.replace_recovery_code()
    database = store.engine.url.database
    files = [database, f"{database}-wal"]
    found = []
    for name in files:
        try:
            with open(name, "rb") as handle:
                found.append(old in handle.read())
        except FileNotFoundError:
            found.append(False)
    assert found == [False, False]
    assert store.unlock(log.log_id, "another passphrase" if change == "passphrase" else PASSPHRASE)
