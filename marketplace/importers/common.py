"""Parsing helpers shared by the patent importers."""

import csv
import dataclasses
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import IO

from django.contrib.postgres.fields import ArrayField
from django.db import models

from marketplace.interface import PatentRecord, RowError
from marketplace.models import LegalStatus, Patent, PatentOffice


class FieldError(ValueError):
    """A value that cannot be read; carries the field name for the per-row error report."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


ParsedRow = PatentRecord | RowError


def _limits() -> tuple[dict[str, int], dict[str, int]]:
    """max_length of each text field of PatentRecord, and of each item of its lists, read off the model."""
    texts: dict[str, int] = {}
    items: dict[str, int] = {}
    for name in (f.name for f in dataclasses.fields(PatentRecord)):
        column = Patent._meta.get_field(name)
        if isinstance(column, ArrayField) and isinstance(column.base_field, models.CharField):
            if column.base_field.max_length:
                items[name] = column.base_field.max_length
        elif isinstance(column, models.CharField) and column.max_length:
            texts[name] = column.max_length
    return texts, items


TEXT_LIMITS, ITEM_LIMITS = _limits()


def check_record(record: PatentRecord) -> PatentRecord:
    """The record, if the database can take it as it is; a FieldError saying why not otherwise."""
    if record.office not in PatentOffice.values:
        raise FieldError(
            "office", f"unknown office {record.office!r} (known: {', '.join(PatentOffice.values)})"
        )
    if record.legal_status not in LegalStatus.values:
        raise FieldError(
            "legal_status",
            f"unknown legal status {record.legal_status!r} (known: {', '.join(LegalStatus.values)})",
        )
    for name, limit in TEXT_LIMITS.items():
        _check_length(getattr(record, name), limit, name)
    for name, limit in ITEM_LIMITS.items():
        for i, item in enumerate(getattr(record, name)):
            _check_length(item, limit, f"{name}[{i}]")
    return record


def _check_length(value: str, limit: int, field: str) -> None:
    if len(value) > limit:
        raise FieldError(field, f"longer than {limit} characters ({len(value)})")


def parse_date(value: str, field: str, formats: tuple[str, ...]) -> date | None:
    text = value.strip()
    if not text:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FieldError(field, f"not a date: {text!r}")


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def legal_status(granted: bool, expiry: date | None, today: date) -> str:
    """Status as far as a bibliographic record tells: granted and past its term means expired."""
    if not granted:
        return "pending"
    return "expired" if expiry and expiry < today else "registered"


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def csv_rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with the line each starts on (quoted fields may span lines)."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    names = [name.strip() for name in header]
    start = reader.line_num + 1
    for values in reader:
        row = {name: (values[i] if i < len(values) else "") for i, name in enumerate(names) if name}
        yield start, row
        start = reader.line_num + 1


def read_rows(
    stream: IO[str], today: date, parse_row: Callable[[dict[str, str], date], PatentRecord]
) -> Iterator[tuple[int, ParsedRow]]:
    """Every CSV row parsed by `parse_row`, or the RowError that says why it could not be."""
    for line, row in csv_rows(stream):
        try:
            yield line, check_record(parse_row(row, today))
        except FieldError as exc:
            yield line, RowError(line=line, field=exc.field, reason=exc.reason)
