"""Ranking experiments on the matching benchmark, in pure Python (no Elasticsearch).

    .venv/bin/python scripts/xling_experiments.py [--bench DIR] [--sets xling,en,ko] [--no-dense]

Builds the benchmark (matching.benchmark_sets) unless --bench points at one written by
`manage.py build_match_benchmark`, analyses every text with matching.analysis.analyze, and ranks with a
small BM25 (Lucene's formula: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), k1 = 1.2, b = 0.75, one index per
field, field scores added with boosts, as an Elasticsearch bool/should of per-field queries does), with the
e5 encoder (matching.embeddings.vectors: cosine of query and passage vectors; the passage is the title and
the abstract on two lines) and with reciprocal-rank fusions of these. The cross-lingual runs translate the
English query with the lexicon learned from the train split's titles (matching.lexicon). Prints MRR@10,
nDCG@10 and Recall@100 per run (matching.metrics).
"""

import argparse
import hashlib
import json
import math
import os
import pickle
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from matching import analysis, benchmark_sets, lexicon, metrics  # noqa: E402

Ranking = list[tuple[str, float]]
Run = dict[str, Ranking]
CACHE = Path(tempfile.gettempdir()) / "ipmarket-xling-experiments"
DEPTH = 100
TITLE_BOOST = 2.0  # Korean title field against the abstract field (xling)


# --- data -------------------------------------------------------------------------------------------


def load_sets(bench: Path | None) -> tuple[dict[str, benchmark_sets.BenchmarkSet], dict[str, Any]]:
    data_dir = benchmark_sets.default_data_dir()
    kr = benchmark_sets.load_kr(data_dir / benchmark_sets.KR_FILE)
    if bench is None:
        sets, _ = benchmark_sets.build(data_dir)
        return {s.name: s for s in sets}, {"kr": kr}
    out = {}
    for name in benchmark_sets.SETS:
        s = benchmark_sets.BenchmarkSet(name, "")
        s.corpus = benchmark_sets.read_jsonl(bench / name / "corpus.jsonl")
        s.queries = benchmark_sets.read_jsonl(bench / name / "queries.jsonl")
        s.qrels = benchmark_sets.read_jsonl(bench / name / "qrels.jsonl")
        out[name] = s
    return out, {"kr": kr}


def analysed(texts: Sequence[str], language: str | None) -> list[list[str]]:
    """analyze() of each text, cached on disk by the texts, the language and the analyser's probe output."""
    key = hashlib.sha256(
        json.dumps([language, lexicon.probe(), list(texts)], ensure_ascii=False).encode()
    ).hexdigest()[:24]
    path = CACHE / f"analysed-{key}.pickle"
    if path.is_file():
        with path.open("rb") as stream:
            cached: list[list[str]] = pickle.load(stream)  # noqa: S301 - our own cache file
            return cached
    out = [analysis.analyze(t, language) for t in texts]
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        pickle.dump(out, stream)
    return out


# --- BM25 -------------------------------------------------------------------------------------------


class BM25:
    """One field of a corpus: Lucene BM25 over analysed terms."""

    def __init__(self, ids: Sequence[str], docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.ids = list(ids)
        self.k1, self.b = k1, b
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths = [len(d) for d in docs]
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                self.postings[term].append((i, tf))
        n = len(docs)
        self.avgdl = (sum(self.lengths) / n) if n else 0.0
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scores(self, query: Iterable[tuple[str, float]]) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for term, weight in query:
            postings = self.postings.get(term)
            if not postings or weight == 0:
                continue
            idf = self.idf[term]
            for i, tf in postings:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avgdl)
                out[i] += weight * idf * tf * (self.k1 + 1) / (tf + norm)
        return out


def bm25_run(
    fields: Mapping[str, BM25],
    boosts: Mapping[str, float],
    queries: Mapping[str, Sequence[tuple[str, float]]],
) -> Run:
    run: Run = {}
    for qid, query in queries.items():
        total: dict[int, float] = defaultdict(float)
        for name, boost in boosts.items():
            if boost:
                for i, s in fields[name].scores(query).items():
                    total[i] += boost * s
        ids = next(iter(fields.values())).ids
        best = sorted(total.items(), key=lambda kv: -kv[1])[:DEPTH]
        run[qid] = [(ids[i], s) for i, s in best]
    return run


def unweighted(terms: Sequence[str]) -> list[tuple[str, float]]:
    return [(t, 1.0) for t in terms]


# --- dense and fusion -------------------------------------------------------------------------------


def passage(doc: Mapping[str, Any]) -> str:
    return "\n".join(
        x for x in (str(doc.get("title", "")).strip(), str(doc.get("abstract", "")).strip()) if x
    )


def dense_run(ids: Sequence[str], doc_vectors: np.ndarray, qids: Sequence[str], q_vectors: np.ndarray) -> Run:
    sims = q_vectors @ doc_vectors.T
    run: Run = {}
    for row, qid in enumerate(qids):
        order = np.argsort(-sims[row])[:DEPTH]
        run[qid] = [(ids[i], float(sims[row, i])) for i in order]
    return run


def rrf(runs: Sequence[tuple[Run, float]], k: float = 60, depth: int = DEPTH) -> Run:
    """Weighted reciprocal-rank fusion: sum of weight / (k + rank) over each run's top `depth` (1-based)."""
    out: Run = {}
    qids = set().union(*(run.keys() for run, _ in runs))
    for qid in qids:
        total: dict[str, float] = defaultdict(float)
        for run, weight in runs:
            for rank, (doc, _) in enumerate(run.get(qid, [])[:depth], start=1):
                total[doc] += weight / (k + rank)
        out[qid] = sorted(total.items(), key=lambda kv: -kv[1])[:DEPTH]
    return out


def linear(runs: Sequence[tuple[Run, float]]) -> Run:
    """Min-max normalised score sum (per query, over each run's top DEPTH)."""
    out: Run = {}
    qids = set().union(*(run.keys() for run, _ in runs))
    for qid in qids:
        total: dict[str, float] = defaultdict(float)
        for run, weight in runs:
            ranking = run.get(qid, [])
            if not ranking:
                continue
            hi, lo = ranking[0][1], ranking[-1][1]
            for doc, s in ranking:
                total[doc] += weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
        out[qid] = sorted(total.items(), key=lambda kv: -kv[1])[:DEPTH]
    return out


def prf_queries(
    seed: Run,
    doc_terms: Mapping[str, Sequence[str]],
    idf: Mapping[str, float],
    top_docs: int,
    top_terms: int,
) -> dict[str, list[tuple[str, float]]]:
    """Pseudo-relevance feedback: the best tf·idf terms of each query's top documents (weight 1/rank)."""
    out = {}
    for qid, ranking in seed.items():
        weights: dict[str, float] = defaultdict(float)
        for rank, (doc, _) in enumerate(ranking[:top_docs], start=1):
            counts = Counter(doc_terms[doc])
            for term, tf in counts.items():
                weights[term] += (1 / rank) * (1 + math.log(tf)) * idf.get(term, 0.0)
        best = sorted(weights.items(), key=lambda kv: -kv[1])[:top_terms]
        top = best[0][1] if best else 1.0
        out[qid] = [(t, w / top) for t, w in best]
    return out


# --- evaluation -------------------------------------------------------------------------------------


def score(qrels: metrics.Qrels, run: Run) -> dict[str, float]:
    return metrics.evaluate(qrels, {q: [d for d, _ in r] for q, r in run.items()})


class Table:
    def __init__(self, results: Path | None = None) -> None:
        self.rows: list[tuple[str, str, dict[str, float]]] = []
        self.results = results

    def add(
        self, set_name: str, name: str, qrels: metrics.Qrels, run: Run, save: str = ""
    ) -> dict[str, float]:
        """Score and print a run; with `save` and --results, also write it as match_eval results."""
        s = score(qrels, run)
        self.rows.append((set_name, name, s))
        if save and self.results:
            path = self.results / set_name / f"{save}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as stream:
                for qid in sorted(run):
                    results = [{"id": d, "score": round(v, 6)} for d, v in run[qid]]
                    stream.write(json.dumps({"query_id": qid, "results": results}) + "\n")
        print(
            f"{set_name:6} {name:62} MRR@10 {s['mrr@10']:.4f}  nDCG@10 {s['ndcg@10']:.4f}  "
            f"R@100 {s['recall@100']:.4f}",
            flush=True,
        )
        return s


def vectors(texts: Sequence[str], role: str) -> np.ndarray:
    from matching import embeddings

    started = time.perf_counter()
    out = embeddings.vectors(list(texts), role)  # type: ignore[arg-type]
    took = time.perf_counter() - started
    if took > 5:
        print(f"  (encoded/fetched {len(texts)} {role} texts in {took:.0f}s)", flush=True)
    return out


# --- the sets ---------------------------------------------------------------------------------------


def monolingual(table: Table, s: benchmark_sets.BenchmarkSet, language: str, dense: bool) -> None:
    qrels = metrics.qrels_from_lines(s.qrels)
    ids = [d["id"] for d in s.corpus]
    abstracts = analysed([d["abstract"] for d in s.corpus], language)
    field = {"abstract": BM25(ids, abstracts)}
    q_terms = dict(
        zip([q["id"] for q in s.queries], analysed([q["text"] for q in s.queries], language), strict=True)
    )
    bm25 = bm25_run(field, {"abstract": 1.0}, {q: unweighted(t) for q, t in q_terms.items()})
    table.add(s.name, "BM25 (analysis.analyze) abstract", qrels, bm25, save="bm25")
    # The "standard analyzer" baseline: lowercased \w+ words, as Elasticsearch's standard analyzer.
    import re

    word = re.compile(r"\w+")
    std_docs = [[w.lower() for w in word.findall(d["abstract"])] for d in s.corpus]
    std = bm25_run(
        {"abstract": BM25(ids, std_docs)},
        {"abstract": 1.0},
        {q["id"]: unweighted([w.lower() for w in word.findall(q["text"])]) for q in s.queries},
    )
    table.add(s.name, "BM25 standard analyzer (\\w+ lowercased)", qrels, std, save="bm25-standard")
    if not dense:
        return
    qids = [q["id"] for q in s.queries]
    dv = vectors([passage(d) for d in s.corpus], "passage")
    qv = vectors([q["text"] for q in s.queries], "query")
    dn = dense_run(ids, dv, qids, qv)
    table.add(s.name, "dense e5-small", qrels, dn)
    table.add(s.name, "RRF k=60 (BM25, dense)", qrels, rrf([(bm25, 1.0), (dn, 1.0)]))
    table.add(s.name, "RRF k=60 (standard BM25, dense)", qrels, rrf([(std, 1.0), (dn, 1.0)]))
    for w in (0.5, 2.0):
        table.add(s.name, f"RRF k=60 (BM25 x1, dense x{w})", qrels, rrf([(bm25, 1.0), (dn, w)]))
    table.add(s.name, "linear minmax (BM25 + dense)", qrels, linear([(bm25, 1.0), (dn, 1.0)]), save="hybrid")
    for w in (0.5, 2.0):
        table.add(s.name, f"linear minmax (BM25 x1, dense x{w})", qrels, linear([(bm25, 1.0), (dn, w)]))
    table.add(s.name, "RRF k=10 (BM25, dense)", qrels, rrf([(bm25, 1.0), (dn, 1.0)], 10))


def crosslingual(table: Table, s: benchmark_sets.BenchmarkSet, kr: Any, dense: bool, full: bool) -> None:
    qrels = metrics.qrels_from_lines(s.qrels)
    ids = [d["id"] for d in s.corpus]
    titles = analysed([d["title"] for d in s.corpus], "ko")
    abstracts = analysed([d["abstract"] for d in s.corpus], "ko")
    fields = {"title": BM25(ids, titles), "abstract": BM25(ids, abstracts)}
    fields["all"] = BM25(ids, [t + a for t, a in zip(titles, abstracts, strict=True)])
    qids = [q["id"] for q in s.queries]
    q_terms = dict(zip(qids, analysed([q["text"] for q in s.queries], "en"), strict=True))
    both = {"title": 1.0, "abstract": 1.0}

    raw = bm25_run(fields, both, {q: unweighted(t) for q, t in q_terms.items()})
    table.add(s.name, "BM25 raw English terms (title+abstract)", qrels, raw, save="bm25-raw")

    pairs = benchmark_sets.parallel_titles(kr, "train")
    train = lexicon.analysed_pairs(pairs)
    tables: dict[str, lexicon.Translations] = {}
    for method, iterations in (("model1", 5), ("model1", 10), ("model1", 20), ("dice", 0)):
        full_table = lexicon.model1(train, iterations) if method == "model1" else lexicon.dice(train)
        for top_n, threshold in ((3, 0.1), (5, 0.05), (10, 0.01)):
            name = f"{method}{'-' + str(iterations) if iterations else ''} top{top_n} p>={threshold}"
            tables[name] = lexicon.prune(full_table, top_n, threshold)
    # The recommended configuration; each block below changes one of its settings.
    default = f"model1-{lexicon.ITERATIONS} top{lexicon.TOP_N} p>={lexicon.MIN_PROBABILITY}"
    best_boosts = {"title": TITLE_BOOST, "abstract": 1.0}

    def translated(
        tab: lexicon.Translations, keep: str = lexicon.KEEP, weight: float = lexicon.KEEP_WEIGHT
    ) -> dict[str, Any]:
        return {q: lexicon.apply(tab, t, keep=keep, keep_weight=weight) for q, t in q_terms.items()}

    tab = tables[default]
    lex = bm25_run(fields, best_boosts, translated(tab))
    table.add(
        s.name,
        f"BM25 lexicon ({default}, English kept x{lexicon.KEEP_WEIGHT}, title x{TITLE_BOOST})",
        qrels,
        lex,
        save="bm25-lexicon",
    )
    variants = tables if full else {default: tables[default]}
    for name, variant in variants.items():
        run = bm25_run(fields, best_boosts, translated(variant))
        table.add(s.name, f"BM25 lexicon {name}", qrels, run)
    for keep, weight in (
        ("none", 0.0),
        ("all", 0.25),
        ("all", 1.0),
        ("all", 2.0),
        ("untranslated", 0.5),
        ("untranslated", 1.0),
    ):
        run = bm25_run(fields, best_boosts, translated(tab, keep, weight))
        table.add(s.name, f"BM25 lexicon, English terms kept: {keep} x{weight}", qrels, run)
    for boosts in (
        {"title": 1.0, "abstract": 1.0},
        {"title": 3.0, "abstract": 1.0},
        {"title": 1.0, "abstract": 0.0},
        {"title": 0.0, "abstract": 1.0},
        {"all": 1.0},
    ):
        label = ", ".join(f"{k} x{v}" for k, v in boosts.items())
        table.add(s.name, f"BM25 lexicon ({label})", qrels, bm25_run(fields, boosts, translated(tab)))
    if not dense:
        return
    dv = vectors([passage(d) for d in s.corpus], "passage")
    qv = vectors([q["text"] for q in s.queries], "query")
    dn = dense_run(ids, dv, qids, qv)
    table.add(s.name, "dense e5-small (title + abstract passage)", qrels, dn)
    tv = vectors([d["title"] for d in s.corpus], "passage")
    dt = dense_run(ids, tv, qids, qv)
    table.add(s.name, "dense e5-small (title-only passage)", qrels, dt)
    table.add(s.name, "RRF k=60 (dense passage, dense title)", qrels, rrf([(dn, 1.0), (dt, 1.0)]))
    # The query's best Korean translations as a text, encoded as a Korean query.
    korean_text = [
        " ".join(k for k, _ in lexicon.apply(tab, q_terms[q], keep="untranslated", keep_weight=1.0)) or q
        for q in qids
    ]
    dk = dense_run(ids, dv, qids, vectors(korean_text, "query"))
    table.add(s.name, "dense e5-small, query = lexicon translations as text", qrels, dk)
    table.add(
        s.name,
        "RRF k=60 (lexicon BM25, dense, dense translated)",
        qrels,
        rrf([(lex, 1.0), (dn, 1.0), (dk, 1.0)]),
    )
    table.add(s.name, "RRF k=60 (lexicon BM25, dense)", qrels, rrf([(lex, 1.0), (dn, 1.0)]))
    table.add(
        s.name, "RRF k=60 (lexicon BM25, dense, raw BM25)", qrels, rrf([(lex, 1.0), (dn, 1.0), (raw, 1.0)])
    )
    table.add(
        s.name, "RRF k=60 (lexicon BM25, dense, dense title)", qrels, rrf([(lex, 1.0), (dn, 1.0), (dt, 1.0)])
    )
    for k in (10, 30):
        table.add(s.name, f"RRF k={k} (lexicon BM25, dense)", qrels, rrf([(lex, 1.0), (dn, 1.0)], k))
    table.add(s.name, "RRF k=60 (lexicon BM25, dense title)", qrels, rrf([(lex, 1.0), (dt, 1.0)]))
    four = [(lex, 1.0), (dn, 1.0), (dt, 1.0), (dk, 1.0)]
    table.add(s.name, "RRF k=60 (lexicon BM25, dense, dense title, dense translated)", qrels, rrf(four))
    for k in (10, 30):
        three = rrf([(lex, 1.0), (dn, 1.0), (dt, 1.0)], k)
        table.add(s.name, f"RRF k={k} (lexicon BM25, dense, dense title)", qrels, three)
    for w in (1.5, 2.0):
        three = rrf([(lex, w), (dn, 1.0), (dt, 1.0)])
        table.add(s.name, f"RRF k=60 (lexicon BM25 x{w}, dense, dense title)", qrels, three)
    table.add(s.name, "linear minmax (lexicon BM25, dense title)", qrels, linear([(lex, 1.0), (dt, 1.0)]))
    for wl, wd, wt in ((1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (1.0, 0.5, 0.5), (1.5, 1.0, 0.5), (1.5, 0.5, 1.0)):
        three = linear([(lex, wl), (dn, wd), (dt, wt)])
        label = f"linear minmax (lexicon BM25 x{wl}, dense x{wd}, dense title x{wt})"
        table.add(s.name, label, qrels, three, save="recommended" if (wl, wd, wt) == (1.0, 0.5, 0.5) else "")
    for wl in (0.5, 1.5, 2.0):
        table.add(
            s.name, f"linear minmax (lexicon BM25 x{wl}, dense x1)", qrels, linear([(lex, wl), (dn, 1.0)])
        )
    for w in (0.5, 2.0):
        table.add(s.name, f"RRF k=60 (lexicon BM25 x1, dense x{w})", qrels, rrf([(lex, 1.0), (dn, w)]))
    table.add(s.name, "linear minmax (lexicon BM25 + dense)", qrels, linear([(lex, 1.0), (dn, 1.0)]))
    # Pseudo-relevance feedback: Korean terms of the top documents of a first ranking, into Korean BM25.
    doc_terms = {i: t + a for i, t, a in zip(ids, titles, abstracts, strict=True)}
    title_terms = dict(zip(ids, titles, strict=True))
    first = rrf([(lex, 1.0), (dn, 1.0)])
    for seed_name, seed in (("dense", dn), ("RRF(lex, dense)", first)):
        for source_name, source in (("title+abstract", doc_terms), ("title", title_terms)):
            for top_docs, top_terms in ((3, 20), (5, 30)):
                fb = prf_queries(seed, source, fields["all"].idf, top_docs, top_terms)
                fb_run = bm25_run(fields, both, fb)
                label = f"PRF {seed_name} top{top_docs} docs {source_name} {top_terms} terms"
                table.add(s.name, f"{label}: BM25 alone", qrels, fb_run)
                table.add(
                    s.name,
                    f"RRF k=60 (lexicon BM25, dense, {label})",
                    qrels,
                    rrf([(lex, 1.0), (dn, 1.0), (fb_run, 1.0)]),
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, help="directory written by build_match_benchmark")
    parser.add_argument("--sets", default="xling,en,ko")
    parser.add_argument("--no-dense", action="store_true", help="skip the encoder runs")
    parser.add_argument("--full", action="store_true", help="every lexicon variant")
    parser.add_argument("--results", type=Path, help="write the main runs here as match_eval results files")
    args = parser.parse_args()
    sets, extra = load_sets(args.bench)
    table = Table(args.results)
    for name in args.sets.split(","):
        s = sets[name]
        print(f"== {name}: {len(s.corpus)} documents, {len(s.queries)} queries", flush=True)
        if name == "xling":
            crosslingual(table, s, extra["kr"], not args.no_dense, args.full)
        else:
            monolingual(table, s, "en" if name == "en" else "ko", not args.no_dense)


if __name__ == "__main__":
    main()
