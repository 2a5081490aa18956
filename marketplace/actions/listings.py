from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from marketplace import audit
from marketplace.access import access_listing, is_member
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Listing, ListingStatus, Organization, Patent, TransactionType
from marketplace.validation import check_money


@transaction.atomic
def create_listing(
    user: User,
    seller_id: int,
    title: str,
    patent_ids: Sequence[int],
    transaction_types: Sequence[str],
    summary: str = "",
    know_how: str = "",
    price_amount: int | None = None,
    price_currency: str = "",
    sector: str = "other",
    trl: int | None = None,
) -> Listing:
    if not is_member(user, seller_id):
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only members list for their organisation.")
    if not title.strip() or len(title) > 300:
        raise ActionError(
            MarketplaceErrorCode.INVALID, "A title of 1 to 300 characters is required.", "title"
        )
    unknown = set(transaction_types) - set(TransactionType.values)
    if not transaction_types or unknown:
        raise ActionError(
            MarketplaceErrorCode.INVALID, "Give one or more known transaction types.", "transaction_types"
        )
    if price_amount is not None:
        check_money(price_amount, price_currency, "price_amount")
    if trl is not None and not 1 <= trl <= 9:
        raise ActionError(MarketplaceErrorCode.INVALID, "TRL is between 1 and 9.", "trl")
    patents = list(Patent.objects.filter(pk__in=patent_ids))
    if not patent_ids or len(patents) != len(set(patent_ids)):
        raise ActionError(MarketplaceErrorCode.INVALID, "Give one or more existing patents.", "patent_ids")
    if any(patent.owner_id != seller_id for patent in patents):
        # Only the holder may offer a patent; imported patents are linked to their holder's organisation.
        raise ActionError(
            MarketplaceErrorCode.PATENT_NOT_OWNED, "The seller does not hold every patent.", "patent_ids"
        )
    listing = Listing.objects.create(
        seller=Organization.objects.get(pk=seller_id),
        created_by=user,
        title=title.strip(),
        summary=summary,
        know_how=know_how,
        transaction_types=list(dict.fromkeys(transaction_types)),
        price_amount=price_amount,
        price_currency=price_currency.upper() if price_amount is not None else "",
        price_negotiable=price_amount is None,
        sector=sector,
        trl=trl,
    )
    listing.patents.set(patents)
    audit.record(user, listing, "create_listing", to_state=ListingStatus.DRAFT)
    return listing


@transaction.atomic
def publish_listing(user: User, listing_id: int) -> Listing:
    listing = access_listing(user, listing_id, lock=True, manage=True)
    if listing.status != ListingStatus.DRAFT:
        raise ActionError(
            MarketplaceErrorCode.INVALID_STATE, f"A {listing.status} listing cannot be published."
        )
    if not Organization.objects.filter(pk=listing.seller_id, verified_at__isnull=False).exists():
        raise ActionError(
            MarketplaceErrorCode.ORGANIZATION_NOT_VERIFIED, "An operator must verify the seller first."
        )
    listing.status = ListingStatus.PUBLISHED
    listing.published_at = timezone.now()
    listing.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(user, listing, "publish_listing", ListingStatus.DRAFT, ListingStatus.PUBLISHED)
    return listing


@transaction.atomic
def withdraw_listing(user: User, listing_id: int) -> Listing:
    listing = access_listing(user, listing_id, lock=True, manage=True)
    if listing.status in (ListingStatus.CLOSED, ListingStatus.WITHDRAWN):
        raise ActionError(
            MarketplaceErrorCode.INVALID_STATE, f"A {listing.status} listing cannot be withdrawn."
        )
    if listing.deals.filter(state__in=["in_escrow", "disputed"]).exists():
        raise ActionError(MarketplaceErrorCode.INVALID_STATE, "A deal of this listing holds money in escrow.")
    before = listing.status
    listing.status = ListingStatus.WITHDRAWN
    listing.save(update_fields=["status", "updated_at"])
    audit.record(user, listing, "withdraw_listing", before, ListingStatus.WITHDRAWN)
    return listing
