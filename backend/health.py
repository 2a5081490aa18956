"""`/healthz`: status and latency of every service the product depends on, probed concurrently."""

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable

import httpx
import psycopg
import redis.asyncio as aioredis
from django.conf import settings
from django.http import HttpRequest, JsonResponse

Probe = Callable[[], Awaitable[None]]
# Building an SSL context reads the CA bundle (tens of ms, blocking the event loop): do it once.
_SSL_CONTEXT = ssl.create_default_context()


async def _postgresql() -> None:
    db = settings.DATABASES["default"]
    conn = await psycopg.AsyncConnection.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        connect_timeout=2,
    )
    try:
        await conn.execute("select 1")
    finally:
        await conn.close()


async def _redis() -> None:
    client = aioredis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _elasticsearch() -> None:
    async with httpx.AsyncClient(verify=_SSL_CONTEXT) as client:
        response = await client.get(f"{settings.ELASTICSEARCH_URL.rstrip('/')}/_cluster/health")
        response.raise_for_status()
        status = response.json()["status"]
        if status == "red":
            raise RuntimeError("cluster status is red")


async def _stripe() -> None:
    async with httpx.AsyncClient(verify=_SSL_CONTEXT) as client:
        response = await client.get(
            f"{settings.STRIPE_API_BASE.rstrip('/')}/v1/balance",
            auth=(settings.STRIPE_SECRET_KEY, ""),
        )
        response.raise_for_status()


PROBES: dict[str, Probe] = {
    "postgresql": _postgresql,
    "redis": _redis,
    "elasticsearch": _elasticsearch,
    "stripe": _stripe,
}


async def _run(name: str, probe: Probe) -> tuple[str, dict[str, object]]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout=settings.HEALTHCHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "down"; the reason is reported, not raised
        reason = "timeout" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return name, {"status": "down", "error": reason[:300]}
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return name, {"status": "up", "latency_ms": latency_ms}


async def check_all() -> dict[str, dict[str, object]]:
    results = await asyncio.gather(*(_run(name, probe) for name, probe in PROBES.items()))
    return dict(results)


async def healthz(request: HttpRequest) -> JsonResponse:
    services = await check_all()
    down = sorted(name for name, result in services.items() if result["status"] != "up")
    body = {"status": "down" if down else "ok", "down": down, "services": services}
    return JsonResponse(body, status=503 if down else 200)
