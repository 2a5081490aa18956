"""Merkle tree hashing of the transparency log: RFC 6962 section 2.1 / RFC 9162 section 2.1.

Leaves and nodes are hashed with distinct prefixes (0x00, 0x01) so a leaf can never pass for a node.
Proofs are generated from the tree's perfect subtrees (computed once, O(n)); the verifiers follow the
iterative algorithms of RFC 9162 2.1.3.2 and 2.1.4.2, which share no code with the generators.

No Django here: the offline verifier imports this module.
"""

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than size (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, bottom-up: pair neighbours; an odd last node moves up unchanged,
    which is exactly RFC 6962's split at the largest power of two."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Tree:
    """A tree over leaf hashes, kept as its perfect subtrees: levels[h][j] = MTH(D[j*2^h : (j+1)*2^h]).

    Built once in O(n); then the root of any prefix and any proof cost O(log n) lookups, which is what
    checking many tree heads against one log needs."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.size = len(leaf_hashes)
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); O(log n) for the aligned ranges that roots and proofs ask for."""
        if not 0 <= start <= end <= self.size:
            raise ValueError(f"range {start}..{end} is outside a tree of size {self.size}")
        size = end - start
        if size == 0:
            return EMPTY_ROOT
        height = size.bit_length() - 1
        if size == 1 << height and start % size == 0:
            return self.levels[height][start >> height]
        k = _split(size)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all by default)."""
        return self.mth(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 2.1.1 PATH(index, D[size]), walked from the root down; listed leaf end first."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self.mth(start + k, end))
                end = start + k
            else:
                path.append(self.mth(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 6962 2.1.2 PROOF(old_size, D[new_size]) = SUBPROOF(old_size, D[new_size], true), walked
        from the root down (empty when old_size is 0 or new_size)."""
        new_size = self.size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= self.size:
            raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
        if old_size in (0, new_size):
            return []
        m, start, end, complete = old_size, 0, new_size, True
        path: list[bytes] = []
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                path.append(self.mth(start + k, end))
                end = start + k
            else:
                path.append(self.mth(start, start + k))
                m -= k
                start += k
                complete = False
        if not complete:
            # The old tree's own subtree, needed when it is not the left edge of the new tree.
            path.append(self.mth(start, end))
        path.reverse()
        return path


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) for the tree of all given leaf hashes."""
    return Tree(leaf_hashes).inclusion_proof(index)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) for the tree of all given leaf hashes (empty when old_size is 0 or n)."""
    return Tree(leaf_hashes).consistency_proof(old_size)


def _valid_hash(value: bytes) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 2.1.3.2."""
    if not (_valid_hash(leaf_hash) and _valid_hash(root_hash)) or not all(_valid_hash(p) for p in proof):
        return False
    if index < 0 or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2, plus the trivial cases: the empty tree precedes every tree, and a tree is
    consistent with itself when the roots are equal."""
    if not (_valid_hash(old_root) and _valid_hash(new_root)) or not all(_valid_hash(p) for p in proof):
        return False
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
