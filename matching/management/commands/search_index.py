"""`search_index rebuild | check | drain | status`: operate the Elasticsearch indices.

- rebuild: fill new versions from PostgreSQL and swap the aliases atomically (searches keep working).
- check: compare the ids and counts of each index with PostgreSQL, the source of truth; exit 1 on drift;
  `--repair` queues the drifted objects for re-indexing.
- drain: apply the pending outbox now (what Celery does after each commit and in the periodic sweep).
- status: versions, document counts and the outbox size.
"""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from matching import indexing
from matching.es import client
from matching.indices import ALL, by_name
from matching.models import IndexOutbox


class Command(BaseCommand):
    help = "Rebuild, check, drain or show the search indices."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rebuild", "check", "drain", "status"])
        parser.add_argument("--index", choices=[ref.name for ref in ALL], action="append")
        parser.add_argument("--repair", action="store_true", help="check: queue drifted objects")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        refs = [by_name(n) for n in options["index"]] if options["index"] else list(ALL)
        try:
            getattr(self, "do_" + options["action"])(refs, options)
        except indexing.SearchUnavailable as error:
            raise CommandError(f"Elasticsearch is unavailable: {error}") from error

    def do_rebuild(self, refs: list[Any], options: dict[str, Any]) -> None:
        show = not options["no_progress"] and sys.stderr.isatty()
        for ref in refs:

            def progress(done: int, total: int, name: str = ref.name) -> None:
                if show:
                    part = done / total if total else 1.0
                    sys.stderr.write(f"\r{name:<9} [{'#' * int(part * 30):<30}] {part:4.0%} {done}/{total}")
                    sys.stderr.flush()

            stats = indexing.rebuild(ref, batch_size=options["batch_size"], on_progress=progress)
            if show:
                sys.stderr.write("\n")
            self.stdout.write(
                f"{stats.index}: {stats.documents} documents in {stats.version} ({stats.seconds:.1f} s, "
                f"{stats.documents / max(stats.seconds, 1e-9):.0f} docs/s); {stats.missing_vectors} queued "
                f"for encoding; dropped {', '.join(stats.dropped) or 'nothing'}"
            )

    def do_check(self, refs: list[Any], options: dict[str, Any]) -> None:
        drift = False
        for ref in refs:
            report = indexing.check(ref)
            state = "consistent" if report.consistent else "DRIFT"
            self.stdout.write(
                f"{report.index}: {state}: PostgreSQL {report.database}, index {report.engine}, "
                f"missing {len(report.missing)} {report.missing[:10]}, extra {len(report.extra)} "
                f"{report.extra[:10]}, without vector {report.without_vector}"
                + ("" if report.mapping_current else ", mapping outdated (rebuild)")
            )
            if not report.consistent:
                drift = True
                if options["repair"]:
                    with transaction.atomic():
                        indexing.enqueue(ref.name, report.missing + report.extra)
                    self.stdout.write(f"{report.index}: queued {len(report.missing) + len(report.extra)}")
        if drift and not options["repair"]:
            raise CommandError("the indices differ from PostgreSQL (run with --repair to queue the fixes)")

    def do_drain(self, refs: list[Any], options: dict[str, Any]) -> None:
        total = 0
        while True:
            result = indexing.drain(500)
            total += result.written + result.deleted
            if result.written + result.deleted < 500:
                break
        self.stdout.write(f"applied {total} changes; {IndexOutbox.objects.count()} pending")

    def do_status(self, refs: list[Any], options: dict[str, Any]) -> None:
        for ref in refs:
            live = ref.live_version()
            count = client().count(index=ref.alias)["count"] if live else 0
            building = ref.versions_behind(ref.next_alias)
            self.stdout.write(
                f"{ref.name}: alias {ref.alias} -> {live or '(none)'}, {count} documents"
                + (f", rebuilding into {building[0]}" if building else "")
            )
        self.stdout.write(f"outbox: {IndexOutbox.objects.count()} pending")
