"""The transparency log: append-only in the database, and any entry modified, removed or reordered around
the database's guard is found by `check()`, `manage.py verify_log` and the offline verifier."""

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction

from escrow import merkle
from escrow.models import Deposit, LogEntry, TreeHead
from escrow.vault import deposits, keys, log
from tests.escrow.vault_fixtures import (
    seal,
    vault_fixture,  # noqa: F401 -- the "vault" fixture
    world_fixture,  # noqa: F401 -- the "world" fixture
)
from tests.marketplace.factories import World

ROOT = Path(__file__).resolve().parents[2]


def _populate(w: World) -> None:
    """Three deposits (each signs a tree head), reads in between, and a final signed head: 7 entries."""
    for n in range(3):
        deposit = deposits.create_deposit(
            w.seller, w.seller_org.pk, "proof_of_existence", f"Rev {n}", seal({"a.txt": b"rev %d" % n})
        )
        if n < 2:
            deposits.open_file(w.seller, deposit.pk, 0)
    with pytest.raises(Exception):  # noqa: B017 -- any refusal; only its log entry matters here
        deposits.open_file(w.other_buyer, deposit.pk, 0)
    log.sign_tree_head()


def _as_table_owner(*statements: tuple[str, list[object]]) -> None:
    """What someone with the table owner's rights could do: switch the guard off, edit, switch it on."""
    with connection.cursor() as cursor:
        # The test's inserts still have deferred foreign-key checks pending, which ALTER TABLE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE escrow_logentry DISABLE TRIGGER escrow_logentry_append_only")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE escrow_logentry ENABLE TRIGGER escrow_logentry_append_only")


def _row(index: int) -> tuple[str, bytes, str]:
    entry = LogEntry.objects.get(index=index)
    return entry.kind, bytes(entry.leaf), entry.leaf_hash


@pytest.mark.django_db
def test_an_intact_log_passes_every_check(world: World, vault: Path) -> None:
    _populate(world)

    assert [e.kind for e in LogEntry.objects.order_by("index")] == [
        "deposit", "download", "deposit", "download", "deposit", "download_refused",
    ]  # fmt: skip
    assert log.check() == []
    assert list(TreeHead.objects.values_list("tree_size", flat=True)) == [1, 3, 5, 6]
    # signing again without new entries hands back the same head
    assert log.sign_tree_head().tree_size == 6 and TreeHead.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.parametrize("table", ["escrow_logentry", "escrow_treehead"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET created_at = now()", "DELETE FROM {table}"])
def test_the_database_refuses_to_update_or_delete_log_rows(
    world: World, vault: Path, table: str, statement: str
) -> None:
    # given a populated log
    _populate(world)
    before = list(LogEntry.objects.values_list("index", "leaf_hash")), TreeHead.objects.count()

    # when anyone, the application included, issues UPDATE or DELETE
    with pytest.raises(ProgrammingError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))

    # then the database refuses, and nothing changed
    operation = statement.split()[0]
    assert f"append-only table {table}: {operation} refused" in str(info.value)
    assert (list(LogEntry.objects.values_list("index", "leaf_hash")), TreeHead.objects.count()) == before


@pytest.mark.django_db
def test_the_orm_cannot_edit_a_log_entry_either(world: World, vault: Path) -> None:
    _populate(world)
    refused = "append-only table escrow_logentry: UPDATE refused"
    with pytest.raises(ProgrammingError, match=refused), transaction.atomic():
        LogEntry.objects.filter(index=1).update(kind="deposit")


@pytest.mark.django_db
def test_an_entry_modified_around_the_trigger_is_detected(world: World, vault: Path) -> None:
    # given an owner who rewrites who downloaded (entry 1) and recomputes its leaf hash to match
    _populate(world)
    _, leaf, _ = _row(1)
    forged = json.dumps(
        {**json.loads(leaf), "actor_id": world.broker.pk}, sort_keys=True, separators=(",", ":")
    )
    forged_leaf = forged.encode()
    _as_table_owner(
        (
            "UPDATE escrow_logentry SET leaf = %s, leaf_hash = %s WHERE index = 1",
            [forged_leaf, merkle.leaf_hash(forged_leaf).hex()],
        )
    )

    # when the log is checked
    problems = log.check()

    # then every signed head covering entry 1 no longer matches
    assert problems and all("root does not match" in p for p in problems), problems
    assert len(problems) == 3  # the heads of size 3, 5 and 6
    report = io.StringIO()
    with pytest.raises(CommandError, match="the transparency log has 3 problem"):
        call_command("verify_log", stdout=report)
    assert report.getvalue().count("FAIL tree head") == 3
    # and the platform refuses to sign a new head on top of the forged log
    with pytest.raises(log.LogShrankError):
        log.sign_tree_head()


@pytest.mark.django_db
def test_a_leaf_changed_without_its_hash_is_detected(world: World, vault: Path) -> None:
    _populate(world)
    _, leaf, _ = _row(0)
    _as_table_owner(
        ("UPDATE escrow_logentry SET leaf = %s WHERE index = 0", [leaf.replace(b'"time":"20', b'"time":"19')])
    )

    problems = log.check()

    assert "entry 0: leaf_hash does not match its leaf" in problems
    assert any(p.startswith("tree head #0 (tree_size 1): root does not match") for p in problems)


@pytest.mark.django_db
def test_a_removed_entry_is_detected(world: World, vault: Path) -> None:
    _populate(world)
    _as_table_owner(("DELETE FROM escrow_logentry WHERE index = 3", []))

    problems = log.check()

    assert "log indices are not contiguous from 0; missing: [3]" in problems
    assert any("root does not match" in p for p in problems)
    assert any("covers 6 entries but the log has only 5" in p for p in problems)


@pytest.mark.django_db
def test_reordered_entries_are_detected(world: World, vault: Path) -> None:
    # given entries 1 and 2 swapped (each row keeps a self-consistent leaf and hash)
    _populate(world)
    one, two = _row(1), _row(2)
    update = "UPDATE escrow_logentry SET kind = %s, leaf = %s, leaf_hash = %s WHERE index = %s"
    _as_table_owner((update, [*two, 1]), (update, [*one, 2]))

    problems = log.check()

    assert not any("leaf_hash does not match" in p for p in problems)
    assert len([p for p in problems if "root does not match" in p]) == 3  # heads of size 3, 5, 6


@pytest.mark.django_db
def test_a_deposit_row_that_no_longer_matches_its_leaf_is_detected(world: World, vault: Path) -> None:
    _populate(world)
    first = Deposit.objects.order_by("pk").first()
    assert first is not None
    Deposit.objects.filter(pk=first.pk).update(manifest_sha256="0" * 64)

    assert log.check() == [f"deposit {first.pk}: log entry 0 does not record it"]


@pytest.mark.django_db
def test_the_export_verifies_offline_and_a_tampered_export_does_not(
    world: World, vault: Path, tmp_path: Path
) -> None:
    # given an exported log and the public key
    _populate(world)
    out = tmp_path / "log.jsonl"
    call_command("export_log", str(out), stdout=io.StringIO())
    key = keys.signer().public_key_b64
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["leaf"] * 6 + ["tree_head"] * 4

    def verify(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "escrow.verify", "--log", str(path), "--public-key", key],
            cwd=tmp_path, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    # then the offline verifier accepts it, with no database
    ok = verify(out)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # and rejects it with two leaves swapped
    lines[1]["leaf"], lines[2]["leaf"] = lines[2]["leaf"], lines[1]["leaf"]
    swapped = tmp_path / "swapped.jsonl"
    swapped.write_text("".join(json.dumps(line) + "\n" for line in lines))
    bad = verify(swapped)
    assert bad.returncode == 1, bad.stdout + bad.stderr


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_get_contiguous_indices(vault: Path) -> None:
    # given eight threads appending 25 entries each, every fifth in a transaction that rolls back
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    class Rollback(Exception):
        pass

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                try:
                    with transaction.atomic():
                        log.append("consent", {"worker": n, "i": i})
                        if i % 5 == 4:
                            raise Rollback
                except Rollback:
                    pass
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()

    # then every committed append has its own index, 0..N-1 without a gap, and the log verifies
    assert errors == []
    committed = threads * (per_thread - per_thread // 5)
    assert list(LogEntry.objects.order_by("index").values_list("index", flat=True)) == list(range(committed))
    assert (
        len(
            {
                (json.loads(bytes(e.leaf))["worker"], json.loads(bytes(e.leaf))["i"])
                for e in LogEntry.objects.all()
            }
        )
        == committed
    )
    log.sign_tree_head()
    assert log.check() == []
