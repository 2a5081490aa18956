"""Writes imported patents: batched, idempotent upserts keyed by office + application number."""

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction

from marketplace.importers.common import ParsedRow
from marketplace.interface import PatentRecord, RowError
from marketplace.models import Patent

UPDATABLE = [
    f.name for f in dataclasses.fields(PatentRecord) if f.name not in {"office", "application_number"}
]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows replaced by a later row for the same patent in the same batch.
    superseded: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)


def _flush(batch: dict[tuple[str, str], PatentRecord], summary: ImportSummary) -> None:
    if not batch:
        return
    offices = {office for office, _ in batch}
    numbers = [number for _, number in batch]
    with transaction.atomic():
        existing = {
            (p.office, p.application_number): p
            for p in Patent.objects.filter(office__in=offices, application_number__in=numbers)
        }
        changed = []
        for key, record in batch.items():
            current = existing.get(key)
            if current is None:
                summary.created += 1
            elif all(getattr(current, name) == getattr(record, name) for name in UPDATABLE):
                summary.unchanged += 1
                continue
            else:
                summary.updated += 1
            changed.append(Patent(**dataclasses.asdict(record)))
        # One INSERT ... ON CONFLICT DO UPDATE per batch: a concurrent import of the same file cannot
        # create duplicates, whatever the interleaving.
        Patent.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["office", "application_number"],
            update_fields=[*UPDATABLE, "updated_at"],
        )


def write_patents(
    rows: Iterable[tuple[int, ParsedRow]],
    batch_size: int = 500,
    on_progress: Callable[[ImportSummary], None] | None = None,
) -> ImportSummary:
    """Upsert every record; collect every bad row instead of stopping at it."""
    summary = ImportSummary()
    batch: dict[tuple[str, str], PatentRecord] = {}
    for _line, item in rows:
        summary.rows += 1
        if isinstance(item, RowError):
            summary.errors.append(item)
            continue
        key = (item.office, item.application_number)
        if key in batch:
            # The same patent twice in one batch: the later row wins, as it would across batches.
            summary.superseded += 1
        batch[key] = item
        if len(batch) >= batch_size:
            _flush(batch, summary)
            batch = {}
            if on_progress:
                on_progress(summary)
    _flush(batch, summary)
    if on_progress:
        on_progress(summary)
    return summary
