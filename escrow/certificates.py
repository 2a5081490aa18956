"""Deposit certificates and transparency-log verification, as pure functions.

A certificate proves, with the platform's Ed25519 public key alone, which files (names, sizes, SHA-256)
an organisation deposited and when, and that the deposit is recorded at a given index of the
append-only transparency log under a signed tree head:

    {"format": "ipmarket-deposit-certificate/1",
     "deposit": {"id", "depositor": {"id", "name"}, "purpose", "title", "created_at",
                 "manifest": [{"name", "size", "sha256"}, ...], "manifest_sha256"},
     "log": {"index", "leaf" (base64), "inclusion_proof": [hex, ...],
             "tree_head": {"tree_size", "root_hash", "timestamp_ms", "key_id", "signature"}},
     "key_id", "signature"}

The signature covers the canonical JSON of everything but "signature". No Django here: the offline
verifier (`python -m escrow.verify`) runs these checks without a database or settings.
"""

import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from escrow import merkle
from escrow.canonical import canonical_json, sha256_hex
from escrow.signing import Signer, b64decode_strict, b64encode, key_id_of, tree_head_message, verify_signature

CERTIFICATE_FORMAT = "ipmarket-deposit-certificate/1"
READ_SIZE = 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Check:
    """One verification step: passed, failed (with why) or skipped (e.g. a file not given)."""

    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False

    @property
    def problem(self) -> str:
        return f"{self.name}: {self.detail}" if self.detail else self.name


def manifest_sha256(manifest: list[dict[str, Any]]) -> str:
    return sha256_hex(canonical_json(manifest))


def deposit_leaf(deposit_id: int, depositor_id: int, manifest_sha256: str, created_at: str) -> bytes:
    """The exact bytes the transparency log stores for a deposit."""
    return canonical_json(
        {
            "kind": "deposit",
            "deposit_id": deposit_id,
            "depositor_id": depositor_id,
            "manifest_sha256": manifest_sha256,
            "time": created_at,
        }
    )


def sign_certificate(body: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The body with "key_id" and a "signature" over the canonical JSON of all the rest."""
    signed = {key: value for key, value in body.items() if key != "signature"}
    signed["key_id"] = signer.key_id
    return {**signed, "signature": signer.sign(canonical_json(signed))}


def build_certificate(
    *,
    deposit_id: int,
    depositor_id: int,
    depositor_name: str,
    purpose: str,
    title: str,
    created_at: str,
    manifest: list[dict[str, Any]],
    log_index: int,
    leaf: bytes,
    inclusion_proof: Sequence[bytes],
    tree_head: Mapping[str, Any],
    signer: Signer,
) -> dict[str, Any]:
    """Assemble and sign a certificate; `tree_head` as made by escrow.signing.sign_tree_head."""
    body = {
        "format": CERTIFICATE_FORMAT,
        "deposit": {
            "id": deposit_id,
            "depositor": {"id": depositor_id, "name": depositor_name},
            "purpose": purpose,
            "title": title,
            "created_at": created_at,
            "manifest": manifest,
            "manifest_sha256": manifest_sha256(manifest),
        },
        "log": {
            "index": log_index,
            "leaf": b64encode(leaf),
            "inclusion_proof": [node.hex() for node in inclusion_proof],
            "tree_head": {
                key: tree_head[key]
                for key in ("tree_size", "root_hash", "timestamp_ms", "key_id", "signature")
            },
        },
    }
    return sign_certificate(body, signer)


# ---------------------------------------------------------------------------------------------- shape


class _Malformed(Exception):
    pass


def _field(obj: Any, key: str, path: str) -> Any:
    if not isinstance(obj, dict):
        raise _Malformed(f"{path}: expected an object")
    if key not in obj:
        raise _Malformed(f"{path}.{key}: missing")
    return obj[key]


def _int(obj: Any, key: str, path: str, minimum: int = 0) -> int:
    value = _field(obj, key, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _Malformed(f"{path}.{key}: expected an integer >= {minimum}")
    return value


def _str(obj: Any, key: str, path: str) -> str:
    value = _field(obj, key, path)
    if not isinstance(value, str):
        raise _Malformed(f"{path}.{key}: expected a string")
    return value


def _hex64(obj: Any, key: str, path: str) -> str:
    value = _str(obj, key, path)
    if not _HEX64.fullmatch(value):
        raise _Malformed(f"{path}.{key}: expected 64 lowercase hex digits")
    return value


def _check_shape(cert: Any) -> None:
    for key in ("format", "key_id", "signature"):
        _str(cert, key, "$")
    deposit = _field(cert, "deposit", "$")
    _int(deposit, "id", "deposit", minimum=1)
    depositor = _field(deposit, "depositor", "deposit")
    _int(depositor, "id", "deposit.depositor", minimum=1)
    _str(depositor, "name", "deposit.depositor")
    for key in ("purpose", "title"):
        _str(deposit, key, "deposit")
    try:
        datetime.fromisoformat(_str(deposit, "created_at", "deposit"))
    except ValueError:
        raise _Malformed("deposit.created_at: expected an ISO-8601 date and time") from None
    manifest = _field(deposit, "manifest", "deposit")
    if not isinstance(manifest, list):
        raise _Malformed("deposit.manifest: expected a list")
    for position, entry in enumerate(manifest):
        path = f"deposit.manifest[{position}]"
        _str(entry, "name", path)
        _int(entry, "size", path)
        _hex64(entry, "sha256", path)
    _hex64(deposit, "manifest_sha256", "deposit")
    log = _field(cert, "log", "$")
    _int(log, "index", "log")
    _str(log, "leaf", "log")
    proof = _field(log, "inclusion_proof", "log")
    if not isinstance(proof, list) or not all(isinstance(p, str) and _HEX64.fullmatch(p) for p in proof):
        raise _Malformed("log.inclusion_proof: expected a list of 64-digit lowercase hex hashes")
    _check_tree_head_shape(_field(log, "tree_head", "log"), "log.tree_head")


def _check_tree_head_shape(head: Any, path: str) -> None:
    _int(head, "tree_size", path)
    _hex64(head, "root_hash", path)
    _int(head, "timestamp_ms", path)
    _hex64(head, "key_id", path)
    _str(head, "signature", path)


def _tree_head_problem(head: Mapping[str, Any], public_key_b64: str, key_id: str) -> str | None:
    if head["key_id"] != key_id:
        return "signed with another key (key_id differs from the public key's)"
    message = tree_head_message(head["tree_size"], head["root_hash"], head["timestamp_ms"])
    if not verify_signature(public_key_b64, message, head["signature"]):
        return "signature does not verify"
    return None


# --------------------------------------------------------------------------------------- certificate


def _file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(READ_SIZE):
            size += len(block)
            digest.update(block)
    return size, digest.hexdigest()


def _leaf_problem(leaf_b64: str, deposit: Mapping[str, Any]) -> str | None:
    try:
        leaf = json.loads(b64decode_strict(leaf_b64))
    except (ValueError, UnicodeDecodeError):
        return "the leaf is not base64-encoded JSON"
    if not isinstance(leaf, dict):
        return "the leaf is not a JSON object"
    expected = {
        "kind": "deposit",
        "deposit_id": deposit["id"],
        "depositor_id": deposit["depositor"]["id"],
        "manifest_sha256": deposit["manifest_sha256"],
        "time": deposit["created_at"],
    }
    wrong = [key for key, value in expected.items() if leaf.get(key) != value]
    if wrong:
        return "the logged deposit differs from the certificate in " + ", ".join(wrong)
    extra = sorted(set(leaf) - set(expected))
    if extra:
        return "the leaf has unexpected fields " + ", ".join(extra)
    return None


def certificate_checks(
    cert: Any, public_key_b64: str, files: Mapping[str, Path] | None = None
) -> list[Check]:
    """Every check of a certificate, in order; see verify_certificate."""
    checks: list[Check] = []
    fmt = cert.get("format") if isinstance(cert, dict) else None
    if fmt == CERTIFICATE_FORMAT:
        checks.append(Check("format", True, CERTIFICATE_FORMAT))
    else:
        checks.append(Check("format", False, f"expected {CERTIFICATE_FORMAT!r}, got {fmt!r}"))
    try:
        _check_shape(cert)
    except _Malformed as exc:
        checks.append(Check("structure", False, str(exc)))
        return checks
    checks.append(Check("structure", True))
    deposit, log = cert["deposit"], cert["log"]

    try:
        key_id = key_id_of(public_key_b64)
    except ValueError:
        checks.append(Check("key id", False, "the public key given is not a base64 Ed25519 public key"))
        return checks
    if cert["key_id"] == key_id:
        checks.append(Check("key id", True, key_id))
    else:
        checks.append(
            Check("key id", False, f"certificate names key {cert['key_id']}, the key given is {key_id}")
        )

    try:
        signed = canonical_json({key: value for key, value in cert.items() if key != "signature"})
    except TypeError as exc:  # e.g. a float slipped into the JSON
        checks.append(Check("signature", False, f"not canonically encodable: {exc}"))
    else:
        if verify_signature(public_key_b64, signed, cert["signature"]):
            checks.append(Check("signature", True))
        else:
            checks.append(Check("signature", False, "the certificate signature does not verify"))

    manifest = deposit["manifest"]
    names = [entry["name"] for entry in manifest]
    computed = manifest_sha256(manifest)
    if computed != deposit["manifest_sha256"]:
        checks.append(
            Check(
                "manifest", False, f"recomputed {computed}, the certificate says {deposit['manifest_sha256']}"
            )
        )
    elif len(set(names)) != len(names):
        checks.append(Check("manifest", False, "two files have the same name"))
    else:
        checks.append(Check("manifest", True, f"{len(manifest)} file(s), sha256 {computed}"))

    problem = _leaf_problem(log["leaf"], deposit)
    checks.append(Check("log leaf", problem is None, problem or f"index {log['index']}"))

    head = log["tree_head"]
    try:
        leaf = b64decode_strict(log["leaf"])
        proof = [bytes.fromhex(node) for node in log["inclusion_proof"]]
    except (ValueError, binascii.Error):
        checks.append(Check("inclusion proof", False, "the leaf or a proof element cannot be decoded"))
    else:
        if merkle.verify_inclusion(
            merkle.leaf_hash(leaf), log["index"], head["tree_size"], proof, bytes.fromhex(head["root_hash"])
        ):
            checks.append(
                Check(
                    "inclusion proof", True, f"leaf {log['index']} of {head['tree_size']} under the tree head"
                )
            )
        else:
            checks.append(
                Check(
                    "inclusion proof",
                    False,
                    f"leaf {log['index']} does not lead to the root of size {head['tree_size']}",
                )
            )

    problem = _tree_head_problem(head, public_key_b64, key_id)
    checks.append(
        Check(
            "tree head", problem is None, problem or f"size {head['tree_size']} at {head['timestamp_ms']} ms"
        )
    )

    by_name = {entry["name"]: entry for entry in manifest}
    given = dict(files or {})
    for name, path in given.items():
        entry = by_name.get(name)
        if entry is None:
            checks.append(Check(f"file {name}", False, "not in the certificate's manifest"))
            continue
        try:
            size, digest = _file_digest(Path(path))
        except OSError as exc:
            checks.append(Check(f"file {name}", False, f"cannot be read: {exc.strerror or exc}"))
            continue
        if size != entry["size"]:
            checks.append(Check(f"file {name}", False, f"size {size}, the manifest says {entry['size']}"))
        elif digest != entry["sha256"]:
            checks.append(
                Check(f"file {name}", False, f"sha256 {digest}, the manifest says {entry['sha256']}")
            )
        else:
            checks.append(Check(f"file {name}", True, f"{size} bytes, sha256 matches"))
    for name in names:
        if name not in given:
            checks.append(Check(f"file {name}", True, "not checked (file not given)", skipped=True))
    return checks


def verify_certificate(cert: Any, public_key_b64: str, files: Mapping[str, Path] | None = None) -> list[str]:
    """The problems found in a certificate (empty = valid), checked with the given public key only.

    `files` maps manifest names to local paths whose size and SHA-256 must match; manifest files not
    given are not a problem (certificate_checks lists them as not checked)."""
    return [check.problem for check in certificate_checks(cert, public_key_b64, files) if not check.ok]


# ----------------------------------------------------------------------------------------------- log


def log_checks(
    leaves: Sequence[bytes], tree_heads: Sequence[Mapping[str, Any]], public_key_b64: str
) -> list[Check]:
    """Every check of a log export, in order; see verify_log."""
    checks: list[Check] = []
    try:
        key_id = key_id_of(public_key_b64)
    except ValueError:
        return [Check("public key", False, "not a base64 Ed25519 public key")]
    tree = merkle.Tree([merkle.leaf_hash(leaf) for leaf in leaves])
    covered = 0
    previous: tuple[int, Mapping[str, Any]] | None = None
    last_good_size = 0
    for position, head in enumerate(tree_heads):
        try:
            _check_tree_head_shape(head, "tree_head")
        except _Malformed as exc:
            checks.append(Check(f"tree head #{position}", False, str(exc)))
            continue
        size = head["tree_size"]
        covered = max(covered, size)
        name = f"tree head #{position} (tree_size {size})"
        problems: list[str] = []
        problem = _tree_head_problem(head, public_key_b64, key_id)
        if problem:
            problems.append(problem)
        if size > len(leaves):
            problems.append(f"covers {size} entries but the log has only {len(leaves)} (entries removed)")
        elif tree.root(size).hex() != head["root_hash"]:
            problems.append(
                f"root does not match entries 0..{size - 1}: an entry at index >= {last_good_size} "
                "was modified, removed, inserted or reordered"
            )
        if previous is not None:
            before, earlier = previous
            if size < earlier["tree_size"]:
                problems.append(f"smaller than tree head #{before} (tree_size {earlier['tree_size']})")
            elif head["timestamp_ms"] < earlier["timestamp_ms"]:
                problems.append(f"timestamp earlier than tree head #{before}")
            elif size <= len(leaves):
                proof = tree.consistency_proof(earlier["tree_size"], size)
                if not merkle.verify_consistency(
                    earlier["tree_size"],
                    size,
                    bytes.fromhex(earlier["root_hash"]),
                    bytes.fromhex(head["root_hash"]),
                    proof,
                ):
                    problems.append(
                        f"not consistent with tree head #{before} (tree_size {earlier['tree_size']})"
                    )
        if problems:
            checks.append(Check(name, False, "; ".join(problems)))
        else:
            checks.append(Check(name, True, f"root {head['root_hash']}"))
            last_good_size = max(last_good_size, size)
        previous = (position, head)
    if len(leaves) > covered:
        checks.append(
            Check(
                "unsigned entries",
                True,
                f"entries {covered}..{len(leaves) - 1} are not yet covered by a signed tree head",
                skipped=True,
            )
        )
    return checks


def verify_log(
    leaves: Sequence[bytes], tree_heads: Sequence[Mapping[str, Any]], public_key_b64: str
) -> list[str]:
    """The problems found in a log (empty = valid): every tree head must be signed by the key, match the
    root of the first tree_size leaves, and be consistent with the tree head before it."""
    return [check.problem for check in log_checks(leaves, tree_heads, public_key_b64) if not check.ok]
