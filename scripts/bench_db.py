"""The database of a benchmark: its own, on the demo's server, with "bench" in its name (a bench resets what
it finds there), created when missing, and used by one run at a time (bench_realtime, bench_web)."""

import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def refuse_unless_bench(url: str) -> None:
    if "bench" not in urlsplit(url).path:
        sys.exit(f"refusing to run: the bench database must have 'bench' in its name ({url})")


def ensure_database(url: str, log: Callable[[str], None]) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_path(url, "/postgres"), autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is None:
            log(f"creating database {name}")
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def exclusive(url: str, lock_key: int, bench: str) -> Any:
    """A session-level advisory lock, held while the returned connection stays open: a second run at the
    same time would reset the data under the first one and share its CPUs."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    row = conn.execute("select pg_try_advisory_lock(%s)", (lock_key,)).fetchone()
    if not row or not row[0]:
        conn.close()
        sys.exit(f"another {bench} run is using the bench database; wait for it to finish")
    return conn
