"""Accounts, sessions with CSRF, bearer tokens, and idempotency keys on create mutations."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from graphql_relay import to_global_id

from marketplace.actions.accounts import create_api_token
from marketplace.models import Deal, DealState, Demand, Listing, Offer, Organization
from tests.api.client import BrowserSession, LocalApi
from tests.api.rows import row_counts
from tests.marketplace.factories import World, build_world, open_deal

REGISTER = """mutation ($email: String!, $password: String!) {
  registerUser(input: {email: $email, password: $password, fullName: "Kim Seller"}) {
    me { email } errors { field code } } }"""
SIGN_IN = """mutation ($email: String!, $password: String!) { signIn(email: $email, password: $password) {
  me { email } errors { field message code } } }"""
SIGN_OUT = "mutation { signOut { ok errors { code } } }"
ME = "{ me { email } }"
CREATE_ORG = """mutation ($name: String!, $key: String) { createOrganization(idempotencyKey: $key,
  input: {name: $name, kind: SME, country: "KR"}) { organization { id name } errors { field code } } }"""
PASSWORD = "correct horse battery"


# --- registration and sign-in (in-process: no cookie is involved until one is set) ---


@pytest.mark.django_db
def test_register_refuses_a_taken_email_a_weak_password_and_a_bad_email() -> None:
    # given a registered user
    first = LocalApi().call(REGISTER, email="Kim@Example.KR", password=PASSWORD)["registerUser"]
    assert first == {"me": {"email": "kim@example.kr"}, "errors": []}
    before = row_counts()

    def refused(email: str, password: str) -> list[dict[str, str]]:
        payload = LocalApi().call(REGISTER, email=email, password=password)["registerUser"]
        assert payload["me"] is None
        return list(payload["errors"])

    # then the same e-mail, in any case, is taken; weak passwords and bad e-mails are refused
    assert refused("kim@example.kr ", PASSWORD) == [{"field": "email", "code": "EMAIL_TAKEN"}]
    assert refused("KIM@example.kr", PASSWORD) == [{"field": "email", "code": "EMAIL_TAKEN"}]
    for weak in ("password", "12345678", "short", "kim@example.org"):
        assert refused("new@example.kr", weak) == [{"field": "password", "code": "WEAK_PASSWORD"}]
    for bad in ("not-an-email", "kim@", "", "a b@example.kr"):
        assert refused(bad, PASSWORD) == [{"field": "email", "code": "INVALID"}]
    # and none of that wrote anything
    assert row_counts() == before


@pytest.mark.django_db
def test_sign_in_answers_a_wrong_password_and_an_unknown_email_alike() -> None:
    LocalApi().call(REGISTER, email="kim@example.kr", password=PASSWORD)

    wrong_password = LocalApi().call(SIGN_IN, email="kim@example.kr", password="wrong horse")["signIn"]
    unknown_email = LocalApi().call(SIGN_IN, email="lee@example.kr", password=PASSWORD)["signIn"]
    malformed_email = LocalApi().call(SIGN_IN, email="lee", password=PASSWORD)["signIn"]
    right = LocalApi().call(SIGN_IN, email="KIM@example.kr", password=PASSWORD)["signIn"]

    expected = {
        "me": None,
        "errors": [{"field": None, "message": "Wrong e-mail or password.", "code": "INVALID_CREDENTIALS"}],
    }
    assert wrong_password == unknown_email == malformed_email == expected
    assert right == {"me": {"email": "kim@example.kr"}, "errors": []}


# --- sessions, CSRF and tokens, over HTTP against the running server ---


def _post(base_url: str, query: str, token: str | None = None, **variables: Any) -> httpx.Response:
    headers = {"Authorization": token} if token is not None else {}
    return httpx.post(
        f"{base_url}/graphql/", json={"query": query, "variables": variables}, headers=headers, timeout=30
    )


def _signed_in(base_url: str, email: str) -> BrowserSession:
    browser = BrowserSession(base_url)
    registered = browser.post(REGISTER, email=email, password=PASSWORD).json()["data"]["registerUser"]
    assert registered["errors"] == []
    return browser


def test_a_session_post_without_the_csrf_token_is_refused_and_writes_nothing(
    live_server_url: str, transactional_db: None
) -> None:
    # given a signed-in browser
    browser = _signed_in(live_server_url, "kim@example.kr")
    before = row_counts()

    # when it posts a mutation without X-CSRFToken
    refused = browser.post(CREATE_ORG, csrf=False, name="Forged Co")

    # then it is refused with 403 and nothing is written
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert row_counts() == before

    # and with the token the same mutation works
    created = browser.post(CREATE_ORG, name="Real Co").json()["data"]["createOrganization"]
    assert created["errors"] == [] and created["organization"]["name"] == "Real Co"
    assert Organization.objects.filter(name="Forged Co").count() == 0


def test_a_wrong_csrf_token_is_refused_too(live_server_url: str, transactional_db: None) -> None:
    browser = _signed_in(live_server_url, "kim@example.kr")
    response = browser.http.post(
        browser.url,
        json={"query": CREATE_ORG, "variables": {"name": "Forged Co"}},
        headers={"X-CSRFToken": "x" * 32},
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
    assert not Organization.objects.filter(name="Forged Co").exists()


def test_a_bearer_token_needs_no_csrf_and_a_revoked_one_is_refused(
    live_server_url: str, transactional_db: None
) -> None:
    # given a token minted in a browser session
    browser = _signed_in(live_server_url, "kim@example.kr")
    minted = browser.post('mutation { createApiToken(name: "script") { token apiToken { id } } }').json()
    token = minted["data"]["createApiToken"]["token"]

    # then a request with it alone (no cookie, no CSRF token) acts as the user
    created = _post(live_server_url, CREATE_ORG, f"Bearer {token}", name="Scripted Co")
    assert created.status_code == 200
    assert created.json()["data"]["createOrganization"]["errors"] == []
    assert _post(live_server_url, ME, f"Bearer {token}").json() == {
        "data": {"me": {"email": "kim@example.kr"}}
    }

    # when the user revokes it
    token_id = minted["data"]["createApiToken"]["apiToken"]["id"]
    revoke = "mutation ($id: ID!) { revokeApiToken(id: $id) { apiToken { revokedAt } errors { code } } }"
    revoked = browser.post(revoke, id=token_id).json()["data"]["revokeApiToken"]
    assert revoked["errors"] == [] and revoked["apiToken"]["revokedAt"]

    # then it is refused with 401, before anything runs
    before = row_counts()
    refused = _post(live_server_url, CREATE_ORG, f"Bearer {token}", name="Late Co")
    assert refused.status_code == 401
    assert refused.json() == {
        "errors": [
            {"message": "The API token is unknown or revoked.", "extensions": {"code": "INVALID_TOKEN"}}
        ]
    }
    assert row_counts() == before


@pytest.mark.parametrize(
    "header", ["Bearer ipm_not-a-real-token", "Bearer garbage", "Bearer", "Basic a2ltOnB3", "ipm_x"]
)
def test_an_unknown_token_or_scheme_is_refused_with_401(
    live_server_url: str, transactional_db: None, header: str
) -> None:
    response = _post(live_server_url, ME, header)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


def test_sign_out_ends_the_session(live_server_url: str, transactional_db: None) -> None:
    # given a browser signed in, whose session cookie an eavesdropper copied
    browser = _signed_in(live_server_url, "kim@example.kr")
    assert browser.post(ME).json()["data"]["me"] == {"email": "kim@example.kr"}
    copied = dict(browser.http.cookies)

    # when it signs out
    assert browser.post(SIGN_OUT).json()["data"]["signOut"] == {"ok": True, "errors": []}

    # then neither the browser nor the copied cookie is signed in any more
    assert browser.post(ME).json()["data"]["me"] is None
    replay = httpx.post(
        f"{live_server_url}/graphql/",
        json={"query": ME},
        cookies=copied,
        headers={"X-CSRFToken": copied["csrftoken"]},
    )
    assert replay.json()["data"]["me"] is None


def test_sign_in_then_sign_out_over_http(live_server_url: str, transactional_db: None) -> None:
    User.objects.create_user("kim@example.kr", email="kim@example.kr", password=PASSWORD)
    browser = BrowserSession(live_server_url)

    signed_in = browser.post(SIGN_IN, email="kim@example.kr", password=PASSWORD).json()["data"]["signIn"]

    assert signed_in == {"me": {"email": "kim@example.kr"}, "errors": []}
    assert browser.post(ME).json()["data"]["me"] == {"email": "kim@example.kr"}
    assert browser.post(SIGN_OUT).json()["data"]["signOut"]["ok"] is True
    assert browser.post(ME).json()["data"]["me"] is None


# --- idempotency keys ---


@dataclass
class Create:
    """A create mutation with an idempotency key: who sends it, the document, two different inputs,
    what it creates, and where the created object's identity is in the payload."""

    user: User
    query: str
    first: dict[str, Any]
    other: dict[str, Any]
    model: type[Any]
    identity: Callable[[dict[str, Any]], Any]


def _org(world: World) -> str:
    return to_global_id("Organization", world.buyer_org.pk)


CREATES: dict[str, Callable[[World], Create]] = {
    "createOrganization": lambda w: Create(
        w.buyer,
        CREATE_ORG,
        {"name": "Idem Co"},
        {"name": "Other Co"},
        Organization,
        lambda data: data["createOrganization"]["organization"]["id"],
    ),
    "createListing": lambda w: Create(
        w.seller,
        """mutation ($key: String, $title: String!, $seller: ID!, $patents: [ID!]!) {
             createListing(idempotencyKey: $key, input: {sellerId: $seller, title: $title, patentIds: $patents,
               transactionTypes: [ASSIGNMENT], price: {amount: 1000, currency: "USD"}}) {
             listing { id } errors { field code } } }""",
        {
            "title": "Graphene electrodes",
            "seller": to_global_id("Organization", w.seller_org.pk),
            "patents": [to_global_id("Patent", p.pk) for p in w.listing.patents.all()],
        },
        {
            "title": "Graphene electrodes, again",
            "seller": to_global_id("Organization", w.seller_org.pk),
            "patents": [to_global_id("Patent", p.pk) for p in w.listing.patents.all()],
        },
        Listing,
        lambda data: data["createListing"]["listing"]["id"],
    ),
    "postDemand": lambda w: Create(
        w.buyer,
        """mutation ($key: String, $buyer: ID!, $amount: BigInt!) { postDemand(idempotencyKey: $key,
             input: {buyerId: $buyer, title: "Solid electrolyte", description: "A licence",
                     budget: {amount: $amount, currency: "KRW"}}) { demand { id } errors { field code } } }""",
        {"buyer": _org(w), "amount": 100_000_000},
        {"buyer": _org(w), "amount": 200_000_000},
        Demand,
        lambda data: data["postDemand"]["demand"]["id"],
    ),
    "openInquiry": lambda w: Create(
        w.buyer,
        """mutation ($key: String, $listing: ID!, $buyer: ID!, $message: String) { openInquiry(idempotencyKey: $key,
             input: {listingId: $listing, buyerId: $buyer, message: $message}) { deal { id } errors { field code } } }""",
        {"listing": to_global_id("Listing", w.listing.pk), "buyer": _org(w), "message": "Hello"},
        {"listing": to_global_id("Listing", w.listing.pk), "buyer": _org(w), "message": "Hello again"},
        Deal,
        lambda data: data["openInquiry"]["deal"]["id"],
    ),
    "makeOffer": lambda w: _make_offer(w, to_global_id("Deal", open_deal(w, DealState.NDA_SIGNED).pk)),
}


def _make_offer(w: World, deal: str) -> Create:
    return Create(
        w.buyer,
        """mutation ($key: String, $deal: ID!, $amount: BigInt!) { makeOffer(idempotencyKey: $key, dealId: $deal,
             input: {transactionType: EXCLUSIVE_LICENCE, upfront: {amount: $amount, currency: "KRW"}}) {
             offer { version upfront { amount } } deal { id } errors { field code } } }""",
        {"deal": deal, "amount": 40_000_000},
        {"deal": deal, "amount": 45_000_000},
        Offer,
        lambda data: data["makeOffer"]["offer"],
    )


def _errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    [payload] = data.values()
    return list(payload["errors"])


@pytest.mark.django_db
@pytest.mark.parametrize("name", CREATES)
def test_a_retry_with_the_same_key_returns_the_first_object(name: str) -> None:
    create = CREATES[name](build_world())
    api = LocalApi(create_api_token(create.user, "t")[1])
    before = create.model.objects.count()

    first = api.call(create.query, key="retry-1", **create.first)
    retry = api.call(create.query, key="retry-1", **create.first)

    assert _errors(first) == _errors(retry) == []
    assert create.identity(retry) == create.identity(first)
    assert create.model.objects.count() == before + 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", CREATES)
def test_the_same_key_with_other_input_is_refused_and_writes_nothing(name: str) -> None:
    create = CREATES[name](build_world())
    api = LocalApi(create_api_token(create.user, "t")[1])
    assert _errors(api.call(create.query, key="k", **create.first)) == []
    before = row_counts()

    reused = api.call(create.query, key="k", **create.other)

    assert _errors(reused) == [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}]
    assert row_counts() == before


@pytest.mark.django_db
def test_a_key_is_its_users_own_and_at_most_100_characters() -> None:
    alice, bob = (LocalApi(create_api_token(User.objects.create_user(n), "t")[1]) for n in ("alice", "bob"))

    first = alice.call(CREATE_ORG, key="k", name="Alice Co")["createOrganization"]
    other_user = bob.call(CREATE_ORG, key="k", name="Bob Co")["createOrganization"]
    too_long = bob.call(CREATE_ORG, key="k" * 101, name="Bob Co")["createOrganization"]

    assert first["errors"] == other_user["errors"] == []
    assert first["organization"]["id"] != other_user["organization"]["id"]
    assert too_long == {"organization": None, "errors": [{"field": "idempotencyKey", "code": "INVALID"}]}


@pytest.mark.parametrize("name", ["createListing", "openInquiry", "makeOffer", "createOrganization"])
def test_concurrent_requests_with_one_key_make_one_object(
    live_server_url: str, transactional_db: None, name: str
) -> None:
    # given one user's create mutation
    create = CREATES[name](build_world())
    token = create_api_token(create.user, "t")[1]
    before = create.model.objects.count()
    threads = 8
    start = threading.Barrier(threads)
    answers: list[dict[str, Any]] = []

    def send() -> None:
        start.wait()
        response = _post(live_server_url, create.query, f"Bearer {token}", key="same", **create.first)
        answers.append(response.json())

    # when several copies of it arrive at once
    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # then exactly one object exists, and every answer is that object
    assert create.model.objects.count() == before + 1
    assert all("errors" not in answer for answer in answers), answers
    assert [_errors(answer["data"]) for answer in answers] == [[]] * threads
    assert len({repr(create.identity(answer["data"])) for answer in answers}) == 1


@pytest.mark.django_db
def test_a_form_post_is_refused_so_no_foreign_page_can_sign_anyone_in() -> None:
    # given: an account, and a cross-site form that would sign the visitor into it (login CSRF)
    User.objects.create_user(
        "attacker@example.com", email="attacker@example.com", password="correct horse battery"
    )
    form = {
        "query": 'mutation { signIn(email: "attacker@example.com", password: "correct horse battery") { errors { code } } }'
    }

    # when
    response = Client().post("/graphql/", form)

    # then
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_an_error_about_the_mutations_id_argument_names_id() -> None:
    w = build_world()
    seller = LocalApi(create_api_token(w.seller, "t")[1])

    body = seller.call(
        "mutation ($id: ID!) { publishListing(id: $id) { errors { field code } } }",
        id=to_global_id("Listing", 999_999),
    )

    assert body["publishListing"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
