"""NASA's catalogue of licensable inventions (../shared/data/us_nasa_licensable_patents_2014.csv)."""

from collections.abc import Iterator
from datetime import date
from typing import IO

from marketplace.importers.common import FieldError, ParsedRow, digits, legal_status, parse_date, read_rows
from marketplace.interface import PatentRecord

SOURCE = "nasa-csv"
APPLICANT = "National Aeronautics and Space Administration"
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
UNKNOWN_EXPIRY = date(1970, 1, 1)  # the catalogue's placeholder for "unknown"
REQUIRED = ("Title", "Reference Number", "Serial Number", "Patent Number", "Expiration Date")
# What a row carries (see FIELDS in __init__): no dates but the expiry, no IPC codes, claims or inventors.
FIELDS = (
    "titles",
    "abstracts",
    "registration_number",
    "applicants",
    "legal_status",
    "expiry_date",
    "source",
    "source_reference",
    "extra",
)


def application_number(serial: str, reference: str) -> str:
    """US serial number as digits ('11/848,332' -> '11848332').

    Inventions without a serial number (placeholders '', '0', '/0') are keyed by NASA's case number, marked
    with a 'case:' prefix so that it can never collide with a real serial number.
    """
    number = digits(serial)
    if number.strip("0"):
        return number
    if not reference:
        raise FieldError("Serial Number", "neither a serial number nor a reference number")
    return f"case:{reference}"


def parse_row(row: dict[str, str], today: date) -> PatentRecord:
    missing = [name for name in REQUIRED if name not in row]
    if missing:
        raise FieldError(missing[0], "column missing from the header")
    title = row["Title"].strip()
    if not title:
        raise FieldError("Title", "empty title")
    reference = row["Reference Number"].strip()
    patent_number = digits(row["Patent Number"])
    if not patent_number.strip("0"):
        patent_number = ""
    expiry = parse_date(row["Expiration Date"], "Expiration Date", DATE_FORMATS)
    if expiry == UNKNOWN_EXPIRY:
        expiry = None
    abstract = row.get("Abstract", "").strip()
    extra: dict[str, object] = {
        key: row.get(column, "").strip()
        for key, column in (
            ("category", "Category"),
            ("center", "Center"),
            ("facility", "Facility"),
            ("licensing_office", "Office"),
            ("contact_email", "Contact Email"),
        )
        if row.get(column, "").strip()
    }
    return PatentRecord(
        office="US",
        application_number=application_number(row["Serial Number"], reference),
        titles={"en": title},
        abstracts={"en": abstract} if abstract else {},
        registration_number=patent_number,
        applicants=[APPLICANT],
        legal_status=legal_status(bool(patent_number), expiry, today),
        expiry_date=expiry,
        source=SOURCE,
        source_reference=reference,
        extra=extra,
    )


def read(stream: IO[str], today: date) -> Iterator[tuple[int, ParsedRow]]:
    return read_rows(stream, today, parse_row)
