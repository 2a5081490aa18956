"""Fixtures that run the real server processes against the test database and test broker."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from amqp.exceptions import ChannelError
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'])}"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=_test_database_url(), PYTHONUNBUFFERED="1"
    )
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class AsgiServer:
    """A uvicorn process serving backend.asgi on the test database; `env` overrides its environment (a
    Redis of its own, say). `stop()` and `start()` again restart it on the same port."""

    def __init__(self, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log, self.env = log, env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(VENV_BIN / "uvicorn"),
                    "backend.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env={**_child_env(), **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/graphql/?query=%7B__typename%7D", timeout=2)
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"the ASGI server did not start:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


@pytest.fixture(scope="session")
def live_server_url(
    django_db_setup: None, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real ASGI server (uvicorn) in its own process, on the test database."""
    server = AsgiServer(tmp_path_factory.mktemp("server") / "uvicorn.log")
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def celery_worker_process(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Celery worker process consuming the test broker, for one module only: alive longer, it
    would run after-commit tasks of later transactional tests while their teardown flushes the database."""
    from backend.celery import app

    app.control.purge()  # tasks queued by earlier tests or runs are not this worker's business
    node = f"test-{os.getpid()}@{socket.gethostname()}"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "backend",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                node,
            ],
            cwd=ROOT,
            env=_child_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while not any(node in reply for reply in app.control.ping(timeout=0.5)):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
    yield node
    _stop(process)


def _wait_until_idle(node: str, timeout: float = 60) -> None:
    from backend.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.connection_for_read() as conn:
            try:
                queued = conn.default_channel.queue_declare("celery", passive=True).message_count
            except ChannelError:  # the Redis transport drops an empty queue's list
                queued = 0
        active = app.control.inspect([node], timeout=1).active() or {}
        if queued == 0 and not any(active.values()):
            return
        time.sleep(0.2)
    pytest.fail("the Celery worker did not become idle")


@pytest.fixture
def celery_worker(celery_worker_process: str) -> Iterator[str]:
    """The session's worker for one test; waits until it is idle so the database flush that ends a
    transactional test never races a task the test caused (after-commit outbox drains, say)."""
    yield celery_worker_process
    _wait_until_idle(celery_worker_process)
