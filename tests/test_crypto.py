"""The crypto recipes and key slots: round trips, one error for every failure, known answers."""

from __future__ import annotations

import hashlib
import hmac
import io
import struct
import unicodedata

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import crypto, keyring
from evidence.errors import DecryptionFailed, InvalidInput, WrongSecret

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


# --- small values ---------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=40))
def test_seal_round_trip_and_sealer_agree(plaintext, context):
    sealed = crypto.seal(KEY, plaintext, context)
    assert len(sealed) == crypto.NONCE_BYTES + len(plaintext) + crypto.TAG_BYTES
    sealer = crypto.Sealer(KEY)
    assert crypto.unseal(KEY, sealed, context) == plaintext
    assert sealer.unseal(sealed, context) == plaintext
    assert crypto.unseal(KEY, sealer.seal(plaintext, context), context) == plaintext


def test_seal_uses_a_fresh_nonce_each_time():
    first, second = crypto.seal(KEY, b"same", b"ctx"), crypto.seal(KEY, b"same", b"ctx")
    assert first[: crypto.NONCE_BYTES] != second[: crypto.NONCE_BYTES]
    assert first != second


def test_seal_known_answer(monkeypatch):
    monkeypatch.setattr(crypto, "random_bytes", lambda n: b"\x07" * n)
    sealed = crypto.seal(KEY, b"evidence", b"place")
    nonce = b"\x07" * 12
    assert sealed == nonce + AESGCM(KEY).encrypt(nonce, b"evidence", b"place")
    assert crypto.Sealer(KEY).seal(b"evidence", b"place") == sealed


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.data())
def test_unseal_refuses_any_flipped_byte(plaintext, data):
    sealed = bytearray(crypto.seal(KEY, plaintext, b"ctx"))
    position = data.draw(st.integers(0, len(sealed) - 1))
    sealed[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecryptionFailed):
        crypto.unseal(KEY, bytes(sealed), b"ctx")
    with pytest.raises(DecryptionFailed):
        crypto.Sealer(KEY).unseal(bytes(sealed), b"ctx")


@pytest.mark.parametrize("unseal", [crypto.unseal, lambda k, s, c: crypto.Sealer(k).unseal(s, c)])
def test_unseal_refuses_wrong_key_wrong_context_and_short_input(unseal):
    sealed = crypto.seal(KEY, b"secret", b"log/1")
    with pytest.raises(DecryptionFailed):
        unseal(OTHER_KEY, sealed, b"log/1")
    with pytest.raises(DecryptionFailed):
        unseal(KEY, sealed, b"log/2")
    with pytest.raises(DecryptionFailed, match="too short"):
        unseal(KEY, sealed[: crypto.NONCE_BYTES + crypto.TAG_BYTES - 1], b"log/1")
    with pytest.raises(DecryptionFailed):
        unseal(KEY, sealed[:-1], b"log/1")


# --- hashing and key derivation ---------------------------------------------------------------


def hkdf_sha256(key: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 with an empty salt, written out independently of the code under test."""
    prk = hmac.new(b"\x00" * 32, key, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def test_derive_subkey_is_hkdf_with_purpose_and_context():
    assert crypto.derive_subkey(KEY, "entry", b"log") == hkdf_sha256(KEY, b"evidence/entry\x00log")
    keys = {
        crypto.derive_subkey(KEY, "entry", b"log"),
        crypto.derive_subkey(KEY, "blob", b"log"),
        crypto.derive_subkey(KEY, "entry", b"other log"),
        crypto.derive_subkey(OTHER_KEY, "entry", b"log"),
    }
    assert len(keys) == 4


def test_sha256_and_keyed_hash_known_answers():
    assert crypto.sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    # RFC 4231 test case 2.
    assert crypto.keyed_hash(b"Jefe", b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert crypto.hash_chunks([b"a", b"", b"bc"]) == crypto.sha256(b"abc")


def test_passphrase_key_is_deterministic_per_salt_and_nfc_normalised():
    params = crypto.KdfParams(salt=b"s" * 16, memory_kib=8 * 1024, iterations=1)
    composed = unicodedata.normalize("NFC", "café 马")
    decomposed = unicodedata.normalize("NFD", "café 马")
    assert composed != decomposed
    key = crypto.derive_passphrase_key(composed, params)
    assert len(key) == crypto.KEY_BYTES
    assert crypto.derive_passphrase_key(decomposed, params) == key
    assert crypto.derive_passphrase_key("cafe 马", params) != key
    other_salt = crypto.KdfParams(salt=b"t" * 16, memory_kib=8 * 1024, iterations=1)
    assert crypto.derive_passphrase_key(composed, other_salt) != key
    with pytest.raises(InvalidInput):
        crypto.derive_passphrase_key("", params)


def test_kdf_params_round_trip_and_validation():
    params = crypto.KdfParams.fresh(memory_kib=16 * 1024, iterations=2)
    assert len(params.salt) == 16
    assert crypto.KdfParams.fresh().salt != params.salt
    assert crypto.KdfParams.from_dict(params.to_dict()) == params
    assert params.to_dict()["algorithm"] == "argon2id"
    with pytest.raises(InvalidInput):
        crypto.KdfParams.from_dict({**params.to_dict(), "algorithm": "scrypt"})
    with pytest.raises(InvalidInput):
        crypto.KdfParams.fresh(memory_kib=1024)


# --- signing --------------------------------------------------------------------------------

# RFC 8032 §7.1, test 1 (empty message).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_ed25519_known_answer():
    assert crypto.public_key_of(RFC8032_SECRET) == RFC8032_PUBLIC
    assert crypto.sign(RFC8032_SECRET, b"") == RFC8032_SIGNATURE
    assert crypto.verify_signature(RFC8032_PUBLIC, RFC8032_SIGNATURE, b"")


def test_signatures_fail_for_another_message_key_or_signature():
    key = crypto.new_signing_key()
    public = crypto.public_key_of(key)
    signature = crypto.sign(key, b"head")
    assert crypto.verify_signature(public, signature, b"head")
    assert not crypto.verify_signature(public, signature, b"head!")
    assert not crypto.verify_signature(
        crypto.public_key_of(crypto.new_signing_key()), signature, b"head"
    )
    assert not crypto.verify_signature(public, bytes([signature[0] ^ 1]) + signature[1:], b"head")
    assert not crypto.verify_signature(public[:31], signature, b"head")
    assert not crypto.verify_signature(public, signature[:63], b"head")


def test_public_key_forms():
    assert crypto.public_key_pem(RFC8032_PUBLIC).startswith("-----BEGIN PUBLIC KEY-----\n")
    fingerprint = crypto.fingerprint(RFC8032_PUBLIC)
    groups = fingerprint.split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    assert "".join(groups) == hashlib.sha256(RFC8032_PUBLIC).hexdigest()


# --- streamed attachments ---------------------------------------------------------------------


def encrypt(plaintext: bytes, chunk_size: int, key: bytes = KEY) -> tuple[bytes, bytes]:
    sink = io.BytesIO()
    digest, size = crypto.encrypt_stream(key, io.BytesIO(plaintext), sink, chunk_size)
    assert size == len(plaintext)
    return digest, sink.getvalue()


def decrypt(blob: bytes, digest: bytes, key: bytes = KEY) -> bytes:
    return b"".join(crypto.decrypt_stream(key, io.BytesIO(blob), len(blob), digest))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=300))
def test_stream_round_trip(plaintext, chunk_size):
    digest, blob = encrypt(plaintext, chunk_size)
    assert digest == hashlib.sha256(plaintext).digest()
    chunks = max(1, -(-len(plaintext) // chunk_size))
    assert len(blob) == crypto.BLOB_HEADER_BYTES + len(plaintext) + chunks * crypto.TAG_BYTES
    if len(plaintext) >= 16:
        assert plaintext[:16] not in blob
    assert decrypt(blob, digest) == plaintext


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 129, 64 * 5])
def test_stream_chunk_boundaries(size):
    plaintext = bytes(i % 251 for i in range(size))
    digest, blob = encrypt(plaintext, 64)
    chunks = list(crypto.decrypt_stream(KEY, io.BytesIO(blob), len(blob), digest))
    assert b"".join(chunks) == plaintext
    assert [len(c) for c in chunks[:-1]] == [64] * (len(chunks) - 1)
    assert len(chunks) == max(1, -(-size // 64))


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=500), st.data())
def test_stream_refuses_any_flipped_byte(plaintext, data):
    digest, blob = encrypt(plaintext, 50)
    position = data.draw(st.integers(0, len(blob) - 1))
    altered = bytearray(blob)
    altered[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(DecryptionFailed):
        decrypt(bytes(altered), digest)


def test_stream_refuses_reordered_dropped_truncated_and_extended_chunks():
    plaintext = bytes(range(200)) * 2  # 400 bytes: four records of 100
    digest, blob = encrypt(plaintext, 100)
    header, records = blob[: crypto.BLOB_HEADER_BYTES], blob[crypto.BLOB_HEADER_BYTES :]
    r = [records[i : i + 116] for i in range(0, len(records), 116)]
    assert len(r) == 4
    for altered in (
        header + r[1] + r[0] + r[2] + r[3],  # swapped
        header + r[0] + r[1] + r[2],  # last chunk dropped
        header + r[0] + r[2] + r[3],  # middle chunk dropped
        blob[:-10],  # cut inside the last chunk
        blob + r[3],  # a chunk repeated at the end
        header,  # nothing but the header
        blob[: crypto.BLOB_HEADER_BYTES - 1],  # not even a header
    ):
        with pytest.raises(DecryptionFailed):
            decrypt(altered, digest)


def test_stream_refuses_another_blob_wrong_digest_and_wrong_key():
    digest_a, blob_a = encrypt(b"recording A", 4)
    digest_b, blob_b = encrypt(b"recording B", 4)
    with pytest.raises(DecryptionFailed):
        decrypt(blob_b, digest_a)  # file B standing in for A
    with pytest.raises(DecryptionFailed):
        decrypt(blob_a, hashlib.sha256(b"recording a").digest())
    with pytest.raises(DecryptionFailed):
        decrypt(blob_a, digest_a, key=OTHER_KEY)
    assert decrypt(blob_b, digest_b) == b"recording B"


def test_stream_refuses_unknown_format():
    digest, blob = encrypt(b"x" * 10, 4)
    magic, chunk, salt = struct.unpack(">8sI16s", blob[: crypto.BLOB_HEADER_BYTES])
    rest = blob[crypto.BLOB_HEADER_BYTES :]
    for header in (
        struct.pack(">8sI16s", b"EVBLOB2\n", chunk, salt),
        struct.pack(">8sI16s", magic, 0, salt),
        struct.pack(">8sI16s", magic, 64 * 1024 * 1024 + 1, salt),
    ):
        with pytest.raises(DecryptionFailed):
            decrypt(header + rest, digest)


# --- key slots ------------------------------------------------------------------------------


def test_passphrase_slot_round_trip_and_binding():
    params = crypto.KdfParams.fresh(memory_kib=8 * 1024, iterations=1)
    slot = keyring.wrap_with_passphrase(KEY, "pass 马", params, "log-a", "slot-1")
    assert slot.kind == keyring.PASSPHRASE and KEY not in slot.wrapped
    assert keyring.unwrap_with_passphrase(slot, "pass 马", "log-a", "slot-1") == KEY
    for passphrase, log_id, slot_id in (
        ("pass 马 ", "log-a", "slot-1"),
        ("pass 马", "log-b", "slot-1"),
        ("pass 马", "log-a", "slot-2"),
    ):
        with pytest.raises(WrongSecret):
            keyring.unwrap_with_passphrase(slot, passphrase, log_id, slot_id)


def test_recovery_code_format_and_parsing():
    code = keyring.new_recovery_code()
    groups = code.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    raw = keyring.parse_recovery_code(code)
    assert len(raw) == keyring.RECOVERY_BYTES
    assert keyring.format_recovery_code(raw) == code
    # Typed loosely: lower case, spaces instead of dashes, 0 for O and 1 for I.
    assert keyring.parse_recovery_code(code.lower().replace("-", " ")) == raw
    known = keyring.format_recovery_code(b"\x00" * 20)
    assert known == "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
    letters = "-".join(["OIOI"] * 8)
    assert keyring.parse_recovery_code(letters.replace("O", "0").replace("I", "1")) == (
        keyring.parse_recovery_code(letters)
    )
    for bad in ("", "AAAA-AAAA", code + "-AAAA", "!!!!-" + code[5:]):
        with pytest.raises(InvalidInput):
            keyring.parse_recovery_code(bad)


def test_recovery_slot_round_trip_and_binding():
    code = keyring.new_recovery_code()
    slot = keyring.wrap_with_recovery_code(KEY, code, "log-a", "slot-1")
    assert slot.kind == keyring.RECOVERY and slot.kdf is None
    assert keyring.unwrap_with_recovery_code(slot, code.lower(), "log-a", "slot-1") == KEY
    with pytest.raises(WrongSecret):
        keyring.unwrap_with_recovery_code(slot, keyring.new_recovery_code(), "log-a", "slot-1")
    with pytest.raises(WrongSecret):
        keyring.unwrap_with_recovery_code(slot, code, "log-b", "slot-1")
