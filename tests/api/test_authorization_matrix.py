"""The authorization matrix: every query and mutation of schema.graphql x eight roles, through the real
`/graphql/` endpoint in-process (Django's test client; each cell runs in its own rolled-back transaction).

A row is one operation, sometimes on one kind of object (`listing[draft]`): its document, the scene values
its variables take, the deal state it needs and the outcome per role. For a query the outcome is the root
field's exact data (null, or a list without what the role may not see) or `Refused(code)`, a request-level
error; for a mutation it is OK (the payload `ok`) or the code of the one error in its payload, with every
other payload field null. Queries and refused mutations must leave the database exactly as it was.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client
from graphql import build_schema
from graphql_relay import to_global_id

from escrow.models import ConnectedAccount
from escrow.payments import actions as pay
from escrow.payments.simulated import SimulatedGateway
from escrow.vault import releases
from escrow.vault.deposits import create_deposit
from marketplace import actions
from marketplace.actions.accounts import create_api_token
from marketplace.actions.deals import MilestoneInput
from marketplace.models import AuditEntry, BrokerProfile, Deal, DealState, Demand, Organization, RoomEntry
from matching.models import SavedSearch
from matching.recommend import demand_text
from tests.escrow.factories import ready_payee, simulator
from tests.escrow.vault_fixtures import seal, vault_fixture
from tests.marketplace.factories import World, build_world, open_deal
from tests.matching.search_fixtures import indexed_scene, module_search_indices
from tests.matching.test_recommendations import cache_vectors

__all__ = ["indexed_scene", "module_search_indices", "vault_fixture"]  # fixtures, used by name

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"
ROLES = ("anonymous", "seller", "other_seller", "buyer", "other_buyer", "broker", "other_broker", "operator")
DEAL_INSIDERS = ("seller", "buyer", "broker", "operator")

OK = "OK"
NA, NF, PD = "NOT_AUTHENTICATED", "NOT_FOUND", "PERMISSION_DENIED"

SELLER_ORG, BUYER_ORG = "인천대학교 산학협력단", "에이치씨테크(주)"
SELLER_BRN, BUYER_BRN = "123-45-67890", "987-65-43210"
PUBLISHED, DRAFT = "3D graphene supercapacitor electrodes", "Draft package"
KNOW_HOW = "Nozzle temperature profile and RGO concentration window"
SIGN_IN = ("member@example.com", "correct horse battery")


@dataclass(frozen=True)
class Refused:
    """A request-level error: `errors[].extensions.code`, and null data."""

    code: str


class _Present:
    """Equals any value but null: for secrets a mutation returns (tokens)."""

    def __eq__(self, other: object) -> bool:
        return other is not None

    def __repr__(self) -> str:
        return "<present>"


PRESENT = _Present()


@dataclass(frozen=True)
class Row:
    name: str  # the root field, with what the row is about in brackets: `listing[draft]`
    document: str
    expect: dict[str, Any]  # role -> outcome
    args: dict[str, str] = field(default_factory=dict)  # variable -> key in the scene
    state: DealState = DealState.INQUIRY  # the deal's state when the row runs
    ok: dict[str, Any] | None = None  # mutations: the payload besides `errors` when it works
    escrow: bool = False  # runs in the escrow scene (ESCROW_STATE), at a simulated gateway of its own

    @property
    def root(self) -> str:
        return self.name.partition("[")[0]

    def also(self, what: str, expect: dict[str, Any], **changes: Any) -> tuple["Row", "Row"]:
        """This row and the same operation on another object or in another deal state: `root[what]`."""
        return self, replace(self, name=f"{self.root}[{what}]", expect=expect, **changes)


def each(default: Any, **by_role: Any) -> dict[str, Any]:
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


def seen_by(value: Any, *roles: str, other: Any = None) -> dict[str, Any]:
    """A query: `value` for these roles, `other` for everyone else."""
    return each(other, **dict.fromkeys(roles, value))


def only(*roles: str, others: str) -> dict[str, Any]:
    """A mutation: OK for these roles, `others` for the rest of the signed-in, NOT_AUTHENTICATED signed out."""
    return each(others, anonymous=NA, **dict.fromkeys(roles, OK))


def in_deal(*roles: str) -> dict[str, Any]:
    """A deal mutation: OK for these roles, PERMISSION_DENIED for the deal's other insiders and NOT_FOUND
    for everyone outside: nobody outside a deal learns that it exists."""
    return each(NF, anonymous=NA, **{role: OK if role in roles else PD for role in DEAL_INSIDERS})


def deal_as(side: str | None, know_how: bool) -> dict[str, Any]:
    return {
        "state": "INQUIRY",
        "viewerSide": side,
        # Before the NDA the broker relays: the seller's side does not learn who the buyer is.
        "buyer": None if side == "SELLER" else {"name": BUYER_ORG},
        "brokers": [{"displayName": "broker", "isLead": True}],
        "listing": {"knowHowVisible": know_how},
    }


def listing_as(know_how: bool, quality: bool) -> dict[str, Any]:
    return {
        "title": PUBLISHED,
        "knowHow": KNOW_HOW if know_how else None,
        "knowHowVisible": know_how,
        "quality": {"__typename": "ListingQuality"} if quality else None,
    }


def org_as(name: str, number: str | None = None, admin: str | None = None) -> dict[str, Any]:
    members = None if admin is None else [{"role": "ADMIN", "user": {"displayName": admin}}]
    return {"name": name, "businessRegistrationNumber": number, "members": members}


def titles(*values: str) -> dict[str, Any]:
    return {"edges": [{"node": {"title": value}} for value in values]}


SIGNED_IN = each(OK, anonymous=NA)
RECOMMENDED = [{"listing": {"title": PUBLISHED}}]
BUYERS = [{"organization": {"name": BUYER_ORG}}]
MY_DEAL = {"totalCount": 1, "edges": [{"node": {"state": "INQUIRY", "listing": {"title": PUBLISHED}}}]}
NO_DEALS = {"totalCount": 0, "edges": []}
KNOW_HOW_BEFORE_NDA = each(
    listing_as(False, False),
    seller=listing_as(True, True),
    operator=listing_as(True, True),
    broker=listing_as(True, False),  # assigned to a deal of the listing
)

# The room of the scene's deal: the workflow's system messages and the buyer's first words.
ROOM_OPENING = [
    {"kind": "SYSTEM", "body": "A buyer opened an inquiry."},
    {"kind": "TEXT", "body": "We make supercapacitors."},
    {"kind": "SYSTEM", "body": "Brokers were assigned."},
]

QUERIES = [
    Row(
        "deal",
        "query ($id: ID!) { deal(id: $id) { state viewerSide buyer { name } brokers { displayName isLead } listing { knowHowVisible } } }",
        each(
            None,
            seller=deal_as("SELLER", True),
            buyer=deal_as("BUYER", False),
            broker=deal_as(None, True),
            operator=deal_as(None, True),
        ),
        {"id": "deal"},
    ),
    Row(
        "node[deal]",
        "query ($id: ID!) { node(id: $id) { ... on Deal { state } } }",
        seen_by({"state": "INQUIRY"}, *DEAL_INSIDERS),
        {"id": "deal"},
    ),
    Row(
        "myDeals",
        "{ myDeals(first: 10) { totalCount edges { node { state listing { title } } } } }",
        # Operators see every deal by id, but take part in none.
        each(NO_DEALS, anonymous=Refused(NA), seller=MY_DEAL, buyer=MY_DEAL, broker=MY_DEAL),
    ),
    Row("currentNda", "{ currentNda { version } }", each({"version": 1})),
    Row(
        "dealRoom",
        "query ($id: ID!) { dealRoom(dealId: $id) { relayed messages { kind body } } }",
        seen_by(
            {"relayed": True, "messages": ROOM_OPENING},
            *DEAL_INSIDERS,
        ),
        {"id": "deal"},
    ),
    # Search: the same public hits for everyone (the draft is never indexed); BM25 so no query vector is
    # cached (a query must leave the database as it was).
    Row(
        "searchListings",
        'query { searchListings(query: "graphene", mode: BM25, first: 10) { totalCount hits { listing { title } } } }',
        each({"totalCount": 1, "hits": [{"listing": {"title": PUBLISHED}}]}),
    ),
    Row(
        "searchPatents",
        'query { searchPatents(query: "graphene", mode: BM25, first: 10) { totalCount hits { patent { applicationNumber } } } }',
        each({"totalCount": 1, "hits": [{"patent": {"applicationNumber": "1020160138184"}}]}),
    ),
    Row(
        "autocomplete",
        '{ autocomplete(index: LISTINGS, prefix: "supercap") }',
        each(["supercapacitor electrodes"]),
    ),
    Row(
        "broker",
        "query ($id: ID!) { broker(id: $id) { displayName firm { name } } }",
        each({"displayName": "broker", "firm": {"name": "Tech Bridge Partners"}}),
        {"id": "broker"},
    ),
    Row("brokers", "{ brokers(first: 10) { totalCount } }", each({"totalCount": 3})),
    *Row(
        "demand[open]",
        "query ($id: ID!) { demand(id: $id) { title isOpen } }",
        each({"title": "Open need", "isOpen": True}),
        {"id": "openDemand"},
    ).also(
        "closed",
        seen_by({"title": "Closed need", "isOpen": False}, "buyer", "operator"),
        args={"id": "closedDemand"},
    ),
    Row(
        "node[closedDemand]",
        "query ($id: ID!) { node(id: $id) { ... on Demand { title } } }",
        seen_by({"title": "Closed need"}, "buyer", "operator"),
        {"id": "closedDemand"},
    ),
    Row("demands", "{ demands(first: 10) { edges { node { title } } } }", each(titles("Open need"))),
    Row(
        "demands[closed]",
        "{ demands(first: 10, open: false) { edges { node { title } } } }",
        seen_by(titles("Closed need"), "buyer", "operator", other=titles()),
    ),
    Row(
        "demands[mine]",
        "{ demands(first: 10, mine: true) { edges { node { title } } } }",
        each(titles(), anonymous=Refused(NA), buyer=titles("Open need")),
    ),
    *Row(
        "listing[beforeNda]",
        "query ($id: ID!) { listing(id: $id) { title knowHow knowHowVisible quality { __typename } } }",
        KNOW_HOW_BEFORE_NDA,
        {"id": "listing"},
    ).also(
        "afterNda",
        {**KNOW_HOW_BEFORE_NDA, "buyer": listing_as(True, False)},
        state=DealState.NDA_SIGNED,
    ),
    Row(
        "listing[draft]",
        "query ($id: ID!) { listing(id: $id) { title status } }",
        seen_by({"title": DRAFT, "status": "DRAFT"}, "seller", "operator"),
        {"id": "draft"},
    ),
    Row(
        "node[draft]",
        "query ($id: ID!) { node(id: $id) { ... on Listing { title } } }",
        seen_by({"title": DRAFT}, "seller", "operator"),
        {"id": "draft"},
    ),
    Row("listings", "{ listings(first: 10) { edges { node { title } } } }", each(titles(PUBLISHED))),
    Row(
        "listings[drafts]",
        "{ listings(first: 10, status: DRAFT) { edges { node { title } } } }",
        seen_by(titles(DRAFT), "seller", "operator", other=titles()),
    ),
    Row(
        "listings[mine]",
        "{ listings(first: 10, mine: true) { edges { node { title } } } }",
        each(titles(), anonymous=Refused(NA), seller=titles(DRAFT, PUBLISHED)),
    ),
    Row(
        "listings[bookmarked]",
        "{ listings(first: 10, bookmarked: true) { edges { node { title } } } }",
        each(titles(), anonymous=Refused(NA)),
    ),
    Row("marketStats", "{ marketStats { publishedListings } }", each({"publishedListings": 1})),
    Row(
        "patent",
        "query ($id: ID!) { patent(id: $id) { applicationNumber owner { name } } }",
        each({"applicationNumber": "1020160138184", "owner": {"name": SELLER_ORG}}),
        {"id": "patent"},
    ),
    Row("patents", "{ patents(first: 10) { totalCount } }", each({"totalCount": 1})),
    *Row(
        "organization[seller]",
        "query ($id: ID!) { organization(id: $id) { name businessRegistrationNumber members { role user { displayName } } } }",
        seen_by(org_as(SELLER_ORG, SELLER_BRN, "seller"), "seller", "operator", other=org_as(SELLER_ORG)),
        {"id": "sellerOrg"},
    ).also(
        "buyer",
        seen_by(org_as(BUYER_ORG, BUYER_BRN, "buyer"), "buyer", "operator", other=org_as(BUYER_ORG)),
        args={"id": "buyerOrg"},
    ),
    Row(
        "organizations",
        "query ($q: String!) { organizations(first: 10, search: $q) { edges { node { name members { role } } } } }",
        seen_by(
            {"edges": [{"node": {"name": SELLER_ORG, "members": [{"role": "ADMIN"}]}}]},
            "seller",
            "operator",
            other={"edges": [{"node": {"name": SELLER_ORG, "members": None}}]},
        ),
        {"q": "sellerOrgName"},
    ),
    Row(
        "me",
        "{ me { user { displayName } isOperator } }",
        each(
            None,
            **{
                role: {"user": {"displayName": role.replace("_", "-")}, "isOperator": role == "operator"}
                for role in ROLES[1:]
            },
        ),
    ),
    Row("serverInfo", "{ serverInfo { version } }", each({"version": "0.1.0"})),
    # Recommendations (over the indexed scene, whose documents have no vectors: keyword matching only).
    *Row(
        "recommendedListings[open]",
        "query ($id: ID!) { recommendedListings(demandId: $id, first: 5) { listing { title } } }",
        # Open demands are public; what matches them is the buyer's business.
        each(Refused(PD), anonymous=Refused(NA), buyer=RECOMMENDED, operator=RECOMMENDED),
        {"id": "openDemand"},
    ).also(
        "closed",
        each(Refused(NF), anonymous=Refused(NA), buyer=[], operator=[]),  # "Met last year" matches nothing
        args={"id": "closedDemand"},
    ),
    Row(
        "candidateBuyers",
        "query ($id: ID!) { candidateBuyers(listingId: $id, first: 5) { organization { name } } }",
        # The buyer: its open demand matches and it inquired. `broker` works the listing's deal.
        each(Refused(PD), anonymous=Refused(NA), **dict.fromkeys(("seller", "broker", "operator"), BUYERS)),
        {"id": "listing"},
    ),
    *Row(
        "similarListings[published]",
        "query ($id: ID!) { similarListings(listingId: $id, first: 5) { listing { title } } }",
        each([]),  # the only other listing is a draft, never indexed
        {"id": "listing"},
    ).also("draft", seen_by([], "seller", "operator", other=Refused(NF)), args={"id": "draft"}),
    Row(
        "myFeed",
        "{ myFeed(first: 5) { listing { title } } }",
        # New (and popular) for everyone but its seller and the buyer, who inquired already.
        each([{"listing": {"title": PUBLISHED}}], anonymous=Refused(NA), seller=[], buyer=[]),
    ),
    Row(
        "mySavedSearches",
        "{ mySavedSearches(first: 10) { edges { node { name } } } }",
        each({"edges": []}, anonymous=Refused(NA), buyer={"edges": [{"node": {"name": "Graphene"}}]}),
    ),
]

MUTATIONS = [
    *Row(
        "openInquiry",
        "mutation ($listing: ID!, $buyer: ID!) { openInquiry(input: {listingId: $listing, buyerId: $buyer}) { deal { state } errors { code } } }",
        only("other_buyer", others=PD),
        {"listing": "listing", "buyer": "otherBuyerOrg"},
        ok={"deal": {"state": "INQUIRY"}},
    ).also("draft", only(others=NF), args={"listing": "draft", "buyer": "buyerOrg"}),
    Row(
        "requestNda",
        "mutation ($deal: ID!) { requestNda(dealId: $deal) { deal { state } errors { code } } }",
        in_deal("seller", "buyer", "broker"),
        {"deal": "deal"},
        ok={"deal": {"state": "NDA_PENDING"}},
    ),
    Row(
        "signNda",
        "mutation ($deal: ID!, $sha: String!) { signNda(dealId: $deal, textSha256: $sha) { deal { state } errors { code } } }",
        in_deal("seller", "buyer"),
        {"deal": "deal", "sha": "ndaSha256"},
        DealState.NDA_PENDING,
        ok={"deal": {"state": "NDA_PENDING"}},  # one side signed; the other has yet to
    ),
    Row(
        "assignBrokers",
        "mutation ($deal: ID!, $broker: ID!) { assignBrokers(dealId: $deal, brokers: [{brokerId: $broker, shareBasisPoints: 10000, isLead: true}]) { deal { brokers { displayName } } errors { code } } }",
        in_deal("seller", "broker", "operator"),
        {"deal": "deal", "broker": "coBroker"},
        ok={"deal": {"brokers": [{"displayName": "co-broker"}]}},
    ),
    Row(
        "makeOffer",
        'mutation ($deal: ID!) { makeOffer(dealId: $deal, input: {transactionType: EXCLUSIVE_LICENCE, upfront: {amount: 40000000, currency: "KRW"}}) { offer { version } deal { state } errors { code } } }',
        in_deal("seller", "buyer", "broker"),
        {"deal": "deal"},
        DealState.NDA_SIGNED,
        ok={"offer": {"version": 1}, "deal": {"state": "NEGOTIATING"}},
    ),
    Row(
        "acceptOffer",
        "mutation ($deal: ID!) { acceptOffer(dealId: $deal, version: 1) { deal { state } errors { code } } }",
        in_deal("seller", "buyer"),
        {"deal": "deal"},
        DealState.NEGOTIATING,
        ok={"deal": {"state": "NEGOTIATING"}},  # one side accepted; the other has yet to
    ),
    Row(
        "setMilestones",
        'mutation ($deal: ID!) { setMilestones(dealId: $deal, milestones: [{title: "Everything", amount: 50000000}]) { deal { milestones { title } } errors { code } } }',
        in_deal("seller", "buyer", "broker"),
        {"deal": "deal"},
        DealState.AGREED,
        ok={"deal": {"milestones": [{"title": "Everything"}]}},
    ),
    Row(
        "cancelDeal",
        'mutation ($deal: ID!) { cancelDeal(dealId: $deal, reason: "No budget this year") { deal { state } errors { code } } }',
        in_deal("seller", "buyer", "operator"),
        {"deal": "deal"},
        ok={"deal": {"state": "CANCELLED"}},
    ),
    Row(
        "sendMessage",
        'mutation ($deal: ID!) { sendMessage(dealId: $deal, body: "Test results attached.") { message { body } errors { code } } }',
        in_deal("seller", "buyer", "broker", "operator"),
        {"deal": "deal"},
        ok={"message": {"body": "Test results attached."}},
    ),
    Row(
        "forwardMessage",
        "mutation ($m: ID!) { forwardMessage(messageId: $m, toThread: SELLER) { message { kind } errors { code } } }",
        in_deal("broker"),
        {"m": "roomMessage"},
        ok={"message": {"kind": "FORWARD"}},
    ),
    Row(
        "hideMessage",
        'mutation ($m: ID!) { hideMessage(messageId: $m, reason: "Abusive") { message { hidden } errors { code } } }',
        each(PD, anonymous=NA, operator=OK),  # operators only; nobody else learns whether it exists
        {"m": "roomMessage"},
        ok={"message": {"hidden": True}},
    ),
    Row(
        "markRead",
        "mutation ($deal: ID!) { markRead(dealId: $deal, sequence: 2) { lastReadSequence errors { code } } }",
        in_deal("seller", "buyer", "broker", "operator"),
        {"deal": "deal"},
        ok={"lastReadSequence": 2},
    ),
    Row(
        "setTyping",
        "mutation ($deal: ID!) { setTyping(dealId: $deal) { announced errors { code } } }",
        in_deal("seller", "buyer", "broker", "operator"),
        {"deal": "deal"},
        ok={"announced": PRESENT},
    ),
    Row(
        "postDemand",
        'mutation ($buyer: ID!) { postDemand(input: {buyerId: $buyer, title: "Solid electrolytes", description: "For pouch cells"}) { demand { title } errors { code } } }',
        only("buyer", others=PD),
        {"buyer": "buyerOrg"},
        ok={"demand": {"title": "Solid electrolytes"}},
    ),
    *Row(
        "closeDemand[open]",
        "mutation ($id: ID!) { closeDemand(id: $id) { demand { isOpen } errors { code } } }",
        only("buyer", "operator", others=PD),
        {"id": "openDemand"},
        ok={"demand": {"isOpen": False}},
    ).also("closed", only("buyer", "operator", others=NF), args={"id": "closedDemand"}),
    Row(
        "createListing",
        'mutation ($seller: ID!, $patent: ID!) { createListing(input: {sellerId: $seller, title: "Another package", patentIds: [$patent], transactionTypes: [OPTION]}) { listing { status } errors { code } } }',
        only("seller", others=PD),
        {"seller": "sellerOrg", "patent": "patent"},
        ok={"listing": {"status": "DRAFT"}},
    ),
    *Row(
        "updateListing",
        'mutation ($id: ID!) { updateListing(id: $id, input: {title: "Renamed package"}) { listing { title } errors { code } } }',
        only("seller", "operator", others=PD),
        {"id": "listing"},
        ok={"listing": {"title": "Renamed package"}},
    ).also("draft", only("seller", "operator", others=NF), args={"id": "draft"}),
    Row(
        "publishListing",
        "mutation ($id: ID!) { publishListing(id: $id) { listing { status } errors { code } } }",
        only("seller", "operator", others=NF),
        {"id": "draft"},
        ok={"listing": {"status": "PUBLISHED"}},
    ),
    Row(
        "withdrawListing",
        "mutation ($id: ID!) { withdrawListing(id: $id) { listing { status } errors { code } } }",
        only("seller", "operator", others=PD),
        {"id": "listing"},
        ok={"listing": {"status": "WITHDRAWN"}},
    ),
    *Row(
        "bookmarkListing",
        "mutation ($id: ID!) { bookmarkListing(id: $id) { listing { isBookmarked } errors { code } } }",
        SIGNED_IN,
        {"id": "listing"},
        ok={"listing": {"isBookmarked": True}},
    ).also("draft", only("seller", "operator", others=NF), args={"id": "draft"}),
    *Row(
        "recordListingView",
        "mutation ($id: ID!) { recordListingView(id: $id) { listing { title } errors { code } } }",
        SIGNED_IN,
        {"id": "listing"},
        ok={"listing": {"title": PUBLISHED}},
    ).also(
        "draft", only("seller", "operator", others=NF), args={"id": "draft"}, ok={"listing": {"title": DRAFT}}
    ),
    Row(
        "createOrganization",
        'mutation { createOrganization(input: {name: "New Lab", kind: SME, country: "KR"}) { organization { name isVerified } errors { code } } }',
        SIGNED_IN,
        ok={"organization": {"name": "New Lab", "isVerified": False}},
    ),
    Row(
        "verifyOrganization",
        "mutation ($id: ID!) { verifyOrganization(id: $id) { organization { isVerified } errors { code } } }",
        only("operator", others=PD),
        {"id": "otherSellerOrg"},
        ok={"organization": {"isVerified": True}},
    ),
    Row(
        "inviteMember",
        'mutation ($org: ID!) { inviteMember(organizationId: $org, email: "colleague@example.com") { invitationToken errors { code } } }',
        # Organisations are public, so outsiders are refused, not told it is missing; admins and operators invite.
        only("seller", "operator", others=PD),
        {"org": "sellerOrg"},
        ok={"invitationToken": PRESENT},
    ),
    Row(
        "acceptInvitation",
        "mutation ($token: String!) { acceptInvitation(token: $token) { membership { role organization { name } } errors { code } } }",
        # Only the invited address joins with the token; anyone else holding it is refused.
        only("other_buyer", others="INVITATION_INVALID"),
        {"token": "invitation"},
        ok={"membership": {"role": "MEMBER", "organization": {"name": SELLER_ORG}}},
    ),
    Row(
        "registerUser",
        'mutation { registerUser(input: {email: "newcomer@example.com", password: "correct horse battery"}) { me { email } errors { code } } }',
        each(OK),
        ok={"me": {"email": "newcomer@example.com"}},
    ),
    Row(
        "signIn",
        "mutation ($email: String!, $password: String!) { signIn(email: $email, password: $password) { me { email } errors { code } } }",
        each(OK),
        {"email": "signInEmail", "password": "signInPassword"},
        ok={"me": {"email": SIGN_IN[0]}},
    ),
    Row("signOut", "mutation { signOut { ok errors { code } } }", each(OK), ok={"ok": True}),
    Row(
        "saveSearch",
        'mutation { saveSearch(input: {name: "Capacitors", query: "supercapacitor"}) { savedSearch { name } errors { code } } }',
        SIGNED_IN,
        ok={"savedSearch": {"name": "Capacitors"}},
    ),
    Row(
        "deleteSavedSearch",
        "mutation ($id: ID!) { deleteSavedSearch(id: $id) { deletedId errors { code } } }",
        only("buyer", others=NF),  # one's own saved searches only; anyone else's do not exist
        {"id": "savedSearch"},
        ok={"deletedId": PRESENT},
    ),
    Row(
        "createApiToken",
        'mutation { createApiToken(name: "matrix") { token apiToken { name } errors { code } } }',
        SIGNED_IN,
        ok={"token": PRESENT, "apiToken": {"name": "matrix"}},
    ),
    Row(
        "revokeApiToken",
        "mutation ($id: ID!) { revokeApiToken(id: $id) { apiToken { name } errors { code } } }",
        only("seller", others=NF),  # one's own tokens only; anyone else's do not exist
        {"id": "spareToken"},
        ok={"apiToken": {"name": "spare"}},
    ),
]

# The escrow scene: the deal agreed and split into three milestones, payees ready; milestones 1 and 2
# funded, 2 disputed by the buyer; the seller's deliverables deposited for each; a court order recorded
# by another operator on milestone 3's deposit; a mutual release proposed by the seller on milestone 1's.
ESCROW_STATE = DealState.AGREED
ESCROW_INSIDERS = ("seller", "buyer", "broker", "operator")
M = 20_000_000


def escrow_held(*states_and_held: tuple[str, int]) -> dict[str, Any]:
    return {"milestones": [{"state": st, "escrow": {"held": {"amount": h}}} for st, h in states_and_held]}


ESCROW_QUERIES = [
    Row(
        "deposit",
        "query ($id: ID!) { deposit(id: $id) { title state files { name } } }",
        seen_by(
            {"title": "Design drawings", "state": "SEALED", "files": [{"name": "drawings.pdf"}]},
            *ESCROW_INSIDERS,
        ),
        {"id": "deposit1"},
        ESCROW_STATE,
        escrow=True,
    ),
    Row(
        "deposits",
        "{ deposits(first: 10) { totalCount } }",
        {**seen_by({"totalCount": 3}, *ESCROW_INSIDERS, other={"totalCount": 0}), "anonymous": Refused(NA)},
        state=ESCROW_STATE,
        escrow=True,
    ),
    Row(
        "deal[escrow]",
        "query ($id: ID!) { deal(id: $id) { milestones { state escrow { held { amount } } } } }",
        seen_by(escrow_held(("FUNDED", M), ("DISPUTED", M), ("PENDING", 0)), *ESCROW_INSIDERS),
        {"id": "deal"},
        ESCROW_STATE,
        escrow=True,
    ),
    Row("escrowPublicKey", "{ escrowPublicKey { algorithm } }", each({"algorithm": "Ed25519"})),
    Row(
        "transparencyLogHead",
        "{ transparencyLogHead { __typename } }",
        each({"__typename": "TreeHead"}),
        state=ESCROW_STATE,
        escrow=True,
    ),
    Row(
        "verifyCertificate",
        "query ($c: JSONString!) { verifyCertificate(certificate: $c) { valid problems } }",
        each({"valid": True, "problems": []}),
        {"c": "certificate1"},
        ESCROW_STATE,
        escrow=True,
    ),
]


def escrow_row(name: str, document: str, expect: dict[str, Any], args: dict[str, str], ok: Any) -> Row:
    return Row(name, document, expect, args, ESCROW_STATE, ok=ok, escrow=True)


MILESTONE = "milestone { state } errors { code }"
RELEASE = "releaseRequest { state } errors { code }"
ESCROW_MUTATIONS = [
    escrow_row(
        "fundMilestone",
        f"mutation ($m: ID!) {{ fundMilestone(milestoneId: $m) {{ clientSecret {MILESTONE} }} }}",
        in_deal("buyer"),
        {"m": "milestone3"},
        {"milestone": {"state": "PENDING"}, "clientSecret": PRESENT},
    ),
    escrow_row(
        "confirmDelivery",
        f"mutation ($m: ID!) {{ confirmDelivery(milestoneId: $m) {{ {MILESTONE} }} }}",
        in_deal("seller", "broker"),
        {"m": "milestone1"},
        {"milestone": {"state": "DELIVERED"}},
    ),
    escrow_row(
        "acceptMilestone",
        f"mutation ($m: ID!) {{ acceptMilestone(milestoneId: $m) {{ {MILESTONE} }} }}",
        in_deal("buyer"),
        {"m": "milestone1"},
        {"milestone": {"state": "RELEASED"}},
    ),
    escrow_row(
        "releasePartOfMilestone",
        f"mutation ($m: ID!) {{ releasePartOfMilestone(milestoneId: $m, amount: 1000000) {{ {MILESTONE} }} }}",
        in_deal("buyer", "operator"),
        {"m": "milestone1"},
        {"milestone": {"state": "FUNDED"}},
    ),
    escrow_row(
        "refundMilestone",
        f"mutation ($m: ID!) {{ refundMilestone(milestoneId: $m, amount: 1000000) {{ {MILESTONE} }} }}",
        in_deal("seller", "operator"),
        {"m": "milestone1"},
        {"milestone": {"state": "FUNDED"}},
    ),
    escrow_row(
        "openMilestoneDispute",
        f'mutation ($m: ID!) {{ openMilestoneDispute(milestoneId: $m, reason: "Late") {{ {MILESTONE} }} }}',
        in_deal("seller", "buyer"),
        {"m": "milestone1"},
        {"milestone": {"state": "DISPUTED"}},
    ),
    escrow_row(
        "resolveMilestoneDispute",
        f"mutation ($d: ID!) {{ resolveMilestoneDispute(disputeId: $d, resolution: REFUND) {{ {MILESTONE} }} }}",
        in_deal("operator"),
        {"d": "dispute"},
        {"milestone": {"state": "REFUNDED"}},
    ),
    escrow_row(
        "requestDepositRelease",
        f'mutation ($d: ID!) {{ requestDepositRelease(depositId: $d, condition: COURT_ORDER, evidence: "Order 2026-123") {{ {RELEASE} }} }}',
        in_deal("operator"),
        {"d": "deposit2"},
        {"releaseRequest": {"state": "PENDING"}},
    ),
    escrow_row(
        "approveDepositRelease",
        f"mutation ($r: ID!) {{ approveDepositRelease(requestId: $r) {{ {RELEASE} }} }}",
        in_deal("operator"),
        {"r": "courtOrder"},
        {"releaseRequest": {"state": "EXECUTED"}},
    ),
    escrow_row(
        "consentToDepositRelease",
        f"mutation ($r: ID!) {{ consentToDepositRelease(requestId: $r) {{ {RELEASE} }} }}",
        {**in_deal("buyer"), "seller": "INVALID_STATE"},  # the seller proposed it: its consent is given
        {"r": "mutualRelease"},
        {"releaseRequest": {"state": "EXECUTED"}},
    ),
    escrow_row(
        "rejectDepositRelease",
        f'mutation ($r: ID!) {{ rejectDepositRelease(requestId: $r, reason: "No") {{ {RELEASE} }} }}',
        in_deal("seller", "buyer", "operator"),
        {"r": "mutualRelease"},
        {"releaseRequest": {"state": "REJECTED"}},
    ),
    escrow_row(
        "createPayeeAccount",
        "mutation { createPayeeAccount { account { __typename } errors { code } } }",
        only("broker", "other_broker", others=PD),  # brokers open their own; organisations' admins theirs
        {},
        {"account": {"__typename": "PayeeAccount"}},
    ),
    escrow_row(
        "createPayeeOnboardingLink",
        "mutation ($a: ID!) { createPayeeOnboardingLink(accountId: $a) { url errors { code } } }",
        only("seller", others=NF),
        {"a": "sellerAccount"},
        {"url": PRESENT},
    ),
]

QUERIES += ESCROW_QUERIES
MUTATIONS += ESCROW_MUTATIONS
ROWS = QUERIES + MUTATIONS
# Rows that read the search indices: the scene is indexed (under a prefix of the cell's own) first.
SEARCH_ROOTS = {"searchListings", "searchPatents", "autocomplete"}
RECOMMENDATION_ROOTS = {"recommendedListings", "candidateBuyers", "similarListings", "myFeed"}


def build_scene(state: DealState) -> tuple[dict[str, str], World]:
    """build_world plus the buyer's deal (broker as lead) in `state`, a draft listing of the seller, an
    open and a closed demand of the buyer, registration numbers, a spare API token of the seller, an
    invitation to the seller's organisation and a user who signs in with a password. Returns the values
    rows refer to: global ids and secrets."""
    w = build_world()
    deal = open_deal(w, state)
    patent = w.listing.patents.get()
    draft = actions.create_listing(
        w.seller, w.seller_org.pk, DRAFT, [patent.pk], ["option"], know_how="Draft know-how"
    )
    Organization.objects.filter(pk=w.seller_org.pk).update(business_registration_number=SELLER_BRN)
    Organization.objects.filter(pk=w.buyer_org.pk).update(business_registration_number=BUYER_BRN)
    open_demand = actions.post_demand(w.buyer, w.buyer_org.pk, "Open need", "Supercapacitor electrodes")
    closed_demand = actions.post_demand(w.buyer, w.buyer_org.pk, "Closed need", "Met last year")
    actions.close_demand(w.buyer, closed_demand.pk)
    spare, _ = create_api_token(w.seller, "spare")
    _, invitation = actions.invite_member(w.seller, w.seller_org.pk, "invitee@example.com")
    User.objects.filter(pk=w.other_buyer.pk).update(email="invitee@example.com")
    User.objects.create_user(SIGN_IN[0], email=SIGN_IN[0], password=SIGN_IN[1])
    other_seller_org = Organization.objects.get(memberships__user=w.other_seller)
    saved = SavedSearch.objects.create(owner=w.buyer, name="Graphene", query="graphene")
    first_words = RoomEntry.objects.get(deal=deal, kind="text")  # the inquiry's message opens the room
    return {
        "roomMessage": to_global_id("RoomMessage", first_words.pk),
        "savedSearch": to_global_id("SavedSearch", saved.pk),
        "deal": to_global_id("Deal", deal.pk),
        "listing": to_global_id("Listing", w.listing.pk),
        "draft": to_global_id("Listing", draft.pk),
        "patent": to_global_id("Patent", patent.pk),
        "openDemand": to_global_id("Demand", open_demand.pk),
        "closedDemand": to_global_id("Demand", closed_demand.pk),
        "sellerOrg": to_global_id("Organization", w.seller_org.pk),
        "sellerOrgName": SELLER_ORG,
        "buyerOrg": to_global_id("Organization", w.buyer_org.pk),
        "otherBuyerOrg": to_global_id("Organization", w.other_buyer_org.pk),
        "otherSellerOrg": to_global_id("Organization", other_seller_org.pk),
        "broker": to_global_id("Broker", BrokerProfile.objects.get(user=w.broker).pk),
        "coBroker": to_global_id("Broker", BrokerProfile.objects.get(user=w.co_broker).pk),
        "ndaSha256": w.nda_sha256,
        "spareToken": str(spare.pk),
        "invitation": invitation,
        "signInEmail": SIGN_IN[0],
        "signInPassword": SIGN_IN[1],
    }, w


def build_escrow_scene(w: World, gateway: SimulatedGateway) -> dict[str, str]:
    """The escrow part of the scene (see ESCROW_STATE), through the real actions."""
    deal = Deal.objects.get(buyer=w.buyer_org)
    actions.set_milestones(
        w.seller,
        deal.pk,
        [
            MilestoneInput("Design package", M),
            MilestoneInput("Source code", M),
            MilestoneInput("Support", M // 2),
        ],
    )
    m1, m2, m3 = deal.milestones.order_by("sequence")
    ready_payee(gateway, w.seller, w.seller_org.pk)
    ready_payee(gateway, w.broker)
    deposits = [
        create_deposit(
            w.seller,
            w.seller_org.pk,
            "milestone",
            title,
            seal({name: b"%PDF-1.7 drawings"}),
            milestone_id=m.pk,
        )
        for m, title, name in (
            (m1, "Design drawings", "drawings.pdf"),
            (m2, "Source archive", "src.tar.gz"),
            (m3, "Support manual", "manual.pdf"),
        )
    ]
    for milestone in (m1, m2):
        intent = pay.fund_milestone(w.buyer, milestone.pk, gateway)
        pay.record_funding(gateway.succeed_payment(str(intent.payment_intent_id))["data"]["object"])
    dispute = pay.open_dispute(w.buyer, m2.pk, "Drawings incomplete")
    operator2 = User.objects.create_user("operator-2", is_staff=True)
    court = releases.request_release(operator2, deposits[2].pk, "court_order", "Seoul court order 2026-1")
    mutual = releases.request_release(w.seller, deposits[0].pk, "mutual_agreement", "")
    deposits[0].refresh_from_db()
    return {
        **{f"milestone{i}": to_global_id("Milestone", m.pk) for i, m in enumerate((m1, m2, m3), 1)},
        "deposit1": to_global_id("Deposit", deposits[0].pk),
        "deposit2": to_global_id("Deposit", deposits[1].pk),
        "certificate1": json.dumps(deposits[0].certificate),
        "dispute": to_global_id("Dispute", dispute.pk),
        "courtOrder": to_global_id("ReleaseRequest", court.pk),
        "mutualRelease": to_global_id("ReleaseRequest", mutual.pk),
        "sellerAccount": to_global_id(
            "PayeeAccount", ConnectedAccount.objects.get(organization=w.seller_org).pk
        ),
    }


@pytest.fixture(name="escrow_gateway")
def escrow_gateway_fixture(settings: Any) -> Iterator[SimulatedGateway]:
    yield from simulator(settings)


# Columns a request may change without anyone writing: a token's coarse last-use time.
VOLATILE = {"marketplace.ApiToken": {"last_used_at"}}


def database() -> dict[str, list[dict[str, Any]]]:
    """Every row of the project's tables, users and sessions: what a refused mutation must not change."""
    labels = ("marketplace", "escrow", "matching", "auth", "sessions")
    models = [model for label in labels for model in apps.get_app_config(label).get_models()]
    return {
        model._meta.label: [
            {k: v for k, v in row.items() if k not in VOLATILE.get(model._meta.label, ())}
            for row in model._default_manager.order_by("pk").values()
        ]
        for model in models
    }


def test_the_matrix_covers_every_query_and_mutation_of_the_schema() -> None:
    schema = build_schema(SCHEMA.read_text())
    assert schema.query_type is not None and schema.mutation_type is not None
    assert {row.root for row in QUERIES} == set(schema.query_type.fields)
    assert {row.root for row in MUTATIONS} == set(schema.mutation_type.fields)
    assert len({row.name for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize(
    ("row", "role"), [pytest.param(r, role, id=f"{r.name}-{role}") for r in ROWS for role in ROLES]
)
def test_authorization_matrix(row: Row, role: str, request: pytest.FixtureRequest) -> None:
    # given
    scene, w = build_scene(row.state)
    if row.escrow:
        request.getfixturevalue("vault")
        scene.update(build_escrow_scene(w, request.getfixturevalue("escrow_gateway")))
    if row.root in SEARCH_ROOTS | RECOMMENDATION_ROOTS:
        request.getfixturevalue("indexed_scene")
    if row.root in RECOMMENDATION_ROOTS:
        # Demands are matched with their query vectors: cached now, as a query must write nothing.
        cache_vectors([demand_text(d) for d in Demand.objects.all()], "query")
    headers = (
        {}
        if role == "anonymous"
        else {"HTTP_AUTHORIZATION": f"Bearer {create_api_token(getattr(w, role), 'matrix')[1]}"}
    )
    before, audit_entries = database(), AuditEntry.objects.count()
    variables = {name: scene[key] for name, key in row.args.items()}

    # when
    response = Client().post(
        "/graphql/",
        json.dumps({"query": row.document, "variables": variables}),
        content_type="application/json",
        **headers,
    )

    # then
    body = response.json()
    expected = row.expect[role]
    if row.ok is None:
        if isinstance(expected, Refused):
            assert body["data"] == {row.root: None}
            assert [error["extensions"]["code"] for error in body["errors"]] == [expected.code]
        else:
            assert "errors" not in body, body["errors"]
            assert body["data"] == {row.root: expected}
    elif expected == OK:
        assert body["data"] == {row.root: {**row.ok, "errors": []}}
        return
    else:
        assert body["data"] == {row.root: {**dict.fromkeys(row.ok), "errors": [{"code": expected}]}}
    assert AuditEntry.objects.count() == audit_entries
    assert database() == before
