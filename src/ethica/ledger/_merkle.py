"""Merkle trees over a chain's entries (RFC 6962 / RFC 9162 §2.1), with inclusion and consistency.

The leaves of a chain's tree are its entries' hashes (32 raw bytes each) in sequence order. A
leaf hashes as ``SHA-256(0x00 || data)`` and a node as ``SHA-256(0x01 || left || right)``, so a
leaf can never pass for a node. The tree of ``n`` leaves splits at the largest power of two
below ``n``; its root (the Merkle tree hash) commits to every leaf and to their order.

- An *inclusion proof* shows that one entry is the leaf at ``index`` of the tree of ``size``
  leaves with a given root, in ``log2(size)`` hashes: a customer checks one decision against a
  signed head without seeing any other entry.
- A *consistency proof* shows that the tree of ``old_size`` leaves is a prefix of the tree of
  ``new_size`` leaves: nothing a witness once saw was rewritten, removed or reordered since.

:class:`Frontier` keeps only the roots of the perfect subtrees that cover the leaves so far
(``log2(n)`` hashes): verification streams a chain through it. :class:`MerkleTree` keeps every
level, so that proofs are built in ``O(log² n)`` hashes; it holds about two hashes per leaf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "MerkleTree",
    "inclusion_path",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

_sha256 = hashlib.sha256
_LEAF = b"\x00"
_NODE = b"\x01"

EMPTY_ROOT = _sha256(b"").digest()
"""The root of the tree with no leaves: the SHA-256 of the empty string."""


def leaf_hash(data: bytes) -> bytes:
    """Hash a leaf: ``SHA-256(0x00 || data)``."""
    return _sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an inner node: ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE + left + right).digest()


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """Return the Merkle tree hash of ``leaves`` (each leaf's data, e.g. an entry's hash)."""
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()


class Frontier:
    """The right edge of a growing tree: one subtree root per set bit of its size.

    ``extend`` and ``append`` add leaves, :meth:`root` returns the tree hash in ``O(log n)``.
    A frontier saved with :meth:`hashes` and restored with :meth:`restore` resumes the tree
    where it stopped, which is what incremental verification needs.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[bytes] = []
        self.size = 0

    @classmethod
    def restore(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """Rebuild the frontier of a tree of ``size`` leaves from its subtree roots."""
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {max(size, 0).bit_count()} subtree roots, "
                f"got {len(hashes)}"
            )
        if any(len(h) != 32 for h in hashes):
            raise ValueError("subtree roots are 32-byte SHA-256 digests")
        frontier = cls()
        frontier._stack = list(hashes)
        frontier.size = size
        return frontier

    def hashes(self) -> list[bytes]:
        """Return the subtree roots, largest (leftmost) first."""
        return list(self._stack)

    def copy(self) -> Frontier:
        """Return an independent copy."""
        return Frontier.restore(self.size, self._stack)

    def append(self, data: bytes) -> None:
        """Add one leaf (its data, e.g. an entry's 32-byte hash)."""
        stack = self._stack
        stack.append(_sha256(_LEAF + data).digest())
        self.size = size = self.size + 1
        while not size & 1:  # each trailing zero of the new size completes a subtree
            right = stack.pop()
            stack[-1] = _sha256(_NODE + stack[-1] + right).digest()
            size >>= 1

    def append_root(self, root: bytes) -> None:
        """Add the root of a whole subtree as one unit, for a frontier of equal subtrees.

        A frontier fed only this way counts units, not leaves: verification keeps one of
        blocks of ``2**k`` leaves, whose roots it hashes apart.
        """
        stack = self._stack
        stack.append(root)
        self.size = size = self.size + 1
        while not size & 1:
            right = stack.pop()
            stack[-1] = _sha256(_NODE + stack[-1] + right).digest()
            size >>= 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add leaves in order."""
        for data in leaves:
            self.append(data)

    def root(self) -> bytes:
        """Return the Merkle tree hash of the leaves so far."""
        stack = self._stack
        if not stack:
            return EMPTY_ROOT
        result = stack[-1]
        for subtree in reversed(stack[:-1]):
            result = _sha256(_NODE + subtree + result).digest()
        return result


class MerkleTree:
    """A whole tree kept in memory, to build inclusion and consistency proofs.

    Parameters
    ----------
    leaves : iterable of bytes, optional
        The leaves' data (entry hashes) in order.
    """

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        # _levels[k][i] is the root of the perfect subtree of leaves [i * 2**k, (i + 1) * 2**k).
        self._levels: list[list[bytes]] = [[]]
        for data in leaves:
            self.append(data)

    @property
    def size(self) -> int:
        """Return the number of leaves."""
        return len(self._levels[0])

    def append(self, data: bytes) -> None:
        """Add one leaf."""
        levels = self._levels
        levels[0].append(leaf_hash(data))
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(node_hash(row[-2], row[-1]))
            level += 1

    def leaf(self, index: int) -> bytes:
        """Return the leaf hash at ``index``."""
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """Return the tree hash of the first ``size`` leaves (all by default)."""
        size = self._size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        size = self._size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            split = start + _largest_power_of_two_below(end - start)
            if index < split:
                path.append(self._hash(split, end))
                end = split
            else:
                path.append(self._hash(start, split))
                start = split
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the proof that the first ``old_size`` leaves are a prefix of ``new_size``."""
        new_size = self._size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"no consistency proof from {old_size} leaves to {new_size}")
        if old_size in (0, new_size):
            return []
        path: list[bytes] = []
        start, end, whole = 0, new_size, True
        # RFC 6962 SUBPROOF(m, D[start:end], whole), unrolled; m counts from ``start``.
        m = old_size
        while m != end - start:
            split = _largest_power_of_two_below(end - start)
            if m <= split:
                path.append(self._hash(start + split, end))
                end = start + split
            else:
                path.append(self._hash(start, start + split))
                start += split
                m -= split
                whole = False
        if not whole:
            path.append(self._hash(start, end))
        path.reverse()
        return path

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return size

    def _hash(self, start: int, end: int) -> bytes:
        """Return the tree hash of leaves [start, end) (end > start)."""
        width = end - start
        if width & (width - 1) == 0:  # a perfect subtree, aligned by construction
            return self._levels[width.bit_length() - 1][start // width]
        split = start + _largest_power_of_two_below(width)
        return node_hash(self._hash(start, split), self._hash(split, end))


def inclusion_path(leaves: Iterable[bytes], index: int, size: int) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of the first ``size`` ``leaves``.

    Reads the leaves once, in order, keeping ``O(log size)`` hashes: for a store that can
    stream a chain's hashes but should not hold its whole tree. Equal to
    ``MerkleTree(leaves).inclusion_proof(index, size)``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    siblings: list[tuple[int, int]] = []  # the ranges whose roots make the path, leaf upwards
    start, end = 0, size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            siblings.append((split, end))
            end = split
        else:
            siblings.append((start, split))
            start = split
    siblings.reverse()
    trees = [Frontier() for _ in siblings]
    by_start = sorted(range(len(siblings)), key=lambda k: siblings[k][0])
    current, seen = 0, 0
    for position, data in enumerate(leaves):
        if position == size:
            break
        seen += 1
        if position == index:
            continue
        while siblings[by_start[current]][1] <= position:
            current += 1
        trees[by_start[current]].append(data)
    if seen < size:
        raise ValueError(f"the tree has {seen} leaves, not {size}")
    return [tree.root() for tree in trees]


def verify_inclusion(
    data: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Tell whether ``data`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    The algorithm of RFC 9162 §2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    result = leaf_hash(data)
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Tell whether the tree of ``old_size`` leaves is a prefix of the one of ``new_size``.

    The algorithm of RFC 9162 §2.1.4.2; the empty tree is a prefix of every tree.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == 0:
        return not proof
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first = node_hash(sibling, first)
            second = node_hash(sibling, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first == old_root and second == new_root


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)
