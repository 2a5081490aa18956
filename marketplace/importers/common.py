"""Parsing helpers shared by the patent importers."""

import csv
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import IO

from marketplace.interface import PatentRecord, RowError


class FieldError(ValueError):
    """A value that cannot be read; carries the field name for the per-row error report."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


ParsedRow = PatentRecord | RowError


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
            yield line, parse_row(row, today)
        except FieldError as exc:
            yield line, RowError(line=line, field=exc.field, reason=exc.reason)
