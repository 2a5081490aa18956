from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from marketplace import audit
from marketplace.access import access_listing, is_member
from marketplace.error_codes import ActionError, MarketplaceErrorCode
from marketplace.models import Listing, ListingStatus, Organization, Patent, Sector, TransactionType
from marketplace.validation import check_money, check_text

LISTING_TEXT_LIMITS = {"summary": 10_000, "know_how": 50_000, "quantified_benefit": 500}


def _check_listing_fields(
    title: str | None,
    transaction_types: Sequence[str] | None,
    price_amount: int | None,
    price_currency: str,
    sector: str | None,
    trl: int | None,
    texts: dict[str, str],
) -> None:
    if title is not None and (not title.strip() or len(title) > 300):
        raise ActionError(
            MarketplaceErrorCode.INVALID, "A title of 1 to 300 characters is required.", "title"
        )
    if transaction_types is not None and (
        not transaction_types or set(transaction_types) - set(TransactionType.values)
    ):
        raise ActionError(
            MarketplaceErrorCode.INVALID, "Give one or more known transaction types.", "transaction_types"
        )
    if price_amount is not None:
        check_money(price_amount, price_currency, "price_amount")
    if sector is not None and sector not in Sector.values:
        raise ActionError(MarketplaceErrorCode.INVALID, "Unknown sector.", "sector")
    if trl is not None and not 1 <= trl <= 9:
        raise ActionError(MarketplaceErrorCode.INVALID, "TRL is between 1 and 9.", "trl")
    for name, text in texts.items():
        check_text(text, name, LISTING_TEXT_LIMITS[name], required=False)


def _owned_patents(seller_id: int, patent_ids: Sequence[int]) -> list[Patent]:
    patents = list(Patent.objects.filter(pk__in=patent_ids))
    if not patent_ids or len(patents) != len(set(patent_ids)):
        raise ActionError(MarketplaceErrorCode.INVALID, "Give one or more existing patents.", "patent_ids")
    if any(patent.owner_id != seller_id for patent in patents):
        # Only the holder may offer a patent; imported patents are linked to their holder's organisation.
        raise ActionError(
            MarketplaceErrorCode.PATENT_NOT_OWNED, "The seller does not hold every patent.", "patent_ids"
        )
    return patents


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
    quantified_benefit: str = "",
) -> Listing:
    if not is_member(user, seller_id):
        raise ActionError(MarketplaceErrorCode.PERMISSION_DENIED, "Only members list for their organisation.")
    texts = {"summary": summary, "know_how": know_how, "quantified_benefit": quantified_benefit}
    _check_listing_fields(title, transaction_types, price_amount, price_currency, sector, trl, texts)
    patents = _owned_patents(seller_id, patent_ids)
    listing = Listing.objects.create(
        seller=Organization.objects.get(pk=seller_id),
        created_by=user,
        title=title.strip(),
        summary=summary,
        know_how=know_how,
        quantified_benefit=quantified_benefit,
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


@dataclass(frozen=True)
class ListingChanges:
    """Fields to change; None leaves a field as it is. Set `clear_price` to make the price negotiable."""

    title: str | None = None
    summary: str | None = None
    know_how: str | None = None
    quantified_benefit: str | None = None
    transaction_types: Sequence[str] | None = None
    price_amount: int | None = None
    price_currency: str | None = None
    clear_price: bool = False
    sector: str | None = None
    trl: int | None = None
    patent_ids: Sequence[int] | None = None


@transaction.atomic
def update_listing(user: User, listing_id: int, changes: ListingChanges) -> Listing:
    listing = access_listing(user, listing_id, lock=True, manage=True)
    if listing.status not in (ListingStatus.DRAFT, ListingStatus.PUBLISHED):
        raise ActionError(
            MarketplaceErrorCode.INVALID_STATE, f"A listing {listing.status} cannot be changed."
        )
    texts = {name: value for name in LISTING_TEXT_LIMITS if (value := getattr(changes, name)) is not None}
    currency = changes.price_currency or listing.price_currency
    _check_listing_fields(
        changes.title,
        changes.transaction_types,
        changes.price_amount,
        currency,
        changes.sector,
        changes.trl,
        texts,
    )
    changed: list[str] = []

    def put(name: str, value: object) -> None:
        if getattr(listing, name) != value:
            setattr(listing, name, value)
            changed.append(name)

    if changes.title is not None:
        put("title", changes.title.strip())
    for name, text in texts.items():
        put(name, text)
    if changes.transaction_types is not None:
        put("transaction_types", list(dict.fromkeys(changes.transaction_types)))
    if changes.clear_price:
        put("price_amount", None)
        put("price_currency", "")
        put("price_negotiable", True)
    elif changes.price_amount is not None:
        put("price_amount", changes.price_amount)
        put("price_currency", currency.upper())
        put("price_negotiable", False)
    if changes.sector is not None:
        put("sector", changes.sector)
    if changes.trl is not None:
        put("trl", changes.trl)
    if changes.patent_ids is not None:
        if listing.status != ListingStatus.DRAFT:
            raise ActionError(
                MarketplaceErrorCode.INVALID_STATE, "Patents change only while drafting.", "patent_ids"
            )
        patents = _owned_patents(listing.seller_id, changes.patent_ids)
        if {p.pk for p in patents} != set(listing.patents.values_list("pk", flat=True)):
            listing.patents.set(patents)
            changed.append("patents")
    if changed:
        listing.save()
        audit.record(user, listing, "update_listing", listing.status, listing.status, fields=changed)
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
