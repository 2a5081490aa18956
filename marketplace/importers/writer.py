"""Writes imported patents: batched, idempotent upserts keyed by office + application number.

Each patent without an owner is linked to its holder's organisation (holders.py), created when missing. The
owner is only ever set where it is NULL: once set, by an import or by an operator recording a change of
ownership, no import touches it again, even when a later record names another first applicant.
"""

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from marketplace.events import patents_written
from marketplace.importers.common import ParsedRow
from marketplace.importers.holders import holder_of, resolve_holders
from marketplace.interface import PatentRecord, RowError
from marketplace.models import Patent

RECORD_FIELDS = [f.name for f in dataclasses.fields(PatentRecord)]
UPDATABLE = [name for name in RECORD_FIELDS if name not in {"office", "application_number"}]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows replaced by a later row for the same patent in the same batch.
    superseded: int = 0
    organisations_created: int = 0
    # Patents that had no owner and were linked to their holder's organisation.
    owners_linked: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)


def record_from_patent(patent: Patent) -> PatentRecord:
    """The record that, imported, would leave `patent` as it is (the inverse of the upsert)."""
    return PatentRecord(**{name: getattr(patent, name) for name in RECORD_FIELDS})


def _flush(batch: dict[tuple[str, str], PatentRecord], summary: ImportSummary, fields: Sequence[str]) -> None:
    if not batch:
        return
    offices = {office for office, _ in batch}
    numbers = [number for _, number in batch]
    with transaction.atomic():
        existing = {
            (p.office, p.application_number): p
            for p in Patent.objects.filter(office__in=offices, application_number__in=numbers)
        }
        holders = {
            key: holder
            for key, record in batch.items()
            if (key not in existing or existing[key].owner_id is None)
            and (holder := holder_of(record.office, record.applicants))
        }
        organisations, created = resolve_holders(set(holders.values()))
        summary.organisations_created += created
        changed, orphans = [], []
        for key, record in batch.items():
            current = existing.get(key)
            owner_id = organisations[holders[key]] if key in holders else None
            if current is None:
                summary.created += 1
                summary.owners_linked += 0 if owner_id is None else 1
                changed.append(Patent(**dataclasses.asdict(record), owner_id=owner_id))
                continue
            if owner_id is not None:
                current.owner_id = owner_id
                orphans.append(current)
            if all(getattr(current, name) == getattr(record, name) for name in fields):
                summary.unchanged += 1
            else:
                summary.updated += 1
                changed.append(Patent(**dataclasses.asdict(record)))
        # One INSERT ... ON CONFLICT DO UPDATE per batch: a concurrent import of the same file cannot
        # create duplicates, whatever the interleaving. The owner is not among the updated fields.
        Patent.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["office", "application_number"],
            update_fields=[*fields, "updated_at"],
        )
        # One UPDATE for the batch; its WHERE owner IS NULL keeps an owner set since we read the rows.
        summary.owners_linked += Patent.objects.filter(owner__isnull=True).bulk_update(orphans, ["owner"])
        # PostgreSQL returns the ids of upserted rows, so listeners (the search outbox) need no query here.
        touched = [p.pk for p in [*changed, *orphans] if p.pk is not None]
        if touched:
            patents_written.send(sender=Patent, patent_ids=touched)


def write_patents(
    rows: Iterable[tuple[int, ParsedRow]],
    batch_size: int = 500,
    on_progress: Callable[[ImportSummary], None] | None = None,
    fields: Sequence[str] = UPDATABLE,
) -> ImportSummary:
    """Upsert every record; collect every bad row instead of stopping at it.

    `fields` are the record fields the source carries: an existing patent's other fields are left alone.
    """
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
            _flush(batch, summary, fields)
            batch = {}
            if on_progress:
                on_progress(summary)
    _flush(batch, summary, fields)
    if on_progress:
        on_progress(summary)
    return summary
