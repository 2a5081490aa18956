"""KIPRIS export of Korean patents (../shared/data/kr_university_patents_inu.csv).

The header carries leftovers of a search-engine schema (`특허명 TEXT`), so columns are found by prefix.
"""

import ast
import re
from collections.abc import Iterator
from datetime import date
from typing import IO

from marketplace.importers.common import (
    FieldError,
    ParsedRow,
    add_years,
    digits,
    legal_status,
    parse_date,
    read_rows,
)
from marketplace.importers.holders import marked_kind
from marketplace.interface import PatentRecord

SOURCE = "kipris-csv"
COLUMNS = {
    "title": "특허명",
    "ipc": "IPC넘버",
    "applicants": "출원인",
    "application_number": "출원번호",
    "application_date": "출원날짜",
    "registration_number": "등록번호",
    "registration_date": "등록일자",
    "publication_number": "공개번호",
    "publication_date": "공개일자",
    "attorney": "대리인",
    "inventors": "발명가",
    "abstract": "설명",
}
DATE_FORMATS = ("%Y.%m.%d", "%Y-%m-%d", "%Y%m%d")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Words KIPRIS separates from the rest of an organisation's name by a space, so that the space-separated
# applicant list must be put back together. Some close a name: "인천대학교 산학협력단", "하이프레스
# 인코포레이티드", and a campus's foundation, "상명대학교 천안산학협력단". Some open one: "(주) 성후테크",
# "농업회사법인 에이앤피테크놀로지주식회사". A company's legal form does either: "주식회사 셀비온",
# "안국약품 주식회사".
CLOSING = {"산학협력단장", "인코포레이티드", "코포레이션", "리미티드"}
FOUNDATIONS = ("산학협력단", "산학협력재단")
OPENING = {"(주)", "농업회사법인", "재단법인", "사단법인", "학교법인", "의료법인"}
EITHER = {"주식회사", "유한회사"}
# Korean patent term: 20 years from the filing date (Patent Act, art. 88).
PATENT_TERM_YEARS = 20
# What a row carries (see FIELDS in __init__): no claims, CPC codes, fee dates or family ids.
FIELDS = (
    "titles",
    "abstracts",
    "application_date",
    "registration_number",
    "registration_date",
    "publication_number",
    "publication_date",
    "ipc_codes",
    "applicants",
    "inventors",
    "legal_status",
    "expiry_date",
    "source",
    "source_reference",
    "extra",
)


def split_title(raw: str) -> dict[str, str]:
    """'한국어 제목(ENGLISH TITLE)' -> {'ko': ..., 'en': ...}; parentheses inside either part are kept."""
    text = raw.strip()
    if text.endswith(")"):
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            if text[i] == ")":
                depth += 1
            elif text[i] == "(":
                depth -= 1
                if depth == 0:
                    korean, english = text[:i].strip(), text[i + 1 : -1].strip()
                    if korean and english and not HANGUL.search(english):
                        return {"ko": korean, "en": english}
                    break
    return {"ko": text}


def parse_ipc(raw: str) -> list[str]:
    if not raw.strip():
        return []
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError) as exc:
        raise FieldError(COLUMNS["ipc"], f"not a list literal: {exc}") from exc
    if not isinstance(value, list | tuple) or not value:
        raise FieldError(COLUMNS["ipc"], "expected a non-empty list")
    codes_text = value[1] if len(value) > 1 else value[0]
    codes = [" ".join(code.split()) for code in str(codes_text).replace("....", "").split("|")]
    return list(dict.fromkeys(code for code in codes if code))


def parse_applicants(raw: str) -> list[str]:
    """Applicant names from KIPRIS's space-separated list.

    A legal form that can go either side ("주식회사") closes the name before it when that name says nothing
    of what it is ("지오씨 주식회사"), and otherwise opens the next one ("인천대학교 산학협력단 주식회사
    한화건설"). A one-syllable token is never a name of its own: it spells a name out ("주식회사 에스 피 지").
    """
    names: list[str] = []
    opened = False  # the last name is a legal form still waiting for the name it opens
    for token in raw.split():
        joins = bool(names) and (
            opened
            or token in CLOSING
            or (token.endswith(FOUNDATIONS) and "대학" not in token)
            or len(token) == 1
            or (token in EITHER and marked_kind(names[-1]) is None)
        )
        if joins:
            names[-1] = f"{names[-1]} {token}"
            opened = False
        else:
            names.append(token)
            opened = token in OPENING or token in EITHER
    return names


def _column(row: dict[str, str], prefix: str) -> str:
    for name, value in row.items():
        if name.startswith(prefix):
            return value
    raise FieldError(prefix, "column missing from the header")


def parse_row(row: dict[str, str], today: date) -> PatentRecord:
    def col(key: str) -> str:
        return _column(row, COLUMNS[key]).strip()

    application_number = digits(col("application_number"))
    if not application_number:
        raise FieldError(COLUMNS["application_number"], "empty application number")
    title = col("title")
    if not title:
        raise FieldError(COLUMNS["title"], "empty title")
    application_date = parse_date(col("application_date"), COLUMNS["application_date"], DATE_FORMATS)
    registration_number = digits(col("registration_number"))
    expiry = (
        add_years(application_date, PATENT_TERM_YEARS) if application_date and registration_number else None
    )
    abstract = col("abstract")
    attorney = col("attorney")
    return PatentRecord(
        office="KR",
        application_number=application_number,
        titles=split_title(title),
        abstracts={"ko": abstract} if abstract else {},
        application_date=application_date,
        registration_number=registration_number,
        registration_date=parse_date(col("registration_date"), COLUMNS["registration_date"], DATE_FORMATS),
        publication_number=digits(col("publication_number")),
        publication_date=parse_date(col("publication_date"), COLUMNS["publication_date"], DATE_FORMATS),
        ipc_codes=parse_ipc(_column(row, COLUMNS["ipc"])),
        applicants=parse_applicants(col("applicants")),
        inventors=col("inventors").split(),
        legal_status=legal_status(bool(registration_number), expiry, today),
        expiry_date=expiry,
        source=SOURCE,
        source_reference=application_number,
        extra={"attorney": attorney} if attorney else {},
    )


def read(stream: IO[str], today: date) -> Iterator[tuple[int, ParsedRow]]:
    return read_rows(stream, today, parse_row)
