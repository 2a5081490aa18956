"""The whole marketplace flow through GraphQL only, with a real HTTP client against the running server:
seller publishes, buyer inquires, NDA signed, broker assigned, offer / counter / accept, milestones set."""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from graphql_relay import from_global_id

from marketplace.actions.accounts import create_api_token
from marketplace.actions.deals import nda_hash
from marketplace.models import AuditEntry, BrokerProfile, NdaTemplate, Organization
from tests.api.client import Api, BrowserSession

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HOLDER = "인천대학교 산학협력단"
NDA = "The receiving party keeps all disclosed technical information confidential for five years."

REGISTER = """mutation ($email: String!) {
  registerUser(input: {email: $email, password: "correct horse battery", fullName: "Kim Seller"}) {
    me { email } errors { code field } } }"""
TOKEN = 'mutation { createApiToken(name: "flow test") { token errors { code } } }'


def _token_for_new_user(base_url: str, email: str) -> str:
    """Register in a browser session, then mint an API token with the session (CSRF-checked)."""
    browser = BrowserSession(base_url)
    registered = browser.post(REGISTER, email=email).json()["data"]["registerUser"]
    assert registered == {"me": {"email": email}, "errors": []}
    refused = browser.post(TOKEN, csrf=False)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    minted = browser.post(TOKEN).json()["data"]["createApiToken"]
    assert minted["errors"] == []
    return str(minted["token"])


@pytest.fixture
def stage(transactional_db: None) -> dict[str, str]:
    """What exists before the flow: the real KR patents (their holder's organisation created by the
    import), the NDA text, an operator and a certified broker (both set up by operators in the admin)."""
    call_command(
        "import_patents",
        str(DATA / "kr_university_patents_inu.csv"),
        format="kipris-csv",
        no_progress=True,
        stdout=io.StringIO(),
    )
    NdaTemplate.objects.create(version=1, text=NDA, text_sha256=nda_hash(NDA))
    operator = User.objects.create_user("ops@example.com", is_staff=True)
    firm = Organization.objects.create(name="Tech Bridge Partners", kind="broker_firm", country="KR")
    broker = User.objects.create_user("broker@example.com", first_name="Park", last_name="Broker")
    BrokerProfile.objects.create(user=broker, firm=firm, sectors=["secondary_batteries"])
    return {
        "operator": create_api_token(operator, "ops")[1],
        "broker": create_api_token(broker, "broker")[1],
    }


def test_seller_buyer_and_broker_close_a_deal_through_graphql(
    live_server_url: str, stage: dict[str, str]
) -> None:
    operator = Api(live_server_url, stage["operator"])
    seller = Api(live_server_url, _token_for_new_user(live_server_url, "seller@example.kr"))
    buyer = Api(live_server_url, _token_for_new_user(live_server_url, "buyer@example.kr"))
    broker = Api(live_server_url, stage["broker"])

    # The operator finds the holder's organisation, verifies it and invites the seller into it.
    holder = operator.call(
        "query ($q: String!) { organizations(first: 2, search: $q) { totalCount edges { node { id name } } } }",
        q=HOLDER,
    )["organizations"]
    assert holder["totalCount"] == 1
    holder_id = holder["edges"][0]["node"]["id"]
    verified = operator.call(
        "mutation ($id: ID!) { verifyOrganization(id: $id) { organization { isVerified } errors { code } } }",
        id=holder_id,
    )["verifyOrganization"]
    assert verified == {"organization": {"isVerified": True}, "errors": []}
    invite = operator.call(
        """mutation ($org: ID!) { inviteMember(organizationId: $org, email: "seller@example.kr", role: ADMIN) {
             invitationToken errors { code } } }""",
        org=holder_id,
    )["inviteMember"]
    assert invite["errors"] == [], invite
    joined = seller.call(
        "mutation ($t: String!) { acceptInvitation(token: $t) { membership { role } errors { code } } }",
        t=invite["invitationToken"],
    )["acceptInvitation"]
    assert joined == {"membership": {"role": "ADMIN"}, "errors": []}

    # The seller packages two of its patents and publishes the listing.
    patents = seller.call(
        'query ($org: ID!) { patents(first: 2, owner: $org, ipcPrefix: "H01G") { edges { node { id } } } }',
        org=holder_id,
    )["patents"]["edges"]
    assert len(patents) == 2
    created = seller.call(
        """mutation ($seller: ID!, $patents: [ID!]!) {
             createListing(idempotencyKey: "listing-1", input: {sellerId: $seller, title: "3D graphene supercapacitor electrodes",
               patentIds: $patents, transactionTypes: [EXCLUSIVE_LICENCE, ASSIGNMENT], summary: "Spray-dried 3D graphene electrodes",
               knowHow: "Nozzle temperature profile", price: {amount: 50000000, currency: "KRW"}, sector: SECONDARY_BATTERIES, trl: 5}) {
               listing { id status knowHow quality { score hints { code } } } errors { code field } } }""",
        seller=holder_id,
        patents=[p["node"]["id"] for p in patents],
    )["createListing"]
    assert created["errors"] == []
    listing = created["listing"]
    assert listing["status"] == "DRAFT" and listing["knowHow"] == "Nozzle temperature profile"
    assert "no_quantified_benefit" in {hint["code"] for hint in listing["quality"]["hints"]}
    published = seller.call(
        "mutation ($id: ID!) { publishListing(id: $id) { listing { status } errors { code } } }",
        id=listing["id"],
    )["publishListing"]
    assert published == {"listing": {"status": "PUBLISHED"}, "errors": []}

    # The buyer sets up its company, sees the listing without its know-how, and inquires.
    org = buyer.call(
        """mutation { createOrganization(input: {name: "에이치씨테크(주)", kind: SME, country: "KR"}) {
             organization { id } errors { code } } }"""
    )["createOrganization"]["organization"]
    seen = buyer.call(
        "query ($id: ID!) { listing(id: $id) { title knowHow knowHowVisible quality { score } } }",
        id=listing["id"],
    )["listing"]
    assert seen == {
        "title": "3D graphene supercapacitor electrodes",
        "knowHow": None,
        "knowHowVisible": False,
        "quality": None,
    }
    inquiry = buyer.call(
        """mutation ($listing: ID!, $org: ID!) { openInquiry(idempotencyKey: "inq-1",
             input: {listingId: $listing, buyerId: $org, message: "We make supercapacitors."}) {
             deal { id state viewerSide } errors { code } } }""",
        listing=listing["id"],
        org=org["id"],
    )["openInquiry"]
    assert inquiry["errors"] == [] and inquiry["deal"]["state"] == "INQUIRY"
    assert inquiry["deal"]["viewerSide"] == "BUYER"
    deal_id = inquiry["deal"]["id"]

    # The seller assigns the broker as lead, with all of the commission.
    broker_id = seller.call("{ brokers(first: 5) { edges { node { id displayName } } } }")["brokers"][
        "edges"
    ][0]["node"]["id"]
    assigned = seller.call(
        """mutation ($deal: ID!, $broker: ID!) { assignBrokers(dealId: $deal,
             brokers: [{brokerId: $broker, shareBasisPoints: 10000, isLead: true}]) {
             deal { brokers { displayName isLead shareBasisPoints } } errors { code } } }""",
        deal=deal_id,
        broker=broker_id,
    )["assignBrokers"]
    assert assigned == {
        "deal": {"brokers": [{"displayName": "Park Broker", "isLead": True, "shareBasisPoints": 10000}]},
        "errors": [],
    }

    # The broker asks for the NDA; both sides sign the exact text they were shown.
    requested = broker.call(
        "mutation ($d: ID!) { requestNda(dealId: $d) { deal { state } errors { code } } }", d=deal_id
    )
    assert requested["requestNda"]["deal"]["state"] == "NDA_PENDING"
    nda = buyer.call("{ currentNda { version textSha256 } }")["currentNda"]
    sign = "mutation ($d: ID!, $h: String!) { signNda(dealId: $d, textSha256: $h) { deal { state } errors { code } } }"
    assert seller.call(sign, d=deal_id, h=nda["textSha256"])["signNda"]["deal"]["state"] == "NDA_PENDING"
    assert buyer.call(sign, d=deal_id, h=nda["textSha256"])["signNda"]["deal"]["state"] == "NDA_SIGNED"
    assert buyer.call("query ($id: ID!) { listing(id: $id) { knowHow } }", id=listing["id"])["listing"] == {
        "knowHow": "Nozzle temperature profile"
    }

    # Broker proposes, buyer counters, seller and buyer accept the counter.
    offer = """mutation ($d: ID!, $amount: BigInt!, $counters: Int) { makeOffer(dealId: $d,
                 input: {transactionType: EXCLUSIVE_LICENCE, upfront: {amount: $amount, currency: "KRW"},
                         royaltyBasisPoints: 300, termMonths: 60, territory: "KR", exclusive: true, countersVersion: $counters}) {
                 offer { version countersVersion proposedFor proposedByBroker } errors { code } } }"""
    first = broker.call(offer, d=deal_id, amount=50_000_000)["makeOffer"]["offer"]
    assert first == {"version": 1, "countersVersion": None, "proposedFor": None, "proposedByBroker": True}
    counter = buyer.call(offer, d=deal_id, amount=40_000_000, counters=1)["makeOffer"]["offer"]
    assert counter == {"version": 2, "countersVersion": 1, "proposedFor": "BUYER", "proposedByBroker": False}
    accept = "mutation ($d: ID!, $v: Int!) { acceptOffer(dealId: $d, version: $v) { deal { state } errors { code } } }"
    assert seller.call(accept, d=deal_id, v=1)["acceptOffer"]["errors"] == [{"code": "OFFER_SUPERSEDED"}]
    assert seller.call(accept, d=deal_id, v=2)["acceptOffer"]["deal"]["state"] == "NEGOTIATING"
    assert buyer.call(accept, d=deal_id, v=2)["acceptOffer"]["deal"]["state"] == "AGREED"

    # Milestones split the agreed 40,000,000 KRW.
    milestones = broker.call(
        """mutation ($d: ID!) { setMilestones(dealId: $d, milestones: [
             {title: "Patent assignment filed", amount: 10000000, deliverables: "KIPO filing receipt"},
             {title: "Know-how transfer", amount: 30000000, inspectionDays: 30}]) {
             deal { state agreedOffer { version upfront { amount currency } }
                    milestones { sequence amount { amount currency } inspectionDays state } } errors { code } } }""",
        d=deal_id,
    )["setMilestones"]
    assert milestones["errors"] == []
    assert milestones["deal"] == {
        "state": "AGREED",
        "agreedOffer": {"version": 2, "upfront": {"amount": 40_000_000, "currency": "KRW"}},
        "milestones": [
            {
                "sequence": 1,
                "amount": {"amount": 10_000_000, "currency": "KRW"},
                "inspectionDays": 14,
                "state": "PENDING",
            },
            {
                "sequence": 2,
                "amount": {"amount": 30_000_000, "currency": "KRW"},
                "inspectionDays": 30,
                "state": "PENDING",
            },
        ],
    }

    # Every state change of the deal is in the audit log, in order.
    deal_pk = int(from_global_id(deal_id)[1])
    assert list(
        AuditEntry.objects.filter(object_type="deal", object_id=deal_pk).values_list("action", flat=True)
    ) == [
        "open_inquiry",
        "assign_brokers",
        "request_nda",
        "sign_nda",
        "sign_nda",
        "nda_completed",
        "start_negotiation",
        "make_offer",
        "make_offer",
        "accept_offer",
        "accept_offer",
        "agree",
        "set_milestones",
    ]
