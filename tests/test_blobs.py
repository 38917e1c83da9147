"""The encrypted, content-addressed attachment folder."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc

import pytest

from evidence import crypto
from evidence.errors import DecryptionFailed, InvalidInput, NotFound
from evidence.store.blobs import BlobKeys, BlobStore

LOG_A = "0b7e4c1a-0000-4000-8000-00000000000a"
LOG_B = "0b7e4c1a-0000-4000-8000-00000000000b"
MIB = 1024 * 1024


@pytest.fixture
def blobs(tmp_path):
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def keys():
    return BlobKeys(b"k" * 32, LOG_A)


class GeneratedStream:
    """A file-like source of ``size`` pseudo-random bytes that never exists whole in memory."""

    def __init__(self, size: int, seed: int = 1) -> None:
        self.remaining = size
        self.random = random.Random(seed)
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.remaining if n < 0 else min(n, self.remaining)
        data = self.random.randbytes(n)
        self.remaining -= n
        self.digest.update(data)
        return data


class FailingStream(io.BytesIO):
    def read(self, n: int = -1) -> bytes:
        if self.tell() >= 100:
            raise OSError("the phone was unplugged")
        return super().read(n)


@pytest.mark.parametrize(
    ("size", "chunk_size"),
    [(0, 64), (1, 64), (64, 64), (1000, 64), (3 * MIB + 5, crypto.DEFAULT_CHUNK)],
)
def test_streamed_round_trip(blobs, keys, size, chunk_size):
    content = random.Random(size).randbytes(size)
    sha, stored_size = blobs.put(LOG_A, keys, io.BytesIO(content), chunk_size=chunk_size)
    assert sha == hashlib.sha256(content).hexdigest() and stored_size == size
    chunks = list(blobs.read(LOG_A, keys, sha))
    assert b"".join(chunks) == content
    assert all(len(c) <= chunk_size for c in chunks)
    assert len(chunks) == max(1, -(-size // chunk_size))  # streamed chunk by chunk
    assert blobs.exists(LOG_A, keys, sha)
    (path,) = blobs.files(LOG_A)
    on_disk = path.read_bytes()
    assert len(on_disk) == crypto.BLOB_HEADER_BYTES + size + len(chunks) * crypto.TAG_BYTES
    if size >= 32:
        assert content[:32] not in on_disk


def test_same_content_twice_is_one_file(blobs, keys, tmp_path):
    first = blobs.put(LOG_A, keys, io.BytesIO(b"the same recording"))
    second = blobs.put(LOG_A, keys, io.BytesIO(b"the same recording"))
    assert first == second
    files = list(blobs.files(LOG_A))
    assert len(files) == 1
    third = blobs.put(LOG_A, keys, io.BytesIO(b"another recording"))
    assert third[0] != first[0]
    assert len(list(blobs.files(LOG_A))) == 2
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []  # no staging leftovers


def test_file_names_do_not_reveal_the_sha256(blobs, keys, tmp_path):
    content = b"a leaked recording everybody has"
    sha, _ = blobs.put(LOG_A, keys, io.BytesIO(content))
    (path,) = blobs.files(LOG_A)
    relative = str(path.relative_to(tmp_path))
    digest = hashlib.sha256(content)
    for revealing in (
        sha,
        digest.hexdigest()[:16],
        hashlib.sha1(content).hexdigest(),
        hashlib.md5(content).hexdigest(),
    ):
        assert revealing not in relative
    assert path.name == crypto.keyed_hash(keys.name, digest.digest()).hex()
    assert path.parent.name == path.name[:2]
    # Another log (another key) files the same content under another name and other bytes.
    keys_b = BlobKeys(b"k" * 32, LOG_B)
    assert blobs.put(LOG_B, keys_b, io.BytesIO(content))[0] == sha
    (path_b,) = blobs.files(LOG_B)
    assert path_b.name != path.name
    assert path_b.read_bytes() != path.read_bytes()


def test_another_logs_keys_cannot_read_or_find_a_blob(blobs, keys):
    sha, _ = blobs.put(LOG_A, keys, io.BytesIO(b"private"))
    other = BlobKeys(b"o" * 32, LOG_A)
    assert not blobs.exists(LOG_A, other, sha)
    with pytest.raises(NotFound):
        list(blobs.read(LOG_A, other, sha))
    # Even when pointed at the right file, the wrong key does not open it.
    wrong_content_key = BlobKeys(b"k" * 32, LOG_A)
    wrong_content_key.content = other.content
    with pytest.raises(DecryptionFailed, match=f"attachment {sha}"):
        list(blobs.read(LOG_A, wrong_content_key, sha))


def test_reading_a_missing_blob(blobs, keys):
    with pytest.raises(NotFound, match="is not in the store"):
        list(blobs.read(LOG_A, keys, "ab" * 32))
    assert not blobs.exists(LOG_A, keys, "ab" * 32)
    assert list(blobs.files(LOG_A)) == []


def test_a_failed_put_leaves_nothing_behind(blobs, keys, tmp_path):
    with pytest.raises(OSError, match="unplugged"):
        blobs.put(LOG_A, keys, FailingStream(b"x" * 1000), chunk_size=10)
    assert list(blobs.files(LOG_A)) == []
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []


def test_log_attachment_api(log):
    attachment = log.add_attachment(io.BytesIO(b"%PDF-1.4 letter"), "../../etc/letter.pdf")
    assert attachment.name == "letter.pdf" and attachment.media_type == "application/pdf"
    assert b"".join(log.read_attachment(attachment.sha256)) == b"%PDF-1.4 letter"
    unnamed = log.add_attachment(io.BytesIO(b"?"), "", media_type="text/plain")
    assert (unnamed.name, unnamed.media_type) == ("attachment", "text/plain")
    for bad in ("AB" * 32, "ab" * 31, "zz" * 32):
        with pytest.raises(InvalidInput, match="64 hexadecimal digits"):
            log.read_attachment(bad)
    with pytest.raises(NotFound):
        list(log.read_attachment("ab" * 32))


def test_find_attachment_by_prefix(log):
    import datetime as dt

    from evidence import model

    one = log.add_attachment(io.BytesIO(b"one"), "one.jpg")
    two = log.add_attachment(io.BytesIO(b"two"), "two.jpg")
    at = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    log.append([model.make_draft("visit", at, {}, (one, two))])
    assert log.find_attachment(one.sha256[:8].upper()) == one
    assert log.find_attachment(" " + two.sha256[:12] + " ") == two
    with pytest.raises(InvalidInput, match="at least the first 8"):
        log.find_attachment(one.sha256[:7])
    with pytest.raises(NotFound):
        log.find_attachment("00000000")  # sha256(b"one") and sha256(b"two") start otherwise


def test_memory_stays_bounded_for_a_large_stream(blobs, keys):
    size = 64 * MIB + 123
    source = GeneratedStream(size)
    tracemalloc.start()
    try:
        sha, stored = blobs.put(LOG_A, keys, source)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest, total = hashlib.sha256(), 0
        for chunk in blobs.read(LOG_A, keys, sha):
            digest.update(chunk)
            total += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored == total == size
    assert sha == source.digest.hexdigest() == digest.hexdigest()
    assert put_peak < 8 * MIB, put_peak
    assert read_peak < 8 * MIB, read_peak
