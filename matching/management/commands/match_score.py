"""python manage.py match_score --qrels QRELS.jsonl --results RESULTS.jsonl [--json OUT]

Scores a match_eval results file against relevance judgements: nDCG@10, Recall@100 and MRR@10, averaged
over the judged queries (a judged query missing from the results scores 0).
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from matching import metrics
from matching.benchmark_sets import read_jsonl


class Command(BaseCommand):
    help = "Score a match_eval results file against qrels (nDCG@10, Recall@100, MRR@10)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--qrels", required=True, help="qrels.jsonl: {query_id, id, grade} lines")
        parser.add_argument("--results", required=True, help="results.jsonl written by match_eval")
        parser.add_argument("--json", dest="json_out", help="also write the scores to this JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        qrels = metrics.qrels_from_lines(read_jsonl(Path(options["qrels"])))
        run = metrics.run_from_lines(read_jsonl(Path(options["results"])))
        scores = metrics.evaluate(qrels, run)
        unjudged = len(set(run) - set(qrels))
        self.stdout.write(
            f"queries {int(scores['queries'])}  nDCG@10 {scores['ndcg@10']:.4f}  "
            f"Recall@100 {scores['recall@100']:.4f}  MRR@10 {scores['mrr@10']:.4f}"
            + (f"  ({unjudged} result lines without judgements ignored)" if unjudged else "")
        )
        if options["json_out"]:
            report = {
                "qrels": options["qrels"],
                "results": options["results"],
                **{k: v for k, v in scores.items() if k != "queries"},
                "queries": int(scores["queries"]),
            }
            Path(options["json_out"]).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
