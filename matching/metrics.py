"""Ranking metrics for the matching benchmark: nDCG@k, Recall@k, MRR@k.

A ranking is a list of document ids, best first; judgements map document id -> grade (> 0 = relevant).
Averages run over the queries of the qrels that have at least one relevant document; a query without
results scores 0 on every metric.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Qrels = dict[str, dict[str, int]]
Run = dict[str, list[str]]


def _unique(ranking: Sequence[str]) -> list[str]:
    """The ranking without repeats: a document counts once, at its best rank."""
    return list(dict.fromkeys(ranking))


def dcg(gains: Iterable[float]) -> float:
    """Discounted cumulative gain: the gain at rank r (1-based) divided by log2(r + 1)."""
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at(ranking: Sequence[str], judgements: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (the grade) and the ideal ranking taken from the judgements."""
    ideal = dcg(sorted((g for g in judgements.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg(max(judgements.get(doc, 0), 0) for doc in _unique(ranking)[:k]) / ideal


def recall_at(ranking: Sequence[str], judgements: Mapping[str, int], k: int = 100) -> float:
    relevant = {doc for doc, grade in judgements.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(_unique(ranking)[:k])) / len(relevant)


def reciprocal_rank_at(ranking: Sequence[str], judgements: Mapping[str, int], k: int = 10) -> float:
    for rank, doc in enumerate(_unique(ranking)[:k], start=1):
        if judgements.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def evaluate(qrels: Qrels, run: Run) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 over the judged queries, and how many there were."""
    judged = {query: j for query, j in qrels.items() if any(g > 0 for g in j.values())}
    totals = {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    for query, judgements in judged.items():
        ranking = run.get(query, [])
        totals["ndcg@10"] += ndcg_at(ranking, judgements, 10)
        totals["recall@100"] += recall_at(ranking, judgements, 100)
        totals["mrr@10"] += reciprocal_rank_at(ranking, judgements, 10)
    n = len(judged)
    result = {name: (total / n if n else 0.0) for name, total in totals.items()}
    result["queries"] = float(n)
    return result


def qrels_from_lines(lines: Iterable[Mapping[str, Any]]) -> Qrels:
    """qrels.jsonl lines {"query_id", "id", "grade"}; the last grade given for a pair wins."""
    qrels: Qrels = {}
    for line in lines:
        qrels.setdefault(str(line["query_id"]), {})[str(line["id"])] = int(line.get("grade", 1))
    return qrels


def run_from_lines(lines: Iterable[Mapping[str, Any]]) -> Run:
    """Results lines {"query_id", "results": [{"id", "score"}, ...]}, ranked in the order listed."""
    return {str(line["query_id"]): [str(r["id"]) for r in line.get("results") or []] for line in lines}
