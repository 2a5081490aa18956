"""Throughput of request-body spooling under ASGI: Django's own read_body (SpooledTemporaryFile, plaintext
on disk past FILE_UPLOAD_MAX_MEMORY_SIZE) against ours (backend/asgi_body.py, AES-256-CTR on disk).

    .venv/bin/python scripts/bench_asgi_spool.py [--mb 50] [--repeat 5]

Each run feeds a body of --mb MB to the handler's read_body in 64 KiB http.request messages (as uvicorn
hands them over), then reads it back in 64 KiB pieces (as the multipart parser does). Prints the median
MB/s of each phase and of the whole, per handler, and the ratio. No database or service is touched.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

import django

django.setup(set_prefix=False)

from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from backend.asgi_body import SpoolEncryptingASGIHandler  # noqa: E402

MESSAGE_SIZE = 64 * 1024


def receive_for(body: bytes) -> Callable[[], Awaitable[Mapping[str, Any]]]:
    offsets = iter(range(0, len(body), MESSAGE_SIZE))

    async def receive() -> Mapping[str, Any]:
        start = next(offsets)
        end = start + MESSAGE_SIZE
        return {"type": "http.request", "body": body[start:end], "more_body": end < len(body)}

    return receive


def one_run(handler: ASGIHandler, body: bytes) -> tuple[float, float]:
    started = time.perf_counter()
    spool: IO[bytes] = asyncio.run(handler.read_body(receive_for(body)))
    spooled = time.perf_counter()
    read = 0
    while chunk := spool.read(MESSAGE_SIZE):
        read += len(chunk)
    finished = time.perf_counter()
    spool.close()
    if read != len(body):
        raise SystemExit(f"read back {read} bytes of {len(body)}")
    return spooled - started, finished - spooled


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    body = os.urandom(args.mb * 1024 * 1024)
    handlers = {"django": ASGIHandler(), "encrypted": SpoolEncryptingASGIHandler()}
    results: dict[str, tuple[float, float, float]] = {}
    for name, handler in handlers.items():
        one_run(handler, body)  # warm-up: page cache, OpenSSL, allocator
        runs = [one_run(handler, body) for _ in range(args.repeat)]
        spool_s = statistics.median(w for w, _ in runs)
        read_s = statistics.median(r for _, r in runs)
        total_s = statistics.median(w + r for w, r in runs)
        results[name] = (args.mb / spool_s, args.mb / read_s, args.mb / total_s)
    print(f"{args.mb} MB body, {MESSAGE_SIZE // 1024} KiB messages, median of {args.repeat} runs (MB/s)")
    print(f"{'handler':<10} {'spool':>9} {'read back':>10} {'total':>9}")
    for name, (spool_rate, read_rate, total_rate) in results.items():
        print(f"{name:<10} {spool_rate:>9.0f} {read_rate:>10.0f} {total_rate:>9.0f}")
    ratio = results["encrypted"][2] / results["django"][2]
    print(f"encrypted/django total throughput: {ratio:.2f}")


if __name__ == "__main__":
    main()
