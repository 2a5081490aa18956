"""The project's own interchange format, `ipmarket.patent/1`: JSON Lines, one patent per line.

The specification is docs/data-formats.md. Every line names its format, so that lines stay meaningful on
their own (concatenated, split, sampled, grepped). The field set is closed: a field this version does not
know is an error rather than silently dropped, and any change to the fields is a new version.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import IO, Any, NoReturn

from marketplace.importers.common import FieldError, ParsedRow, check_record
from marketplace.interface import PatentRecord, RowError

FORMAT = "ipmarket.patent/1"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _wrong_type(field: str, expected: str, value: object) -> FieldError:
    return FieldError(field, f"expected {expected}, got {_json_type(value)}")


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _wrong_type(field, "a string", value)
    return value


def _filled(value: object, field: str) -> str:
    text = _text(value, field)
    if not text.strip():
        raise FieldError(field, "blank")
    return text


def _token(value: object, field: str) -> str:
    """An identifier or a name: whitespace around it would make it another key or another holder."""
    text = _filled(value, field)
    if text != text.strip():
        raise FieldError(field, "leading or trailing whitespace")
    return text


Reader = Callable[[object, str], object]


def _array_of(item: Callable[[object, str], str]) -> Reader:
    def read_array(value: object, field: str) -> list[str]:
        if not isinstance(value, list):
            raise _wrong_type(field, "an array of strings", value)
        return [item(element, f"{field}[{i}]") for i, element in enumerate(value)]

    return read_array


LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def _texts(value: object, field: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _wrong_type(field, "an object of language -> text", value)
    for language, text in value.items():
        if not LANGUAGE.fullmatch(language):
            raise FieldError(field, f"not a language tag: {language!r}")
        _filled(text, f"{field}.{language}")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: object, field: str) -> date | None:
    if value is None:
        return None
    text = _text(value, field)
    try:
        if ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise FieldError(field, f"not a date (YYYY-MM-DD): {text!r}")


def _object(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _wrong_type(field, "an object", value)
    return value


# Every field of version 1 after "format", in the order the exporter writes them, with its reader.
FIELDS: dict[str, Reader] = {
    "office": _token,
    "application_number": _token,
    "titles": _texts,
    "abstracts": _texts,
    "claims": _array_of(_filled),
    "application_date": _date,
    "registration_number": _text,
    "registration_date": _date,
    "publication_number": _text,
    "publication_date": _date,
    "ipc_codes": _array_of(_token),
    "cpc_codes": _array_of(_token),
    "applicants": _array_of(_token),
    "inventors": _array_of(_token),
    "legal_status": _token,
    "expiry_date": _date,
    "next_annual_fee_due": _date,
    "family_id": _text,
    "source": _text,
    "source_reference": _text,
    "extra": _object,
}
REQUIRED = ("office", "application_number", "titles")
# Characters PostgreSQL cannot store (NUL) or UTF-8 cannot encode (lone surrogates, which JSON's \uXXXX
# escapes can produce): refused per row, since writing them would fail the whole batch.
UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class _InvalidJson(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _InvalidJson(f"key {key!r} given twice")
        result[key] = value
    return result


def _no_constant(name: str) -> NoReturn:
    raise _InvalidJson(f"{name} is not a JSON number")


def _check_storable(value: object, path: str) -> None:
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            raise FieldError(path, "contains NUL or an unpaired surrogate")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_storable(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, path)
            _check_storable(item, f"{path}.{key}")


def parse_line(text: str) -> PatentRecord:
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        # The column counts characters from the start of the line (json's own restarts after a CR).
        raise FieldError("", f"not valid JSON: {exc.msg} at column {exc.pos + 1}") from exc
    except _InvalidJson as exc:
        raise FieldError("", f"not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise FieldError("", f"expected a JSON object, got {_json_type(value)}")
    if value.get("format") != FORMAT:
        found = "missing" if "format" not in value else f"{value['format']!r}"
        raise FieldError("format", f"expected {FORMAT!r}, got {found}")
    unknown = sorted(set(value) - set(FIELDS) - {"format"})
    if unknown:
        raise FieldError(unknown[0], "unknown field")
    for name in REQUIRED:
        if name not in value:
            raise FieldError(name, "missing")
    if not value["titles"]:
        raise FieldError("titles", "no title in any language")
    for name in FIELDS:
        if name in value:
            _check_storable(value[name], name)
    fields: dict[str, Any] = {
        name: parse(value[name], name) for name, parse in FIELDS.items() if name in value
    }
    return check_record(PatentRecord(**fields))


def _lines(stream: IO[str]) -> Iterator[tuple[int, str]]:
    """Lines ending in LF (CRLF too), numbered from 1, without their line end. A lone CR does not end a
    line: inside a JSON text it is whitespace, while a stream opened with newline="" would split on it."""
    number, pending = 0, ""
    for piece in stream:
        pending += piece
        if pending.endswith("\n"):
            number += 1
            yield number, pending.removesuffix("\n").removesuffix("\r")
            pending = ""
    if pending:
        yield number + 1, pending


def read(stream: IO[str], today: date) -> Iterator[tuple[int, ParsedRow]]:
    """Every non-blank line as a PatentRecord, or the RowError that says why it is not one. `today` is
    unused: the format carries the legal status as its writer knew it."""
    for line, text in _lines(stream):
        if not text.strip():
            continue
        try:
            yield line, parse_line(text)
        except FieldError as exc:
            yield line, RowError(line=line, field=exc.field, reason=exc.reason)
        except RecursionError:
            yield line, RowError(line=line, field="", reason="nested too deeply")


def _sorted(value: object) -> object:
    """Objects with their keys sorted, at every depth: the same record always makes the same line."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


# Line breaks for str.splitlines() that json.dumps leaves unescaped; escaped so that a line is a line
# whatever splits it.
LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dumps(record: PatentRecord) -> str:
    """One line of the format (without its line feed)."""
    data: dict[str, object] = {"format": FORMAT}
    for name in FIELDS:
        value = getattr(record, name)
        data[name] = value.isoformat() if isinstance(value, date) else _sorted(value)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(LINE_BREAKS)


def write(records: Iterable[PatentRecord], out: IO[str]) -> int:
    """Writes one line per record; returns how many."""
    count = 0
    for record in records:
        out.write(dumps(record) + "\n")
        count += 1
    return count
