"""RFC 9162 hashing for the verifier, written apart from the producer's code on purpose.

An independent check is worth more when it does not reuse the code it checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
COMMITMENT_PREFIX = b"evidence/commitment/v1\x00"


def commitment(salt: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(COMMITMENT_PREFIX + salt + canonical).digest()


def leaf(commitment_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + commitment_bytes).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over all leaves, in O(n) time with a stack of perfect subtrees."""
    if not leaves:
        return EMPTY_ROOT
    stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
    for value in leaves:
        height, current = 0, value
        while stack and stack[-1][0] == height:
            current = node(stack.pop()[1], current)
            height += 1
        stack.append((height, current))
    current = stack.pop()[1]
    while stack:
        current = node(stack.pop()[1], current)
    return current


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], expected: bytes
) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected
