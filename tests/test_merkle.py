"""The Merkle tree against a naive RFC 9162 Merkle Tree Hash written here from the RFC text."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import merkle

SETTINGS = settings(max_examples=25, deadline=None)


def naive_mth(data: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, on the leaf *data* (not yet hashed), recursively."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def leaf_data(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def leaf_hashes(n: int) -> list[bytes]:
    return [merkle.leaf_hash(d) for d in leaf_data(n)]


def flip(proof: list[bytes], item: int, byte: int) -> list[bytes]:
    changed = bytearray(proof[item])
    changed[byte % len(changed)] ^= 0x01
    return [*proof[:item], bytes(changed), *proof[item + 1 :]]


def test_hash_functions_have_domain_separation():
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert (
        merkle.node_hash(b"a" * 32, b"b" * 32)
        == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    # A leaf can never be passed off as an interior node.
    assert merkle.leaf_hash(b"a" * 32 + b"b" * 32) != merkle.node_hash(b"a" * 32, b"b" * 32)


def test_known_root_of_rfc_example_shape():
    # Seven leaves: the unbalanced example tree of RFC 9162 §2.1.5.
    d = leaf_data(7)
    h = [merkle.leaf_hash(x) for x in d]
    k = merkle.node_hash
    expected = k(k(k(h[0], h[1]), k(h[2], h[3])), k(k(h[4], h[5]), h[6]))
    assert merkle.Tree(h).root() == expected == naive_mth(d)


@SETTINGS
@given(st.integers(min_value=0, max_value=200))
def test_tree_and_frontier_roots_equal_naive_mth(n):
    data = leaf_data(n)
    hashes = [merkle.leaf_hash(x) for x in data]
    tree = merkle.Tree(hashes)
    frontier = merkle.Frontier()
    for i, h in enumerate(hashes):
        assert frontier.root() == tree.root(i) == naive_mth(data[:i])
        frontier.append(h)
    assert tree.size == frontier.size == n
    assert tree.root() == frontier.root() == merkle.Frontier.of(hashes).root() == naive_mth(data)


@SETTINGS
@given(st.integers(min_value=0, max_value=200))
def test_frontier_survives_serialisation(n):
    hashes = leaf_hashes(n)
    frontier = merkle.Frontier.of(hashes[: n // 2])
    restored = merkle.Frontier.from_bytes(frontier.size, frontier.to_bytes())
    assert len(restored.nodes) == bin(n // 2).count("1")
    for h in hashes[n // 2 :]:
        restored.append(h)
    assert restored.root() == naive_mth(leaf_data(n))


def test_frontier_refuses_inconsistent_state():
    with pytest.raises(ValueError):
        merkle.Frontier(3, [b"\x00" * 32])
    with pytest.raises(ValueError):
        merkle.Frontier.from_bytes(1, b"\x00" * 31)


@SETTINGS
@given(st.integers(min_value=1, max_value=200), st.data())
def test_inclusion_proofs_verify_for_every_index(n, data):
    hashes = leaf_hashes(n)
    tree = merkle.Tree(hashes)
    root = naive_mth(leaf_data(n))
    for i in range(n):
        proof = tree.inclusion_proof(i)
        assert merkle.verify_inclusion(hashes[i], i, n, proof, root), i

    i = data.draw(st.integers(0, n - 1), label="index")
    proof = tree.inclusion_proof(i)
    other_leaf = merkle.leaf_hash(b"not in the tree")
    assert not merkle.verify_inclusion(other_leaf, i, n, proof, root)
    assert not merkle.verify_inclusion(hashes[i], i, n, proof, merkle.leaf_hash(b"wrong root"))
    if n > 1:
        j = data.draw(st.integers(0, n - 1).filter(lambda x: x != i), label="wrong index")
        assert not merkle.verify_inclusion(hashes[i], j, n, proof, root)
        item = data.draw(st.integers(0, len(proof) - 1), label="proof item")
        byte = data.draw(st.integers(0, 31), label="byte")
        assert not merkle.verify_inclusion(hashes[i], i, n, flip(proof, item, byte), root)
        assert not merkle.verify_inclusion(hashes[i], i, n, proof[:-1], root)
        assert not merkle.verify_inclusion(hashes[i], i, n, [*proof, proof[0]], root)
    # A proof for one head never proves inclusion in a head of another size.
    other_size = data.draw(st.integers(i + 1, 201).filter(lambda s: s != n), label="wrong size")
    other_tree = merkle.Tree(leaf_hashes(other_size))
    assert not merkle.verify_inclusion(hashes[i], i, other_size, proof, other_tree.root())
    # A proof that stops short of the root of the claimed size proves nothing, even when it
    # ends on the root of a smaller tree.
    longer = data.draw(st.integers(n + 1, 400), label="longer size")
    if len(merkle.Tree(leaf_hashes(longer)).inclusion_proof(i)) > len(proof):
        assert not merkle.verify_inclusion(hashes[i], i, longer, proof, root)
    # Indexes outside the tree are refused.
    assert not merkle.verify_inclusion(hashes[i], n, n, proof, root)
    assert not merkle.verify_inclusion(hashes[i], -1, n, proof, root)


def test_inclusion_proofs_of_earlier_heads():
    hashes = leaf_hashes(50)
    tree = merkle.Tree(hashes)
    for size in range(1, 51):
        root = naive_mth(leaf_data(size))
        for i in range(size):
            assert merkle.verify_inclusion(hashes[i], i, size, tree.inclusion_proof(i, size), root)
    # The proof for leaf 0 of a 2-leaf tree ends on that tree's root: not a 4-leaf tree's proof.
    assert not merkle.verify_inclusion(hashes[0], 0, 4, tree.inclusion_proof(0, 2), tree.root(2))
    with pytest.raises(ValueError):
        tree.inclusion_proof(50)
    with pytest.raises(ValueError):
        tree.inclusion_proof(3, 51)


def test_consistency_proofs_verify_for_every_pair_up_to_64():
    hashes = leaf_hashes(64)
    tree = merkle.Tree(hashes)
    roots = [naive_mth(leaf_data(n)) for n in range(65)]
    for n in range(65):
        for m in range(n + 1):
            proof = tree.consistency_proof(m, n)
            assert merkle.verify_consistency(m, n, proof, roots[m], roots[n]), (m, n)
            if 0 < m < n:
                assert proof
                assert not merkle.verify_consistency(m, n, proof, roots[n], roots[n])
                assert not merkle.verify_consistency(m, n, proof, roots[m], roots[m])
                assert not merkle.verify_consistency(m, n, flip(proof, 0, m), roots[m], roots[n])
                assert not merkle.verify_consistency(m, n, [], roots[m], roots[n])


@SETTINGS
@given(st.integers(min_value=2, max_value=200), st.data())
def test_consistency_proofs_verify_for_every_old_size(n, data):
    hashes = leaf_hashes(n)
    tree = merkle.Tree(hashes)
    roots = [naive_mth(leaf_data(size)) for size in range(n + 1)]
    for m in range(n + 1):
        assert merkle.verify_consistency(m, n, tree.consistency_proof(m), roots[m], roots[n]), m

    m = data.draw(st.integers(1, n - 1), label="old size")
    proof = tree.consistency_proof(m, n)
    bad = merkle.leaf_hash(b"wrong root")
    assert not merkle.verify_consistency(m, n, proof, bad, roots[n])
    assert not merkle.verify_consistency(m, n, proof, roots[m], bad)
    item = data.draw(st.integers(0, len(proof) - 1), label="proof item")
    byte = data.draw(st.integers(0, 31), label="byte")
    assert not merkle.verify_consistency(m, n, flip(proof, item, byte), roots[m], roots[n])
    assert not merkle.verify_consistency(m, n, proof[:-1], roots[m], roots[n])
    assert not merkle.verify_consistency(m, n, [*proof, proof[0]], roots[m], roots[n])
    if n > 2:
        other_m = data.draw(st.integers(1, n - 1).filter(lambda x: x != m), label="wrong old size")
        assert not merkle.verify_consistency(other_m, n, proof, roots[other_m], roots[n])
    other_n = data.draw(st.integers(m + 1, 201).filter(lambda x: x != n), label="wrong new size")
    other_root = naive_mth(leaf_data(other_n))
    assert not merkle.verify_consistency(m, other_n, proof, roots[m], other_root)
    # A tree that forked (a different leaf below the old size) is not an extension.
    forked = list(hashes)
    forked[data.draw(st.integers(0, m - 1), label="forked leaf")] = bad
    forked_root = merkle.Tree(forked).root()
    assert not merkle.verify_consistency(m, n, proof, roots[m], forked_root)
    assert not merkle.verify_consistency(
        m, n, merkle.Tree(forked).consistency_proof(m), roots[m], forked_root
    )


def test_consistency_edge_cases():
    tree = merkle.Tree(leaf_hashes(5))
    assert tree.consistency_proof(0) == [] and tree.consistency_proof(5) == []
    assert merkle.verify_consistency(0, 5, [], merkle.EMPTY_ROOT, tree.root())
    assert not merkle.verify_consistency(0, 5, [], tree.root(1), tree.root())
    assert not merkle.verify_consistency(5, 5, [tree.root()], tree.root(), tree.root())
    assert not merkle.verify_consistency(5, 4, [], tree.root(), tree.root(4))
    with pytest.raises(ValueError):
        tree.consistency_proof(6)
    with pytest.raises(ValueError):
        tree.consistency_proof(3, 2)
