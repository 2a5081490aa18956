"""python manage.py verify_log

Recomputes the transparency log from the stored rows and checks it against every signed tree head: a
modified, removed or reordered entry is reported. Prints each problem; exits with status 1 if any.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from escrow.vault import log


class Command(BaseCommand):
    help = "Check the transparency log against its signed tree heads."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = log.check()
        for problem in problems:
            self.stdout.write(f"FAIL {problem}")
        if problems:
            raise CommandError(f"the transparency log has {len(problems)} problem(s)")
        head = log.latest_tree_head()
        self.stdout.write(
            f"ok: {log.size()} entries; latest signed tree head covers {head.tree_size if head else 0}"
        )
