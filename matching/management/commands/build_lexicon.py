"""python manage.py build_lexicon --out matching/data/lexicon_en_ko.json [--method model1|dice] ...

Learns English -> Korean term translations (matching.lexicon) from the parallel titles of the Korean
patents of the benchmark's train split only (matching.benchmark_sets.split_of), so that the xling
benchmark's test queries never inform it.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import benchmark_sets, lexicon


class Command(BaseCommand):
    help = "Learn the English -> Korean lexicon from the train split's parallel titles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default=str(lexicon.DEFAULT_PATH), help="JSON file to write")
        parser.add_argument("--data-dir", help="directory holding the KIPRIS CSV (default: ../shared/data)")
        parser.add_argument("--method", choices=lexicon.METHODS, default="model1")
        parser.add_argument(
            "--iterations", type=int, default=lexicon.ITERATIONS, help="EM iterations (model1)"
        )
        parser.add_argument("--top-n", type=int, default=lexicon.TOP_N, help="translations kept per term")
        parser.add_argument("--min-probability", type=float, default=lexicon.MIN_PROBABILITY)

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(options["data_dir"]) if options["data_dir"] else benchmark_sets.default_data_dir()
        source = data_dir / benchmark_sets.KR_FILE
        if not source.is_file():
            raise CommandError(f"{source} not found")
        kr = benchmark_sets.load_kr(source)
        pairs = benchmark_sets.parallel_titles(kr, "train")
        translations = lexicon.learn(
            pairs, options["method"], options["iterations"], options["top_n"], options["min_probability"]
        )
        provenance = {
            "source": {"file": benchmark_sets.KR_FILE, "sha256": benchmark_sets.file_sha256(source)},
            "split": {"rule": benchmark_sets.SPLIT_RULE, "used": "train"},
            "method": {
                "name": options["method"],
                "iterations": options["iterations"] if options["method"] == "model1" else None,
                "top_n": options["top_n"],
                "min_probability": options["min_probability"],
                "analysis": "matching.analysis.analyze (English 'en', Korean 'ko')",
            },
            "counts": {
                "patents": len(kr),
                "train_pairs": len(pairs),
                "english_terms": len(translations),
                "translations": sum(len(row) for row in translations.values()),
            },
        }
        out = Path(options["out"])
        lexicon.write(out, translations, provenance)
        self.stdout.write(
            f"{out}: {len(translations)} English terms, {provenance['counts']['translations']} translations "
            f"from {len(pairs)} train title pairs"
        )
