"""Marketplace models, one module per aggregate."""

from marketplace.models.audit import AuditEntry
from marketplace.models.deals import (
    Deal,
    DealBroker,
    DealState,
    Milestone,
    MilestoneState,
    NdaSignature,
    NdaTemplate,
    Offer,
    OfferAcceptance,
    Side,
)
from marketplace.models.demands import Demand
from marketplace.models.listings import Listing, ListingStatus, Sector, TransactionType
from marketplace.models.notifications import IdempotencyKey, Notification
from marketplace.models.organisations import (
    ApiToken,
    BrokerProfile,
    Invitation,
    MemberRole,
    Membership,
    Organization,
    OrgKind,
)
from marketplace.models.patents import LegalStatus, Patent, PatentEvent, PatentOffice, PatentOwnershipChange
from marketplace.models.rooms import AuthorRole, DealRoom, EntryKind, RoomEntry, RoomReadState, Thread
from marketplace.models.signals import Bookmark, ListingView

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuthorRole",
    "Bookmark",
    "BrokerProfile",
    "Deal",
    "DealBroker",
    "DealRoom",
    "DealState",
    "Demand",
    "EntryKind",
    "IdempotencyKey",
    "Invitation",
    "LegalStatus",
    "Listing",
    "ListingStatus",
    "ListingView",
    "MemberRole",
    "Membership",
    "Milestone",
    "MilestoneState",
    "NdaSignature",
    "NdaTemplate",
    "Notification",
    "Offer",
    "OfferAcceptance",
    "OrgKind",
    "Organization",
    "Patent",
    "PatentEvent",
    "PatentOffice",
    "PatentOwnershipChange",
    "RoomEntry",
    "RoomReadState",
    "Sector",
    "Side",
    "Thread",
    "TransactionType",
]
