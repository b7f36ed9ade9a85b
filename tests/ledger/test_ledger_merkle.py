"""Merkle trees, inclusion and consistency proofs against a naive transcription of RFC 6962."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ethica.ledger import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    inclusion_path,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _naive_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 §2.1, written as the RFC states it."""
    n = len(leaves)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + _naive_root(leaves[:k]) + _naive_root(leaves[k:]))


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _naive_path(m, leaves[:k]) + [_naive_root(leaves[k:])]
    return _naive_path(m - k, leaves[k:]) + [_naive_root(leaves[:k])]


def _naive_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if whole else [_naive_root(leaves)]
    k = _split(n)
    if m <= k:
        return _naive_subproof(m, leaves[:k], whole) + [_naive_root(leaves[k:])]
    return _naive_subproof(m - k, leaves[k:], False) + [_naive_root(leaves[:k])]


def _leaves(n: int) -> list[bytes]:
    return [_h(i.to_bytes(4, "big")) for i in range(n)]


def test_known_answers_of_the_certificate_transparency_test_vectors() -> None:
    # The eight leaves of RFC 6962's reference tests (certificate-transparency merkle tests).
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    assert merkle_root([]).hex() == hashlib.sha256(b"").hexdigest() == EMPTY_ROOT.hex()
    assert merkle_root(leaves[:1]).hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle_root(leaves).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=140))
def test_roots_match_the_naive_definition(n: int) -> None:
    leaves = _leaves(n)
    tree = MerkleTree(leaves)
    frontier = Frontier()
    for size in range(n + 1):
        expected = _naive_root(leaves[:size])
        assert tree.root(size) == expected
        assert frontier.root() == expected
        assert len(frontier.hashes()) == size.bit_count()
        if size < n:
            frontier.append(leaves[size])


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=140), st.data())
def test_inclusion_proofs_match_the_naive_path_and_verify(n: int, data: st.DataObject) -> None:
    leaves = _leaves(n)
    tree = MerkleTree(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    assert proof == _naive_path(index, leaves[:size])
    assert inclusion_path(iter(leaves), index, size) == proof  # streamed, O(log n) memory
    root = tree.root(size)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    # Any other leaf, index, size, root or path fails.
    other = leaves[(index + 1) % n] if n > 1 else _h(b"other")
    assert not verify_inclusion(other, index, size, proof, root)
    if size > 1:
        assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
        flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        assert not verify_inclusion(leaves[index], index, size, flipped, root)
    assert not verify_inclusion(leaves[index], index, size, proof, _h(root))
    assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=140), st.data())
def test_consistency_proofs_match_the_naive_subproof_and_verify(
    n: int, data: st.DataObject
) -> None:
    leaves = _leaves(n)
    tree = MerkleTree(leaves)
    new = data.draw(st.integers(min_value=1, max_value=n), label="new")
    old = data.draw(st.integers(min_value=1, max_value=new), label="old")
    proof = tree.consistency_proof(old, new)
    old_root, new_root = tree.root(old), tree.root(new)
    if old < new:
        assert proof == _naive_subproof(old, leaves[:new], True)
    else:
        assert proof == []
    assert verify_consistency(old, new, old_root, new_root, proof)
    # A rewritten leaf inside the old tree makes both roots differ from what a witness kept.
    forged = [_h(b"forged") if i == old - 1 else leaf for i, leaf in enumerate(leaves)]
    rewritten = MerkleTree(forged)
    assert not verify_consistency(old, new, old_root, rewritten.root(new), proof)
    if old < new:
        rewritten_proof = rewritten.consistency_proof(old, new)
        assert not verify_consistency(old, new, old_root, rewritten.root(new), rewritten_proof)
        assert not verify_consistency(old, new, new_root, old_root, proof)
        assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
        flipped = [*proof[:-1], bytes([proof[-1][0] ^ 1]) + proof[-1][1:]]
        assert not verify_consistency(old, new, old_root, new_root, flipped)


def test_the_empty_tree_is_consistent_with_every_tree_and_bad_sizes_fail() -> None:
    tree = MerkleTree(_leaves(5))
    assert tree.consistency_proof(0, 5) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, tree.root(), [])
    assert not verify_consistency(3, 2, tree.root(3), tree.root(2), [])
    assert not verify_consistency(2, 5, tree.root(2), tree.root(5), [])
    assert not verify_inclusion(_leaves(1)[0], 5, 5, [], tree.root())
    with pytest.raises(ValueError, match="not in a tree"):
        tree.inclusion_proof(5)
    with pytest.raises(ValueError, match="has 5 leaves, not 6"):
        inclusion_path(_leaves(5), 2, 6)
    with pytest.raises(ValueError, match="has 5 leaves"):
        tree.root(6)
    with pytest.raises(ValueError, match="no consistency proof"):
        tree.consistency_proof(4, 3)


def test_a_restored_frontier_continues_the_same_tree() -> None:
    leaves = _leaves(23)
    frontier = Frontier()
    frontier.extend(leaves[:13])
    resumed = Frontier.restore(13, frontier.hashes())
    resumed.extend(leaves[13:])
    assert resumed.root() == merkle_root(leaves)
    copy = resumed.copy()
    copy.append(leaves[0])
    assert resumed.size == 23 and copy.size == 24
    with pytest.raises(ValueError, match="subtree roots"):
        Frontier.restore(13, frontier.hashes()[:-1])
