"""A room entry as plain data: what the log stores and what a wake-up carries.

Live events carry the entry itself, so a subscriber renders it without a database round trip; a replay
builds the same value from rows. Either way the subscriber renders it for its viewer (view.py).
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet

from marketplace.models import RoomEntry


@dataclass(frozen=True)
class Attachment:
    file_id: int
    deposit_id: int
    name: str
    size: int


@dataclass(frozen=True)
class Entry:
    id: int
    deal_id: int
    sequence: int
    kind: str
    thread: str
    author_id: int | None
    author_role: str
    author_name: str
    body: str
    event: str
    data: dict[str, Any] = field(default_factory=dict)
    attachment: Attachment | None = None
    source_sequence: int | None = None
    hidden: bool = False
    hidden_reason: str = ""
    created_at: str = ""

    @property
    def origin_role(self) -> str:
        """Whose words these are: a forward carries the words of the entry it relays."""
        return (
            str(self.data.get("from_role", self.author_role)) if self.kind == "forward" else self.author_role
        )

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "Entry":
        values = dict(payload)
        if values.get("attachment"):
            values["attachment"] = Attachment(**values["attachment"])
        return cls(**values)


def display_name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.username)


def entry_of(row: RoomEntry) -> Entry:
    """Rows come with author, attachment and source selected (see `rows_after`), or just created with the
    instances at hand. Choices become plain strings: a fresh row still holds the enum members."""
    attachment = None
    file = row.attachment
    if file is not None:
        attachment = Attachment(file.pk, file.deposit_id, file.name, file.size)
    return Entry(
        id=row.pk,
        deal_id=row.deal_id,
        sequence=row.sequence,
        kind=str(row.kind),
        thread=str(row.thread),
        author_id=row.author_id,
        author_role=str(row.author_role),
        author_name=display_name(row.author),
        body=row.body,
        event=row.event,
        data=row.data,
        attachment=attachment,
        source_sequence=row.source.sequence if row.source is not None else None,
        hidden=row.hidden_at is not None,
        hidden_reason=row.hidden_reason,
        created_at=row.created_at.isoformat(),
    )


def _rows(deal_id: int) -> "QuerySet[RoomEntry]":
    return RoomEntry.objects.filter(deal_id=deal_id).select_related("author", "attachment", "source")


def rows_after(deal_id: int, after: int, limit: int) -> list[Entry]:
    return [entry_of(row) for row in _rows(deal_id).filter(sequence__gt=after).order_by("sequence")[:limit]]


def rows_before(deal_id: int, before: int, limit: int) -> list[Entry]:
    """The `limit` entries just before `before`, oldest first."""
    rows = _rows(deal_id).filter(sequence__lt=before).order_by("-sequence")[:limit]
    return [entry_of(row) for row in reversed(rows)]
