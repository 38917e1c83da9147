"""One test per attack on a stored log: each asserts the exact problem `check()` reports.

The attacker here has the database and the blob folder (and, where said, even the log's
key); `tamper` runs raw SQL past the append-only triggers as such an attacker would.
"""

from __future__ import annotations

import io
import shutil
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from evidence import canonical, crypto, hashing, merkle, model
from evidence.errors import Conflict, DecryptionFailed, WrongSecret
from evidence.hashing import Head
from evidence.store.schema import entries, heads, key_slots
from tests.conftest import PASSPHRASE, cheap_kdf, tamper

AT = datetime(2026, 11, 20, 15, 15, tzinfo=UTC)


EDITED = "entry {}: its content does not match its commitment (edited)"
MOVED = (
    "entry {}: its ciphertext does not open at this place "
    "(altered, moved from another entry, or sealed with another key)"
)
BLOB = "attachment {} ({}, entry {}) is altered, truncated or replaced"
UNCOVERED = (
    "entries {}–{} are not covered by any signed head (inserted, or the newest heads were removed)"
)


def fill(log, sizes):
    """Append batches of the given sizes; entry n says "entry n"."""
    count = 0
    for size in sizes:
        log.append(
            [model.make_draft("other", AT, {"said": f"entry {count + i}"}) for i in range(size)]
        )
        count += size


def row(store, log_id, seq):
    with store.engine.connect() as conn:
        return conn.execute(
            select(entries).where(entries.c.log_id == log_id, entries.c.seq == seq)
        ).one()


def set_entry(store, log_id, seq, **values):
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    tamper(
        store,
        f"UPDATE entries SET {assignments} WHERE log_id = :log AND seq = :seq",
        log=log_id,
        seq=seq,
        **values,
    )


def open_entry(log, seq):
    """What an attacker holding the key sees: (salt, canonical document) of one entry."""
    sealer, _ = log._check_access()
    plain = sealer.unseal(
        row(log.store, log.log_id, seq).sealed, hashing.entry_aad(log.log_id, seq)
    )
    return plain[: hashing.SALT_BYTES], canonical.decode(plain[hashing.SALT_BYTES :])


def seal_entry(log, seq, salt, document):
    sealer, _ = log._check_access()
    encoded = canonical.encode(document)
    return sealer.seal(salt + encoded, hashing.entry_aad(log.log_id, seq)), hashing.commitment(
        salt, encoded
    )


def head_problem(first, last, head):
    return (
        f"entries {first}–{last}: they no longer match the head of size {head.size} signed at "
        f"{head.signed_at} (an entry was edited, inserted or replaced)"
    )


def with_attachments(log, chunk_size=64):
    """A log whose entries 0 and 1 carry a multi-chunk attachment each."""
    _, keys = log._check_access()
    made = []
    for name, seed in (("call.amr", 1), ("photo.jpg", 2)):
        content = bytes((seed * i) % 251 for i in range(5 * chunk_size + 10))
        sha, size = log.store.blobs.put(
            log.log_id, keys, io.BytesIO(content), chunk_size=chunk_size
        )
        attachment = model.Attachment(sha, size, name)
        made.append(attachment)
        log.append([model.make_draft("visit", AT, {"location": name}, (attachment,))])
    paths = [log.store.blobs.path(log.log_id, keys, a.sha256) for a in made]
    assert log.check().ok
    return made, paths


# --- entries ----------------------------------------------------------------------------------


def test_edited_entry_resealed_with_the_right_key(store, log):
    fill(log, [2, 3])
    salt, document = open_entry(log, 3)
    document["fields"]["said"] = "entry 3, rewritten"
    sealed, _ = seal_entry(log, 3, salt, document)
    set_entry(store, log.log_id, 3, sealed=sealed)
    assert log.check().problems == [EDITED.format(3)]
    with pytest.raises(DecryptionFailed, match="entry 3 does not match its commitment"):
        log.entries()


def test_edited_entry_with_a_matching_commitment_is_caught_by_the_heads(store, log):
    fill(log, [1, 1, 1, 1, 1])  # a head after every entry: sizes 0..5
    salt, document = open_entry(log, 2)
    document["fields"]["said"] = "entry 2, rewritten"
    sealed, commitment = seal_entry(log, 2, salt, document)
    set_entry(store, log.log_id, 2, sealed=sealed, commitment=commitment)
    # The entry itself is now self-consistent: it decrypts and matches its commitment...
    assert log.entry(2).fields["said"] == "entry 2, rewritten"
    # ...but no longer matches the heads signed before the edit, from the first that covers it.
    _, _, _, h3, h4, h5 = log.heads()
    assert log.check().problems == [
        head_problem(2, 2, h3),
        head_problem(2, 3, h4),
        head_problem(2, 4, h5),
    ]


def test_edited_indexed_time(store, log):
    fill(log, [3])
    set_entry(
        store, log.log_id, 1, occurred_us=row(store, log.log_id, 1).occurred_us - 3600_000_000
    )
    assert log.check().problems == ["entry 1: its indexed times differ from its committed times"]


def test_reordered_entries(store, log):
    fill(log, [5])
    tamper(store, "UPDATE entries SET seq = -1 WHERE log_id = :l AND seq = 1", l=log.log_id)
    tamper(store, "UPDATE entries SET seq = 1 WHERE log_id = :l AND seq = 3", l=log.log_id)
    tamper(store, "UPDATE entries SET seq = 3 WHERE log_id = :l AND seq = -1", l=log.log_id)
    _, h5 = log.heads()
    assert log.check().problems == [MOVED.format(1), MOVED.format(3), head_problem(0, 4, h5)]


def test_deleted_middle_entry(store, log):
    fill(log, [5])
    tamper(store, "DELETE FROM entries WHERE log_id = :l AND seq = 2", l=log.log_id)
    problems = log.check().problems
    assert problems[0] == "entry 2 is missing (the next stored entry is 3)"
    assert problems[1:] == [
        "head of size 5 covers entries 2–4, which are missing (deleted or truncated)"
    ]


def test_deleted_last_entry(store, log):
    fill(log, [3, 2])
    tamper(store, "DELETE FROM entries WHERE log_id = :l AND seq = 4", l=log.log_id)
    assert log.check().problems == [
        "head of size 5 covers entries 4–4, which are missing (deleted or truncated)"
    ]
    with pytest.raises(Conflict, match="the log has 4 entries but its last signed head covers 5"):
        fill(log, [1])


def test_inserted_entry_beyond_the_head(store, log):
    fill(log, [3])
    # The strongest insertion: sealed with the log's own key and a valid commitment.
    salt, document = open_entry(log, 2)
    document.update(seq=3, fields={"said": "an entry the borrower never wrote"})
    sealed, commitment = seal_entry(log, 3, salt, document)
    original = row(store, log.log_id, 2)
    tamper(
        store,
        "INSERT INTO entries (log_id, seq, occurred_us, recorded_us, commitment, sealed) "
        "VALUES (:l, 3, :o, :r, :c, :s)",
        l=log.log_id,
        o=original.occurred_us,
        r=original.recorded_us,
        c=commitment,
        s=sealed,
    )
    assert log.check().problems == [UNCOVERED.format(3, 3)]
    with pytest.raises(Conflict, match="the log has 4 entries but its last signed head covers 3"):
        fill(log, [1])


def test_swapped_ciphertexts(store, log):
    fill(log, [4])
    one, two = row(store, log.log_id, 1), row(store, log.log_id, 2)
    set_entry(store, log.log_id, 1, sealed=two.sealed)
    set_entry(store, log.log_id, 2, sealed=one.sealed)
    assert log.check().problems == [MOVED.format(1), MOVED.format(2)]


# --- keys -------------------------------------------------------------------------------------


def test_wrong_passphrase_is_refused_and_changes_nothing(store, log):
    fill(log, [2])

    def snapshot():
        with store.engine.connect() as conn:
            return (
                conn.execute(select(key_slots).order_by(key_slots.c.id)).all(),
                conn.execute(select(entries).order_by(entries.c.seq)).all(),
                conn.execute(select(heads).order_by(heads.c.size)).all(),
            )

    before = snapshot()
    for wrong in ("wrong passphrase", PASSPHRASE[:-1], PASSPHRASE + "\n"):
        with pytest.raises(WrongSecret, match="wrong passphrase"):
            store.unlock(log.log_id, wrong)
    assert snapshot() == before
    assert store.unlock(log.log_id, PASSPHRASE).check().ok


def test_rows_copied_into_another_log(store, log):
    fill(log, [2, 1])
    other, _ = store.create_log(PASSPHRASE, kdf=cheap_kdf())
    tamper(
        store,
        "INSERT INTO entries (log_id, seq, occurred_us, recorded_us, commitment, sealed) "
        "SELECT :b, seq, occurred_us, recorded_us, commitment, sealed FROM entries "
        "WHERE log_id = :a",
        a=log.log_id,
        b=other.log_id,
    )
    tamper(
        store,
        "INSERT INTO heads (log_id, size, root, signed_at, signature, frontier) "
        "SELECT :b, size, root, signed_at, signature, frontier FROM heads "
        "WHERE log_id = :a AND size > 0",
        a=log.log_id,
        b=other.log_id,
    )
    assert other.check().problems == [
        MOVED.format(0),
        MOVED.format(1),
        MOVED.format(2),
        "head of size 2: the signature is not valid",
        "head of size 3: the signature is not valid",
        UNCOVERED.format(0, 2),
    ]
    assert log.check().ok


# --- attachments ------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", ["last chunk", "mid chunk", "to the header"])
def test_truncated_blob(log, cut):
    (call, _photo), (path, _) = with_attachments(log)
    data = path.read_bytes()
    keep = {
        "last chunk": len(data) - (10 + crypto.TAG_BYTES),  # the short final record, whole
        "mid chunk": len(data) - 40,
        "to the header": crypto.BLOB_HEADER_BYTES,
    }[cut]
    path.write_bytes(data[:keep])
    assert log.check().problems == [BLOB.format(call.sha256, "call.amr", 0)]
    with pytest.raises(DecryptionFailed, match=call.sha256):
        b"".join(log.read_attachment(call.sha256))


def test_swapped_blob_chunks(log):
    (_call, photo), (_, path) = with_attachments(log)
    data = path.read_bytes()
    record = 64 + crypto.TAG_BYTES
    start = crypto.BLOB_HEADER_BYTES
    first, second = data[start : start + record], data[start + record : start + 2 * record]
    path.write_bytes(data[:start] + second + first + data[start + 2 * record :])
    assert log.check().problems == [BLOB.format(photo.sha256, "photo.jpg", 1)]


def test_swapped_chunks_of_a_default_size_blob(log):
    _, keys = log._check_access()
    content = bytes(range(256)) * (3 * crypto.DEFAULT_CHUNK // 256)  # three 1 MiB chunks
    attachment = log.add_attachment(io.BytesIO(content), "video.mp4")
    log.append([model.make_draft("visit", AT, {}, (attachment,))])
    path = log.store.blobs.path(log.log_id, keys, attachment.sha256)
    data = bytearray(path.read_bytes())
    record = crypto.DEFAULT_CHUNK + crypto.TAG_BYTES
    start = crypto.BLOB_HEADER_BYTES
    first = data[start : start + record]
    data[start : start + record] = data[start + record : start + 2 * record]
    data[start + record : start + 2 * record] = first
    path.write_bytes(bytes(data))
    assert log.check().problems == [BLOB.format(attachment.sha256, "video.mp4", 0)]


def test_blob_file_replaced_by_another_blobs_file(log):
    (call, _photo), (call_path, photo_path) = with_attachments(log)
    shutil.copyfile(photo_path, call_path)
    assert log.check().problems == [BLOB.format(call.sha256, "call.amr", 0)]


def test_blob_file_deleted(log):
    (_call, photo), (_, photo_path) = with_attachments(log)
    photo_path.unlink()
    assert log.check().problems == [f"attachment {photo.sha256} (photo.jpg, entry 1) is missing"]


# --- heads ------------------------------------------------------------------------------------


def test_newest_heads_deleted(store, log):
    fill(log, [2, 2, 1])
    tamper(store, "DELETE FROM heads WHERE log_id = :l AND size > 2", l=log.log_id)
    assert log.check().problems == [UNCOVERED.format(2, 4)]


def test_rollback_is_caught_by_a_witness_head(store, log):
    fill(log, [2, 2, 1])
    witness = log.head()
    tamper(store, "DELETE FROM entries WHERE log_id = :l AND seq >= 2", l=log.log_id)
    tamper(store, "DELETE FROM heads WHERE log_id = :l AND size > 2", l=log.log_id)
    # A clean rollback is consistent in itself; only a head seen before reveals it.
    assert log.check().ok
    assert log.check(witness).problems == [
        "the log was rolled back: a head of size 5 was seen before, the store now ends at size 2"
    ]


def test_rollback_and_rewrite_is_caught_by_a_witness_head(store, log):
    fill(log, [2, 2])
    witness = log.head()
    tamper(store, "DELETE FROM entries WHERE log_id = :l AND seq >= 2", l=log.log_id)
    tamper(store, "DELETE FROM heads WHERE log_id = :l AND size > 2", l=log.log_id)
    fill(log, [3])  # a different history of the same length and more
    assert log.check().ok
    assert log.check(witness).problems == [
        "the log no longer extends the head of size 4 seen before"
    ]
    assert log.check(log.head()).ok


def test_forged_head_signature(store, log):
    fill(log, [2, 1])
    head = log.heads()[1]
    forged = bytes([head.signature[0] ^ 0x80]) + head.signature[1:]
    tamper(
        store,
        "UPDATE heads SET signature = :s WHERE log_id = :l AND size = 2",
        s=forged,
        l=log.log_id,
    )
    assert log.check().problems == ["head of size 2: the signature is not valid"]


def test_heads_re_signed_with_another_key(store, log):
    fill(log, [2, 1])
    salt, document = open_entry(log, 0)
    document["fields"]["said"] = "entry 0, rewritten"
    sealed, commitment = seal_entry(log, 0, salt, document)
    set_entry(store, log.log_id, 0, sealed=sealed, commitment=commitment)
    # Recompute every head over the edited entries and sign it with the attacker's own key.
    attacker = crypto.new_signing_key()
    tree = merkle.Tree(log.leaves())
    for head in log.heads()[1:]:
        fake = Head(log.log_id, head.size, tree.root(head.size), head.signed_at)
        tamper(
            store,
            "UPDATE heads SET root = :r, signature = :s WHERE log_id = :l AND size = :n",
            r=fake.root,
            s=crypto.sign(attacker, fake.message()),
            l=log.log_id,
            n=head.size,
        )
    assert log.check().problems == [
        "head of size 2: the signature is not valid",
        "head of size 3: the signature is not valid",
        UNCOVERED.format(0, 2),
    ]


# --- any single byte ----------------------------------------------------------------------------


@pytest.fixture
def sample(store, log):
    """A log of 6 entries in 3 batches; entries 0 and 1 carry an attachment each."""
    attachments, paths = with_attachments(log, chunk_size=40)
    fill(log, [3, 1])
    assert log.check().ok
    return log, attachments, paths


NO_CHECK_PROBLEMS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@NO_CHECK_PROBLEMS
@given(data=st.data())
def test_any_byte_of_a_stored_entry_changed_is_detected(store, sample, data):
    log = sample[0]
    seq = data.draw(st.integers(0, 5), label="entry")
    column = data.draw(st.sampled_from(["sealed", "commitment"]), label="column")
    original = getattr(row(store, log.log_id, seq), column)
    position = data.draw(st.integers(0, len(original) - 1), label="byte")
    altered = bytearray(original)
    altered[position] ^= data.draw(st.integers(1, 255), label="xor")
    set_entry(store, log.log_id, seq, **{column: bytes(altered)})
    try:
        problems = log.check().problems
    finally:
        set_entry(store, log.log_id, seq, **{column: original})
    if column == "sealed":
        assert problems == [MOVED.format(seq)]
    else:
        # The entry no longer matches its commitment, and so no head from the first covering it.
        all_heads = log.heads()
        below = max(h.size for h in all_heads if h.size <= seq)
        assert problems == [
            EDITED.format(seq),
            *(head_problem(below, h.size - 1, h) for h in all_heads if h.size > seq),
        ]
    assert log.check().ok  # restored


@NO_CHECK_PROBLEMS
@given(data=st.data())
def test_any_byte_of_a_blob_file_changed_is_detected(sample, data):
    log, attachments, paths = sample
    which = data.draw(st.integers(0, 1), label="attachment")
    path = paths[which]
    original = path.read_bytes()
    position = data.draw(st.integers(0, len(original) - 1), label="byte")
    altered = bytearray(original)
    altered[position] ^= data.draw(st.integers(1, 255), label="xor")
    path.write_bytes(bytes(altered))
    try:
        problems = log.check().problems
    finally:
        path.write_bytes(original)
    attachment = attachments[which]
    assert problems == [BLOB.format(attachment.sha256, attachment.name, which)]
    assert log.check().ok  # restored
