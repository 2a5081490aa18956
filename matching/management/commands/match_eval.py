"""`match_eval --corpus C.jsonl --queries Q.jsonl --k 100 --out R.jsonl` (docs/data-formats.md)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching.evaluation import MODES, EvalInputError, run
from matching.indexing import SearchUnavailable


class Command(BaseCommand):
    help = "Rank queries against a corpus in a temporary index with the product's matching; write results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", required=True)
        parser.add_argument("--queries", required=True)
        parser.add_argument("--k", type=int, default=100)
        parser.add_argument("--out", required=True)
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="hybrid",
            help="hybrid: the product's matching (default); bm25, bm25-standard: baselines, same engine",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["k"] <= 1000:
            raise CommandError("--k must be between 1 and 1000")
        started = time.perf_counter()
        try:
            count = run(options["corpus"], options["queries"], options["k"], options["out"], options["mode"])
        except (EvalInputError, FileNotFoundError) as error:
            raise CommandError(str(error)) from error
        except SearchUnavailable as error:
            raise CommandError(f"Elasticsearch is unavailable: {error}") from error
        self.stdout.write(
            f"{count} queries ranked in {time.perf_counter() - started:.1f} s -> {options['out']}"
        )
