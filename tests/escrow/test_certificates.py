"""Deposit certificates, signatures and log verification (pure: no database)."""

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from escrow import merkle
from escrow.canonical import canonical_json
from escrow.certificates import (
    CERTIFICATE_FORMAT,
    build_certificate,
    certificate_checks,
    deposit_leaf,
    manifest_sha256,
    sign_certificate,
    verify_certificate,
    verify_log,
)
from escrow.signing import (
    Signer,
    key_id_of,
    new_seed_b64,
    sign_tree_head,
    tree_head_message,
    verify_signature,
)

CREATED_AT = "2026-03-04T05:06:07.123456+00:00"
FILES = {"src/main.c": b"int main(void) { return 0; }\n", "drawing.dxf": b"0\nSECTION\n" * 1000, "empty": b""}


def _signer() -> Signer:
    return Signer.from_seed_b64(new_seed_b64())


def _manifest() -> list[dict[str, Any]]:
    return [
        {"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        for name, content in FILES.items()
    ]


def _log_with_deposit(
    signer: Signer, index: int = 4, size: int = 7
) -> tuple[list[bytes], dict[str, Any], bytes]:
    """A log of `size` leaves with our deposit at `index`, and a signed head over all of them."""
    leaf = deposit_leaf(42, 7, manifest_sha256(_manifest()), CREATED_AT)
    leaves = [canonical_json({"kind": "download", "n": i}) for i in range(size)]
    leaves[index] = leaf
    head = sign_tree_head(
        size, merkle.root([merkle.leaf_hash(x) for x in leaves]).hex(), 1_772_600_000_000, signer
    )
    return leaves, head, leaf


def _certificate(signer: Signer, index: int = 4, size: int = 7) -> dict[str, Any]:
    leaves, head, leaf = _log_with_deposit(signer, index, size)
    return build_certificate(
        deposit_id=42,
        depositor_id=7,
        depositor_name="Hanbit Materials Co., Ltd. (한빛소재)",
        purpose="proof_of_existence",
        title="Solid-state electrolyte process, rev. 3",
        created_at=CREATED_AT,
        manifest=_manifest(),
        log_index=index,
        leaf=leaf,
        inclusion_proof=merkle.inclusion_proof([merkle.leaf_hash(x) for x in leaves], index),
        tree_head=head,
        signer=signer,
    )


def _write_files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for number, (name, content) in enumerate(FILES.items()):
        path = tmp_path / f"file{number}"
        path.write_bytes(content)
        paths[name] = path
    return paths


def _resign(cert: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """A body changed and signed again: as if the platform itself had issued a wrong certificate."""
    return sign_certificate(cert, signer)


def _failed(cert: Any, public_key: str, files: dict[str, Path] | None = None) -> set[str]:
    return {check.name for check in certificate_checks(cert, public_key, files) if not check.ok}


# ----------------------------------------------------------------------------------------------- signing


def test_signer_key_id_and_signatures() -> None:
    # given
    signer = _signer()

    # when
    signature = signer.sign(b"message")

    # then
    assert signer.key_id == key_id_of(signer.public_key_b64)
    assert len(signer.key_id) == 64
    assert verify_signature(signer.public_key_b64, b"message", signature)
    assert not verify_signature(signer.public_key_b64, b"messagf", signature)
    assert not verify_signature(_signer().public_key_b64, b"message", signature)
    assert not verify_signature(signer.public_key_b64, b"message", signature[:-4] + "AAA=")
    assert not verify_signature(signer.public_key_b64, b"message", "not base64")
    assert not verify_signature("not a key", b"message", signature)
    assert new_seed_b64() not in repr(signer)


def test_signatures_have_one_textual_form() -> None:
    # given: base64 leaves unused bits in the last character of a 64-byte signature
    signer = _signer()
    signature = signer.sign(b"message")
    last = signature[-3]  # 64 bytes = 86 characters + "=="
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    sibling = alphabet[alphabet.index(last) ^ 1]

    # when / then: a variant that decodes to the same bytes is still refused
    assert not verify_signature(signer.public_key_b64, b"message", signature[:-3] + sibling + "==")


def test_signer_seed_must_be_32_bytes_of_base64() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Signer.from_seed_b64("AAAA")
    with pytest.raises(ValueError, match="base64"):
        Signer.from_seed_b64("***")
    assert Signer.from_seed_b64(" " + "A" * 43 + "=\n").key_id  # whitespace of a secret file is fine


def test_tree_head_message_is_canonical() -> None:
    assert tree_head_message(3, "ab" * 32, 1700000000000) == (
        b'{"format":"ipmarket-tree-head/1","root_hash":"' + b"ab" * 32 + b'","timestamp_ms":1700000000000,'
        b'"tree_size":3}'
    )


def test_deposit_leaf_and_manifest_hash_are_canonical() -> None:
    # given
    manifest = [{"name": "a", "size": 1, "sha256": "00" * 32}]

    # when / then
    assert deposit_leaf(42, 7, "ff" * 32, CREATED_AT) == (
        b'{"deposit_id":42,"depositor_id":7,"kind":"deposit","manifest_sha256":"'
        + b"ff" * 32
        + b'","time":"'
        + CREATED_AT.encode()
        + b'"}'
    )
    assert (
        manifest_sha256(manifest)
        == hashlib.sha256(b'[{"name":"a","sha256":"' + b"00" * 32 + b'","size":1}]').hexdigest()
    )


# ------------------------------------------------------------------------------------------ certificates


def test_valid_certificate_and_files(tmp_path: Path) -> None:
    # given
    signer = _signer()
    cert = _certificate(signer)
    files = _write_files(tmp_path)

    # when
    checks = certificate_checks(cert, signer.public_key_b64, files)

    # then
    assert verify_certificate(cert, signer.public_key_b64, files) == []
    assert verify_certificate(cert, signer.public_key_b64) == []
    assert [c.name for c in checks] == [
        "format",
        "structure",
        "key id",
        "signature",
        "manifest",
        "log leaf",
        "inclusion proof",
        "tree head",
        "file src/main.c",
        "file drawing.dxf",
        "file empty",
    ]
    assert all(c.ok and not c.skipped for c in checks)
    assert cert["format"] == CERTIFICATE_FORMAT
    assert cert["key_id"] == signer.key_id


@pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 2), (1, 2), (4, 7), (6, 7), (8, 9), (15, 16)])
def test_certificates_at_any_position_of_the_log(index: int, size: int) -> None:
    signer = _signer()
    assert verify_certificate(_certificate(signer, index, size), signer.public_key_b64) == []


def test_files_not_given_are_listed_not_failed(tmp_path: Path) -> None:
    # given
    signer = _signer()
    files = {"drawing.dxf": _write_files(tmp_path)["drawing.dxf"]}

    # when
    checks = certificate_checks(_certificate(signer), signer.public_key_b64, files)

    # then
    skipped = {c.name: c.detail for c in checks if c.skipped}
    assert skipped == {
        "file src/main.c": "not checked (file not given)",
        "file empty": "not checked (file not given)",
    }
    assert all(c.ok for c in checks)


def test_changed_missing_or_unknown_files_are_problems(tmp_path: Path) -> None:
    # given
    signer = _signer()
    cert = _certificate(signer)
    files = _write_files(tmp_path)
    flipped = bytearray(FILES["drawing.dxf"])
    flipped[500] ^= 0x01
    files["drawing.dxf"].write_bytes(bytes(flipped))
    files["src/main.c"].write_bytes(FILES["src/main.c"] + b"\n")
    extra = tmp_path / "extra.txt"
    extra.write_bytes(b"x")

    # when
    problems = verify_certificate(
        cert, signer.public_key_b64, {**files, "extra.txt": extra, "empty": tmp_path / "missing"}
    )

    # then
    assert sorted(problems) == sorted(
        [
            f"file drawing.dxf: sha256 {hashlib.sha256(flipped).hexdigest()}, "
            f"the manifest says {_manifest()[1]['sha256']}",
            f"file src/main.c: size {len(FILES['src/main.c']) + 1}, "
            f"the manifest says {len(FILES['src/main.c'])}",
            "file extra.txt: not in the certificate's manifest",
            "file empty: cannot be read: No such file or directory",
        ]
    )


def test_wrong_public_key_is_refused() -> None:
    # given
    signer, other = _signer(), _signer()
    cert = _certificate(signer)

    # when / then: never the key the certificate names, only the one the verifier trusts
    assert _failed(cert, other.public_key_b64) == {"key id", "signature", "tree head"}
    assert _failed(cert, "not a key") == {"key id"}


def test_a_certificate_forged_with_another_key_is_refused() -> None:
    # given: an attacker issues a well-formed certificate with his own key
    platform, attacker = _signer(), _signer()
    forged = _certificate(attacker)

    # when / then
    assert _failed(forged, platform.public_key_b64) == {"key id", "signature", "tree head"}


def _flips(text: str) -> list[tuple[int, str]]:
    """Every single-character change of the JSON text that still parses to a different value."""
    original = json.loads(text)
    changes = []
    for position, char in enumerate(text):
        replacement = chr(ord(char) ^ 0x01) if ord(char) > 0x20 else "!"
        changed = text[:position] + replacement + text[position + 1 :]
        try:
            value = json.loads(changed)
        except ValueError:
            continue  # not JSON any more: the CLI refuses it as a usage error
        if value != original:
            changes.append((position, changed))
    return changes


def test_every_one_character_change_of_a_certificate_is_detected() -> None:
    # given
    signer = _signer()
    text = json.dumps(_certificate(signer), indent=1, ensure_ascii=False)

    # when
    changes = _flips(text)

    # then
    assert len(changes) > 1000
    for position, changed in changes:
        assert verify_certificate(json.loads(changed), signer.public_key_b64), (
            f"change at {position} unnoticed"
        )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths += _paths(item, (*prefix, index))
    return paths


def _set(cert: dict[str, Any], path: tuple[Any, ...], value: Any, delete: bool = False) -> dict[str, Any]:
    result = copy.deepcopy(cert)
    target = result
    for step in path[:-1]:
        target = target[step]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


def test_malformed_certificates_are_reported_never_raised() -> None:
    # given
    signer = _signer()
    cert = _certificate(signer)
    replacements = [None, True, -1, 0, 2**70, 1.5, "", "x", [], {}, ["x"], {"a": 1}]

    for path in _paths(cert):
        # when / then: a field removed, or of another type or value
        assert verify_certificate(_set(cert, path, None, delete=True), signer.public_key_b64), path
        for value in replacements:
            changed = _set(cert, path, value)
            if changed != cert:
                assert verify_certificate(changed, signer.public_key_b64), (path, value)
    for value in replacements:
        assert verify_certificate(value, signer.public_key_b64)


def test_each_check_catches_its_own_defect_even_when_re_signed() -> None:
    # given: certificates the platform's key signed, but built wrongly
    signer = _signer()
    cert = _certificate(signer)
    key = signer.public_key_b64

    def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
        return _resign(_set(cert, path, value), signer)

    # when / then
    assert _failed(changed(("deposit", "manifest", 0, "size"), 1), key) == {"manifest"}
    assert _failed(changed(("deposit", "manifest_sha256"), "00" * 32), key) == {"manifest", "log leaf"}
    assert _failed(changed(("deposit", "id"), 43), key) == {"log leaf"}
    assert _failed(changed(("deposit", "depositor", "id"), 8), key) == {"log leaf"}
    assert _failed(changed(("deposit", "created_at"), "2026-03-04T05:06:08+00:00"), key) == {"log leaf"}
    assert _failed(changed(("log", "index"), 3), key) == {"inclusion proof"}
    assert _failed(changed(("log", "inclusion_proof", 1), "00" * 32), key) == {"inclusion proof"}
    assert _failed(changed(("log", "inclusion_proof"), cert["log"]["inclusion_proof"][:-1]), key) == {
        "inclusion proof"
    }
    other_leaf = deposit_leaf(42, 7, manifest_sha256(_manifest()), CREATED_AT).replace(b"}", b',"x":1}')
    assert _failed(changed(("log", "leaf"), base64.b64encode(other_leaf).decode()), key) == {
        "log leaf",
        "inclusion proof",
    }
    assert _failed(changed(("log", "tree_head", "timestamp_ms"), 1), key) == {"tree head"}
    # leaf 4 of 7 and of 8 have proofs of one shape: only the tree head signature tells them apart
    assert _failed(changed(("log", "tree_head", "tree_size"), 8), key) == {"tree head"}
    assert _failed(changed(("log", "tree_head", "tree_size"), 6), key) == {"inclusion proof", "tree head"}
    duplicate = [*_manifest(), _manifest()[0]]
    assert _failed(
        _resign(
            _set(
                _set(cert, ("deposit", "manifest"), duplicate),
                ("deposit", "manifest_sha256"),
                manifest_sha256(duplicate),
            ),
            signer,
        ),
        key,
    ) >= {"manifest"}
    # a tree head honestly signed for another root
    wrong_head = sign_tree_head(7, "00" * 32, 1_772_600_000_000, signer)
    assert _failed(changed(("log", "tree_head"), wrong_head), key) == {"inclusion proof"}


def test_format_and_structure_problems_are_named() -> None:
    # given
    signer = _signer()
    cert = _certificate(signer)

    # when / then
    assert verify_certificate({**cert, "format": "other/1"}, signer.public_key_b64)[0] == (
        f"format: expected {CERTIFICATE_FORMAT!r}, got 'other/1'"
    )
    assert verify_certificate(
        _set(cert, ("deposit", "manifest", 1, "size"), "12"), signer.public_key_b64
    ) == ["structure: deposit.manifest[1].size: expected an integer >= 0"]
    assert verify_certificate(
        _set(cert, ("log", "tree_head", "root_hash"), "AB" * 32), signer.public_key_b64
    ) == ["structure: log.tree_head.root_hash: expected 64 lowercase hex digits"]


# ---------------------------------------------------------------------------------------------------- log


def _log(
    signer: Signer, n: int = 20, sizes: tuple[int, ...] = (1, 3, 8, 8, 13, 20)
) -> tuple[list[bytes], list[dict[str, Any]]]:
    leaves = [canonical_json({"kind": "access", "n": i}) for i in range(n)]
    hashes = [merkle.leaf_hash(x) for x in leaves]
    heads = [sign_tree_head(s, merkle.root(hashes[:s]).hex(), 1_772_600_000_000 + s, signer) for s in sizes]
    return leaves, heads


def test_valid_log() -> None:
    signer = _signer()
    leaves, heads = _log(signer)
    assert verify_log(leaves, heads, signer.public_key_b64) == []
    assert verify_log([*leaves, b"appended, not yet signed"], heads, signer.public_key_b64) == []
    assert verify_log([], [], signer.public_key_b64) == []


@pytest.mark.parametrize("victim", [0, 2, 7, 12, 19])
def test_a_modified_entry_is_detected_by_every_head_covering_it(victim: int) -> None:
    # given
    signer = _signer()
    leaves, heads = _log(signer)
    leaves[victim] = leaves[victim].replace(b"access", b"acceso")

    # when
    problems = verify_log(leaves, heads, signer.public_key_b64)

    # then
    covering = [position for position, head in enumerate(heads) if head["tree_size"] > victim]
    assert [p.split(" (")[0] for p in problems] == [f"tree head #{position}" for position in covering]
    assert "root does not match entries" in problems[0]


def test_a_removed_entry_is_detected() -> None:
    # given
    signer = _signer()
    leaves, heads = _log(signer)

    # when
    in_the_middle = verify_log(leaves[:5] + leaves[6:], heads, signer.public_key_b64)
    at_the_end = verify_log(leaves[:-1], heads, signer.public_key_b64)

    # then
    assert [p.split(" (")[0] for p in in_the_middle] == [
        "tree head #2",
        "tree head #3",
        "tree head #4",
        "tree head #5",
    ]
    assert at_the_end == [
        "tree head #5 (tree_size 20): covers 20 entries but the log has only 19 (entries removed)"
    ]


def test_reordered_entries_are_detected() -> None:
    # given
    signer = _signer()
    leaves, heads = _log(signer)
    leaves[9], leaves[10] = leaves[10], leaves[9]

    # when
    problems = verify_log(leaves, heads, signer.public_key_b64)

    # then: the heads up to 8 entries still hold, the later ones do not
    assert [p.split(" (")[0] for p in problems] == ["tree head #4", "tree head #5"]
    assert "an entry at index >= 8 was modified" in problems[0]


def test_forged_or_inconsistent_tree_heads_are_detected() -> None:
    # given
    signer = _signer()
    leaves, heads = _log(signer)
    forged = dict(heads[2], root_hash="00" * 32)
    other_key = sign_tree_head(8, heads[2]["root_hash"], heads[2]["timestamp_ms"], _signer())
    shrunk = [heads[0], heads[4], heads[2]]
    earlier = [
        heads[0],
        heads[1],
        sign_tree_head(8, heads[2]["root_hash"], heads[1]["timestamp_ms"] - 1, signer),
    ]
    # a fork: a head signed over a different history of the same size
    fork = [*leaves[:5], b"rewritten", *leaves[6:]]
    fork_head = sign_tree_head(
        13, merkle.root([merkle.leaf_hash(x) for x in fork[:13]]).hex(), 1_772_600_000_013, signer
    )
    key = signer.public_key_b64

    # when / then
    assert verify_log(leaves, [heads[1], forged, heads[3]], key) == [
        "tree head #1 (tree_size 8): signature does not verify; root does not match entries 0..7: "
        "an entry at index >= 3 was modified, removed, inserted or reordered; "
        "not consistent with tree head #0 (tree_size 3)",
        "tree head #2 (tree_size 8): not consistent with tree head #1 (tree_size 8)",
    ]
    assert verify_log(leaves, [other_key], key) == [
        "tree head #0 (tree_size 8): signed with another key (key_id differs from the public key's)"
    ]
    assert verify_log(leaves, shrunk, key) == [
        "tree head #2 (tree_size 8): smaller than tree head #1 (tree_size 13)"
    ]
    assert verify_log(leaves, earlier, key) == [
        "tree head #2 (tree_size 8): timestamp earlier than tree head #1"
    ]
    problems = verify_log(leaves, [heads[2], fork_head], key)
    assert problems[0].startswith("tree head #1 (tree_size 13): root does not match entries 0..12")
    assert problems[0].endswith("not consistent with tree head #0 (tree_size 8)")
    assert verify_log(leaves, [{"tree_size": "8"}], key) == [
        "tree head #0: tree_head.tree_size: expected an integer >= 0"
    ]
