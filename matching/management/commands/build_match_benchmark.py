"""python manage.py build_match_benchmark --out DIR [--data-dir DIR]

Writes the matching benchmark (matching.benchmark_sets) built from the real patent files:
DIR/{en,ko,xling}/{corpus,queries,qrels}.jsonl and DIR/README.json. The same input gives the same bytes.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import benchmark_sets


class Command(BaseCommand):
    help = "Build the en / ko / xling matching benchmark sets from the shared patent files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="directory to write (created if missing)")
        parser.add_argument(
            "--data-dir",
            help="directory holding the two CSV files (default: $IPMARKET_DATA_DIR or ../shared/data)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(options["data_dir"]) if options["data_dir"] else benchmark_sets.default_data_dir()
        for name in (benchmark_sets.KR_FILE, benchmark_sets.NASA_FILE):
            if not (data_dir / name).is_file():
                raise CommandError(f"{data_dir / name} not found")
        sets, readme = benchmark_sets.build(data_dir)
        out = Path(options["out"])
        benchmark_sets.write(out, sets, readme)
        for benchmark in sets:
            self.stdout.write(
                f"{benchmark.name}: {len(benchmark.corpus)} documents, {len(benchmark.queries)} queries, "
                f"{len(benchmark.qrels)} judgements"
            )
        self.stdout.write(f"written to {out}")
