"""python manage.py import_patents --format <fmt> FILE

Streams the file, upserts by office + application number, links each patent without an owner to its
holder's organisation, reports every bad row (line, field, reason) without stopping, and ends with a
summary. Running it twice changes nothing the second time. Formats: docs/data-formats.md.
"""

import csv
import io
import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from marketplace.importers import FIELDS, FORMATS
from marketplace.importers.writer import ImportSummary, write_patents


class Command(BaseCommand):
    help = "Import patents from a file in one of the supported formats."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument(
            "--errors", type=Path, help="also write the per-row error report to this CSV file"
        )
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        size = path.stat().st_size or 1
        show_progress = not options["no_progress"] and sys.stderr.isatty()
        with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as stream:

            def progress(summary: ImportSummary) -> None:
                if show_progress:
                    done = min(raw.tell() / size, 1.0)
                    bar = "#" * int(done * 30)
                    sys.stderr.write(f"\r[{bar:<30}] {done:4.0%} {summary.rows} rows")
                    sys.stderr.flush()

            try:
                summary = write_patents(
                    FORMATS[options["format"]](stream, date.today()),
                    batch_size=options["batch_size"],
                    on_progress=progress,
                    fields=FIELDS[options["format"]],
                )
            except UnicodeDecodeError as exc:
                raise CommandError(f"{path} is not UTF-8 text: {exc}") from exc
        if show_progress:
            sys.stderr.write("\n")
        for error in summary.errors:
            # An empty field means the whole line (a JSONL line that is not JSON, say).
            where = f"{error.field}: " if error.field else ""
            self.stderr.write(f"{path.name}:{error.line}: {where}{error.reason}")
        if options["errors"]:
            with options["errors"].open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "field", "reason"])
                writer.writerows((e.line, e.field, e.reason) for e in summary.errors)
        self.stdout.write(
            f"{path.name}: {summary.rows} rows, {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.superseded} superseded by a later row, "
            f"{summary.failed} failed, {summary.organisations_created} organisations created, "
            f"{summary.owners_linked} owners linked"
        )
