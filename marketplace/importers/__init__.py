"""Patent importers: each format turns a text stream into PatentRecords or RowErrors, one per row."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import IO

from marketplace.importers import kipris_csv, nasa_csv
from marketplace.importers.common import ParsedRow

Reader = Callable[[IO[str], date], Iterator[tuple[int, ParsedRow]]]

FORMATS: dict[str, Reader] = {
    "kipris-csv": kipris_csv.read,
    "nasa-csv": nasa_csv.read,
}
