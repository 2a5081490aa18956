"""Dataclasses that cross the marketplace boundary (importers, other domains)."""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class PatentRecord:
    """One patent as read from an import source, before it is written."""

    office: str
    application_number: str
    titles: dict[str, str]
    abstracts: dict[str, str] = field(default_factory=dict)
    claims: list[str] = field(default_factory=list)
    application_date: date | None = None
    registration_number: str = ""
    registration_date: date | None = None
    publication_number: str = ""
    publication_date: date | None = None
    ipc_codes: list[str] = field(default_factory=list)
    cpc_codes: list[str] = field(default_factory=list)
    applicants: list[str] = field(default_factory=list)
    inventors: list[str] = field(default_factory=list)
    legal_status: str = "pending"
    expiry_date: date | None = None
    next_annual_fee_due: date | None = None
    family_id: str = ""
    source: str = ""
    source_reference: str = ""
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RowError:
    """Why one input row was not imported. `line` is 1-based in the source file."""

    line: int
    field: str
    reason: str
