"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification (pure: no database)."""

import functools
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.merkle import (
    EMPTY_ROOT,
    Tree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# ----------------------------------------------------------------------- naive reference (RFC 6962 2.1)
# Written straight from the definitions, deliberately slow and recursive, sharing nothing with
# escrow.merkle. It is generic over the two hash functions: with SHA-256 it gives real hashes, with
# tuples it gives the symbolic structure of a tree, which tells which size pairs a proof cannot tell apart.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    def __init__(self, empty: Any, leaf: Callable[[Any], Any], node: Callable[[Any, Any], Any]) -> None:
        self.empty, self.leaf, self.node = empty, leaf, node

    def mth(self, data: Sequence[Any]) -> Any:
        if not data:
            return self.empty
        if len(data) == 1:
            return self.leaf(data[0])
        k = _k(len(data))
        return self.node(self.mth(data[:k]), self.mth(data[k:]))

    def path(self, m: int, data: Sequence[Any]) -> list[Any]:
        if len(data) == 1:
            return []
        k = _k(len(data))
        if m < k:
            return [*self.path(m, data[:k]), self.mth(data[k:])]
        return [*self.path(m - k, data[k:]), self.mth(data[:k])]

    def subproof(self, m: int, data: Sequence[Any], complete: bool) -> list[Any]:
        n = len(data)
        if m == n:
            return [] if complete else [self.mth(data)]
        k = _k(n)
        if m <= k:
            return [*self.subproof(m, data[:k], complete), self.mth(data[k:])]
        return [*self.subproof(m - k, data[k:], False), self.mth(data[:k])]

    def proof(self, m: int, data: Sequence[Any]) -> list[Any]:
        return self.subproof(m, data, True)


SHA = Reference(
    hashlib.sha256(b"").digest(),
    lambda d: hashlib.sha256(b"\x00" + d).digest(),
    lambda a, b: hashlib.sha256(b"\x01" + a + b).digest(),
)
SYMBOLIC = Reference("empty", lambda d: ("leaf", d), lambda a, b: (a, b))


def ref_mth(data: list[bytes]) -> bytes:
    return bytes(SHA.mth(data))


def ref_path(m: int, data: list[bytes]) -> list[bytes]:
    return SHA.path(m, data)


def ref_proof(m: int, data: list[bytes]) -> list[bytes]:
    return SHA.proof(m, data)


def ref_shape(m: int, n: int) -> list[str]:
    """An inclusion proof for leaf m of n as the verifier sees it: the side each element joins from."""
    if n == 1:
        return []
    k = _k(n)
    return [*ref_shape(m, k), "right"] if m < k else [*ref_shape(m - k, n - k), "left"]


@functools.cache
def consistency_shape(m: int, n: int) -> Any:
    """A consistency proof from m to n leaves as the verifier sees it: both roots written in terms of the
    proof elements (and of the old root when m is a power of two, which the verifier supplies itself)."""
    leaves = list(range(n))
    proof = SYMBOLIC.proof(m, leaves)
    old, new = SYMBOLIC.mth(leaves[:m]), SYMBOLIC.mth(leaves)
    names = {element: f"p{i}" for i, element in enumerate(proof)}
    if m & (m - 1) == 0:
        names.setdefault(old, "old")

    def abstract(expr: Any) -> Any:
        if expr in names:
            return names[expr]
        if isinstance(expr, tuple) and expr[0] != "leaf":
            return (abstract(expr[0]), abstract(expr[1]))
        return "?"

    return len(proof), abstract(old), abstract(new)


def _data(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


def _hashes(data: list[bytes]) -> list[bytes]:
    return [leaf_hash(d) for d in data]


def _flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# ---------------------------------------------------------------------------------------- known answers

CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
# Published certificate-transparency / transparency-dev test vectors (facts, re-typed): the root of
# the first n of CT_LEAVES for n = 0..8.
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {  # (index, tree size) -> audit path
    (0, 1): [],
    (0, 2): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
    (1, 2): ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {  # (old size, new size) -> proof
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def test_hash_functions_known_answers() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    assert root(_hashes(CT_LEAVES[:size])).hex() == CT_ROOTS[size]
    assert ref_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size]
    assert Tree(_hashes(CT_LEAVES)).root(size).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), list(CT_INCLUSION))
def test_inclusion_proofs_match_the_vectors(index: int, size: int) -> None:
    # given
    hashes = _hashes(CT_LEAVES[:size])

    # when
    proof = inclusion_proof(hashes, index)

    # then
    assert [p.hex() for p in proof] == CT_INCLUSION[(index, size)]
    assert verify_inclusion(hashes[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("old", "new"), list(CT_CONSISTENCY))
def test_consistency_proofs_match_the_vectors(old: int, new: int) -> None:
    # given
    hashes = _hashes(CT_LEAVES[:new])

    # when
    proof = consistency_proof(hashes, old)

    # then
    assert [p.hex() for p in proof] == CT_CONSISTENCY[(old, new)]
    assert verify_consistency(old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), proof)


# ---------------------------------------------------------------------- exhaustive against the reference

SIZES = range(1, 41)


@pytest.mark.parametrize("n", SIZES)
def test_root_equals_the_reference_for_every_size(n: int) -> None:
    data = _data(n)
    assert root(_hashes(data)) == ref_mth(data)
    tree = Tree(_hashes(data))
    for size in range(n + 1):
        assert tree.root(size) == ref_mth(data[:size])


@pytest.mark.parametrize("n", SIZES)
def test_every_inclusion_proof_equals_the_reference_and_verifies(n: int) -> None:
    # given
    data = _data(n)
    hashes, tree_root = _hashes(data), ref_mth(data)

    for index in range(n):
        # when
        proof = inclusion_proof(hashes, index)

        # then
        assert proof == ref_path(index, data)
        assert verify_inclusion(hashes[index], index, n, proof, tree_root)


@pytest.mark.parametrize("n", SIZES)
def test_every_inclusion_proof_fails_when_anything_is_altered(n: int) -> None:
    # given
    data = _data(n)
    hashes, tree_root = _hashes(data), ref_mth(data)
    other_leaf = leaf_hash(b"not in the log")

    for index in range(n):
        proof = inclusion_proof(hashes, index)
        leaf = hashes[index]

        # when / then: any proof element changed, dropped, added or reordered
        for position in range(len(proof)):
            for bit in (0, 7):
                altered = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
                assert not verify_inclusion(leaf, index, n, altered, tree_root)
        if proof:
            assert not verify_inclusion(leaf, index, n, proof[:-1], tree_root)
            assert not verify_inclusion(leaf, index, n, proof[1:], tree_root)
        assert not verify_inclusion(leaf, index, n, [*proof, tree_root], tree_root)
        assert not verify_inclusion(leaf, index, n, [tree_root, *proof], tree_root)
        if len(proof) > 1:
            assert not verify_inclusion(leaf, index, n, [proof[1], proof[0], *proof[2:]], tree_root)
        # another leaf, or another root
        assert not verify_inclusion(other_leaf, index, n, proof, tree_root)
        assert not verify_inclusion(_flip(leaf), index, n, proof, tree_root)
        assert not verify_inclusion(leaf, index, n, proof, _flip(tree_root))
        assert not verify_inclusion(leaf, index, n, proof, EMPTY_ROOT)
        # every other index of the same tree
        for wrong_index in range(-1, n + 1):
            if wrong_index != index:
                assert not verify_inclusion(leaf, wrong_index, n, proof, tree_root)
        # another tree size passes only where the path has the very same shape (the verifier sees
        # nothing else), and never for sizes that cannot hold the leaf
        for wrong_size in range(0, 2 * n + 2):
            if wrong_size != n:
                same_shape = index < wrong_size and ref_shape(index, wrong_size) == ref_shape(index, n)
                assert verify_inclusion(leaf, index, wrong_size, proof, tree_root) is same_shape
        assert not verify_inclusion(leaf, index, n // 2, proof, tree_root) or n == 1
        assert not verify_inclusion(leaf, index, n * 2, proof, tree_root)


@pytest.mark.parametrize("n", SIZES)
def test_every_consistency_proof_equals_the_reference_and_verifies(n: int) -> None:
    # given
    data = _data(n)
    hashes, new_root = _hashes(data), ref_mth(data)

    for old in range(0, n + 1):
        # when
        proof = consistency_proof(hashes, old)

        # then
        assert proof == (ref_proof(old, data) if old else [])
        assert verify_consistency(old, n, ref_mth(data[:old]), new_root, proof)
        assert Tree(_hashes(_data(n + 5))).consistency_proof(old, n) == proof  # from a larger log


@pytest.mark.parametrize("n", SIZES)
def test_every_consistency_proof_fails_when_anything_is_altered(n: int) -> None:
    # given
    data = _data(n)
    hashes, new_root = _hashes(data), ref_mth(data)
    forked = _data(n, salt=b"fork")

    for old in range(1, n + 1):
        proof = consistency_proof(hashes, old)
        old_root = ref_mth(data[:old])

        # when / then: any element changed, dropped, added or reordered
        for position in range(len(proof)):
            for bit in (0, 7):
                altered = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
                assert not verify_consistency(old, n, old_root, new_root, altered)
        if proof:
            assert not verify_consistency(old, n, old_root, new_root, proof[:-1])
            assert not verify_consistency(old, n, old_root, new_root, proof[1:])
        assert not verify_consistency(old, n, old_root, new_root, [*proof, new_root])
        if len(proof) > 1:
            assert not verify_consistency(old, n, old_root, new_root, [proof[1], proof[0], *proof[2:]])
        # either root changed: a rewritten history is not consistent
        assert not verify_consistency(old, n, _flip(old_root), new_root, proof)
        assert not verify_consistency(old, n, old_root, _flip(new_root), proof)
        assert not verify_consistency(old, n, ref_mth(forked[:old]), new_root, proof)
        assert not verify_consistency(old, n, old_root, ref_mth(data[: old - 1] + forked[old - 1 : n]), proof)
        # any other pair of sizes with these roots (equal roots of equal sizes being trivially consistent)
        for wrong_old in range(0, n + 2):
            for wrong_new in range(0, n + 3):
                if (wrong_old, wrong_new) == (old, n):
                    continue
                if 0 < wrong_old < wrong_new and old < n:
                    # Accepted only where that size pair makes the verifier compute exactly the same.
                    expected = consistency_shape(wrong_old, wrong_new) == consistency_shape(old, n)
                else:
                    expected = old == n and wrong_old == wrong_new > 0  # equal roots of equal sizes
                assert verify_consistency(wrong_old, wrong_new, old_root, new_root, proof) is expected


# ------------------------------------------------------------------------------------- property-based


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_trees_prove_inclusion_and_consistency(data: st.DataObject) -> None:
    # given
    n = data.draw(st.integers(1, 600), label="n")
    index = data.draw(st.integers(0, n - 1), label="index")
    old = data.draw(st.integers(1, n), label="old")
    leaves = [data.draw(st.binary(max_size=3)) + i.to_bytes(2, "big") for i in range(n)]
    hashes = _hashes(leaves)
    tree_root, old_root = root(hashes), root(hashes[:old])

    # when
    path = inclusion_proof(hashes, index)
    proof = consistency_proof(hashes, old)

    # then
    assert verify_inclusion(hashes[index], index, n, path, tree_root)
    assert verify_consistency(old, n, old_root, tree_root, proof)
    assert len(path) <= n.bit_length()
    if path:
        position = data.draw(st.integers(0, len(path) - 1), label="path element")
        bit = data.draw(st.integers(0, 255), label="path bit")
        changed = bytearray(path[position])
        changed[bit // 8] ^= 1 << (bit % 8)
        assert not verify_inclusion(
            hashes[index], index, n, [*path[:position], bytes(changed), *path[position + 1 :]], tree_root
        )
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        bit = data.draw(st.integers(0, 255), label="proof bit")
        changed = bytearray(proof[position])
        changed[bit // 8] ^= 1 << (bit % 8)
        assert not verify_consistency(
            old, n, old_root, tree_root, [*proof[:position], bytes(changed), *proof[position + 1 :]]
        )
    # a changed leaf changes every root that covers it
    victim = data.draw(st.integers(0, n - 1), label="victim")
    tampered = [*hashes[:victim], leaf_hash(leaves[victim] + b"!"), *hashes[victim + 1 :]]
    assert root(tampered) != tree_root
    assert not verify_inclusion(tampered[victim], victim, n, inclusion_proof(hashes, victim), tree_root)


def test_hundred_thousand_leaves() -> None:
    # given
    n = 100_000
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]

    # when
    tree_root = root(hashes)
    tree = Tree(hashes)

    # then
    assert tree.root() == tree_root
    for index in (0, 1, 65_535, 65_536, n - 1):
        assert verify_inclusion(hashes[index], index, n, tree.inclusion_proof(index), tree_root)
    for old in (1, 2, 3, 65_536, 99_999):
        assert verify_consistency(old, n, tree.root(old), tree_root, tree.consistency_proof(old))


# ------------------------------------------------------------------------------------------ edge cases


def test_malformed_inputs_never_verify() -> None:
    # given
    hashes = _hashes(_data(5))
    tree_root = root(hashes)
    proof = inclusion_proof(hashes, 2)

    # when / then
    assert not verify_inclusion(hashes[2], 2, 5, [*proof[:-1], proof[-1][:31]], tree_root)
    assert not verify_inclusion(hashes[2], 2, 5, [*proof, b""], tree_root)
    assert not verify_inclusion(hashes[2][:31], 2, 5, proof, tree_root)
    assert not verify_inclusion(hashes[2], 2, 5, proof, tree_root + b"\x00")
    assert not verify_inclusion(hashes[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(hashes[0], 0, 1, [], EMPTY_ROOT)
    assert verify_inclusion(hashes[0], 0, 1, [], hashes[0])
    assert not verify_consistency(3, 5, root(hashes[:3]), tree_root, [])
    assert not verify_consistency(5, 3, tree_root, root(hashes[:3]), [])
    assert not verify_consistency(-1, 5, EMPTY_ROOT, tree_root, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, tree_root, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, tree_root, [tree_root])
    assert not verify_consistency(0, 5, tree_root, tree_root, [])
    assert verify_consistency(5, 5, tree_root, tree_root, [])
    assert not verify_consistency(5, 5, tree_root, _flip(tree_root), [])
    assert not verify_consistency(5, 5, tree_root, tree_root, [tree_root])


def test_generators_refuse_out_of_range_arguments() -> None:
    hashes = _hashes(_data(4))
    for index in (-1, 4):
        with pytest.raises(ValueError):
            inclusion_proof(hashes, index)
    with pytest.raises(ValueError):
        inclusion_proof([], 0)
    for old in (-1, 5):
        with pytest.raises(ValueError):
            consistency_proof(hashes, old)
    assert consistency_proof(hashes, 0) == consistency_proof(hashes, 4) == []
    with pytest.raises(ValueError):
        Tree(hashes).root(5)
