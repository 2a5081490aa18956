"""The evaluation harness behind `match_eval`: a temporary index built from a corpus file through the
production pipeline (the same analysis, vectors, mapping and writer as the listings index), ranked by the
same matching as the demand -> listings recommendation (matching.recommend.match_listings).

Corpus and query line formats are in docs/data-formats.md ("Matching evaluation files").
"""

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from matching import analysis
from matching.documents import analysed, ipc_levels, passage
from matching.embeddings import vectors
from matching.es import client
from matching.indexing import bulk
from matching.indices import IndexRef
from matching.recommend import match_request
from matching.search import candidates, rank

ENCODE_BATCH = 64


class EvalInputError(ValueError):
    """A corpus or query line that does not follow the format (line number and reason)."""


@dataclass
class Query:
    id: str
    text: str
    language: str | None
    ipc: list[str]


def read_jsonl(path: str, required: Iterable[str]) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise EvalInputError(f"{path}:{number}: not JSON ({error.msg})") from error
            if not isinstance(item, dict):
                raise EvalInputError(f"{path}:{number}: expected an object")
            for name in required:
                if not isinstance(item.get(name), str) or (name == "id" and not item[name]):
                    raise EvalInputError(f"{path}:{number}: '{name}' must be a string")
            yield item


def corpus_document(item: dict[str, Any]) -> dict[str, Any]:
    """A corpus line as a listings-schema document (without its vector)."""
    title, abstract = item.get("title") or "", item.get("abstract") or ""
    doc = analysed(title, [abstract], item.get("language") or None)
    doc |= ipc_levels(item.get("ipc") or [])
    doc["cpc"] = list(item.get("cpc") or [])
    return doc


def build_index(corpus_path: str, ref: IndexRef) -> dict[str, int]:
    """Create the temporary index and fill it; returns the corpus id -> document id map."""
    ref.create_version(ref.alias)
    ids: dict[str, int] = {}
    batch: list[tuple[int, dict[str, Any], str]] = []

    def flush() -> None:
        if not batch:
            return
        found = vectors([text for _, _, text in batch], "passage")
        titled = [doc["title"] for _, doc, _ in batch if doc["title"]]
        title_vectors = dict(zip(titled, vectors(titled, "passage"), strict=True)) if titled else {}
        actions = []
        for (pk, doc, _), vector in zip(batch, found, strict=True):
            doc |= {"pk": pk, "vector": [float(x) for x in vector], "has_vector": True}
            if doc["title"]:
                doc["title_vector"] = [float(x) for x in title_vectors[doc["title"]]]
            actions.append({"_op_type": "index", "_index": ref.alias, "_id": str(pk), "_source": doc})
        bulk(actions)
        batch.clear()

    for item in read_jsonl(corpus_path, ["id", "title", "abstract"]):
        if item["id"] in ids:
            raise EvalInputError(f"{corpus_path}: duplicate id {item['id']!r}")
        pk = len(ids) + 1
        ids[item["id"]] = pk
        doc = corpus_document(item)
        batch.append((pk, doc, passage(doc["title"], doc["body"])))
        if len(batch) >= ENCODE_BATCH:
            flush()
    flush()
    client().indices.refresh(index=ref.alias)
    return ids


def read_queries(path: str) -> list[Query]:
    return [
        Query(item["id"], item["text"], item.get("language") or None, list(item.get("ipc") or []))
        for item in read_jsonl(path, ["id", "text"])
    ]


def run(corpus_path: str, queries_path: str, k: int, out_path: str, mode: str = "hybrid") -> int:
    queries = read_queries(queries_path)  # read first: a bad query file costs no index build
    ref = IndexRef(f"eval-{uuid.uuid4().hex[:12]}", kind="listings")
    try:
        ids = build_index(corpus_path, ref)
        names = {pk: corpus_id for corpus_id, pk in ids.items()}
        if mode == "hybrid":  # query vectors in batches (and cached), as the corpus's
            vectors([q.text for q in queries], "query")
        with open(out_path, "w", encoding="utf-8") as out:
            for query in queries:
                ranked = rank_query(ref, query, k, mode)
                results = [{"id": names[pk], "score": round(score, 6)} for pk, score in ranked]
                out.write(json.dumps({"query_id": query.id, "results": results}, ensure_ascii=False) + "\n")
    finally:
        client().indices.delete(index=ref.alias, ignore_unavailable=True)
    return len(queries)


MODES = ("hybrid", "bm25", "bm25-standard")


def rank_query(ref: IndexRef, query: Query, k: int, mode: str = "hybrid") -> list[tuple[int, float]]:
    """The product's matching (`hybrid`), or a baseline on the same engine: `bm25` (our analysis and the
    lexicon, no vectors) or `bm25-standard` (the engine's standard analyzer on the original text)."""
    if mode == "bm25-standard":
        body = {
            "size": k,
            "_source": False,
            "query": {"multi_match": {"query": query.text, "fields": ["title^2", "body"]}},
        }
        hits = client().search(index=ref.alias, body=body)["hits"]["hits"]
        return [(int(h["_id"]), float(h["_score"])) for h in hits]
    request = match_request(ref, query.text, query.language, query.ipc, first=k)
    if mode == "bm25":
        request.mode = "bm25"
    language = request.language or analysis.detect_language(query.text)
    terms = analysis.analyze(query.text, language)
    c = candidates(request, language, terms, window=max(k, 100))
    return rank(c)[:k]
