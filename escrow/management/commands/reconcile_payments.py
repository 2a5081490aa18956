"""manage.py reconcile_payments [--repair] [--json]: the gateway's records against the ledger."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from escrow.payments.reconcile import reconcile


class Command(BaseCommand):
    help = (
        "Compare the payment gateway's payments, transfers and refunds with the ledger and the gateway "
        "operations; --repair fixes lost webhooks and lost updates. Exits 1 while unrepaired drift remains."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--repair", action="store_true", help="repair what can be repaired safely")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=60,
            help="leave pending operations younger than this to their own execution (default 60)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile(repair=options["repair"], grace_seconds=options["grace_seconds"])
        self.stdout.write(report.as_json() if options["json"] else report.as_table())
        if report.unrepaired:
            raise CommandError(f"{len(report.unrepaired)} unrepaired drifts", returncode=1)
