"""python manage.py rotate_kek [--batch-size N]

Re-wraps every deposit's data key under ESCROW_ACTIVE_KEK. Only the 60-byte wrapped keys change; the
ciphertext files are not touched (envelope encryption). Deposits already under the active KEK are
skipped, so running it again changes nothing. Rows are locked batch by batch (one short transaction
per batch), so deposits and downloads go on meanwhile. One "key_rotation" entry on the transparency log
records the counts and the KEK ids, never key material.

Rotation: add the new KEK to ESCROW_KEKS and make it ESCROW_ACTIVE_KEK, run this command, and remove
the old KEK from ESCROW_KEKS once it reports nothing left to re-wrap.
"""

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from escrow.crypto import TamperedError, UnknownKekError
from escrow.models import Deposit
from escrow.vault import keys, log


class Command(BaseCommand):
    help = "Re-wrap every deposit's data key under the active key-encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        ring = keys.keyring()
        active = ring.active_id
        batch_size = max(1, options["batch_size"])
        rewrapped: Counter[str] = Counter()  # by the KEK they were under
        failed: list[int] = []
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    Deposit.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(kek_id=active)
                    .order_by("pk")
                    .only("pk", "kek_id", "wrapped_key")[:batch_size]
                )
                if not rows:
                    break
                for deposit in rows:
                    try:
                        new_id, wrapped = ring.rewrap(
                            deposit.kek_id, bytes(deposit.wrapped_key), keys.deposit_context(deposit.pk)
                        )
                    except (TamperedError, UnknownKekError) as exc:
                        self.stderr.write(f"deposit {deposit.pk}: cannot unwrap its data key: {exc}")
                        failed.append(deposit.pk)
                        continue
                    rewrapped[deposit.kek_id] += 1
                    Deposit.objects.filter(pk=deposit.pk).update(kek_id=new_id, wrapped_key=wrapped)
                last_pk = rows[-1].pk
        already = Deposit.objects.filter(kek_id=active).count() - sum(rewrapped.values())
        total = sum(rewrapped.values())
        if total:
            with transaction.atomic():
                log.append(
                    log.LogKind.KEY_ROTATION,
                    {"to_kek": active, "from_keks": dict(sorted(rewrapped.items())), "rewrapped": total},
                )
        self.stdout.write(
            f"re-wrapped {total} data key(s) under KEK {active}"
            + "".join(f"; {count} from {kek}" for kek, count in sorted(rewrapped.items()))
            + f"; {already} already under it; {len(failed)} failed"
        )
        if failed:
            raise CommandError(f"{len(failed)} deposit(s) could not be re-wrapped: {failed[:20]}")
