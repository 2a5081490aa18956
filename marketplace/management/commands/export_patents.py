"""python manage.py export_patents --format jsonl [--office KR]... OUT

Writes the stored patents in the project's JSONL interchange format (docs/data-formats.md), ordered by
office and application number so that two exports of the same data are the same bytes. OUT `-` is the
standard output; otherwise the file is written beside OUT and renamed into place once complete.
"""

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from marketplace.importers import jsonl
from marketplace.importers.writer import record_from_patent
from marketplace.models import Patent, PatentOffice


class Command(BaseCommand):
    help = "Export patents to a file in the project's JSONL interchange format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="file to write, or - for the standard output")
        parser.add_argument("--format", required=True, choices=["jsonl"])
        parser.add_argument(
            "--office",
            action="append",
            choices=PatentOffice.values,
            help="only this office's patents (repeatable; all offices when left out)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        patents = Patent.objects.order_by("office", "application_number")
        if options["office"]:
            patents = patents.filter(office__in=options["office"])
        records = (record_from_patent(p) for p in patents.iterator(chunk_size=1000))
        if options["out"] == "-":
            count = jsonl.write(records, sys.stdout)
            self.stderr.write(f"{count} patents written")
            return
        out = Path(options["out"])
        partial = out.with_name(f".{out.name}.partial")
        with partial.open("w", encoding="utf-8", newline="\n") as stream:
            count = jsonl.write(records, stream)
        os.replace(partial, out)
        self.stdout.write(f"{out.name}: {count} patents written")
