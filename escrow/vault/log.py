"""The transparency log service: an append-only Merkle tree (RFC 6962 hashing) over every deposit, release,
download and data-room access, with signed tree heads and inclusion and consistency proofs.

Appenders are serialised by one transaction-scoped advisory lock, so indices run 0, 1, 2, ... with no gap
even under concurrency (a rolled-back append releases the lock and leaves no row, and the next appender
takes the same index). The rows are append-only in the database (migration 0002); `check()` recomputes
everything from the stored leaves, so an edit made around the triggers is still found.

Roots and proofs are computed over all leaves each time: a linear pass over the `leaf_hash` column, fine
up to ~10^5 entries (a few MB read, milliseconds of hashing). Beyond that, store the tree's interior
nodes or a compact range (RFC 9162 tiles) instead of recomputing.
"""

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.utils import timezone

from escrow import merkle
from escrow.canonical import canonical_json
from escrow.certificates import deposit_leaf, verify_log
from escrow.models import Deposit, LogEntry, TreeHead
from escrow.signing import tree_head_message
from escrow.vault import keys

# pg_advisory_xact_lock key of the log's appenders (any fixed 64-bit number unique in this database).
APPEND_LOCK = 0x1E5C_0001


class LogKind(StrEnum):
    DEPOSIT = "deposit"
    RELEASE = "release"
    DOWNLOAD = "download"
    DOWNLOAD_REFUSED = "download_refused"
    DATA_ROOM_UPLOAD = "data_room_upload"
    DATA_ROOM_VIEW = "data_room_view"
    RELEASE_REQUESTED = "release_requested"
    RELEASE_APPROVED = "release_approved"
    RELEASE_REJECTED = "release_rejected"
    CONSENT = "consent"
    KEY_ROTATION = "key_rotation"


class LogShrankError(RuntimeError):
    """The stored log no longer matches a tree head the platform signed: refuse to sign on top of it."""


def iso(moment: datetime) -> str:
    """The one textual form of a time in leaves and certificates: UTC, microseconds, a trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _lock() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("the transparency log is written inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK])


def append(
    kind: str,
    data: dict[str, Any],
    *,
    deposit: Deposit | None = None,
    actor: User | AnonymousUser | None = None,
) -> LogEntry:
    """Append one leaf. Call inside the transaction of the change it records: both commit or neither.

    The leaf is the canonical JSON of `{"kind", "deposit_id"?, "actor_id"?, **data, "time"}`; a "deposit"
    leaf is exactly `certificates.deposit_leaf(...)` of `data`'s deposit_id, depositor_id, manifest_sha256
    and created_at, so the certificate's holder can recompute it."""
    _lock()  # taken before reading the last index and the time: both then follow the index order
    actor_user = actor if isinstance(actor, User) else None
    if kind == LogKind.DEPOSIT:
        leaf = deposit_leaf(
            int(data["deposit_id"]),
            int(data["depositor_id"]),
            str(data["manifest_sha256"]),
            str(data["created_at"]),
        )
    else:
        fields: dict[str, Any] = {"kind": kind}
        if deposit is not None:
            fields["deposit_id"] = deposit.pk
        if actor_user is not None:
            fields["actor_id"] = actor_user.pk
        fields.update(data)
        fields["time"] = iso(timezone.now())
        leaf = canonical_json(fields)
    last = LogEntry.objects.order_by("-index").values_list("index", flat=True).first()
    return LogEntry.objects.create(
        index=0 if last is None else last + 1,
        kind=kind,
        leaf=leaf,
        leaf_hash=merkle.leaf_hash(leaf).hex(),
        deposit=deposit,
        actor=actor_user,
    )


def _leaf_hashes(limit: int | None = None) -> list[bytes]:
    rows = LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
    if limit is not None:
        rows = rows[:limit]
    return [bytes.fromhex(h) for h in rows]


def size() -> int:
    return LogEntry.objects.count()


def sign_tree_head() -> TreeHead:
    """Sign the current tree (or return the latest head if the log has not grown since).

    Before signing, the stored leaves must still produce the latest signed root: the platform never
    signs a tree that contradicts one it has already handed out."""
    with transaction.atomic():
        _lock()
        hashes = _leaf_hashes()
        latest = TreeHead.objects.order_by("-tree_size").first()
        if latest is not None:
            if latest.tree_size > len(hashes) or merkle.root(hashes[: latest.tree_size]).hex() != (
                latest.root_hash
            ):
                raise LogShrankError(
                    f"the stored log does not reproduce the signed head of size {latest.tree_size}"
                )
            if latest.tree_size == len(hashes):
                return latest
        root_hash = merkle.root(hashes).hex()
        timestamp_ms = int(time.time() * 1000)
        if latest is not None:  # never older than the head before it, whatever the clock did
            timestamp_ms = max(timestamp_ms, latest.timestamp_ms)
        signer = keys.signer()
        return TreeHead.objects.create(
            tree_size=len(hashes),
            root_hash=root_hash,
            timestamp_ms=timestamp_ms,
            key_id=signer.key_id,
            signature=signer.sign(tree_head_message(len(hashes), root_hash, timestamp_ms)),
        )


def latest_tree_head() -> TreeHead | None:
    return TreeHead.objects.order_by("-tree_size").first()


def tree_head_json(head: TreeHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root_hash": head.root_hash,
        "timestamp_ms": head.timestamp_ms,
        "key_id": head.key_id,
        "signature": head.signature,
    }


def leaf_hash_at(index: int) -> str | None:
    return LogEntry.objects.filter(index=index).values_list("leaf_hash", flat=True).first()


def inclusion_proof_for(index: int, tree_size: int) -> list[str]:
    """The audit path of leaf `index` in the tree of the first `tree_size` leaves (hex hashes)."""
    if not 0 <= index < tree_size:
        raise ValueError("need 0 <= index < tree_size")
    hashes = _leaf_hashes(tree_size)
    if len(hashes) < tree_size:
        raise ValueError(f"the log has only {len(hashes)} entries")
    return [h.hex() for h in merkle.inclusion_proof(hashes, index)]


def consistency_proof_between(old_size: int, new_size: int) -> list[str]:
    """The proof that the tree of `new_size` leaves extends the tree of `old_size` (hex hashes)."""
    if not 0 <= old_size <= new_size:
        raise ValueError("need 0 <= old size <= new size")
    hashes = _leaf_hashes(new_size)
    if len(hashes) < new_size:
        raise ValueError(f"the log has only {len(hashes)} entries")
    return [h.hex() for h in merkle.consistency_proof(hashes, old_size)]


def check() -> list[str]:
    """Everything wrong with the stored log, recomputed from the rows (empty when it is intact):
    indices contiguous from 0, each leaf_hash and kind true to its leaf, each deposit's leaf true to the
    deposit row, and every stored signed tree head reproduced by the leaves (`verify_log`), which finds
    a modified, removed or reordered entry."""
    problems: list[str] = []
    rows = list(LogEntry.objects.order_by("index").values_list("index", "kind", "leaf", "leaf_hash"))
    indices = [row[0] for row in rows]
    if indices != list(range(len(rows))):
        present = set(indices)
        missing = [i for i in range(max(indices, default=-1) + 1) if i not in present]
        problems.append(f"log indices are not contiguous from 0; missing: {missing[:20]}")
    leaves: list[bytes] = []
    for index, kind, stored_leaf, stored_hash in rows:
        leaf = bytes(stored_leaf)
        leaves.append(leaf)
        if merkle.leaf_hash(leaf).hex() != stored_hash:
            problems.append(f"entry {index}: leaf_hash does not match its leaf")
        try:
            leaf_kind = json.loads(leaf).get("kind")
        except (ValueError, AttributeError):
            leaf_kind = None
        if leaf_kind != kind:
            problems.append(f"entry {index}: kind {kind!r} differs from its leaf's {leaf_kind!r}")
    by_index = dict(zip(indices, leaves, strict=True))
    for deposit in Deposit.objects.exclude(log_index=None).order_by("pk"):
        expected = deposit_leaf(
            deposit.pk, deposit.depositor_id, deposit.manifest_sha256, iso(deposit.created_at)
        )
        if by_index.get(deposit.log_index or 0) != expected:
            problems.append(f"deposit {deposit.pk}: log entry {deposit.log_index} does not record it")
    heads = [tree_head_json(head) for head in TreeHead.objects.order_by("tree_size")]
    problems.extend(verify_log(leaves, heads, keys.signer().public_key_b64))
    return problems


def export_lines() -> Iterator[dict[str, Any]]:
    """The log as `python -m escrow.verify --log` reads it: every leaf, then every signed tree head."""
    leaves = LogEntry.objects.order_by("index").values_list("index", "leaf")
    for index, leaf in leaves.iterator(chunk_size=2000):
        yield {"type": "leaf", "index": index, "leaf": base64.b64encode(bytes(leaf)).decode()}
    for head in TreeHead.objects.order_by("tree_size"):
        yield {"type": "tree_head", **tree_head_json(head)}
