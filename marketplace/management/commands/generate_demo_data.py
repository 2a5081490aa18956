"""python manage.py generate_demo_data [--seed N] [--reset]

Adds generated organisations, users, brokers, listings, demands and deals around the real patents, all
through the marketplace actions and in one transaction. A second run sees the first and changes nothing;
`--reset` deletes the generated records (only those) and generates again.
"""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from marketplace.demo import report
from marketplace.demo.generator import DemoDataError, already_generated, generate
from marketplace.demo.reset import reset
from marketplace.error_codes import ActionError

DEFAULT_PASSWORD = "ipmarket-demo"  # noqa: S105 -- the published password of local demo accounts
NOTHING_TO_LIST = (
    "No organisation holds an imported patent yet, so there is nothing to list: import the patents first. "
    "Nothing generated."
)


class Command(BaseCommand):
    help = "Generate demo buyers, brokers, listings, demands and deals around the imported patents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--reset", action="store_true", help="delete the generated records first, then generate again"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chosen = os.environ.get("DEMO_PASSWORD", "")
        try:
            with transaction.atomic():
                if options["reset"]:
                    removed = reset()
                    self.stdout.write(
                        "Removed generated records: " + ", ".join(f"{n} {k}" for k, n in removed.items())
                    )
                if already_generated():
                    self.stdout.write("Demo data already generated: nothing changed (--reset regenerates).")
                    note = "They share the password they were generated with"
                elif generate(options["seed"], chosen or DEFAULT_PASSWORD):
                    self.stdout.write(self.style.SUCCESS(f"Demo data generated (seed {options['seed']})."))
                    note = "They share one password"
                else:
                    self.stderr.write(self.style.WARNING(NOTHING_TO_LIST))
                    return
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        except ActionError as exc:  # e.g. a concurrent run registered the same accounts first
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        where = "set in DEMO_PASSWORD" if chosen else f'"{DEFAULT_PASSWORD}" unless DEMO_PASSWORD was set'
        self.stdout.write(report.render(f"{note}: {where}."))
