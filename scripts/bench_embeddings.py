"""Measure the text encoder on the real patent files: speed on this machine and retrieval quality.

    .venv/bin/python scripts/bench_embeddings.py            # everything (first run encodes ~2,400 texts)
    .venv/bin/python scripts/bench_embeddings.py --skip-speed
    .venv/bin/python scripts/bench_embeddings.py --skip-quality --sample 24

Quality: each title is a query against all abstracts of its file, ranked by cosine; a title's relevant
abstracts are those of the records it belongs to. Reports MRR@10 and Recall@10 (a relevant abstract in the
top ten). Cross-lingual: the English title (the parenthetical of the Korean file's title column) against the
Korean abstracts; monolingual: the NASA title against the NASA abstracts, and the Korean title against the
Korean abstracts. Vectors go through the vector cache (matching.embeddings.vectors, the database named by
DATABASE_URL), so a re-run only encodes what is new.

Speed: passages of about 250 tokens (abstracts of both files), encoded without the cache in child
processes, one per thread count (OMP_NUM_THREADS must be set before the engine loads) and batch size.
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA_DIR = Path(os.environ.get("IPMARKET_DATA_DIR", ROOT.parent / "shared" / "data"))
KR_FILE = DATA_DIR / "kr_university_patents_inu.csv"
NASA_FILE = DATA_DIR / "us_nasa_licensable_patents_2014.csv"


def split_title(title: str) -> tuple[str, str]:
    """'한국어 제목(ENGLISH TITLE)' -> (Korean, English), by the importer's own rule."""
    import django

    django.setup()
    from marketplace.importers import kipris_csv

    parts = kipris_csv.split_title(title)
    return parts.get("ko", title.strip()), parts.get("en", "")


@dataclass
class Task:
    name: str
    queries: list[str]
    docs: list[str]
    relevant: list[set[int]]  # per query: indices into docs


def _task(name: str, pairs: list[tuple[str, str]]) -> Task:
    """Distinct queries against distinct docs, from (query, doc) pairs."""
    docs: dict[str, int] = {}
    rel: dict[str, set[int]] = {}
    for query, doc in pairs:
        if not query or not doc:
            continue
        index = docs.setdefault(doc, len(docs))
        rel.setdefault(query, set()).add(index)
    return Task(name, list(rel), list(docs), list(rel.values()))


def load_tasks() -> list[Task]:
    with KR_FILE.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    by_number: dict[str, list[str]] = {}
    for row in rows:
        by_number.setdefault(row[3].strip(), row)
    kr = [(split_title(r[0]), r[11].strip()) for r in by_number.values()]
    with NASA_FILE.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        nasa = [(r["Title"].strip(), r["Abstract"].strip()) for r in reader]
    return [
        _task(
            "cross-lingual: EN title -> KO abstract (KR file)", [(en, abstract) for (_, en), abstract in kr]
        ),
        _task("monolingual: KO title -> KO abstract (KR file)", [(ko, abstract) for (ko, _), abstract in kr]),
        _task("monolingual: EN title -> EN abstract (NASA file)", nasa),
    ]


def rank_metrics(
    queries: np.ndarray, docs: np.ndarray, relevant: list[set[int]], k: int = 10
) -> tuple[float, float]:
    scores = queries @ docs.T
    top = np.argsort(-scores, axis=1)[:, :k]
    rr, hits = [], []
    for row, rel in zip(top, relevant, strict=True):
        ranks = [pos for pos, doc in enumerate(row) if int(doc) in rel]
        rr.append(1.0 / (ranks[0] + 1) if ranks else 0.0)
        hits.append(1.0 if ranks else 0.0)
    return float(np.mean(rr)), float(np.mean(hits))


def quality() -> None:
    import django

    django.setup()
    from matching.embeddings import encoder, vectors

    print(f"encoder: {encoder().model_version} ({encoder().dimensions} dimensions)")
    print(f"{'task':<52} {'queries':>7} {'docs':>5} {'MRR@10':>7} {'R@10':>6} {'secs':>6}")
    for task in load_tasks():
        started = time.perf_counter()
        q = vectors(task.queries, "query")
        d = vectors(task.docs, "passage")
        mrr, recall = rank_metrics(q, d, task.relevant)
        secs = time.perf_counter() - started
        sizes = f"{len(task.queries):>7} {len(task.docs):>5}"
        print(f"{task.name:<52} {sizes} {mrr:>7.3f} {recall:>6.3f} {secs:>6.1f}")


def speed_sample(n: int, low: int = 200, high: int = 300) -> list[str]:
    """Abstracts of about 250 tokens (by the encoder's own count), alternately Korean and NASA."""
    from matching.embeddings import MultilingualE5Small

    counter = MultilingualE5Small()
    tasks = load_tasks()
    pools = [tasks[0].docs, tasks[2].docs]
    picked: list[list[str]] = [[], []]
    for pool, out in zip(pools, picked, strict=True):
        for text in pool:
            if low <= counter.token_count(text) <= high:
                out.append(text)
            if len(out) >= n:
                break
    mixed = [t for pair in zip(*picked, strict=False) for t in pair]
    return mixed[:n]


def speed_child(batch: int, sample_file: str) -> None:
    """Runs in a child process: throughput of one (threads, batch) setting, as one JSON line."""
    import django

    django.setup()
    from matching.embeddings import MultilingualE5Small, passages_per_second

    texts = json.loads(Path(sample_file).read_text())
    enc = MultilingualE5Small(batch_size=batch)
    started = time.perf_counter()
    enc.encode(["warm-up"], "passage")
    load = time.perf_counter() - started
    cpu = time.process_time()
    per_s = passages_per_second(texts, enc)
    per_cpu_s = len(texts) / (time.process_time() - cpu)  # less sensitive to other load
    latencies = []
    for text in [
        "graphene electrode for supercapacitors",
        "그래핀 전극 제조방법",
        "flame suppression agent",
    ] * 3:
        t0 = time.perf_counter()
        enc.encode([text], "query")
        latencies.append(time.perf_counter() - t0)
    tokens = statistics.mean(enc.token_count(t) for t in texts)
    print(
        json.dumps(
            {
                "per_s": per_s,
                "per_cpu_s": per_cpu_s,
                "load_s": load,
                "tokens": tokens,
                "query_ms": 1000 * statistics.median(latencies),
            }
        )
    )


def speed(n: int, batches: list[int], threads: list[int]) -> None:
    import django

    django.setup()
    texts = speed_sample(n)
    sample_file = ROOT / ".run" / "bench_embeddings_sample.json"
    sample_file.parent.mkdir(parents=True, exist_ok=True)
    sample_file.write_text(json.dumps(texts, ensure_ascii=False))
    print(
        f"speed: {len(texts)} passages of 200-300 tokens (Korean and NASA abstracts), {os.cpu_count()} CPUs"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average before: {load} (other busy processes on the machine skew these figures)")
    header = (
        ("threads", 7),
        ("batch", 5),
        ("passages/s", 10),
        ("per CPU-s", 9),
        ("tokens", 6),
        ("query ms", 8),
    )
    print(" ".join(f"{name:>{width}}" for name, width in header), "load s")
    for thread_count in threads:
        for batch in batches:
            env = dict(os.environ, OMP_NUM_THREADS=str(thread_count))
            out = subprocess.run(  # noqa: S603 (this script, by this interpreter)
                [sys.executable, __file__, "--child-batch", str(batch), "--child-sample", str(sample_file)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(
                f"{thread_count:>7} {batch:>5} {r['per_s']:>10.2f} {r['per_cpu_s']:>9.2f} "
                f"{r['tokens']:>6.0f} "
                f"{r['query_ms']:>8.1f} {r['load_s']:>6.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--sample", type=int, default=32, help="passages per speed measurement")
    parser.add_argument("--batches", default="1,8,16,32", help="batch sizes to time")
    parser.add_argument("--threads", default="1,2", help="OMP thread counts to time")
    parser.add_argument("--child-batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-sample", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_batch:
        speed_child(args.child_batch, args.child_sample)
        return
    if not args.skip_speed:
        speed(
            args.sample, [int(b) for b in args.batches.split(",")], [int(t) for t in args.threads.split(",")]
        )
    if not args.skip_quality:
        quality()


if __name__ == "__main__":
    main()
