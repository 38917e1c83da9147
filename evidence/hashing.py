"""Every byte string that is hashed, signed or bound as associated data, in one place.

Each carries its own domain-separation prefix, so a value made for one purpose
can never be passed off as another. docs/FORMAT.md documents each of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from evidence import merkle

COMMITMENT_PREFIX = b"evidence/commitment/v1\x00"
ENTRY_AAD_PREFIX = b"evidence/entry/v1\x00"
SIGNING_KEY_AAD_PREFIX = b"evidence/signing-key/v1\x00"
HEAD_PREFIX = "evidence-log-head/v1"
BUNDLE_STATEMENT_PREFIX = "evidence-bundle-manifest/v1"
SALT_BYTES = 32


def commitment(salt: bytes, canonical: bytes) -> bytes:
    """SHA-256 over a secret salt and the entry's canonical bytes.

    The salt makes the commitment reveal nothing: without it, nobody can test
    guesses of a phone number or a time against a published hash.
    """
    if len(salt) != SALT_BYTES:
        raise ValueError("salt must be 32 bytes")
    return hashlib.sha256(COMMITMENT_PREFIX + salt + canonical).digest()


def leaf(commitment_bytes: bytes) -> bytes:
    """The entry's leaf in the Merkle tree: RFC 9162 leaf hash of its commitment."""
    return merkle.leaf_hash(commitment_bytes)


def entry_aad(log_id: str, seq: int) -> bytes:
    """Binds an entry's ciphertext to its log and position."""
    return _entry_aad_prefix(log_id) + seq.to_bytes(8, "big")


@lru_cache(maxsize=64)
def _entry_aad_prefix(log_id: str) -> bytes:
    """The part of :func:`entry_aad` that is the same for every entry of a log."""
    return ENTRY_AAD_PREFIX + log_id.encode("ascii") + b"\x00"


def signing_key_aad(log_id: str) -> bytes:
    return SIGNING_KEY_AAD_PREFIX + log_id.encode("ascii")


@dataclass(frozen=True)
class Head:
    """A signed tree head: the log's size and root at a moment, signed by its key."""

    log_id: str
    size: int
    root: bytes
    signed_at: str
    signature: bytes = b""

    def message(self) -> bytes:
        """The exact bytes signed with Ed25519 (a short text, checkable with openssl)."""
        return (
            f"{HEAD_PREFIX}\nlog {self.log_id}\nsize {self.size}\n"
            f"root {self.root.hex()}\ntime {self.signed_at}\n"
        ).encode("ascii")

    def to_dict(self) -> dict[str, object]:
        return {
            "log": self.log_id,
            "size": self.size,
            "root": self.root.hex(),
            "signed_at": self.signed_at,
            "signature": self.signature.hex(),
        }


def bundle_statement(log_id: str, manifest_sha256: bytes) -> bytes:
    """The text a log key signs to vouch for a bundle's manifest (and so for every file in it).

    Its first line differs from a head's, so neither signature can stand for the other.
    """
    return (
        f"{BUNDLE_STATEMENT_PREFIX}\nlog {log_id}\nmanifest-sha256 {manifest_sha256.hex()}\n"
    ).encode("ascii")
