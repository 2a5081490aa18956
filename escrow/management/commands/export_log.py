"""python manage.py export_log OUT.jsonl

Writes the transparency log as `python -m escrow.verify --log OUT.jsonl` reads it: one JSON object a
line, every leaf ({"type": "leaf", "index", "leaf": base64}) then every signed tree head ({"type":
"tree_head", ...}). A tree head covering all entries is signed first (if the log grew since the last),
so a third party can verify the whole export. OUT `-` is the standard output; a file is written beside
OUT and renamed into place once complete.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandParser

from escrow.vault import log


def _write(out: TextIO) -> int:
    count = 0
    for line in log.export_lines():
        out.write(json.dumps(line, sort_keys=True) + "\n")
        count += 1
    return count


class Command(BaseCommand):
    help = "Export the transparency log for the offline verifier."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="file to write, or - for the standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        log.sign_tree_head()
        if options["out"] == "-":
            count = _write(sys.stdout)
            self.stderr.write(f"{count} lines written")
            return
        target = Path(options["out"])
        partial = target.with_name(target.name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            count = _write(out)
        os.replace(partial, target)
        self.stdout.write(f"{count} lines written to {target}")
