"""The marketplace's DataLoaders, named XByYLoader. See backend/api/core/loaders.py for how they batch."""

from collections import defaultdict

from backend.api.core.loaders import ListLoader, Loader, group_by
from marketplace.access import know_how_grants
from marketplace.models import (
    Bookmark,
    BrokerProfile,
    Deal,
    DealBroker,
    Demand,
    Listing,
    Membership,
    Milestone,
    NdaSignature,
    Offer,
    OfferAcceptance,
    Organization,
    Patent,
    PatentEvent,
    PatentOwnershipChange,
)


class OrganizationByIdLoader(Loader[int, Organization | None]):
    sources = (
        (Patent, "owner_id"),
        (Listing, "seller_id"),
        (Demand, "buyer_id"),
        (Deal, "buyer_id"),
        (BrokerProfile, "firm_id"),
    )

    def batch_load(self, keys: list[int]) -> dict[int, Organization | None]:
        return {org.pk: org for org in Organization.objects.filter(pk__in=keys)}

    def missing(self, key: int) -> Organization | None:
        return None


class ListingByIdLoader(Loader[int, Listing | None]):
    sources = ((Deal, "listing_id"),)

    def batch_load(self, keys: list[int]) -> dict[int, Listing | None]:
        return {listing.pk: listing for listing in Listing.objects.filter(pk__in=keys)}

    def missing(self, key: int) -> Listing | None:
        return None


class PatentsByListingIdLoader(ListLoader[int, Patent]):
    sources = ((Listing, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[Patent]]:
        links = Listing.patents.through.objects.filter(listing_id__in=keys).select_related("patent")
        grouped: dict[int, list[Patent]] = defaultdict(list)
        for link in links.order_by("patent__office", "patent__application_number"):
            grouped[link.listing_id].append(link.patent)
        return grouped


class EventsByPatentIdLoader(ListLoader[int, PatentEvent]):
    sources = ((Patent, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[PatentEvent]]:
        return group_by(PatentEvent.objects.filter(patent_id__in=keys), "patent_id")


class OwnershipChangesByPatentIdLoader(ListLoader[int, PatentOwnershipChange]):
    sources = ((Patent, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[PatentOwnershipChange]]:
        return group_by(PatentOwnershipChange.objects.filter(patent_id__in=keys), "patent_id")


class MembershipsByOrganizationIdLoader(ListLoader[int, Membership]):
    sources = ((Organization, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[Membership]]:
        rows = (
            Membership.objects.filter(organization_id__in=keys)
            .select_related("user", "organization")
            .order_by("id")
        )
        return group_by(rows, "organization_id")


class BookmarkedByListingIdLoader(Loader[int, bool]):
    """Whether the viewer bookmarked each listing."""

    sources = ((Listing, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, bool]:
        user = self.loaders.user
        if not user.is_authenticated:
            return {}
        marked = Bookmark.objects.filter(user=user, listing_id__in=keys)
        return {listing_id: True for listing_id in marked.values_list("listing_id", flat=True)}

    def missing(self, key: int) -> bool:
        return False


class KnowHowAccessByListingIdLoader(Loader[int, bool]):
    """Whether the viewer may read a listing's confidential know-how, besides being seller or operator:
    a broker of the listing or of one of its deals, or a buyer whose deal on it has a signed NDA."""

    sources = ((Listing, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, bool]:
        user = self.loaders.user
        if not user.is_authenticated:
            return {}
        org_ids = Membership.objects.filter(user=user).values_list("organization_id", flat=True)
        return dict.fromkeys(know_how_grants(user, org_ids, keys), True)

    def missing(self, key: int) -> bool:
        return False


class BrokersByDealIdLoader(ListLoader[int, DealBroker]):
    sources = ((Deal, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[DealBroker]]:
        rows = (
            DealBroker.objects.filter(deal_id__in=keys)
            .select_related("broker", "broker__broker_profile")
            .order_by("-is_lead", "id")
        )
        return group_by(rows, "deal_id")


class OffersByDealIdLoader(ListLoader[int, Offer]):
    sources = ((Deal, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[Offer]]:
        return group_by(Offer.objects.filter(deal_id__in=keys).order_by("version"), "deal_id")


class AcceptancesByOfferIdLoader(ListLoader[int, OfferAcceptance]):
    sources = ((Offer, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[OfferAcceptance]]:
        return group_by(OfferAcceptance.objects.filter(offer_id__in=keys).order_by("id"), "offer_id")


class NdaSignaturesByDealIdLoader(ListLoader[int, NdaSignature]):
    sources = ((Deal, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[NdaSignature]]:
        rows = (
            NdaSignature.objects.filter(deal_id__in=keys).select_related("signer", "template").order_by("id")
        )
        return group_by(rows, "deal_id")


class MilestonesByDealIdLoader(ListLoader[int, Milestone]):
    sources = ((Deal, "pk"),)

    def batch_load(self, keys: list[int]) -> dict[int, list[Milestone]]:
        return group_by(Milestone.objects.filter(deal_id__in=keys).order_by("sequence"), "deal_id")
