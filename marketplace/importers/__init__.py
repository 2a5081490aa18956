"""Patent importers: each format turns a text stream into PatentRecords or RowErrors, one per row."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import IO

from marketplace.importers import jsonl, kipris_csv, nasa_csv
from marketplace.importers.common import ParsedRow
from marketplace.importers.writer import UPDATABLE

Reader = Callable[[IO[str], date], Iterator[tuple[int, ParsedRow]]]

FORMATS: dict[str, Reader] = {
    "jsonl": jsonl.read,
    "kipris-csv": kipris_csv.read,
    "nasa-csv": nasa_csv.read,
}
# The PatentRecord fields each format carries. When a patent is already stored, the writer updates only
# these: re-importing a CSV source never erases claims or CPC codes that a richer source brought. A JSONL
# record is the whole patent, so a field it leaves out is reset to its default.
FIELDS: dict[str, tuple[str, ...]] = {
    "jsonl": tuple(UPDATABLE),
    "kipris-csv": kipris_csv.FIELDS,
    "nasa-csv": nasa_csv.FIELDS,
}
