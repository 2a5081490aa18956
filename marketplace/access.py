"""Who may see and do what: object-level checks shared by actions and the API.

`access_deal` both checks and (optionally) locks, in Zulip's style: an action calls it first, inside its
transaction, so that the check and the write see the same row. Someone outside a deal gets NOT_FOUND, not
PERMISSION_DENIED: nobody outside a deal learns that it exists.
"""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Q

from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Deal, Listing, ListingStatus, Membership, Side

# Deal states in which the NDA has been signed by both sides.
SIGNED_STATES = ("nda_signed", "negotiating", "agreed", "in_escrow", "settled", "disputed", "resolved")


def is_operator(user: User) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def member_org_ids(user: User) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def is_member(user: User, organization_id: int) -> bool:
    return (
        user.is_authenticated
        and Membership.objects.filter(user=user, organization_id=organization_id).exists()
    )


def deal_side(user: User, deal: Deal) -> Side | None:
    """The side the user stands on in this deal, or None (brokers and outsiders stand on neither)."""
    orgs = member_org_ids(user)
    if deal.listing.seller_id in orgs:
        return Side.SELLER
    if deal.buyer_id in orgs:
        return Side.BUYER
    return None


def is_deal_broker(user: User, deal: Deal) -> bool:
    return user.is_authenticated and deal.brokers.filter(broker=user).exists()


def can_see_deal(user: User, deal: Deal) -> bool:
    return is_operator(user) or deal_side(user, deal) is not None or is_deal_broker(user, deal)


def access_deal(user: User, deal_id: int, lock: bool = False) -> Deal:
    queryset = Deal.objects.select_related("listing")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    deal = queryset.filter(pk=deal_id).first()
    if deal is None or not can_see_deal(user, deal):
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such deal.", "deal_id")
    return deal


def can_see_listing(user: User, listing: Listing) -> bool:
    if listing.status in (ListingStatus.PUBLISHED, ListingStatus.UNDER_NEGOTIATION, ListingStatus.CLOSED):
        return True
    return is_operator(user) or is_member(user, listing.seller_id)


def know_how_grants(user: User, org_ids: Iterable[int], listing_ids: Iterable[int]) -> set[int]:
    """Of these listings, those whose know-how the user may read besides as seller or operator: brokers
    assigned to the listing or to any of its deals (they mediate and need the substance), and members of a
    buyer whose deal on it has a signed NDA. `org_ids` are the user's organisations (a queryset is used
    as a subquery)."""
    if not user.is_authenticated:
        return set()
    ids = list(listing_ids)
    brokered = Listing.brokers.through.objects.filter(listing_id__in=ids, user_id=user.pk)
    dealt = Deal.objects.filter(listing_id__in=ids).filter(
        Q(buyer_id__in=org_ids, state__in=SIGNED_STATES) | Q(brokers__broker=user)
    )
    return set(brokered.values_list("listing_id", flat=True)) | set(
        dealt.values_list("listing_id", flat=True)
    )


def can_read_know_how(user: User, listing: Listing) -> bool:
    """Confidential know-how: the seller, operators, and those `know_how_grants` names."""
    orgs = member_org_ids(user)
    return (
        is_operator(user)
        or listing.seller_id in orgs
        or listing.pk in know_how_grants(user, orgs, [listing.pk])
    )


def access_listing(user: User, listing_id: int, lock: bool = False, manage: bool = False) -> Listing:
    queryset = Listing.objects.all()
    if lock:
        queryset = queryset.select_for_update()
    listing = queryset.filter(pk=listing_id).first()
    if listing is None or not can_see_listing(user, listing):
        raise ActionError(MarketplaceErrorCode.NOT_FOUND, "No such listing.", "listing_id")
    if manage and not (is_member(user, listing.seller_id) or is_operator(user)):
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only the seller may change this listing.")
    return listing
