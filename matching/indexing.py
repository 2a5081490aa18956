"""Keeping the indices in step with PostgreSQL: outbox, incremental writes, rebuilds, consistency check.

- A change writes an IndexOutbox row in its own transaction (signals.py) and, after commit, asks Celery to
  drain the outbox. A row is deleted only when Elasticsearch took the new state and the row was not
  touched again meanwhile, so nothing is lost while Elasticsearch is down: the periodic sweep applies it
  when the engine returns.
- Every write carries an external version: the time (µs) at which its snapshot was read from PostgreSQL.
  A snapshot read later always wins, whoever writes it last, so a rebuild racing incremental updates can
  never put back an older state.
- A rebuild fills a new version behind the `-next` alias (incremental writes reach it too), then swaps the
  alias in one atomic call and drops the old versions: searches run on a complete index throughout.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from elasticsearch import ApiError, TransportError, helpers

from marketplace.models import Demand, Listing, Patent
from matching.documents import BUILDERS, SEARCHABLE_LISTING_STATES, Built
from matching.es import client
from matching.indices import ALL, IndexRef, by_name
from matching.models import IndexOutbox

log = logging.getLogger(__name__)

# Connection failures and server errors: the engine is unavailable, the work is kept for later.
ENGINE_ERRORS = (TransportError, ApiError)


class SearchUnavailable(Exception):
    """Elasticsearch could not be reached or refused the request."""


def unavailable(error: Exception) -> bool:
    """A connection failure, timeout or server-side error, as opposed to a bad request (a bug of ours)."""
    if isinstance(error, ApiError):
        return error.meta.status >= 429
    return isinstance(error, TransportError)


def snapshot_version() -> int:
    return time.time_ns() // 1000


# --- the outbox ----------------------------------------------------------------------------------------


def enqueue(index: str, ids: Iterable[int]) -> None:
    """Mark objects stale, in the caller's transaction; drained after commit."""
    ids = sorted(set(ids))
    if not ids:
        return
    now = timezone.now()
    IndexOutbox.objects.bulk_create(
        [IndexOutbox(index=index, object_id=i, enqueued_at=now) for i in ids],
        update_conflicts=True,
        unique_fields=["index", "object_id"],
        update_fields=["enqueued_at"],
    )
    transaction.on_commit(schedule_drain)


def schedule_drain() -> None:
    from matching.index_tasks import drain_outbox

    try:
        drain_outbox.delay()
    except Exception:  # the broker is down: the periodic sweep drains the outbox later
        log.warning("could not schedule the outbox drain; the sweep will pick it up", exc_info=True)


@dataclass
class DrainResult:
    written: int = 0
    deleted: int = 0
    missing_vectors: dict[str, list[int]] = field(default_factory=dict)


def drain(limit: int = 500) -> DrainResult:
    """Apply up to `limit` outbox rows; raises SearchUnavailable (rows kept) when the engine is down."""
    rows = list(IndexOutbox.objects.order_by("enqueued_at")[:limit])
    result = DrainResult()
    if not rows:
        return result
    by_index: dict[str, list[IndexOutbox]] = defaultdict(list)
    for row in rows:
        by_index[row.index].append(row)
    for name, group in by_index.items():
        ref = by_name(name)
        ids = [row.object_id for row in group]
        try:
            stats = write(ref, ids)
        except SearchUnavailable as error:
            IndexOutbox.objects.filter(pk__in=[r.pk for r in group]).update(
                attempts=F("attempts") + 1, last_error=str(error)[:2000]
            )
            raise
        result.written += stats.written
        result.deleted += stats.deleted
        if stats.missing:
            result.missing_vectors[name] = stats.missing
        # Only rows untouched since we read them: a change made meanwhile keeps its row for the next drain.
        done = Q()
        for row in group:
            done |= Q(pk=row.pk, enqueued_at=row.enqueued_at)
        IndexOutbox.objects.filter(done).delete()
        if ref.name == "listings":  # saved searches: announce listings published recently (saved_searches.py)
            from matching.saved_searches import schedule_notices

            schedule_notices(ids)
    for name, ids in result.missing_vectors.items():
        schedule_encoding(name, ids)
    return result


def schedule_encoding(index: str, ids: Sequence[int]) -> None:
    from matching.index_tasks import encode_documents

    try:
        encode_documents.delay(index, list(ids))
    except Exception:
        log.warning("could not schedule encoding for %s %s", index, list(ids)[:10], exc_info=True)


# --- writing -------------------------------------------------------------------------------------------


@dataclass
class WriteStats:
    written: int = 0
    deleted: int = 0
    missing: list[int] = field(default_factory=list)


def _actions(built: Built, targets: Sequence[str], version: int) -> Iterator[dict[str, Any]]:
    for pk, doc in built.docs.items():
        for target in targets:
            common = {"_index": target, "_id": str(pk), "version": version, "version_type": "external"}
            if doc is None:
                yield {"_op_type": "delete", **common}
            else:
                yield {"_op_type": "index", "_source": doc, **common}


def bulk(actions: Iterable[dict[str, Any]], *, refresh: bool = False) -> tuple[int, int]:
    """Send actions; a stale version (409) or deleting what is absent (404) is expected, not an error."""
    ok = failed = 0
    try:
        for success, item in helpers.streaming_bulk(
            client(), actions, chunk_size=500, raise_on_error=False, raise_on_exception=True, refresh=refresh
        ):
            status = next(iter(item.values())).get("status", 200)
            if success or status in (404, 409):
                ok += 1
            else:
                failed += 1
                log.error("index write failed: %s", item)
    except ENGINE_ERRORS as error:
        raise SearchUnavailable(str(error)) from error
    if failed:
        raise SearchUnavailable(f"{failed} index writes failed")
    return ok, failed


def write(ref: IndexRef, ids: Sequence[int], targets: Sequence[str] | None = None) -> WriteStats:
    """Build the documents for these objects from PostgreSQL and write them to every target version."""
    try:
        targets = list(targets) if targets is not None else ref.write_targets() or [ref.ensure()]
    except ENGINE_ERRORS as error:
        raise SearchUnavailable(str(error)) from error
    version = snapshot_version()
    built = BUILDERS[ref.name](ids)
    bulk(_actions(built, targets, version))
    stats = WriteStats()
    stats.written = sum(doc is not None for doc in built.docs.values())
    stats.deleted = len(built.docs) - stats.written
    stats.missing = [pk for pk, doc in built.docs.items() if doc is not None and not doc.get("has_vector")]
    return stats


# --- rebuild and consistency ---------------------------------------------------------------------------


def source_ids(ref: IndexRef) -> list[int]:
    """The objects PostgreSQL says belong in the index."""
    qs: QuerySet[Any]
    if ref.name == "listings":
        qs = Listing.objects.filter(status__in=SEARCHABLE_LISTING_STATES)
    elif ref.name == "patents":
        qs = Patent.objects.all()
    else:
        qs = Demand.objects.filter(is_open=True)
    return list(qs.order_by("pk").values_list("pk", flat=True))


@dataclass
class RebuildStats:
    index: str
    version: str
    documents: int = 0
    missing_vectors: int = 0
    seconds: float = 0.0
    dropped: list[str] = field(default_factory=list)


def rebuild(
    ref: IndexRef,
    *,
    batch_size: int = 500,
    on_progress: Callable[[int, int], None] | None = None,
    schedule_missing: bool = True,
) -> RebuildStats:
    """Fill a new version from PostgreSQL, then swap the alias atomically and drop the old versions."""
    started = time.perf_counter()
    try:
        old = ref.versions_behind(ref.alias)
        new = ref.create_version()
        client().indices.put_settings(index=new, settings={"refresh_interval": "-1"})
        client().indices.update_aliases(actions=[{"add": {"index": new, "alias": ref.next_alias}}])
    except ENGINE_ERRORS as error:
        raise SearchUnavailable(str(error)) from error
    stats = RebuildStats(index=ref.name, version=new)
    ids = source_ids(ref)
    missing: list[int] = []
    if on_progress:
        on_progress(0, len(ids))
    # The next batch is built (PostgreSQL, cached terms and vectors) while the engine takes the previous one:
    # one thread sends bulk requests, which touch no database, so the build stays in the caller's transaction.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild-bulk") as sender:
        in_flight: Future[tuple[int, int]] | None = None
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            version = snapshot_version()
            built = BUILDERS[ref.name](chunk)
            if in_flight is not None:
                in_flight.result()
            in_flight = sender.submit(bulk, list(_actions(built, [new], version)))
            stats.documents += sum(doc is not None for doc in built.docs.values())
            missing += [pk for pk, doc in built.docs.items() if doc is not None and not doc.get("has_vector")]
            if on_progress:
                on_progress(min(start + batch_size, len(ids)), len(ids))
        if in_flight is not None:
            in_flight.result()
    try:
        client().indices.put_settings(index=new, settings={"refresh_interval": "1s"})
        client().indices.refresh(index=new)
        swap = [{"remove": {"index": name, "alias": ref.alias}} for name in old]
        swap += [
            {"add": {"index": new, "alias": ref.alias}},
            {"remove": {"index": new, "alias": ref.next_alias}},
        ]
        client().indices.update_aliases(actions=swap)
        for name in old:
            client().indices.delete(index=name, ignore_unavailable=True)
    except ENGINE_ERRORS as error:
        raise SearchUnavailable(str(error)) from error
    stats.dropped = old
    stats.missing_vectors = len(missing)
    if missing and schedule_missing:
        for start in range(0, len(missing), 200):
            schedule_encoding(ref.name, missing[start : start + 200])
    stats.seconds = time.perf_counter() - started
    return stats


@dataclass
class CheckReport:
    index: str
    database: int
    engine: int
    missing: list[int]  # in PostgreSQL, not in the index
    extra: list[int]  # in the index, not in PostgreSQL
    without_vector: int
    mapping_current: bool = True  # the live index was built with this code's mapping

    @property
    def consistent(self) -> bool:
        return self.mapping_current and not self.missing and not self.extra and self.database == self.engine


def indexed_ids(ref: IndexRef) -> tuple[set[int], int]:
    """Ids in the live index and how many of them lack a vector."""
    ids: set[int] = set()
    without = 0
    for hit in helpers.scan(
        client(), index=ref.alias, query={"query": {"match_all": {}}}, _source=["has_vector"]
    ):
        ids.add(int(hit["_id"]))
        without += not hit.get("_source", {}).get("has_vector", False)
    return ids, without


def check(ref: IndexRef) -> CheckReport:
    try:
        client().indices.refresh(index=ref.alias)
        engine, without = indexed_ids(ref)
    except ENGINE_ERRORS as error:
        raise SearchUnavailable(str(error)) from error
    database = set(source_ids(ref))
    return CheckReport(
        index=ref.name,
        database=len(database),
        engine=len(engine),
        missing=sorted(database - engine),
        extra=sorted(engine - database),
        without_vector=without,
        mapping_current=ref.live_mapping_version() == ref.mapping_version(),
    )


def ensure_all() -> None:
    for ref in ALL:
        ref.ensure()
