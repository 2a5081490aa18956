#!/usr/bin/env bash
# Matching quality on the project's benchmark (docs/benchmarks.md): builds the en / ko / xling sets from
# ../shared/data, ranks each with the product's matching (hybrid) and two baselines on the same engine,
# scores them, prints a table and writes .bench/match.json. Needs the services (make up).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
out="$ROOT/.bench/match"
mkdir -p "$out"
"$PY" manage.py build_match_benchmark --out "$out/sets" >/dev/null
for set in en ko xling; do
  for mode in hybrid bm25 bm25-standard; do
    "$PY" manage.py match_eval --mode "$mode" --corpus "$out/sets/$set/corpus.jsonl" \
      --queries "$out/sets/$set/queries.jsonl" --k 100 --out "$out/$set.$mode.results.jsonl" >/dev/null
    "$PY" manage.py match_score --qrels "$out/sets/$set/qrels.jsonl" --results "$out/$set.$mode.results.jsonl" \
      --json "$out/$set.$mode.score.json" >/dev/null
  done
done
"$PY" - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
table = {}
print(f"{'set':<6} {'mode':<14} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8}")
for s in ("en", "ko", "xling"):
    for m in ("hybrid", "bm25", "bm25-standard"):
        score = json.loads((out / f"{s}.{m}.score.json").read_text())
        table.setdefault(s, {})[m] = score
        print(f"{s:<6} {m:<14} {score['ndcg@10']:>8.4f} {score['recall@100']:>8.4f} {score['mrr@10']:>8.4f}")
(out.parent / "match.json").write_text(json.dumps(table, indent=2))
PY
