"""What the demo holds: counts per kind and the sign-in accounts, read back from the database."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from marketplace.demo import escrow as demo_escrow
from marketplace.demo.records import generated_users
from marketplace.models import (
    AuditEntry,
    Bookmark,
    BrokerProfile,
    Deal,
    DealState,
    Demand,
    Listing,
    ListingStatus,
    ListingView,
    Membership,
    Milestone,
    Offer,
    Organization,
    Patent,
)


@dataclass(frozen=True)
class Account:
    role: str
    email: str
    name: str
    organisation: str


def counts() -> dict[str, str]:
    users = generated_users()
    orgs = Counter(Organization.objects.filter(is_generated=True).values_list("kind", flat=True))
    listings = Counter(Listing.objects.filter(is_generated=True).values_list("status", flat=True))
    deals = Counter(Deal.objects.filter(is_generated=True).values_list("state", flat=True))
    demands = Demand.objects.filter(is_generated=True)
    holders = Organization.objects.filter(is_generated=False, memberships__user__in=users).distinct()
    deal_ids = list(Deal.objects.filter(is_generated=True).values_list("pk", flat=True))

    def breakdown(counter: Counter[str], order: Sequence[str] = ()) -> str:
        return ", ".join(f"{key} {counter[key]}" for key in (order or sorted(counter)) if counter[key])

    return {
        "organisations": f"{sum(orgs.values())} generated ({breakdown(orgs)})",
        "real holders": f"{holders.count()} given a generated member (verified by the demo operator)",
        "users": str(users.count()),
        "brokers": str(BrokerProfile.objects.filter(is_generated=True).count()),
        "listings": f"{sum(listings.values())} ({breakdown(listings, ListingStatus.values)})",
        "packaged patents": str(Patent.objects.filter(listings__is_generated=True).distinct().count()),
        "demands": f"{demands.count()} ({demands.filter(is_open=True).count()} open)",
        "deals": f"{sum(deals.values())} ({breakdown(deals, DealState.values)})",
        "offers": str(Offer.objects.filter(deal_id__in=deal_ids).count()),
        "milestones": str(Milestone.objects.filter(deal_id__in=deal_ids).count()),
        "bookmarks": str(Bookmark.objects.filter(user__in=users).count()),
        "views": str(ListingView.objects.filter(user__in=users).count()),
        "deal audit entries": str(
            AuditEntry.objects.filter(object_type="deal", object_id__in=deal_ids).count()
        ),
        **demo_escrow.counts(),
    }


def accounts() -> list[Account]:
    users = list(generated_users().select_related("broker_profile__firm").order_by("-is_staff", "pk"))
    orgs: dict[int, list[Organization]] = {}
    for membership in Membership.objects.filter(user__in=users).select_related("organization").order_by("pk"):
        orgs.setdefault(membership.user_id, []).append(membership.organization)
    result = []
    for user in users:
        mine = orgs.get(user.pk, [])
        profile = getattr(user, "broker_profile", None)
        if user.is_staff:
            role, org_name = "operator", "(platform staff)"
        elif isinstance(profile, BrokerProfile):
            role, org_name = "broker", profile.firm.name
        else:
            role = "buyer" if mine and mine[0].is_generated else "seller"
            org_name = ", ".join(o.name for o in mine)
        result.append(Account(role, user.email, user.get_full_name(), org_name))
    return result


def render(password_note: str) -> str:
    lines = ["Demo data (every invented record has is_generated=True; users are under example.com/.kr):"]
    lines += [f"  {kind:<20} {value}" for kind, value in counts().items()]
    lines += [
        "",
        f"Demo sign-in accounts (username = e-mail). {password_note}",
        "A shared, published password is fine for a local demo only; never load this data on a public "
        "server.",
    ]
    lines += [f"  {a.role:<9} {a.email:<48} {a.name} — {a.organisation}" for a in accounts()]
    return "\n".join(lines)
