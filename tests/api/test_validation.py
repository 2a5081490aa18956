"""Invalid input is answered with the mutation's own typed error (the input field in camelCase and a
code), or, when it does not even fit the schema's types, with a GraphQL error; either way nothing is
written."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from marketplace.actions.accounts import create_api_token
from marketplace.models import DealState
from tests.api.client import LocalApi
from tests.api.rows import row_counts
from tests.marketplace.factories import World, build_world, open_deal

pytestmark = pytest.mark.django_db

CREATE_LISTING = """mutation ($seller: ID!, $title: String!, $patents: [ID!]!, $price: MoneyInput, $trl: Int,
  $summary: String) { createListing(input: {sellerId: $seller, title: $title, patentIds: $patents,
    transactionTypes: [ASSIGNMENT], price: $price, trl: $trl, summary: $summary}) {
  listing { id title price { amount currency } trl } errors { field code } } }"""

POST_DEMAND = """mutation ($buyer: ID!, $title: String!, $description: String!, $keywords: [String!],
  $ipc: [String!], $budget: MoneyInput, $deadline: Date) { postDemand(input: {buyerId: $buyer, title: $title,
    description: $description, keywords: $keywords, ipcInterests: $ipc, budget: $budget, replyDeadline: $deadline}) {
  demand { id } errors { field code } } }"""

OPEN_INQUIRY = """mutation ($listing: ID!, $buyer: ID!, $message: String) {
  openInquiry(input: {listingId: $listing, buyerId: $buyer, message: $message}) { deal { id } errors { field code } } }"""

MAKE_OFFER = """mutation ($deal: ID!, $upfront: MoneyInput!, $royalty: Int, $term: Int) { makeOffer(dealId: $deal,
  input: {transactionType: ASSIGNMENT, upfront: $upfront, royaltyBasisPoints: $royalty, termMonths: $term}) {
  offer { version } errors { field code } } }"""


@pytest.fixture
def world() -> World:
    return build_world()


def _as(user: Any) -> LocalApi:
    return LocalApi(create_api_token(user, "t")[1])


def _listing_input(w: World, **changes: Any) -> dict[str, Any]:
    return {
        "seller": to_global_id("Organization", w.seller_org.pk),
        "title": "Graphene electrodes",
        "patents": [to_global_id("Patent", p.pk) for p in w.listing.patents.all()],
        "price": {"amount": 50_000_000, "currency": "KRW"},
        "trl": 5,
        "summary": "Spray-dried",
    } | changes


def _refused(api: LocalApi, query: str, variables: dict[str, Any]) -> list[dict[str, str]]:
    """The typed errors of a mutation that was refused, asserting it wrote nothing."""
    before = row_counts()
    data = api.call(query, **variables)
    [payload] = data.values()
    assert row_counts() == before
    assert [value for key, value in payload.items() if key != "errors"] == [None]
    return list(payload["errors"])


def _invalid(field: str) -> list[dict[str, str]]:
    return [{"field": field, "code": "INVALID"}]


LISTING_CASES: dict[str, tuple[dict[str, Any], str]] = {  # createListing, as the seller
    "title too long": ({"title": "x" * 301}, "title"),
    "title blank": ({"title": "   "}, "title"),
    "unknown currency": ({"price": {"amount": 1_000, "currency": "XYZ"}}, "currency"),
    "zero amount": ({"price": {"amount": 0, "currency": "KRW"}}, "price"),
    "negative amount": ({"price": {"amount": -5, "currency": "KRW"}}, "price"),
    "amount above 10^15": ({"price": {"amount": 10**15 + 1, "currency": "KRW"}}, "price"),
    "TRL 0": ({"trl": 0}, "trl"),
    "TRL 10": ({"trl": 10}, "trl"),
    "summary too long": ({"summary": "x" * 10_001}, "summary"),
    "no patents": ({"patents": []}, "patentIds"),
    "51 patents": ({"patents": [to_global_id("Patent", n) for n in range(1, 52)]}, "patentIds"),
    "a listing id for a patent id": ({"patents": [to_global_id("Listing", 1)]}, "patentIds"),
    "malformed seller id": ({"seller": "not an id!"}, "sellerId"),
    "seller id without a number": ({"seller": to_global_id("Organization", "abc")}, "sellerId"),
    "seller id of another type": ({"seller": to_global_id("Patent", 1)}, "sellerId"),
    "seller id of no type": ({"seller": "MTIz"}, "sellerId"),  # base64 of "123"
}


def test_create_listing_takes_input_right_at_the_limits(world: World) -> None:
    listing = _as(world.seller).call(
        CREATE_LISTING,
        **_listing_input(world, title="x" * 300, price={"amount": 10**15, "currency": "usd"}, trl=9),
    )["createListing"]

    assert listing["errors"] == []
    assert listing["listing"]["price"] == {"amount": 10**15, "currency": "USD"}
    assert (len(listing["listing"]["title"]), listing["listing"]["trl"]) == (300, 9)


def _demand_input(w: World, **changes: Any) -> dict[str, Any]:
    return {
        "buyer": to_global_id("Organization", w.buyer_org.pk),
        "title": "Solid electrolyte wanted",
        "description": "A licence for sulfide electrolytes",
        "keywords": ["electrolyte"],
        "budget": {"amount": 100_000_000, "currency": "KRW"},
        "deadline": (timezone.localdate() + timedelta(days=30)).isoformat(),
    } | changes


DEMAND_CASES: dict[str, tuple[dict[str, Any], str]] = {  # postDemand, as the buyer
    "past reply deadline": (
        {"deadline": (timezone.localdate() - timedelta(days=1)).isoformat()},
        "replyDeadline",
    ),
    "31 keywords": ({"keywords": [f"k{n}" for n in range(31)]}, "keywords"),
    "a keyword of 101 characters": ({"keywords": ["x" * 101]}, "keywords"),
    "31 IPC interests": ({"ipc": [f"H01M {n}" for n in range(31)]}, "ipcInterests"),
    "title too long": ({"title": "x" * 301}, "title"),
    "blank description": ({"description": " "}, "description"),
    "unknown currency": ({"budget": {"amount": 1, "currency": "BTC"}}, "currency"),
    "negative budget": ({"budget": {"amount": -1, "currency": "KRW"}}, "budget"),
    "buyer id of a listing": ({"buyer": to_global_id("Listing", 1)}, "buyerId"),
}


def test_post_demand_takes_a_deadline_of_today(world: World) -> None:
    today = timezone.localdate().isoformat()

    assert (
        _as(world.buyer).call(POST_DEMAND, **_demand_input(world, deadline=today))["postDemand"]["errors"]
        == []
    )


def test_open_inquiry_refuses_a_patent_id_where_a_listing_id_belongs(world: World) -> None:
    api = _as(world.buyer)
    buyer = to_global_id("Organization", world.buyer_org.pk)
    # A Patent id holding the listing's own number: the number alone would find the listing.
    as_patent = _refused(
        api, OPEN_INQUIRY, {"listing": to_global_id("Patent", world.listing.pk), "buyer": buyer}
    )
    malformed = _refused(api, OPEN_INQUIRY, {"listing": "Zm9vYmFy", "buyer": buyer})  # base64 of "foobar"
    too_long = _refused(
        api,
        OPEN_INQUIRY,
        {"listing": to_global_id("Listing", world.listing.pk), "buyer": buyer, "message": "x" * 5_001},
    )

    assert as_patent == malformed == _invalid("listingId")
    assert too_long == _invalid("message")


def _offer_input(w: World, **changes: Any) -> dict[str, Any]:
    deal = open_deal(w, DealState.NDA_SIGNED)
    return {
        "deal": to_global_id("Deal", deal.pk),
        "upfront": {"amount": 40_000_000, "currency": "KRW"},
    } | changes


OFFER_CASES: dict[str, tuple[dict[str, Any], str]] = {  # makeOffer, as the buyer
    "zero upfront": ({"upfront": {"amount": 0, "currency": "KRW"}}, "upfront"),
    "unknown currency": ({"upfront": {"amount": 1_000, "currency": "KRWW"}}, "currency"),
    "royalty above 100%": ({"royalty": 10_001}, "royaltyBasisPoints"),
    "negative royalty": ({"royalty": -1}, "royaltyBasisPoints"),
    "term of 0 months": ({"term": 0}, "termMonths"),
    "term of 601 months": ({"term": 601}, "termMonths"),
}

# case -> (document, who sends it, valid input with the case's changes, the case's changes, the field at fault)
CASES = {
    f"{name}: {case}": (query, user, inputs, changes, field)
    for name, query, user, inputs, cases in (
        ("createListing", CREATE_LISTING, "seller", _listing_input, LISTING_CASES),
        ("postDemand", POST_DEMAND, "buyer", _demand_input, DEMAND_CASES),
        ("makeOffer", MAKE_OFFER, "buyer", _offer_input, OFFER_CASES),
    )
    for case, (changes, field) in cases.items()
}


@pytest.mark.parametrize("case", CASES)
def test_invalid_input_is_refused_with_its_field_and_writes_nothing(world: World, case: str) -> None:
    query, user, inputs, changes, field = CASES[case]

    errors = _refused(_as(getattr(world, user)), query, inputs(world, **changes))

    assert errors == _invalid(field)


# --- input that does not fit the schema's types: a GraphQL error, and nothing runs ---


def _type_error(api: LocalApi, query: str, **variables: Any) -> str:
    before = row_counts()
    response = api.post(query, **variables)
    body = response.json()
    assert response.status_code == 400
    assert "data" not in body
    assert row_counts() == before
    [error] = body["errors"]
    assert "extensions" not in error or "code" not in error["extensions"]
    return str(error["message"])


def test_a_string_for_an_int_is_a_graphql_validation_error(world: World) -> None:
    api = _as(world.seller)
    literal = CREATE_LISTING.replace("trl: $trl", 'trl: "five"').replace(", $trl: Int", "")

    assert 'Int cannot represent non-integer value: "five"' in _type_error(
        api, literal, **_listing_input(world)
    )
    by_variable = _type_error(api, CREATE_LISTING, **_listing_input(world, trl="five"))
    assert by_variable.startswith("Variable '$trl' got invalid value 'five'")


@pytest.mark.parametrize("amount", [1.5, "1.5", True, "1e3", "", None, [1]])
def test_an_amount_that_is_not_a_whole_number_is_refused_not_rounded(world: World, amount: Any) -> None:
    message = _type_error(
        _as(world.seller),
        CREATE_LISTING,
        **_listing_input(world, price={"amount": amount, "currency": "USD"}),
    )

    assert message.startswith("Variable '$price' got invalid value")


def test_an_amount_as_a_literal_fraction_is_a_validation_error(world: World) -> None:
    literal = CREATE_LISTING.replace("price: $price", 'price: {amount: 99.99, currency: "USD"}').replace(
        ", $price: MoneyInput", ""
    )

    assert "99.99" in _type_error(_as(world.seller), literal, **_listing_input(world))


def test_a_whole_amount_as_a_string_or_float_is_taken(world: World) -> None:
    api = _as(world.seller)

    as_string = api.call(
        CREATE_LISTING, **_listing_input(world, price={"amount": "50000000", "currency": "KRW"})
    )
    as_float = api.call(CREATE_LISTING, **_listing_input(world, price={"amount": 7e6, "currency": "KRW"}))

    assert as_string["createListing"]["listing"]["price"] == {"amount": 50_000_000, "currency": "KRW"}
    assert as_float["createListing"]["listing"]["price"] == {"amount": 7_000_000, "currency": "KRW"}


def test_a_missing_required_input_is_a_graphql_validation_error(world: World) -> None:
    query = 'mutation { createListing(input: {title: "x", patentIds: [], transactionTypes: []}) { errors { code } } }'

    assert "sellerId" in _type_error(_as(world.seller), query)
