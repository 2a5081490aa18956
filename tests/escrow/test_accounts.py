"""Payee accounts (sellers' organisations and brokers) at the gateway, their onboarding links and the
account.updated events, against PostgreSQL and the Redis-backed simulator (each call validated by
stripe-mock), and once against stripe-mock through the default StripeGateway."""

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.test import Client

from escrow.error_codes import EscrowErrorCode
from escrow.models import ConnectedAccount, GatewayOperation, OperationKind, OperationStatus, WebhookEvent
from escrow.payments.accounts import ensure_payee_account, onboarding_link, payee_ready
from escrow.payments.simulated import SimulatedGateway
from marketplace.error_codes import ActionError
from marketplace.models import MemberRole, Membership
from tests.escrow.stripe_events import deliver, make_event
from tests.marketplace.factories import World, build_world

SIM_REDIS_SETTING = "CELERY_BROKER_URL"  # the tests' own Redis database, namespaced per test


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatedGateway]:
    """settings.ESCROW_GATEWAY pointed at a simulator namespace of this test's own."""
    namespace = f"test-{uuid.uuid4().hex}"
    redis_url = getattr(settings, SIM_REDIS_SETTING)
    settings.ESCROW_GATEWAY = "escrow.payments.simulated.simulated_gateway"
    settings.ESCROW_SIMULATOR_NAMESPACE = namespace
    settings.ESCROW_SIMULATOR_REDIS_URL = redis_url
    gateway = SimulatedGateway(redis_url, namespace=namespace)
    yield gateway
    gateway.reset()


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def _refused(code: EscrowErrorCode, call: Any, *args: Any, **kwargs: Any) -> ActionError:
    with pytest.raises(ActionError) as refused:
        call(*args, **kwargs)
    assert refused.value.code == code
    return refused.value


def _account_calls(sim: SimulatedGateway) -> list[tuple[str, str]]:
    return [c for c in sim.calls() if c[0] == "create_account"]


# --- creating the account once -------------------------------------------------------------------------


def test_an_organisation_admin_opens_its_payee_account_once(world: World, sim: SimulatedGateway) -> None:
    # when
    account = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)
    again = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)

    # then: one account at the gateway, one row, one operation under the payee's key
    key = f"account:org:{world.seller_org.pk}"
    assert again == account
    assert (account.organization_id, account.broker_id) == (world.seller_org.pk, None)
    assert account.provider_account_id.startswith("acct_")
    assert (account.details_submitted, account.payouts_enabled, payee_ready(account)) == (False, False, False)
    assert _account_calls(sim) == [("create_account", key)]
    operation = GatewayOperation.objects.get()
    assert (operation.idempotency_key, operation.kind, operation.status, operation.provider_id) == (
        key,
        OperationKind.ACCOUNT,
        OperationStatus.SUCCEEDED,
        account.provider_account_id,
    )
    assert sim.retrieve_account(account.provider_account_id).id == account.provider_account_id


def test_a_broker_opens_a_payee_account_of_their_own(world: World, sim: SimulatedGateway) -> None:
    account = ensure_payee_account(world.broker)

    assert (account.broker_id, account.organization_id) == (world.broker.pk, None)
    assert _account_calls(sim) == [("create_account", f"account:broker:{world.broker.pk}")]


def test_only_admins_and_brokers_open_payee_accounts(world: World, sim: SimulatedGateway) -> None:
    # given: a plain member of the seller's organisation
    member = User.objects.create_user("member")
    Membership.objects.create(user=member, organization=world.seller_org, role=MemberRole.MEMBER)

    # then
    _refused(
        EscrowErrorCode.PERMISSION_DENIED, ensure_payee_account, member, organization_id=world.seller_org.pk
    )
    _refused(
        EscrowErrorCode.PERMISSION_DENIED,
        ensure_payee_account,
        world.buyer,
        organization_id=world.seller_org.pk,
    )
    _refused(
        EscrowErrorCode.PERMISSION_DENIED,
        ensure_payee_account,
        world.broker,
        organization_id=world.seller_org.pk,
    )
    _refused(EscrowErrorCode.NOT_FOUND, ensure_payee_account, world.seller, organization_id=10**9)
    _refused(EscrowErrorCode.PERMISSION_DENIED, ensure_payee_account, world.seller)  # not a broker
    _refused(EscrowErrorCode.NOT_AUTHENTICATED, ensure_payee_account, AnonymousUser())
    # nothing was written, nothing was asked of the gateway
    assert ConnectedAccount.objects.count() == 0
    assert GatewayOperation.objects.count() == 0
    assert sim.calls() == []


def test_a_gateway_failure_after_the_call_converges_on_the_same_account(
    world: World, sim: SimulatedGateway
) -> None:
    # given: the gateway creates the account but the answer is lost
    sim.fail_next("create_account", "after")

    # when
    failure = _refused(
        EscrowErrorCode.GATEWAY_ERROR, ensure_payee_account, world.seller, organization_id=world.seller_org.pk
    )

    # then: no payee yet; the operation stays pending with the error
    assert "outage" in failure.message
    assert ConnectedAccount.objects.count() == 0
    operation = GatewayOperation.objects.get()
    assert (operation.status, operation.attempts) == (OperationStatus.PENDING, 1)
    assert operation.error.startswith("simulated_outage:")

    # when: asked again, the same key reaches the account the gateway already made
    account = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)

    # then
    assert len(_account_calls(sim)) == 1
    assert sim.events() == []  # opening an account sends no event
    operation.refresh_from_db()
    assert (operation.status, operation.attempts, operation.error) == (OperationStatus.SUCCEEDED, 2, "")
    assert operation.provider_id == account.provider_account_id


def test_a_refused_account_marks_the_operation_failed(world: World, sim: SimulatedGateway) -> None:
    # given: the payee's key already used at the gateway with other parameters (a non-retryable refusal)
    sim.create_account(country="US", email="", idempotency_key=f"account:org:{world.seller_org.pk}")

    # when
    _refused(
        EscrowErrorCode.GATEWAY_ERROR, ensure_payee_account, world.seller, organization_id=world.seller_org.pk
    )

    # then
    operation = GatewayOperation.objects.get()
    assert (operation.status, operation.attempts) == (OperationStatus.FAILED, 1)
    assert operation.error.startswith("idempotency_error:")
    assert ConnectedAccount.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_open_one_account(sim: SimulatedGateway) -> None:
    # given
    world = build_world()
    barrier = threading.Barrier(8)
    results: list[Any] = [None] * 8

    def request(i: int) -> None:
        try:
            barrier.wait()
            results[i] = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)
        except Exception as exc:  # the test inspects every outcome
            results[i] = exc
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=request, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: everyone got the one account
    assert all(isinstance(r, ConnectedAccount) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert ConnectedAccount.objects.count() == 1
    assert GatewayOperation.objects.count() == 1
    assert len(_account_calls(sim)) == 1


def test_the_default_stripe_gateway_opens_the_account_at_stripe_mock(world: World) -> None:
    # settings.ESCROW_GATEWAY is StripeGateway: the request is valid for Stripe's spec
    account = ensure_payee_account(world.broker)

    assert account.provider_account_id.startswith("acct_")
    assert GatewayOperation.objects.get().status == OperationStatus.SUCCEEDED


# --- onboarding links ----------------------------------------------------------------------------------


def test_the_owner_gets_a_new_single_use_link_each_time(world: World, sim: SimulatedGateway) -> None:
    # given
    account = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)

    # when
    first = onboarding_link(world.seller, account.pk)
    second = onboarding_link(world.seller, account.pk)

    # then
    assert first != second
    assert all(url.startswith("https://") for url in (first, second))
    links = GatewayOperation.objects.filter(kind=OperationKind.ACCOUNT_LINK)
    assert [op.status for op in links] == [OperationStatus.SUCCEEDED] * 2
    assert all(op.idempotency_key.startswith(f"account_link:{account.provider_account_id}:") for op in links)
    assert all(op.destination == account.provider_account_id for op in links)
    assert len([c for c in sim.calls() if c[0] == "create_onboarding_link"]) == 2


def test_only_the_owner_gets_an_onboarding_link(world: World, sim: SimulatedGateway) -> None:
    # given
    org_account = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)
    broker_account = ensure_payee_account(world.broker)
    member = User.objects.create_user("member")
    Membership.objects.create(user=member, organization=world.seller_org, role=MemberRole.MEMBER)

    # then: the others are told the account does not exist
    for user, account in [
        (member, org_account),
        (world.buyer, org_account),
        (world.co_broker, broker_account),
        (world.seller, broker_account),
    ]:
        _refused(EscrowErrorCode.NOT_FOUND, onboarding_link, user, account.pk)
    _refused(EscrowErrorCode.NOT_FOUND, onboarding_link, world.seller, 10**9)
    _refused(EscrowErrorCode.NOT_AUTHENTICATED, onboarding_link, AnonymousUser(), org_account.pk)
    assert onboarding_link(world.broker, broker_account.pk).startswith("https://")
    assert GatewayOperation.objects.filter(kind=OperationKind.ACCOUNT_LINK).count() == 1


# --- account.updated -----------------------------------------------------------------------------------


def test_account_updated_makes_the_payee_ready(world: World, sim: SimulatedGateway) -> None:
    # given
    account = ensure_payee_account(world.seller, organization_id=world.seller_org.pk)

    # when: the payee completes the gateway's onboarding, and the gateway tells us
    response = deliver(Client(), sim.complete_onboarding(account.provider_account_id))

    # then
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled, payee_ready(account)) == (True, True, True)


def test_an_older_account_updated_never_overwrites_a_newer_one(world: World, sim: SimulatedGateway) -> None:
    # given: two states of the account, the newer delivered first
    account = ensure_payee_account(world.broker)
    now = int(time.time())
    older = make_event(
        "account.updated",
        {"id": account.provider_account_id, "details_submitted": True, "payouts_enabled": False},
        created=now - 60,
    )
    newer = make_event(
        "account.updated",
        {"id": account.provider_account_id, "details_submitted": True, "payouts_enabled": True},
        created=now,
    )

    # when
    assert deliver(Client(), newer).status_code == 200
    assert deliver(Client(), older).status_code == 200

    # then: the newer state stands; both events are recorded as applied
    account.refresh_from_db()
    assert (account.details_submitted, account.payouts_enabled) == (True, True)
    assert WebhookEvent.objects.filter(status="succeeded").count() == 2


def test_a_restricted_account_is_no_longer_ready(world: World, sim: SimulatedGateway) -> None:
    account = ensure_payee_account(world.broker)
    deliver(Client(), sim.complete_onboarding(account.provider_account_id))

    restricted = make_event(
        "account.updated",
        {"id": account.provider_account_id, "details_submitted": True, "payouts_enabled": False},
        created=int(time.time()) + 1,
    )
    deliver(Client(), restricted)

    account.refresh_from_db()
    assert payee_ready(account) is False


def test_account_updated_for_an_account_not_ours_changes_nothing(world: World, sim: SimulatedGateway) -> None:
    account = ensure_payee_account(world.broker)

    event = make_event("account.updated", {"id": "acct_someone_else", "payouts_enabled": True})
    response = deliver(Client(), event)

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.payouts_enabled is False
