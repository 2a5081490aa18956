"""Deleting what the generator made, and only that: real patents and holders stay as they were."""

from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError

from marketplace.demo import escrow as demo_escrow
from marketplace.demo.generator import DemoDataError
from marketplace.demo.records import generated_users
from marketplace.models import (
    AuditEntry,
    BrokerProfile,
    Deal,
    Demand,
    Listing,
    Membership,
    Milestone,
    Offer,
    Organization,
    RoomEntry,
)


@transaction.atomic
def reset() -> dict[str, int]:
    """Delete generated records, their audit entries and everything generated users did; real holders the
    demo operator verified go back to unverified; the escrow is emptied (it holds only the demo's records,
    or nothing is deleted). Returns how many rows of each kind went."""
    users = generated_users()
    user_ids = list(users.values_list("pk", flat=True))
    deals = Deal.objects.filter(is_generated=True)
    listings = Listing.objects.filter(is_generated=True)
    demands = Demand.objects.filter(is_generated=True)
    orgs = Organization.objects.filter(is_generated=True)
    memberships = Membership.objects.filter(Q(user_id__in=user_ids) | Q(organization__in=orgs))
    objects = {
        "deal": list(deals.values_list("pk", flat=True)),
        # Escrow events (a payment booked, say) are recorded on the milestone with no actor.
        "milestone": list(Milestone.objects.filter(deal__in=deals).values_list("pk", flat=True)),
        "listing": list(listings.values_list("pk", flat=True)),
        "demand": list(demands.values_list("pk", flat=True)),
        "organization": list(orgs.values_list("pk", flat=True)),
        "membership": list(memberships.values_list("pk", flat=True)),
        "user": user_ids,
    }
    blocking = demo_escrow.not_generated(user_ids, objects["deal"])
    if blocking:
        raise DemoDataError(
            "The escrow holds records the demo did not make, and its ledger and log can only be emptied "
            "whole (they refuse DELETE): regenerate in a fresh database instead. Not the demo's: "
            + ", ".join(blocking)
        )
    escrow_removed = demo_escrow.reset(objects["deal"])
    about = Q(actor_id__in=user_ids)
    for object_type, ids in objects.items():
        about |= Q(object_type=object_type, object_id__in=ids)
    removed = {
        "audit entries": AuditEntry.objects.filter(about).delete()[0],
        "deals": len(objects["deal"]),
        "listings": len(objects["listing"]),
        "demands": len(objects["demand"]),
        "organisations": len(objects["organization"]),
        "users": len(user_ids),
        **escrow_removed,
    }
    Organization.objects.filter(is_generated=False, verified_by_id__in=user_ids).update(
        verified_at=None, verified_by=None
    )
    try:
        # Offers point at the version they counter (PROTECT); unlink them so the deals can go.
        Offer.objects.filter(deal__in=deals).update(counters=None)
        RoomEntry.objects.filter(deal__in=deals).update(source=None)  # forwards point at what they relay
        deals.delete()
        listings.delete()
        demands.delete()
        BrokerProfile.objects.filter(Q(is_generated=True) | Q(user_id__in=user_ids)).delete()
        orgs.delete()
        users.delete()
    except (ProtectedError, RestrictedError) as exc:
        rows = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        blocking = sorted({f"{type(row).__name__} #{row.pk}" for row in rows})[:10]
        raise DemoDataError(
            "Records that are not generated depend on generated ones; delete them first: "
            + ", ".join(blocking)
        ) from exc
    return removed
