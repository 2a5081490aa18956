"""/webhooks/stripe/ against the real PostgreSQL: signature on the raw body with a time tolerance, each event
stored once, applied once, failures kept and retried."""

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from escrow.models import WebhookEvent, WebhookStatus
from escrow.payments.webhook_registry import HANDLERS
from tests.escrow.stripe_events import WEBHOOK_PATH, deliver, make_event, sign

pytestmark = pytest.mark.django_db

TEST_TYPE = "test.counted"


class CountingHandler:
    """A test-only handler: counts its calls, optionally waits or fails."""

    def __init__(self, delay: float = 0.0, fail: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.delay = delay
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(event["id"])
        time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> CountingHandler:
    counting = CountingHandler()
    monkeypatch.setitem(HANDLERS, TEST_TYPE, counting)
    return counting


def _event(event_id: str = "evt_test_1", event_type: str = TEST_TYPE) -> dict[str, Any]:
    return make_event(event_type, {"id": "obj_1", "object": "thing"}, event_id=event_id)


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert WebhookEvent.objects.count() == 0


# --- signatures ----------------------------------------------------------------------------------------


def test_a_correctly_signed_event_is_applied_and_recorded(handler: CountingHandler) -> None:
    # given
    event = _event()

    # when
    response = deliver(Client(), event)

    # then
    assert (response.status_code, response.json()) == (200, {"status": "processed"})
    assert handler.calls == ["evt_test_1"]
    row = WebhookEvent.objects.get()
    assert (row.event_id, row.type, row.status, row.attempts, row.error) == (
        "evt_test_1",
        TEST_TYPE,
        WebhookStatus.SUCCEEDED,
        1,
        "",
    )
    assert row.payload == event
    assert row.processed_at is not None


def test_a_signature_made_with_another_secret_is_refused(handler: CountingHandler) -> None:
    response = deliver(Client(), _event(), secret="whsec_not_ours")

    _refused(response, "bad_signature")
    assert handler.calls == []


def test_a_delivery_without_signature_is_refused(handler: CountingHandler) -> None:
    response = deliver(Client(), _event(), signature="")

    _refused(response, "bad_signature")
    assert handler.calls == []


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", "v1=00", "t=1700000000", "t=1,t=2,v1=00"])
def test_an_unreadable_signature_header_is_refused(handler: CountingHandler, header: str) -> None:
    _refused(deliver(Client(), _event(), signature=header), "bad_signature")


def test_a_body_changed_after_signing_is_refused(handler: CountingHandler) -> None:
    # given: the signature of the event as sent, then the amount changed in transit
    event = _event()
    signed = sign(json.dumps(event).encode())
    event["data"]["object"]["amount"] = 1

    response = deliver(Client(), event, signature=signed)

    _refused(response, "bad_signature")


def test_the_signature_covers_the_raw_bytes_never_a_reserialisation(handler: CountingHandler) -> None:
    # given: the same event, pretty-printed, signed as those exact bytes
    body = json.dumps(_event(), indent=2, ensure_ascii=False).encode()

    # when / then: accepted as sent; the compact form under the pretty form's signature is not
    assert deliver(Client(), {}, body=body).status_code == 200
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert (
        deliver(Client(), {}, body=compact, signature=sign(body)).status_code,
        handler.calls,
    ) == (400, ["evt_test_1"])


def test_any_of_several_v1_signatures_may_match(handler: CountingHandler) -> None:
    # given: while a secret rolls, the gateway signs with the old and the new one (and other schemes)
    body = json.dumps(_event()).encode()
    now = int(time.time())
    ours = sign(body, timestamp=now).split(",")[1]
    old = sign(body, secret="whsec_old", timestamp=now).split(",")[1]
    header = f"t={now},v0=deadbeef,{old},{ours}"

    response = deliver(Client(), {}, body=body, signature=header)

    assert response.status_code == 200
    assert handler.calls == ["evt_test_1"]


def test_a_timestamp_older_than_the_tolerance_is_refused(handler: CountingHandler) -> None:
    stale = int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS - 5

    _refused(deliver(Client(), _event(), timestamp=stale), "stale_timestamp")
    assert handler.calls == []


def test_a_timestamp_beyond_the_tolerance_in_the_future_is_refused(handler: CountingHandler) -> None:
    future = int(time.time()) + settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS + 5

    _refused(deliver(Client(), _event(), timestamp=future), "stale_timestamp")


def test_a_timestamp_within_the_tolerance_is_accepted(handler: CountingHandler) -> None:
    recent = int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS + 30

    assert deliver(Client(), _event(), timestamp=recent).status_code == 200


def test_a_stale_timestamp_with_a_wrong_signature_is_a_bad_signature(handler: CountingHandler) -> None:
    stale = int(time.time()) - 10 * settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS

    _refused(deliver(Client(), _event(), secret="whsec_not_ours", timestamp=stale), "bad_signature")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        json.dumps({"type": TEST_TYPE, "data": {"object": {}}}).encode(),
        json.dumps({"id": "evt_1", "data": {"object": {}}}).encode(),
        json.dumps({"id": "evt_1", "type": TEST_TYPE, "data": {}}).encode(),
        json.dumps({"id": "evt_" + "x" * 100, "type": TEST_TYPE, "data": {"object": {}}}).encode(),
    ],
)
def test_a_signed_body_that_is_not_an_event_is_malformed(handler: CountingHandler, body: bytes) -> None:
    _refused(deliver(Client(), {}, body=body), "malformed")
    assert handler.calls == []


def test_only_post_is_allowed() -> None:
    response = Client().get(WEBHOOK_PATH)

    assert response.status_code == 405
    assert WebhookEvent.objects.count() == 0


# --- once and only once --------------------------------------------------------------------------------


def test_a_duplicate_delivery_is_acknowledged_and_not_applied_again(handler: CountingHandler) -> None:
    # given
    client = Client()
    deliver(client, _event())

    # when: Stripe delivers the same event again (a new signature, the same id)
    again = deliver(client, _event())

    # then
    assert (again.status_code, again.json()) == (200, {"status": "already_processed"})
    assert handler.calls == ["evt_test_1"]
    assert WebhookEvent.objects.get().attempts == 1


def test_a_failing_handler_answers_500_keeps_the_error_and_a_redelivery_applies_it(
    handler: CountingHandler,
) -> None:
    # given: a handler that writes, then fails
    def write_then_fail(event: dict[str, Any]) -> None:
        handler(event)
        User.objects.create_user("written-by-the-handler")
        raise RuntimeError("ledger not ready")

    HANDLERS[TEST_TYPE] = write_then_fail

    # when
    failed = deliver(Client(), _event())

    # then: 500 so that the gateway retries; the error is kept; the handler's write was undone
    assert failed.status_code == 500
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts, row.error) == (
        WebhookStatus.FAILED,
        1,
        "RuntimeError: ledger not ready",
    )
    assert row.processed_at is None
    assert not User.objects.filter(username="written-by-the-handler").exists()

    # when: fixed, the gateway delivers again
    HANDLERS[TEST_TYPE] = handler
    redelivered = deliver(Client(), _event())

    # then
    assert (redelivered.status_code, redelivered.json()) == (200, {"status": "processed"})
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == (WebhookStatus.SUCCEEDED, 2, "")
    assert row.processed_at is not None
    assert handler.calls == ["evt_test_1", "evt_test_1"]


def test_an_event_type_nobody_handles_is_acknowledged_and_ignored() -> None:
    response = deliver(Client(), _event(event_type="customer.created"))

    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    row = WebhookEvent.objects.get()
    assert (row.type, row.status, row.attempts) == ("customer.created", WebhookStatus.SUCCEEDED, 0)


def _in_threads(n: int, call: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # the test inspects every outcome
            results[i] = exc
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_of_one_event_apply_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a slow handler, so that the deliveries overlap while it runs
    slow = CountingHandler(delay=0.3)
    monkeypatch.setitem(HANDLERS, TEST_TYPE, slow)
    event = _event("evt_concurrent")

    # when
    responses = _in_threads(10, lambda: deliver(Client(), event))

    # then
    assert [r.status_code for r in responses] == [200] * 10
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["already_processed"] * 9 + ["processed"]
    assert slow.calls == ["evt_concurrent"]
    row = WebhookEvent.objects.get()
    assert (row.status, row.attempts) == (WebhookStatus.SUCCEEDED, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_after_a_failure_apply_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the first delivery failed
    failing = CountingHandler(fail=RuntimeError("not yet"))
    monkeypatch.setitem(HANDLERS, TEST_TYPE, failing)
    event = _event("evt_retry")
    assert deliver(Client(), event).status_code == 500
    fixed = CountingHandler(delay=0.2)
    monkeypatch.setitem(HANDLERS, TEST_TYPE, fixed)

    # when: the gateway's retries arrive together
    responses = _in_threads(5, lambda: deliver(Client(), event))

    # then
    assert sorted(r.json()["status"] for r in responses) == ["already_processed"] * 4 + ["processed"]
    assert fixed.calls == ["evt_retry"]
    assert WebhookEvent.objects.get().attempts == 2
