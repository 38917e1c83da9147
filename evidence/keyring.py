"""Key slots: the log's data key wrapped by each secret that may open it.

The data key never changes, so changing the passphrase rewraps 32 bytes and
re-encrypts no evidence. A recovery code is a second, high-entropy secret
written down at creation: it needs no slow key derivation.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

from evidence import crypto
from evidence.errors import DecryptionFailed, InvalidInput, WrongSecret

PASSPHRASE = "passphrase"  # noqa: S105 (a slot kind, not a secret)
RECOVERY = "recovery"
RECOVERY_BYTES = 20  # 160 bits, 32 base32 characters


@dataclass(frozen=True)
class WrappedKey:
    kind: str
    kdf: str | None
    wrapped: bytes


def _context(log_id: str, slot_id: str, kind: str) -> bytes:
    return f"evidence/key-slot/v1\x00{log_id}\x00{slot_id}\x00{kind}".encode()


def wrap_with_passphrase(
    data_key: bytes, passphrase: str, params: crypto.KdfParams, log_id: str, slot_id: str
) -> WrappedKey:
    kek = crypto.derive_passphrase_key(passphrase, params)
    sealed = crypto.seal(kek, data_key, _context(log_id, slot_id, PASSPHRASE))
    return WrappedKey(PASSPHRASE, json.dumps(params.to_dict(), sort_keys=True), sealed)


def unwrap_with_passphrase(slot: WrappedKey, passphrase: str, log_id: str, slot_id: str) -> bytes:
    params = crypto.KdfParams.from_dict(json.loads(slot.kdf or "{}"))
    kek = crypto.derive_passphrase_key(passphrase, params)
    try:
        return crypto.unseal(kek, slot.wrapped, _context(log_id, slot_id, PASSPHRASE))
    except DecryptionFailed as exc:
        raise WrongSecret("wrong passphrase") from exc


def new_recovery_code() -> str:
    return format_recovery_code(crypto.random_bytes(RECOVERY_BYTES))


def format_recovery_code(raw: bytes) -> str:
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery_code(code: str) -> bytes:
    compact = re.sub(r"[\s\-]", "", code).upper().replace("0", "O").replace("1", "I")
    try:
        raw = base64.b32decode(compact)
    except ValueError as exc:
        raise InvalidInput(
            "that is not a recovery code (8 groups of 4 letters and digits)"
        ) from exc
    if len(raw) != RECOVERY_BYTES:
        raise InvalidInput("that is not a recovery code (8 groups of 4 letters and digits)")
    return raw


def _recovery_kek(code: str, log_id: str, slot_id: str) -> bytes:
    return crypto.derive_subkey(
        parse_recovery_code(code), "recovery", _context(log_id, slot_id, RECOVERY)
    )


def wrap_with_recovery_code(data_key: bytes, code: str, log_id: str, slot_id: str) -> WrappedKey:
    kek = _recovery_kek(code, log_id, slot_id)
    return WrappedKey(
        RECOVERY, None, crypto.seal(kek, data_key, _context(log_id, slot_id, RECOVERY))
    )


def unwrap_with_recovery_code(slot: WrappedKey, code: str, log_id: str, slot_id: str) -> bytes:
    kek = _recovery_kek(code, log_id, slot_id)
    try:
        return crypto.unseal(kek, slot.wrapped, _context(log_id, slot_id, RECOVERY))
    except DecryptionFailed as exc:
        raise WrongSecret("wrong recovery code") from exc


# --- session and API-token slots (the server) ----------------------------------------------

SESSION = "session"
TOKEN = "token"  # noqa: S105 (a slot kind, not a secret)
SECRET_KINDS = (SESSION, TOKEN)
SECRET_BYTES = 32  # 256 random bits: no slow key derivation needed


def _secret_kek(secret: bytes, kind: str, log_id: str, slot_id: str) -> bytes:
    if kind not in SECRET_KINDS:
        raise InvalidInput(f"unknown key-slot kind {kind!r}")
    if len(secret) != SECRET_BYTES:
        raise InvalidInput("a session or token secret is 32 random bytes")
    return crypto.derive_subkey(secret, kind, _context(log_id, slot_id, kind))


def wrap_with_secret(
    data_key: bytes, secret: bytes, kind: str, log_id: str, slot_id: str
) -> WrappedKey:
    """Wrap the data key under a high-entropy secret held only by a session or token."""
    kek = _secret_kek(secret, kind, log_id, slot_id)
    return WrappedKey(kind, None, crypto.seal(kek, data_key, _context(log_id, slot_id, kind)))


def unwrap_with_secret(slot: WrappedKey, secret: bytes, log_id: str, slot_id: str) -> bytes:
    kek = _secret_kek(secret, slot.kind, log_id, slot_id)
    try:
        return crypto.unseal(kek, slot.wrapped, _context(log_id, slot_id, slot.kind))
    except DecryptionFailed as exc:
        raise WrongSecret(f"this {slot.kind} is not valid") from exc
