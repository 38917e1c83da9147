"""The only door to cryptographic primitives.

Everything else in the project calls these recipes. They hide nonces and
associated data, and raise :class:`DecryptionFailed` for every authentication
failure. Randomness comes from :func:`random_bytes`, which tests may replace.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from evidence.errors import DecryptionFailed, InvalidInput

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


def random_bytes(n: int) -> bytes:
    """Cryptographically secure random bytes."""
    return os.urandom(n)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def keyed_hash(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA-256: names that reveal nothing without the key."""
    return hmac.digest(key, data, "sha256")


def derive_subkey(key: bytes, purpose: str, context: bytes = b"") -> bytes:
    """HKDF-SHA-256 of ``key`` for one purpose, so one key never serves two uses."""
    info = b"evidence/" + purpose.encode("ascii") + b"\x00" + context
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(key)


# --- passphrase key derivation ------------------------------------------------------------


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters, stored beside each wrapped key so they can be raised later."""

    salt: bytes
    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    def to_dict(self) -> dict[str, object]:
        return {
            "algorithm": "argon2id",
            "salt": self.salt.hex(),
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "lanes": self.lanes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> KdfParams:
        if data.get("algorithm") != "argon2id":
            raise InvalidInput("unknown key-derivation algorithm")
        return cls(
            salt=bytes.fromhex(str(data["salt"])),
            memory_kib=int(data["memory_kib"]),  # type: ignore[call-overload]
            iterations=int(data["iterations"]),  # type: ignore[call-overload]
            lanes=int(data["lanes"]),  # type: ignore[call-overload]
        )

    @classmethod
    def fresh(cls, memory_kib: int = 64 * 1024, iterations: int = 3) -> KdfParams:
        if memory_kib < 8 * 1024:
            raise InvalidInput("key-derivation memory must be at least 8 MiB")
        return cls(salt=random_bytes(16), memory_kib=memory_kib, iterations=iterations)


def normalize_passphrase(passphrase: str) -> bytes:
    """NFC-normalise so the same words typed on another keyboard give the same key."""
    if not passphrase:
        raise InvalidInput("the passphrase must not be empty")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive_passphrase_key(passphrase: str, params: KdfParams) -> bytes:
    kdf = Argon2id(
        salt=params.salt,
        length=KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(normalize_passphrase(passphrase))


# --- authenticated encryption of small values ---------------------------------------------


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """AES-256-GCM; ``context`` (the value's place) is authenticated, not stored."""
    nonce = random_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionFailed("ciphertext too short")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
    except InvalidTag as exc:
        raise DecryptionFailed("ciphertext failed authentication") from exc


class Sealer:
    """Seal many values with one key without re-creating the cipher each time."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = random_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def unseal(self, sealed: bytes, context: bytes) -> bytes:
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("ciphertext too short")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise DecryptionFailed("ciphertext failed authentication") from exc


# --- signing ------------------------------------------------------------------------------


def new_signing_key() -> bytes:
    """A fresh Ed25519 private key, as its 32 raw bytes."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def public_key_of(private_key: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def sign(private_key: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private_key).sign(message)


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_pem(public_key: bytes) -> str:
    """PEM (SubjectPublicKeyInfo), the form `openssl pkeyutl -verify` reads."""
    return (
        Ed25519PublicKey.from_public_bytes(public_key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw public key, hex in groups of four for reading aloud."""
    digest = hashlib.sha256(public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


# --- streamed encryption of attachments ---------------------------------------------------

BLOB_MAGIC = b"EVBLOB1\n"
_BLOB_HEADER = struct.Struct(">8sI16s")
BLOB_HEADER_BYTES = _BLOB_HEADER.size
DEFAULT_CHUNK = 1024 * 1024


def _chunk_nonce(index: int, final: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


def encrypt_stream(
    master_key: bytes, source: BinaryIO, sink: BinaryIO, chunk_size: int = DEFAULT_CHUNK
) -> tuple[bytes, int]:
    """Encrypt ``source`` into ``sink`` chunk by chunk; return (SHA-256 of plaintext, size).

    Each chunk's nonce carries its index and a final flag, so reordered,
    dropped or truncated chunks fail; the final chunk also authenticates the
    plaintext's SHA-256, so a blob cannot stand in for another.
    """
    salt = random_bytes(16)
    header = _BLOB_HEADER.pack(BLOB_MAGIC, chunk_size, salt)
    aead = AESGCM(derive_subkey(master_key, "blob-file", salt))
    digest = hashlib.sha256()
    sink.write(header)
    size = 0
    index = 0
    current = _read_full(source, chunk_size)
    while True:
        following = _read_full(source, chunk_size) if len(current) == chunk_size else b""
        digest.update(current)
        size += len(current)
        final = not following
        aad = header + (digest.digest() if final else b"")
        sink.write(aead.encrypt(_chunk_nonce(index, final), current, aad))
        if final:
            return digest.digest(), size
        index += 1
        current = following


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends: pipes and sockets return less."""
    parts = []
    wanted = size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def decrypt_stream(
    master_key: bytes, source: BinaryIO, total_size: int, expected_sha256: bytes
) -> Iterator[bytes]:
    """Yield the plaintext chunks of a blob, authenticating each one.

    Raises :class:`DecryptionFailed` for any alteration, including a blob
    that was moved in place of another one or cut short.
    """
    header = source.read(BLOB_HEADER_BYTES)
    if len(header) != BLOB_HEADER_BYTES:
        raise DecryptionFailed("attachment file is truncated")
    magic, chunk_size, salt = _BLOB_HEADER.unpack(header)
    if magic != BLOB_MAGIC or not 0 < chunk_size <= 64 * 1024 * 1024:
        raise DecryptionFailed("attachment file has an unknown format")
    aead = AESGCM(derive_subkey(master_key, "blob-file", salt))
    record = chunk_size + TAG_BYTES
    remaining = total_size - BLOB_HEADER_BYTES
    digest = hashlib.sha256()
    index = 0
    while True:
        want = min(record, remaining)
        if want < TAG_BYTES:
            raise DecryptionFailed("attachment file is truncated")
        block = source.read(want)
        if len(block) != want:
            raise DecryptionFailed("attachment file is truncated")
        remaining -= want
        final = remaining == 0
        aad = header + (expected_sha256 if final else b"")
        try:
            plain = aead.decrypt(_chunk_nonce(index, final), block, aad)
        except InvalidTag as exc:
            raise DecryptionFailed(f"attachment chunk {index} failed authentication") from exc
        digest.update(plain)
        if final:
            if digest.digest() != expected_sha256:
                raise DecryptionFailed("attachment content does not match its SHA-256")
            yield plain
            return
        yield plain
        index += 1


def hash_chunks(chunks: Iterable[bytes]) -> bytes:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.digest()
