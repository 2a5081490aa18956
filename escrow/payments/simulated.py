"""A stateful stand-in for Stripe, at the narrow seam stripe-mock cannot cover.

stripe-mock checks every request against Stripe's OpenAPI spec but keeps no state: it answers fixtures,
forgets idempotency keys, has no balance and sends no events. The escrow's guarantees (nothing paid twice,
nothing paid that was never received, a crash before or after a call converges) depend on exactly those
semantics, so this gateway emulates them:

- idempotency: a key seen before with the same parameters answers the first result without doing anything
  again; with other parameters it is refused (`idempotency_error`). A refused request stores nothing, so the
  same key may be sent again once the state allows it.
- balances: a transfer may not take more out of its `transfer_group` than the group's payments received
  minus refunds and disputed funds; a refund may not exceed what the payment received minus what was
  refunded or lost in a dispute; a disputed charge cannot be refunded while the dispute is open.
- events: every state change appends the event Stripe would send (`events()`), for webhook tests.
- fault injection: `fail_next(method, "before" | "after")` fails the next call before it happens, or after it
  happened (the caller never learns the result, as with a crash or a timeout).

State lives in Redis, so the test process, a server process and a killed subprocess share it. Each change
is one optimistic transaction (WATCH on a per-namespace version counter, MULTI/EXEC): concurrent callers
are serialised, and a process killed midway leaves either all of a change or none of it. With
`validate_with` (a StripeGateway against stripe-mock), every call is first sent there with the same
parameters, so Stripe's request validation still applies.
"""

import json
import os
import re
import secrets
import string
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Literal, TypeVar, cast

import redis
from django.conf import settings

from escrow.payments.gateway import Account, Gateway, GatewayError, PaymentIntent, Refund, Transfer

T = TypeVar("T")
Obj = dict[str, Any]

KEY_PREFIX = "escrow-sim"
# Optimistic transactions retried this many times before the call is reported as a (retryable) outage.
MAX_TRANSACTION_ATTEMPTS = 500
_ID_ALPHABET = string.ascii_letters + string.digits
# A dispute holds the disputed funds while it is open; these statuses are open.
_OPEN_DISPUTE = ("warning_needs_response", "needs_response", "under_review", "warning_under_review")


class SimulatedOutage(GatewayError):
    """An injected failure (see `SimulatedGateway.fail_next`): retryable, like a network error."""

    def __init__(self, message: str = "Simulated gateway outage.") -> None:
        super().__init__(message, retryable=True, code="simulated_outage")


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def _refused(message: str, code: str) -> GatewayError:
    return GatewayError(message, retryable=False, code=code)


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise _refused("Amount must be a positive integer.", "parameter_invalid_integer")


def _check_currency(currency: str) -> str:
    if len(currency) != 3 or not currency.isalpha():
        raise _refused(f"Invalid currency: {currency!r}.", "invalid_currency")
    return currency.lower()


@cache
def _pool(url: str) -> redis.ConnectionPool:
    # One pool per URL per process, shared by every instance (get_gateway() makes one per call).
    return redis.ConnectionPool.from_url(url, decode_responses=True)


def event(event_type: str, obj: Obj, *, idempotency_key: str | None = None, **extra: Any) -> Obj:
    """A Stripe-shaped event around `obj` (`extra` goes into `data`, e.g. previous_attributes)."""
    return {
        "id": _new_id("evt_"),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": idempotency_key},
        "data": {"object": obj, **extra},
    }


class _Tx:
    """Reads (immediate, under WATCH) and buffered writes of one optimistic transaction."""

    def __init__(self, pipe: Any, key: Callable[..., str]) -> None:
        self.pipe = pipe
        self.key = key
        self.writes: list[Callable[[Any], None]] = []
        self.cache: dict[str, Obj] = {}
        self.new_events: list[Obj] = []

    def get(self, object_id: str) -> Obj | None:
        if object_id in self.cache:
            return self.cache[object_id]
        raw = self.pipe.get(self.key("obj", object_id))
        return None if raw is None else dict(json.loads(raw))

    def require(self, object_id: str, kind: str) -> Obj:
        obj = self.get(object_id) if object_id else None
        if obj is None or obj.get("object") != kind:
            raise _refused(f"No such {kind}: {object_id!r}.", "resource_missing")
        return obj

    def put(self, obj: Obj) -> None:
        self.cache[obj["id"]] = obj
        key, value = self.key("obj", obj["id"]), json.dumps(obj)
        self.writes.append(lambda p: p.set(key, value))

    def ids(self, *index: str) -> list[str]:
        return list(self.pipe.lrange(self.key(*index), 0, -1))

    def objects(self, *index: str) -> list[Obj]:
        return [obj for obj in (self.get(i) for i in self.ids(*index)) if obj is not None]

    def append(self, value: str, *index: str) -> None:
        key = self.key(*index)
        self.writes.append(lambda p: p.rpush(key, value))

    def emit(self, evt: Obj) -> None:
        self.new_events.append(evt)
        self.append(json.dumps(evt), "events")


class SimulatedGateway:
    def __init__(
        self, redis_url: str | None = None, namespace: str = "sim", validate_with: Gateway | None = None
    ) -> None:
        self._redis = redis.Redis(connection_pool=_pool(redis_url or settings.REDIS_URL))
        self.namespace = namespace
        self._validate_with = validate_with

    def _key(self, *parts: str) -> str:
        return ":".join((KEY_PREFIX, self.namespace, *parts))

    # --- the machinery: faults, validation, transactions ---------------------------------------------

    def fail_next(self, method: str, when: Literal["before", "after"]) -> None:
        """The next call of `method` raises SimulatedOutage: "before" doing anything, or "after" it was
        done in full (its result is stored under its idempotency key, as Stripe would)."""
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        self._redis.set(self._key("fault", method), when)

    def _take_fault(self, method: str) -> str | None:
        # GETDEL: of concurrent callers, exactly one takes a one-shot fault.
        fault = cast(str | None, self._redis.getdel(self._key("fault", method)))
        if fault == "before":
            raise SimulatedOutage(f"Simulated outage before {method}.")
        return fault

    def _call(
        self,
        method: str,
        validate: Callable[[Gateway], object],
        perform: Callable[[], T],
    ) -> T:
        if self._validate_with is not None:
            validate(self._validate_with)
        fault = self._take_fault(method)
        result = perform()
        if fault == "after":
            raise SimulatedOutage(f"Simulated outage after {method}: it was done, the answer is lost.")
        return result

    def _transact(self, change: Callable[[_Tx], T], idempotency: tuple[str, str, Obj] | None = None) -> T:
        """Runs `change` atomically: reads happen under WATCH, its writes are applied by MULTI/EXEC only
        if nothing changed meanwhile, else it runs again. `idempotency` is (method, key, params): a key
        already used answers its stored result, or refuses other parameters."""
        version = self._key("version")
        fingerprint = record_key = ""
        if idempotency is not None:
            method, key, params = idempotency
            fingerprint = json.dumps({"method": method, "params": params}, sort_keys=True)
            record_key = self._key("idem", key)
        for _ in range(MAX_TRANSACTION_ATTEMPTS):
            with cast(Any, self._redis.pipeline()) as pipe:
                try:
                    pipe.watch(version)
                    if idempotency is not None:
                        stored = pipe.get(record_key)
                        if stored is not None:
                            record = json.loads(stored)
                            if record["fingerprint"] != fingerprint:
                                raise _refused(
                                    f"Keys for idempotent requests can only be used with the same "
                                    f"parameters they were first used with (key {idempotency[1]!r}).",
                                    "idempotency_error",
                                )
                            result: T = record["result"]
                            return result
                    tx = _Tx(pipe, self._key)
                    try:
                        result = change(tx)
                    except GatewayError:
                        # A refusal is a decision on what was read: it stands only if nothing changed
                        # meanwhile (an empty MULTI/EXEC fails under WATCH if something did).
                        pipe.multi()
                        pipe.get(version)
                        pipe.execute()
                        raise
                    pipe.multi()
                    for write in tx.writes:
                        write(pipe)
                    if idempotency is not None:
                        pipe.set(record_key, json.dumps({"fingerprint": fingerprint, "result": result}))
                        pipe.rpush(self._key("calls"), json.dumps([idempotency[0], idempotency[1]]))
                    pipe.incr(version)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise SimulatedOutage("The simulator could not commit under contention.")

    def _idempotent(
        self,
        method: str,
        idempotency_key: str,
        params: Obj,
        validate: Callable[[Gateway], object],
        change: Callable[[_Tx], Obj],
    ) -> Obj:
        return self._call(method, validate, lambda: self._transact(change, (method, idempotency_key, params)))

    def _read(self, method: str, validate: Callable[[Gateway], object], read: Callable[[_Tx], T]) -> T:
        return self._call(method, validate, lambda: read(_Tx(self._redis, self._key)))

    # --- Gateway: connected accounts -----------------------------------------------------------------

    def create_account(self, *, country: str, email: str, idempotency_key: str) -> Account:
        params: Obj = {"country": country.upper(), "email": email}

        def change(tx: _Tx) -> Obj:
            account: Obj = {
                "id": _new_id("acct_"),
                "object": "account",
                "type": "express",
                "country": country.upper(),
                "email": email or None,
                "details_submitted": False,
                "payouts_enabled": False,
                "charges_enabled": False,
                "capabilities": {"transfers": "inactive"},
                "created": int(time.time()),
            }
            tx.put(account)
            return account

        obj = self._idempotent(
            "create_account",
            idempotency_key,
            params,
            lambda g: g.create_account(country=country, email=email, idempotency_key=idempotency_key),
            change,
        )
        return _account(obj)

    def retrieve_account(self, account_id: str) -> Account:
        obj = self._read(
            "retrieve_account",
            lambda g: g.retrieve_account(account_id),
            lambda tx: tx.require(account_id, "account"),
        )
        return _account(obj)

    def create_onboarding_link(
        self, *, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> str:
        params: Obj = {"account": account_id, "refresh_url": refresh_url, "return_url": return_url}

        def change(tx: _Tx) -> Obj:
            tx.require(account_id, "account")
            return {
                "object": "account_link",
                "url": f"https://connect.stripe.com/setup/e/{account_id}/{_new_id('')}",
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
            }

        obj = self._idempotent(
            "create_onboarding_link",
            idempotency_key,
            params,
            lambda g: g.create_onboarding_link(
                account_id=account_id,
                refresh_url=refresh_url,
                return_url=return_url,
                idempotency_key=idempotency_key,
            ),
            change,
        )
        return str(obj["url"])

    # --- Gateway: the buyer's payment ----------------------------------------------------------------

    def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> PaymentIntent:
        _check_amount(amount)
        lower = _check_currency(currency)
        params: Obj = {
            "amount": amount,
            "currency": lower,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }

        def change(tx: _Tx) -> Obj:
            pi_id = _new_id("pi_")
            intent: Obj = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": 0,
                "currency": lower,
                "status": "requires_payment_method",
                "client_secret": f"{pi_id}_secret_{_new_id('')}",
                "transfer_group": transfer_group,
                "metadata": dict(metadata),
                "latest_charge": None,
                "created": int(time.time()),
                "livemode": False,
            }
            tx.put(intent)
            if transfer_group:
                tx.append(pi_id, "group", transfer_group, "payments")
            return intent

        obj = self._idempotent(
            "create_payment_intent",
            idempotency_key,
            params,
            lambda g: g.create_payment_intent(
                amount=amount,
                currency=currency,
                transfer_group=transfer_group,
                metadata=metadata,
                idempotency_key=idempotency_key,
            ),
            change,
        )
        return _payment_intent(obj)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntent:
        obj = self._read(
            "retrieve_payment_intent",
            lambda g: g.retrieve_payment_intent(payment_intent_id),
            lambda tx: tx.require(payment_intent_id, "payment_intent"),
        )
        return _payment_intent(obj)

    # --- Gateway: transfers and refunds --------------------------------------------------------------

    def create_transfer(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        transfer_group: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Transfer:
        _check_amount(amount)
        lower = _check_currency(currency)
        params: Obj = {
            "amount": amount,
            "currency": lower,
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }

        def change(tx: _Tx) -> Obj:
            tx.require(destination, "account")
            available = _group_available(tx, transfer_group, lower)
            if amount > available:
                # Stripe's balance cannot pay out money the platform never received for this group.
                raise _refused(
                    f"Insufficient funds in transfer group {transfer_group!r}: {amount} {lower} requested, "
                    f"{available} available.",
                    "balance_insufficient",
                )
            transfer: Obj = {
                "id": _new_id("tr_"),
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "currency": lower,
                "destination": destination,
                "transfer_group": transfer_group,
                "metadata": dict(metadata),
                "reversed": False,
                "created": int(time.time()),
                "livemode": False,
            }
            tx.put(transfer)
            tx.append(transfer["id"], "group", transfer_group, "transfers")
            tx.append(transfer["id"], "destination", destination, "transfers")
            tx.emit(event("transfer.created", transfer, idempotency_key=idempotency_key))
            return transfer

        obj = self._idempotent(
            "create_transfer",
            idempotency_key,
            params,
            lambda g: g.create_transfer(
                amount=amount,
                currency=currency,
                destination=destination,
                transfer_group=transfer_group,
                metadata=metadata,
                idempotency_key=idempotency_key,
            ),
            change,
        )
        return _transfer(obj)

    def list_transfers(self, *, transfer_group: str) -> list[Transfer]:
        objs = self._read(
            "list_transfers",
            lambda g: g.list_transfers(transfer_group=transfer_group),
            lambda tx: tx.objects("group", transfer_group, "transfers"),
        )
        return [_transfer(obj) for obj in reversed(objs)]  # newest first, as Stripe lists

    def create_refund(
        self, *, payment_intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> Refund:
        _check_amount(amount)
        params: Obj = {"payment_intent": payment_intent_id, "amount": amount, "metadata": metadata}

        def change(tx: _Tx) -> Obj:
            intent = tx.require(payment_intent_id, "payment_intent")
            if intent["status"] != "succeeded":
                raise _refused(
                    f"PaymentIntent {payment_intent_id} has no successful charge to refund.",
                    "charge_not_refundable",
                )
            charge = tx.require(intent["latest_charge"], "charge")
            if charge["disputed"] and any(
                d["status"] in _OPEN_DISPUTE for d in tx.objects("charge", charge["id"], "disputes")
            ):
                raise _refused(f"Charge {charge['id']} has been charged back.", "charge_disputed")
            refundable = _refundable(tx, charge)
            if amount > refundable:
                raise _refused(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({refundable}).",
                    "amount_too_large",
                )
            refund: Obj = {
                "id": _new_id("re_"),
                "object": "refund",
                "amount": amount,
                "currency": intent["currency"],
                "payment_intent": payment_intent_id,
                "charge": charge["id"],
                "status": "succeeded",
                "metadata": dict(metadata),
                "created": int(time.time()),
            }
            tx.put(refund)
            tx.append(refund["id"], "charge", charge["id"], "refunds")
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge = {
                **charge,
                "amount_refunded": charge["amount_refunded"] + amount,
                "refunded": charge["amount_refunded"] + amount == charge["amount"],
            }
            tx.put(charge)
            refunds = [*tx.objects("charge", charge["id"], "refunds"), refund]
            shown = {**charge, "refunds": {"object": "list", "data": refunds, "has_more": False}}
            tx.emit(
                event(
                    "charge.refunded",
                    shown,
                    idempotency_key=idempotency_key,
                    previous_attributes=previous,
                )
            )
            return refund

        obj = self._idempotent(
            "create_refund",
            idempotency_key,
            params,
            lambda g: g.create_refund(
                payment_intent_id=payment_intent_id,
                amount=amount,
                metadata=metadata,
                idempotency_key=idempotency_key,
            ),
            change,
        )
        return _refund(obj)

    def list_refunds(self, *, payment_intent_id: str) -> list[Refund]:
        def read(tx: _Tx) -> list[Obj]:
            intent = tx.get(payment_intent_id)
            if intent is None or not intent.get("latest_charge"):
                return []
            return tx.objects("charge", intent["latest_charge"], "refunds")

        objs = self._read("list_refunds", lambda g: g.list_refunds(payment_intent_id=payment_intent_id), read)
        return [_refund(obj) for obj in reversed(objs)]

    # --- what happens at the gateway without us calling it (test and demo controls) -----------------

    def succeed_payment(self, payment_intent_id: str) -> Obj:
        """The buyer's card payment succeeds: the intent is paid in full. Returns payment_intent.succeeded."""

        def change(tx: _Tx) -> Obj:
            intent = tx.require(payment_intent_id, "payment_intent")
            if intent["status"] != "requires_payment_method":
                raise _refused(
                    f"PaymentIntent {payment_intent_id} is {intent['status']}.",
                    "payment_intent_unexpected_state",
                )
            charge: Obj = {
                "id": _new_id("ch_"),
                "object": "charge",
                "payment_intent": payment_intent_id,
                "amount": intent["amount"],
                "amount_captured": intent["amount"],
                "amount_refunded": 0,
                "currency": intent["currency"],
                "paid": True,
                "refunded": False,
                "disputed": False,
                "status": "succeeded",
                "transfer_group": intent["transfer_group"],
                "metadata": dict(intent["metadata"]),
                "created": int(time.time()),
                "livemode": False,
            }
            tx.put(charge)
            intent = {
                **intent,
                "status": "succeeded",
                "amount_received": intent["amount"],
                "latest_charge": charge["id"],
            }
            tx.put(intent)
            succeeded = event("payment_intent.succeeded", intent)
            tx.emit(succeeded)
            return succeeded

        return self._transact(change)

    def dispute(self, payment_intent_id: str, amount: int) -> Obj:
        """The buyer's bank opens a chargeback: the disputed funds leave the platform balance while it is
        open. Returns charge.dispute.created."""
        _check_amount(amount)

        def change(tx: _Tx) -> Obj:
            intent = tx.require(payment_intent_id, "payment_intent")
            if intent["status"] != "succeeded":
                raise _refused(f"PaymentIntent {payment_intent_id} was not paid.", "charge_not_disputable")
            charge = tx.require(intent["latest_charge"], "charge")
            if amount > charge["amount"]:
                raise _refused("A dispute cannot exceed the charge.", "amount_too_large")
            dispute: Obj = {
                "id": _new_id("dp_"),
                "object": "dispute",
                "charge": charge["id"],
                "payment_intent": payment_intent_id,
                "amount": amount,
                "currency": charge["currency"],
                "status": "needs_response",
                "reason": "general",
                "metadata": {},
                "created": int(time.time()),
                "livemode": False,
            }
            tx.put(dispute)
            tx.append(dispute["id"], "charge", charge["id"], "disputes")
            tx.put({**charge, "disputed": True})
            created = event("charge.dispute.created", dispute)
            tx.emit(created)
            return created

        return self._transact(change)

    def close_dispute(self, dispute_id: str, status: Literal["won", "lost"]) -> Obj:
        """The bank decides: "won" gives the funds back to the platform, "lost" leaves them with the
        buyer. Returns charge.dispute.closed."""
        if status not in ("won", "lost"):
            raise ValueError(f"status must be 'won' or 'lost', not {status!r}")

        def change(tx: _Tx) -> Obj:
            dispute = tx.require(dispute_id, "dispute")
            if dispute["status"] not in _OPEN_DISPUTE:
                raise _refused(f"Dispute {dispute_id} is already {dispute['status']}.", "dispute_closed")
            dispute = {**dispute, "status": status}
            tx.put(dispute)
            closed = event("charge.dispute.closed", dispute)
            tx.emit(closed)
            return closed

        return self._transact(change)

    def complete_onboarding(self, account_id: str) -> Obj:
        """The payee finishes Stripe's onboarding. Returns account.updated with payouts enabled."""

        def change(tx: _Tx) -> Obj:
            account = tx.require(account_id, "account")
            account = {
                **account,
                "details_submitted": True,
                "payouts_enabled": True,
                "charges_enabled": True,
                "capabilities": {"transfers": "active"},
            }
            tx.put(account)
            updated = event("account.updated", account)
            tx.emit(updated)
            return updated

        return self._transact(change)

    # --- what the tests and reconciliation read ------------------------------------------------------

    def events(self) -> list[Obj]:
        return [json.loads(raw) for raw in self._redis.lrange(self._key("events"), 0, -1)]

    def calls(self) -> list[tuple[str, str]]:
        """(method, idempotency key) of every call that did something: replays and refusals excluded."""
        pairs = (json.loads(raw) for raw in self._redis.lrange(self._key("calls"), 0, -1))
        return [(str(method), str(key)) for method, key in pairs]

    def received(self, payment_intent_id: str) -> int:
        intent = self._get(payment_intent_id)
        return int(intent["amount_received"]) if intent else 0

    def refunded(self, payment_intent_id: str) -> int:
        charge = self._charge_of(payment_intent_id)
        return int(charge["amount_refunded"]) if charge else 0

    def charged_back(self, payment_intent_id: str) -> int:
        """Funds lost in closed disputes on this payment."""
        charge = self._charge_of(payment_intent_id)
        if charge is None:
            return 0
        return _lost_in_disputes(_Tx(self._redis, self._key), charge)

    def transferred_to(self, destination: str) -> int:
        tx = _Tx(self._redis, self._key)
        return sum(int(t["amount"]) for t in tx.objects("destination", destination, "transfers"))

    def transfers_in_group(self, transfer_group: str) -> int:
        """The total transferred out of this transfer group."""
        tx = _Tx(self._redis, self._key)
        return sum(int(t["amount"]) for t in tx.objects("group", transfer_group, "transfers"))

    def reset(self) -> None:
        """Forgets everything in this namespace."""
        # The namespace is matched literally: glob characters in it are escaped.
        pattern = ":".join((KEY_PREFIX, re.sub(r"([*?\[\]\\])", r"\\\1", self.namespace), "*"))
        batch: list[str] = []
        for key in self._redis.scan_iter(match=pattern, count=500):
            batch.append(key)
            if len(batch) >= 500:
                self._redis.delete(*batch)
                batch.clear()
        if batch:
            self._redis.delete(*batch)

    def _get(self, object_id: str) -> Obj | None:
        return _Tx(self._redis, self._key).get(object_id)

    def _charge_of(self, payment_intent_id: str) -> Obj | None:
        intent = self._get(payment_intent_id)
        if intent is None or not intent.get("latest_charge"):
            return None
        return self._get(intent["latest_charge"])


def _withheld_by_disputes(tx: _Tx, charge: Obj) -> int:
    """Disputed funds not (or no longer) with the platform: open disputes and lost ones."""
    return sum(
        d["amount"]
        for d in tx.objects("charge", charge["id"], "disputes")
        if d["status"] in _OPEN_DISPUTE or d["status"] == "lost"
    )


def _lost_in_disputes(tx: _Tx, charge: Obj) -> int:
    disputes = tx.objects("charge", charge["id"], "disputes")
    return sum(int(d["amount"]) for d in disputes if d["status"] == "lost")


def _refundable(tx: _Tx, charge: Obj) -> int:
    return int(charge["amount_captured"]) - int(charge["amount_refunded"]) - _lost_in_disputes(tx, charge)


def _group_available(tx: _Tx, transfer_group: str, currency: str) -> int:
    """What the platform still holds for this transfer group, in this currency."""
    held = 0
    for intent in tx.objects("group", transfer_group, "payments"):
        if intent["currency"] != currency or not intent.get("latest_charge"):
            continue
        charge = tx.get(intent["latest_charge"])
        if charge is None:
            continue
        held += int(charge["amount_captured"]) - int(charge["amount_refunded"])
        held -= _withheld_by_disputes(tx, charge)
    paid_out = sum(
        int(t["amount"])
        for t in tx.objects("group", transfer_group, "transfers")
        if t["currency"] == currency
    )
    return held - paid_out


def _account(obj: Obj) -> Account:
    return Account(
        id=obj["id"],
        details_submitted=bool(obj["details_submitted"]),
        payouts_enabled=bool(obj["payouts_enabled"]),
    )


def _payment_intent(obj: Obj) -> PaymentIntent:
    return PaymentIntent(
        id=obj["id"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        status=obj["status"],
        client_secret=obj["client_secret"],
        transfer_group=obj["transfer_group"],
        amount_received=int(obj["amount_received"]),
        latest_charge=obj["latest_charge"] or "",
        metadata=dict(obj["metadata"]),
    )


def _transfer(obj: Obj) -> Transfer:
    return Transfer(
        id=obj["id"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        destination=obj["destination"],
        transfer_group=obj["transfer_group"],
        metadata=dict(obj["metadata"]),
    )


def _refund(obj: Obj) -> Refund:
    return Refund(
        id=obj["id"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        payment_intent=obj["payment_intent"],
        status=obj["status"],
        metadata=dict(obj["metadata"]),
    )


def _setting(name: str, default: str) -> str:
    # Settings win (tests override them), then the environment (a subprocess or server is given it).
    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(name)
    return default if value is None or value == "" else str(value)


def simulated_gateway() -> SimulatedGateway:
    """A zero-argument factory for settings.ESCROW_GATEWAY. ESCROW_SIMULATOR_NAMESPACE (default "sim")
    and ESCROW_SIMULATOR_REDIS_URL (default REDIS_URL) come from the settings or the environment;
    ESCROW_SIMULATOR_VALIDATE=0 turns off the validation of each call against stripe-mock."""
    from escrow.payments.stripe_gateway import StripeGateway

    validate = _setting("ESCROW_SIMULATOR_VALIDATE", "1").lower() not in ("0", "false", "no", "off")
    return SimulatedGateway(
        redis_url=_setting("ESCROW_SIMULATOR_REDIS_URL", settings.REDIS_URL),
        namespace=_setting("ESCROW_SIMULATOR_NAMESPACE", "sim"),
        validate_with=StripeGateway() if validate else None,
    )
