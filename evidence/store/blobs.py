"""Encrypted, content-addressed attachment files outside the database.

An attachment is known by the SHA-256 of its plaintext. On disk it is named
by a keyed hash of that SHA-256, so a copy of the folder does not let anyone
confirm that a known file (say, a leaked recording) is in it. Files are
written to a temporary name, flushed and renamed, so a reader never sees a
partial file and a crash leaves at most an orphan temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from evidence import crypto
from evidence.errors import DecryptionFailed, NotFound


class BlobKeys:
    """The two per-log keys a blob needs: one to encrypt, one to name."""

    def __init__(self, data_key: bytes, log_id: str) -> None:
        context = log_id.encode("ascii")
        self.content = crypto.derive_subkey(data_key, "blob", context)
        self.name = crypto.derive_subkey(data_key, "blob-name", context)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def log_folder(self, log_id: str) -> Path:
        return self.root / str(uuid.UUID(log_id))

    def path(self, log_id: str, keys: BlobKeys, sha256_hex: str) -> Path:
        digest = bytes.fromhex(sha256_hex)
        name = crypto.keyed_hash(keys.name, digest).hex()
        return self.log_folder(log_id) / name[:2] / name

    def put(
        self, log_id: str, keys: BlobKeys, source: BinaryIO, chunk_size: int = crypto.DEFAULT_CHUNK
    ) -> tuple[str, int]:
        """Encrypt ``source`` into the store; return (sha256 hex, size). Deduplicated."""
        staging = self.root / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=staging, prefix="incoming-")
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as sink:
                digest, size = crypto.encrypt_stream(keys.content, source, sink, chunk_size)
                sink.flush()
                os.fsync(sink.fileno())
            sha = digest.hex()
            final = self.path(log_id, keys, sha)
            if final.exists():
                temp.unlink()
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, final)
                _fsync_dir(final.parent)
            return sha, size
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise

    def read(self, log_id: str, keys: BlobKeys, sha256_hex: str) -> Iterator[bytes]:
        """Yield the decrypted content, authenticated chunk by chunk."""
        path = self.path(log_id, keys, sha256_hex)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise NotFound(f"attachment {sha256_hex} is not in the store") from exc
        with handle:
            size = os.fstat(handle.fileno()).st_size
            try:
                yield from crypto.decrypt_stream(
                    keys.content, handle, size, bytes.fromhex(sha256_hex)
                )
            except DecryptionFailed as exc:
                raise DecryptionFailed(f"attachment {sha256_hex}: {exc}") from exc

    def exists(self, log_id: str, keys: BlobKeys, sha256_hex: str) -> bool:
        return self.path(log_id, keys, sha256_hex).exists()

    def files(self, log_id: str) -> Iterator[Path]:
        folder = self.log_folder(log_id)
        if folder.exists():
            yield from sorted(p for p in folder.rglob("*") if p.is_file())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
