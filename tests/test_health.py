import httpx
import pytest
from django.test import AsyncClient

SERVICES = {"postgresql", "redis", "elasticsearch", "stripe"}


def test_healthz_reports_every_service_up_over_http(live_server_url: str) -> None:
    # when
    response = httpx.get(f"{live_server_url}/healthz", timeout=10)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert set(body["services"]) == SERVICES
    for result in body["services"].values():
        assert result["status"] == "up"
        assert 0 < result["latency_ms"] < 2000


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setting", "service"),
    [("ELASTICSEARCH_URL", "elasticsearch"), ("STRIPE_API_BASE", "stripe"), ("REDIS_URL", "redis")],
)
async def test_healthz_is_503_and_names_the_service_that_is_down(
    settings, setting: str, service: str
) -> None:
    # given: the service's address points at a port where nothing listens
    dead = "redis://127.0.0.1:1/0" if setting == "REDIS_URL" else "http://127.0.0.1:1"
    setattr(settings, setting, dead)

    # when
    response = await AsyncClient().get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == [service]
    assert body["services"][service]["status"] == "down"
    assert body["services"][service]["error"]
    assert all(r["status"] == "up" for name, r in body["services"].items() if name != service)


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
async def test_healthz_names_postgresql_when_the_database_is_unreachable(settings) -> None:
    # The probe opens its own connection from settings, so a wrong port is a dead database for it.
    settings.DATABASES = {**settings.DATABASES, "default": {**settings.DATABASES["default"], "PORT": 1}}

    response = await AsyncClient().get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["postgresql"]
