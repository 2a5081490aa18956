"""The project's matching benchmark, built from the real patent files in ../shared/data.

Three known-item sets, each a corpus, a set of queries and their relevance judgements (qrels), in the
line formats of `match_eval` (docs/data-formats.md, "Matching evaluation files"):

- `en`: NASA inventions with an abstract. Query = the title; document = the abstract, title withheld.
- `ko`: Korean patents (KIPRIS export). Query = the Korean title; document = the Korean abstract, title
  withheld, IPC codes kept.
- `xling`: English -> Korean. Query = the English title of a Korean patent of the `test` split; corpus =
  every Korean patent with its Korean title and Korean abstract (no English title anywhere).

Korean patents are split by a stable hash of the application number (`split_of`); the `train` half is
reserved for learning the bilingual lexicon (matching.lexicon) and never gives an `xling` query.
Patents whose normalised query text is the same form one query, relevant for all of them (grade 1).

Rows are parsed by the importers' own functions (marketplace.importers.kipris_csv / nasa_csv), so the
records here are the ones the product stores; like the importers, the later row wins for a key seen twice.
"""

import hashlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from marketplace.importers import kipris_csv, nasa_csv
from marketplace.importers.common import ParsedRow
from marketplace.interface import PatentRecord

KR_FILE = "kr_university_patents_inu.csv"
NASA_FILE = "us_nasa_licensable_patents_2014.csv"
SETS = ("en", "ko", "xling")
SPLITS = ("train", "test")
FORMAT = "ipmarket.match-benchmark/1"
# Record dates (expiry, legal status) depend on the day they are read; the benchmark must not, so rows
# are parsed as of a fixed day. None of the fields written here depends on it.
AS_OF = date(2025, 1, 1)
SPLIT_RULE = "train if int(sha256(application_number digits, UTF-8).hexdigest()[:8], 16) % 2 == 0 else test"


def default_data_dir() -> Path:
    return Path(os.environ.get("IPMARKET_DATA_DIR") or Path(settings.BASE_DIR).parent / "shared" / "data")


def split_of(application_number: str) -> str:
    """`train` or `test`: a fixed function of the application number (about half each)."""
    digest = hashlib.sha256(application_number.encode()).hexdigest()
    return "train" if int(digest[:8], 16) % 2 == 0 else "test"


_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Form under which two query texts count as the same: NFKC, case-folded, punctuation as spaces."""
    return " ".join(_NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def _records(
    stream: IO[str], read: Callable[[IO[str], date], Iterator[tuple[int, ParsedRow]]]
) -> Iterator[PatentRecord]:
    for _line, parsed in read(stream, AS_OF):
        if isinstance(parsed, PatentRecord):
            yield parsed


def load_kr(path: Path) -> dict[str, PatentRecord]:
    """Korean patents by application number (the later row wins), in application-number order."""
    with path.open(encoding="utf-8", newline="") as stream:
        by_number = {r.application_number: r for r in _records(stream, kipris_csv.read)}
    return dict(sorted(by_number.items()))


def load_nasa(path: Path) -> dict[str, PatentRecord]:
    """NASA inventions by application number (the importer's key; the later row wins), sorted."""
    with path.open(encoding="utf-8", newline="") as stream:
        by_number = {r.application_number: r for r in _records(stream, nasa_csv.read)}
    return dict(sorted(by_number.items()))


def kr_id(record: PatentRecord) -> str:
    return f"KR-{record.application_number}"


def us_id(record: PatentRecord) -> str:
    return f"US-{record.application_number}"


@dataclass
class BenchmarkSet:
    name: str
    description: str
    corpus: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    qrels: list[dict[str, Any]] = field(default_factory=list)


def _document(doc_id: str, record: PatentRecord, title: str, abstract: str, language: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": doc_id, "title": title, "abstract": abstract, "language": language}
    if record.ipc_codes:
        doc["ipc"] = list(record.ipc_codes)
    if record.cpc_codes:
        doc["cpc"] = list(record.cpc_codes)
    if record.applicants:
        doc["applicants"] = list(record.applicants)
    if record.application_date:
        doc["filing_date"] = record.application_date.isoformat()
    if record.registration_date:
        doc["registration_date"] = record.registration_date.isoformat()
    return doc


def _known_items(benchmark: BenchmarkSet, items: Iterable[tuple[str, str, bool]], language: str) -> None:
    """Queries from (document id, query text, asks) triples: one query per normalised text that at least
    one asking item has, relevant for every item with that text (asking or not)."""
    groups: dict[str, tuple[list[str], list[str], list[bool]]] = {}
    for doc_id, text, asks in items:
        key = normalise(text)
        if not key:
            continue
        texts, doc_ids, asking = groups.setdefault(key, ([], [], []))
        texts.append(text)
        doc_ids.append(doc_id)
        asking.append(asks)
    for texts, doc_ids, asking in groups.values():
        if not any(asking):
            continue
        first = asking.index(True)
        query_id = f"q-{doc_ids[first]}"
        benchmark.queries.append({"id": query_id, "text": texts[first], "language": language})
        benchmark.qrels.extend({"query_id": query_id, "id": doc_id, "grade": 1} for doc_id in doc_ids)


def _title_to_abstract(
    name: str,
    description: str,
    records: Iterable[PatentRecord],
    language: str,
    id_of: Callable[[PatentRecord], str],
) -> BenchmarkSet:
    """Known-item search: each record's title (in `language`) finds its abstract; the title is withheld."""
    benchmark = BenchmarkSet(name, description)
    items = []
    for record in records:
        abstract = record.abstracts.get(language, "").strip()
        if not abstract:
            continue
        doc_id = id_of(record)
        benchmark.corpus.append(_document(doc_id, record, "", abstract, language))
        items.append((doc_id, record.titles[language], True))
    _known_items(benchmark, items, language)
    return benchmark


def en_set(nasa: dict[str, PatentRecord]) -> BenchmarkSet:
    return _title_to_abstract(
        "en",
        "NASA inventions with an abstract. Query: the title. Document: the abstract, title withheld.",
        nasa.values(),
        "en",
        us_id,
    )


def ko_set(kr: dict[str, PatentRecord]) -> BenchmarkSet:
    return _title_to_abstract(
        "ko",
        "Korean patents with an abstract. Query: the Korean title. Document: the Korean abstract, "
        "title withheld, IPC codes kept.",
        kr.values(),
        "ko",
        kr_id,
    )


def xling_set(kr: dict[str, PatentRecord]) -> BenchmarkSet:
    benchmark = BenchmarkSet(
        "xling",
        "English -> Korean. Query: the English title of a Korean patent of the test split. Corpus: every "
        "Korean patent with its Korean title and Korean abstract (English title stripped), IPC kept.",
    )
    items = []
    for record in kr.values():
        title = record.titles.get("ko", "").strip()
        abstract = record.abstracts.get("ko", "").strip()
        if not (title or abstract):
            continue
        doc_id = kr_id(record)
        benchmark.corpus.append(_document(doc_id, record, title, abstract, "ko"))
        english = record.titles.get("en", "").strip()
        if english:
            # A train patent never asks, but is relevant when a test patent has its English title.
            items.append((doc_id, english, split_of(record.application_number) == "test"))
    _known_items(benchmark, items, "en")
    return benchmark


def parallel_titles(kr: dict[str, PatentRecord], split: str = "train") -> list[tuple[str, str]]:
    """(English title, Korean title) of the Korean patents of one split, for the bilingual lexicon."""
    return [
        (record.titles["en"], record.titles["ko"])
        for record in kr.values()
        if split_of(record.application_number) == split
        and record.titles.get("en")
        and record.titles.get("ko")
    ]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(data_dir: Path) -> tuple[list[BenchmarkSet], dict[str, Any]]:
    """The three sets and the README describing where they come from."""
    kr_path, nasa_path = data_dir / KR_FILE, data_dir / NASA_FILE
    kr, nasa = load_kr(kr_path), load_nasa(nasa_path)
    sets = [en_set(nasa), ko_set(kr), xling_set(kr)]
    splits = {s: sum(split_of(n) == s for n in kr) for s in SPLITS}
    readme: dict[str, Any] = {
        "format": FORMAT,
        "design": (
            "Known-item retrieval: each query is a patent's title and its relevant documents are the "
            "patents with that (normalised: NFKC, case-folded, punctuation removed) title, grade 1 (in "
            "xling, train patents too when a test patent has their English title); the "
            "title never appears in the matching document of the en and ko sets (title field empty). "
            "Abstracts are kept as they are, so a Korean abstract often restates its title in its "
            "first sentence."
        ),
        "sources": {
            "kr": {
                "file": KR_FILE,
                "sha256": file_sha256(kr_path),
                "parser": "marketplace.importers.kipris_csv.read (titles split by split_title)",
                "patents": len(kr),
                "key": "application number (digits); the later row wins",
            },
            "nasa": {
                "file": NASA_FILE,
                "sha256": file_sha256(nasa_path),
                "parser": "marketplace.importers.nasa_csv.read",
                "patents": len(nasa),
                "key": "application number (serial number digits, else case:REFERENCE); the later row wins",
            },
        },
        "split": {
            "rule": SPLIT_RULE,
            "applies_to": "kr",
            "counts": splits,
            "train_use": "bilingual lexicon only",
        },
        "ids": "documents KR-<application number> / US-<application number>; queries q-<first relevant id>",
        "sets": {
            s.name: {
                "description": s.description,
                "documents": len(s.corpus),
                "queries": len(s.queries),
                "judgements": len(s.qrels),
                "queries_with_several_relevant": sum(
                    1 for n in Counter(j["query_id"] for j in s.qrels).values() if n > 1
                ),
            }
            for s in sets
        },
    }
    return sets, readme


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as stream:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            count += 1
    return count


def write(out: Path, sets: list[BenchmarkSet], readme: dict[str, Any]) -> None:
    for benchmark in sets:
        directory = out / benchmark.name
        directory.mkdir(parents=True, exist_ok=True)
        _write_jsonl(directory / "corpus.jsonl", benchmark.corpus)
        _write_jsonl(directory / "queries.jsonl", benchmark.queries)
        _write_jsonl(directory / "qrels.jsonl", benchmark.qrels)
    (out / "README.json").write_text(
        json.dumps(readme, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]
