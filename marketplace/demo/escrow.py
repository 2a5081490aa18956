"""The escrow in the demo: payees onboarded, deliverables deposited, milestones in every escrow state.

Runs last in `generator.generate`, on the deals that reached `agreed` with milestones, and only through the
escrow's own actions and event handlers, so the audit trail, the double-entry ledger and the transparency
log are the real ones and agree with each other. Money needs a gateway that keeps state (payments that
succeed, balances, idempotency): stripe-mock is stateless, so this part runs only when ESCROW_GATEWAY is
the simulator (`escrow.payments.simulated.simulated_gateway`, every call still validated against
stripe-mock); with any other gateway it is skipped and the report says why.

What the gateway would tell us by webhook (an onboarding finished, a payment succeeded, a transfer made)
is applied through the handlers the webhook endpoint runs, in the order the simulator emitted it.

The ledger and the log refuse DELETE (database triggers), and a Merkle log cannot lose single leaves, so
`reset` empties the escrow tables whole with TRUNCATE; `marketplace.demo.reset` refuses before that when
they hold anything the demo did not make (`not_generated`).
"""

import json
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from functools import partial
from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q

from escrow import ledger
from escrow.models import (
    ConnectedAccount,
    Deposit,
    DepositFile,
    DepositPurpose,
    DepositState,
    Dispute,
    EscrowMilestone,
    GatewayOperation,
    HoldReminder,
    LedgerTransaction,
    LogEntry,
)
from escrow.payments import actions as payments
from escrow.payments import operations
from escrow.payments.accounts import ensure_payee_account, payee_ready
from escrow.payments.gateway import get_gateway
from escrow.payments.simulated import SimulatedGateway
from escrow.payments.webhook_registry import HANDLERS, load_handlers
from escrow.vault import storage
from escrow.vault.deposits import create_deposit
from escrow.vault.upload import EncryptingUploadHandler, SealedBatch
from marketplace.demo.records import generated_users
from marketplace.models import (
    AuditEntry,
    Deal,
    DealState,
    Listing,
    MemberRole,
    Membership,
    Milestone,
    MilestoneState,
    Notification,
    OrgKind,
    Patent,
)

SIMULATOR = "escrow.payments.simulated.simulated_gateway"
NOTICE = (
    "GENERATED DEMO MATERIAL - NOT A REAL TECHNICAL DOCUMENT.\n"
    "Written by the ipmarket demo data generator (manage.py generate_demo_data) from the public patent "
    "records named below. It holds no know-how, trade secret or other confidential information of the "
    "patent holder, and nobody should rely on it."
)
ABSTRACT_CHARS = 600
PROOFS_OF_EXISTENCE = 2  # deposited by university sellers
PARTIAL_PERCENT = (30, 40, 50)  # of a milestone, released by the buyer before acceptance


class Step(StrEnum):
    """How far a milestone is taken through the escrow."""

    FUNDED = "funded"
    DELIVERED = "delivered"
    RELEASED = "released"  # accepted by the buyer: funds and deposited deliverables released together
    PARTIALLY_RELEASED = "partially_released"
    DISPUTED = "disputed"


# The milestones of each agreed deal, in order (more deals than plans cycle through them); milestones
# beyond a plan stay pending, for a demo buyer to fund.
PLANS: tuple[tuple[Step, ...], ...] = (
    (Step.RELEASED, Step.DELIVERED),
    (Step.PARTIALLY_RELEASED, Step.DISPUTED),
)
DISPUTE_REASON = (
    "인도물이 합의된 내용과 다릅니다: {deliverables}. "
    "(The deliverables differ from what was agreed: {deliverables}.)"
)


def simulator() -> SimulatedGateway | None:
    """The configured gateway when it is the stateful simulator; None otherwise (nothing is generated)."""
    gateway = get_gateway()
    return gateway if isinstance(gateway, SimulatedGateway) else None


class _Webhooks:
    """The simulator's events, applied in order by the handlers the webhook endpoint runs (each in a
    savepoint, as the endpoint does); types nobody handles are skipped, as the endpoint acknowledges them."""

    def __init__(self, gateway: SimulatedGateway) -> None:
        load_handlers()
        self.gateway = gateway
        self.seen = len(gateway.events())

    def deliver(self) -> None:
        events = self.gateway.events()
        for event in events[self.seen :]:
            handler = HANDLERS.get(str(event["type"]))
            if handler is not None:
                with transaction.atomic():
                    handler(event)
        self.seen = len(events)


def _admin(organization_id: int) -> User:
    """The organisation's first generated admin: the person who acts for it in the demo."""
    membership = (
        Membership.objects.select_related("user")
        .filter(organization_id=organization_id, role=MemberRole.ADMIN, user__in=generated_users())
        .order_by("pk")
        .first()
    )
    if membership is None:
        raise RuntimeError(f"organisation {organization_id} has no generated admin")
    return membership.user


def _onboard(gateway: SimulatedGateway, hooks: _Webhooks, user: User, organization_id: int | None) -> None:
    """Open the payee's account and finish the gateway's onboarding; `account.updated` makes it ready."""
    account = ensure_payee_account(user, organization_id=organization_id)
    if not payee_ready(account):
        gateway.complete_onboarding(account.provider_account_id)
        hooks.deliver()


def _sealed(files: Sequence[tuple[str, str, bytes]]) -> SealedBatch:
    """(name, content type, bytes) sealed by the upload handler a deposit request goes through."""
    handler = EncryptingUploadHandler()
    for name, content_type, content in files:
        handler.new_file("files", name, content_type, len(content), None, {})
        handler.receive_data_chunk(content, 0)
        handler.file_complete(len(content))
    handler.upload_complete()
    return handler.batch


def _title(patent: Patent) -> str:
    titles = patent.titles or {}
    ko, en = str(titles.get("ko") or ""), str(titles.get("en") or "")
    return f"{ko} ({en})" if ko and en else ko or en or patent.application_number


def _abstract(patent: Patent) -> str:
    abstracts = patent.abstracts or {}
    text = " ".join(str(abstracts.get("en") or abstracts.get("ko") or "").split())
    return text if len(text) <= ABSTRACT_CHARS else text[: ABSTRACT_CHARS - 1].rstrip() + "…"


def _patents(listing: Listing) -> list[Patent]:
    return list(listing.patents.order_by("office", "application_number"))


def _patent_lines(patents: Sequence[Patent]) -> list[str]:
    lines = []
    for n, patent in enumerate(patents, start=1):
        lines.append(f"{n}. {patent.office} {patent.application_number} - {_title(patent)}")
        if patent.ipc_codes:
            lines.append(f"   IPC: {', '.join(patent.ipc_codes)}")
        abstract = _abstract(patent)
        if abstract:
            lines.append(f"   Abstract (public record): {abstract}")
    return lines


def summary_text(deal: Deal, milestone: Milestone, patents: Sequence[Patent]) -> bytes:
    """The technical summary of a milestone's deliverables, written from the listing's real patents."""
    lines = [
        NOTICE,
        "",
        "TECHNICAL DATA PACKAGE - SUMMARY",
        f"Listing: {deal.listing.title}",
        f"Seller: {deal.listing.seller.name}",
        f"Buyer: {deal.buyer.name}",
        f"Milestone {milestone.sequence}: {milestone.title}",
        f"Agreed deliverables: {milestone.deliverables or '-'}",
        "",
        "Patents covered",
        *_patent_lines(patents),
        "",
        "Contents of this deposit: this summary and bill-of-materials.json.",
    ]
    return ("\n".join(lines) + "\n").encode()


def bill_of_materials(deal: Deal, milestone: Milestone, patents: Sequence[Patent]) -> bytes:
    items: list[dict[str, Any]] = [
        {"item": "technical-summary.txt", "kind": "document", "quantity": 1},
        *(
            {
                "item": f"{p.office} {p.application_number}",
                "kind": "patent",
                "title": _title(p),
                "ipc": list(p.ipc_codes or []),
            }
            for p in patents
        ),
        # The agreed deliverables themselves stay outside the demo: listed, not enclosed.
        *(
            {"item": part.strip(), "kind": "deliverable", "enclosed": False}
            for part in milestone.deliverables.split(",")
            if part.strip()
        ),
    ]
    body = {
        "format": "ipmarket-demo-bill-of-materials/1",
        "generated_demo_material": True,
        "notice": NOTICE,
        "listing": deal.listing.title,
        "buyer": deal.buyer.name,
        "milestone": {"sequence": milestone.sequence, "title": milestone.title},
        "items": [{"line": n, **item} for n, item in enumerate(items, start=1)],
    }
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode()


def _deposit_deliverables(seller: User, deal: Deal, milestone: Milestone) -> Deposit:
    patents = _patents(deal.listing)
    batch = _sealed(
        [
            ("technical-summary.txt", "text/plain", summary_text(deal, milestone, patents)),
            ("bill-of-materials.json", "application/json", bill_of_materials(deal, milestone, patents)),
        ]
    )
    return create_deposit(
        seller,
        deal.listing.seller_id,
        DepositPurpose.MILESTONE,
        f"Milestone {milestone.sequence} deliverables: {milestone.title}"[:200],
        batch,
        description="Generated demo material: a technical summary and a bill of materials.",
        milestone_id=milestone.pk,
    )


def _drive(
    gateway: SimulatedGateway,
    hooks: _Webhooks,
    rng: random.Random,
    deal: Deal,
    milestone: Milestone,
    step: Step,
) -> None:
    """Take one milestone to `step`, each move by the party who makes it."""
    buyer, seller = deal.created_by, _admin(deal.listing.seller_id)
    record = payments.fund_milestone(buyer, milestone.pk, gateway)
    gateway.succeed_payment(str(record.payment_intent_id))
    hooks.deliver()  # payment_intent.succeeded: the money is booked as held
    if step in (Step.DELIVERED, Step.RELEASED, Step.DISPUTED):
        payments.confirm_delivery(seller, milestone.pk)
    if step == Step.RELEASED:
        payments.accept_milestone(buyer, milestone.pk, gateway)
    elif step == Step.PARTIALLY_RELEASED:
        share = milestone.amount * rng.choice(PARTIAL_PERCENT) // 100
        payments.partial_release(buyer, milestone.pk, share, gateway)
    elif step == Step.DISPUTED:
        payments.open_dispute(
            buyer, milestone.pk, DISPUTE_REASON.format(deliverables=milestone.deliverables or milestone.title)
        )
    # The transfers a release owes run after commit in production; here at once, by the sweep.
    operations.execute_pending(gateway=gateway)
    hooks.deliver()


def _proofs_of_existence(rng: random.Random) -> None:
    """Proofs of existence by university sellers (distinct ones first), from one listing's patents."""
    by_seller: dict[int, list[Listing]] = defaultdict(list)
    for listing in Listing.objects.filter(is_generated=True, seller__kind=OrgKind.UNIVERSITY).order_by("pk"):
        by_seller[listing.seller_id].append(listing)
    sellers = sorted(by_seller)
    rng.shuffle(sellers)
    chosen = [rng.choice(by_seller[s]) for s in sellers[:PROOFS_OF_EXISTENCE]]
    others = [item for s in sorted(by_seller) for item in by_seller[s] if item not in chosen]
    chosen += rng.sample(others, min(len(others), PROOFS_OF_EXISTENCE - len(chosen)))
    for listing in chosen:
        patents = _patents(listing)
        text = "\n".join(
            [
                NOTICE,
                "",
                "INVENTION RECORD - PROOF OF EXISTENCE",
                f"Holder: {listing.seller.name}",
                f"Research behind: {listing.title}",
                "",
                *_patent_lines(patents),
            ]
        )
        create_deposit(
            _admin(listing.seller_id),
            listing.seller_id,
            DepositPurpose.PROOF_OF_EXISTENCE,
            f"Invention record: {_title(patents[0]) if patents else listing.title}"[:200],
            _sealed([("invention-record.txt", "text/plain", (text + "\n").encode())]),
            description="Generated demo material: proves what the holder had, and when.",
        )


def _escrow_in_use() -> bool:
    return (
        ConnectedAccount.objects.exists()
        or EscrowMilestone.objects.exists()
        or GatewayOperation.objects.exists()
    )


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """stripe-python logs every request at INFO; the simulator's validation calls would fill the output."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def generate(rng: random.Random) -> bool:
    """Onboard payees, deposit deliverables and drive the agreed deals' milestones through the escrow.
    False (nothing written) when the configured gateway is not the simulator."""
    gateway = simulator()
    if gateway is None:
        return False
    with _quiet("stripe"):
        _generate(gateway, rng)
    return True


def _generate(gateway: SimulatedGateway, rng: random.Random) -> None:
    if not _escrow_in_use():
        # Nothing here refers to the simulator's state: what it holds comes from an earlier database
        # (its idempotency keys name milestone ids that will be used again), so start it afresh.
        gateway.reset()
    hooks = _Webhooks(gateway)
    agreed = Deal.objects.filter(is_generated=True, state=DealState.AGREED, milestones__isnull=False)
    # In creation order, so the plans fall on the same deals for a seed.
    deals = list(agreed.distinct().select_related("listing__seller", "buyer", "created_by").order_by("pk"))
    for n, deal in enumerate(deals):
        seller = _admin(deal.listing.seller_id)
        _onboard(gateway, hooks, seller, deal.listing.seller_id)
        for broker in User.objects.filter(deal_brokerships__deal=deal).order_by("pk"):
            _onboard(gateway, hooks, broker, None)
        milestones = list(deal.milestones.order_by("sequence"))
        _deposit_deliverables(seller, deal, milestones[0])
        for milestone, step in zip(milestones, PLANS[n % len(PLANS)], strict=False):
            _drive(gateway, hooks, rng, deal, milestone, step)
    _proofs_of_existence(rng)


# --- reset -----------------------------------------------------------------------------------------------


def _escrow_tables() -> list[str]:
    return [model._meta.db_table for model in apps.get_app_config("escrow").get_models()]


def not_generated(user_ids: Sequence[int], deal_ids: Sequence[int]) -> list[str]:
    """Escrow records the demo did not make, which emptying the escrow would take with it (up to 10)."""
    strangers = Deposit.objects.exclude(created_by_id__in=user_ids).values_list("pk", flat=True)
    found = [f"Deposit #{pk}" for pk in strangers[:10]]
    for model in (EscrowMilestone, Dispute, LedgerTransaction, GatewayOperation, HoldReminder):
        rows = model._default_manager.filter(milestone__isnull=False).exclude(milestone__deal_id__in=deal_ids)
        found += [f"{model.__name__} #{pk}" for pk in rows.values_list("pk", flat=True)[:10]]
    # A payee account is the demo's when a generated user opened it.
    opened = AuditEntry.objects.filter(
        object_type="connectedaccount", action="create_payee_account", actor_id__in=user_ids
    ).values_list("object_id", flat=True)
    found += [
        f"ConnectedAccount #{pk}"
        for pk in ConnectedAccount.objects.exclude(pk__in=opened).values_list("pk", flat=True)[:10]
    ]
    return sorted(found)[:10]


def reset(deal_ids: Sequence[int]) -> dict[str, int]:
    """Empty the escrow, which holds only what the demo made (`not_generated` must be empty: the caller
    checks it). The ledger and the log refuse DELETE and a Merkle log cannot lose single leaves, so every
    escrow table is emptied with TRUNCATE; the deposits' ciphertext is deleted from the vault storage once
    the transaction commits. Inside the caller's transaction. Returns how many rows of each kind went."""
    removed = {
        "escrow deposits": Deposit.objects.count(),
        "ledger transactions": LedgerTransaction.objects.count(),
        "log entries": LogEntry.objects.count(),
    }
    files = list(DepositFile.objects.values_list("storage_name", flat=True))
    about = Q(object_type="connectedaccount", object_id__in=ConnectedAccount.objects.values("pk"))
    about |= Q(object_type="dispute", object_id__in=Dispute.objects.values("pk"))
    AuditEntry.objects.filter(about).delete()
    # Operators (real staff too) were told about the demo's disputes and failures.
    Notification.objects.filter(data__deal_id__in=list(deal_ids)).delete()
    tables = ", ".join(connection.ops.quote_name(t) for t in _escrow_tables())
    with connection.cursor() as cursor:
        # TRUNCATE refuses a table with deferred checks pending in this transaction (rows written
        # earlier in it): run them now, then defer again (every deferrable constraint here is initially
        # deferred). No CASCADE: every escrow table is listed, and PostgreSQL then refuses, rather than
        # silently empties, a table of another app that comes to refer to one of them.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {tables}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    transaction.on_commit(partial(storage.delete_quietly, files))
    return removed


# --- report ----------------------------------------------------------------------------------------------


def counts() -> dict[str, str]:
    """Short lines for the demo report."""
    deposits = Counter(Deposit.objects.values_list("purpose", flat=True))
    if not deposits and not EscrowMilestone.objects.exists():
        if simulator() is None:
            return {"escrow": f"nothing held: the demo's escrow needs ESCROW_GATEWAY={SIMULATOR}"}
        return {"escrow": "nothing held"}
    released = Deposit.objects.filter(state=DepositState.RELEASED).count()
    funded = Milestone.objects.filter(escrow__funded_at__isnull=False)
    states = Counter(funded.values_list("state", flat=True))
    partial_ids = LedgerTransaction.objects.filter(kind=payments.RELEASE).values("milestone_id")
    partly = funded.filter(pk__in=partial_ids).exclude(state=MilestoneState.RELEASED).count()
    balance = ledger.totals_by_currency()
    balanced = "balanced" if not any(balance.values()) else f"UNBALANCED {balance}"
    return {
        "escrow deposits": f"{sum(deposits.values())} ("
        f"{deposits[DepositPurpose.MILESTONE]} milestone deliverables, "
        f"{deposits[DepositPurpose.PROOF_OF_EXISTENCE]} proofs of existence; {released} released)",
        "escrow milestones": f"{sum(states.values())} funded ("
        + ", ".join(f"{state} {states[state]}" for state in MilestoneState.values if states[state])
        + f"; {partly} partially released)",
        "ledger": f"{LedgerTransaction.objects.count()} transactions, {balanced}",
        "transparency log": f"{LogEntry.objects.count()} entries",
    }
