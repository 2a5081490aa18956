"""The operations admin: operators see every list at a fixed query cost, verify organisations through the
domain action (one audit entry each), and nobody can change the audit log."""

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace import actions
from marketplace.actions.deals import BrokerShare, MilestoneInput, Terms, nda_hash
from marketplace.admin.common import format_money
from marketplace.models import (
    AuditEntry,
    Deal,
    Listing,
    ListingStatus,
    Membership,
    NdaTemplate,
    OfferAcceptance,
    Organization,
    Patent,
    RoomEntry,
)
from tests.marketplace.factories import World, build_world, open_deal

pytestmark = pytest.mark.django_db

_names = count()


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def operator_client(world: World, client: Client) -> Client:
    """Staff with what the docs give the operators group: view everything, change organisations and
    listings (for the verify and withdraw actions). No per-child-model permissions are needed."""
    world.operator.user_permissions.set(
        Permission.objects.filter(content_type__app_label="marketplace").filter(
            Q(codename__startswith="view_") | Q(codename__in=["change_organization", "change_listing"])
        )
    )
    client.force_login(world.operator)
    return client


def _url(model: str, view: str = "changelist", *args: object) -> str:
    return reverse(f"admin:marketplace_{model}_{view}", args=args)


def _user() -> User:
    return User.objects.create_user(f"user-{next(_names)}")


def _org(**fields: object) -> Organization:
    return Organization.objects.create(name=f"Org {next(_names)}", kind="sme", country="KR", **fields)


def _agreed_deal(w: World) -> Deal:
    """A deal with every kind of child row the deal page shows: brokers, signatures, a counter-offer
    accepted by both sides, milestones."""
    shares = [BrokerShare(w.broker.pk, 7_000, is_lead=True), BrokerShare(w.co_broker.pk, 3_000)]
    deal = actions.open_inquiry(w.buyer, w.listing.pk, w.buyer_org.pk)
    actions.assign_brokers(w.seller, deal.pk, shares)
    actions.request_nda(w.broker, deal.pk)
    for party in (w.seller, w.buyer):
        actions.sign_nda(party, deal.pk, w.nda_sha256)
    for proposer, upfront, royalty, counters in ((w.broker, 60, 300, None), (w.buyer, 45, 250, 1)):
        terms = Terms("exclusive_licence", upfront * 1_000_000, "KRW", royalty_bp=royalty)
        actions.make_offer(proposer, deal.pk, terms, counters)
    for party in (w.buyer, w.seller):
        actions.accept_offer(party, deal.pk, 2)
    milestones = [MilestoneInput("Know-how", 15_000_000), MilestoneInput("Assignment", 30_000_000)]
    actions.set_milestones(w.seller, deal.pk, milestones)
    return deal


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_every_marketplace_model_is_registered_or_shown_inline() -> None:
    inline_models = {
        inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines
    }
    # OfferAcceptance: the "accepted by" column of a deal's offers
    shown = set(admin.site._registry) | inline_models | {OfferAcceptance}
    missing = [m.__name__ for m in apps.get_app_config("marketplace").get_models() if m not in shown]
    assert missing == []


def test_every_changelist_and_the_main_change_pages_open_for_an_operator(
    world: World, operator_client: Client
) -> None:
    deal = _agreed_deal(world)
    models = [str(m._meta.model_name) for m in admin.site._registry if m._meta.app_label == "marketplace"]
    for model in models:
        assert operator_client.get(_url(model)).status_code == 200, model
        assert operator_client.get(_url(model), {"q": "graphene"}).status_code == 200, model
    entry = AuditEntry.objects.filter(object_type="deal").first()
    assert entry is not None
    pages = [
        ("organization", world.seller_org.pk),
        ("listing", world.listing.pk),
        ("deal", deal.pk),
        ("patent", Patent.objects.get().pk),
        ("ndatemplate", NdaTemplate.objects.get().pk),
        ("auditentry", entry.pk),
    ]
    for model, pk in pages:
        assert operator_client.get(_url(model, "change", pk)).status_code == 200, model


def test_the_deal_page_shows_the_whole_deal_read_only(world: World, operator_client: Client) -> None:
    deal = _agreed_deal(world)

    response = operator_client.get(_url("deal", "change", deal.pk))

    page = response.content.decode()
    assert "The state changes only through the deal actions" in page
    assert "45,000,000 KRW" in page and "15,000,000 KRW" in page  # offer and milestone, no minor units
    assert "2.5%" in page and "70%" in page  # royalty, lead broker's share
    assert "buyer, seller" in page  # both sides accepted version 2
    assert 'name="state"' not in page  # no input for the state, or anything else
    assert operator_client.post(_url("deal", "change", deal.pk), {"state": "settled"}).status_code == 403
    deal.refresh_from_db()
    assert deal.state == "agreed"


def test_searching_patents_by_title_in_any_language(world: World, operator_client: Client) -> None:
    for term in ("graphene", "그래핀", "1020160138184"):
        response = operator_client.get(_url("patent"), {"q": term})
        assert response.context["cl"].result_count == 1, term


def _more_orgs(w: World, n: int) -> None:
    for i in range(n):
        org = _org(is_generated=i % 2 == 0)
        Membership.objects.create(user=_user(), organization=org)
        Membership.objects.create(user=_user(), organization=org, role="admin")


def _more_listings(w: World, n: int) -> None:
    for i in range(n):
        org = _org()
        Listing.objects.create(
            seller=org,
            created_by=w.seller,
            title=f"Listing {i}",
            price_amount=125_000 + i,
            price_currency="USD",
            life_flags=["expiring_soon"] if i % 2 else [],
            is_generated=i % 3 == 0,
        )


def _more_deals(w: World, n: int) -> None:
    for _ in range(n):
        Deal.objects.create(listing=w.listing, buyer=_org(), created_by=_user())


def _more_audit_entries(w: World, n: int) -> None:
    for i in range(n):
        AuditEntry.objects.create(actor=_user(), object_type="listing", object_id=i, action="x", to_state="y")


@pytest.mark.parametrize(
    ("model", "add_rows"),
    [
        ("organization", _more_orgs),
        ("listing", _more_listings),
        ("deal", _more_deals),
        ("auditentry", _more_audit_entries),
    ],
)
def test_a_changelist_costs_the_same_queries_for_2_and_20_more_rows(
    world: World, operator_client: Client, model: str, add_rows: Callable[[World, int], None]
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = operator_client.get(_url(model))
        assert response.status_code == 200
        return len(captured.captured_queries)

    add_rows(world, 2)
    queries()  # warm caches (content types, sessions)
    few = queries()
    add_rows(world, 18)

    assert queries() == few


def test_the_organisation_list_counts_members_and_marks_demo_records(
    world: World, operator_client: Client
) -> None:
    org = _org(is_generated=True)
    for _ in range(3):
        Membership.objects.create(user=_user(), organization=org)

    response = operator_client.get(_url("organization"), {"is_generated__exact": "1"})

    [row] = response.context["cl"].result_list
    assert row.pk == org.pk and row._member_count == 3
    assert "DEMO" in response.content.decode()


def _post_action(client: Client, model: str, action: str, pks: list[int]) -> Any:
    return client.post(_url(model), {"action": action, "_selected_action": pks}, follow=True)


def test_verify_action_verifies_through_the_domain_action_with_one_audit_entry_each(
    world: World, operator_client: Client
) -> None:
    # given two unverified organisations and one the world already verified
    unverified = [world.buyer_org.pk, world.other_buyer_org.pk]
    selected = [*unverified, world.seller_org.pk]

    response = _post_action(operator_client, "organization", "verify_selected", selected)

    assert _messages(response) == [
        "Verified 2 organisation(s).",
        "1 organisation(s) were already verified.",
    ]
    for org in Organization.objects.filter(pk__in=selected):
        assert org.verified_at is not None
        entries = AuditEntry.objects.filter(
            object_type="organization", object_id=org.pk, action="verify_organization"
        )
        # exactly one each: the already verified one keeps the entry build_world's verification wrote
        assert [(e.actor_id, e.from_state, e.to_state) for e in entries] == [
            (world.operator.pk, "unverified", "verified")
        ]
    assert Organization.objects.get(pk=world.buyer_org.pk).verified_by == world.operator


def test_verify_action_reports_a_refusal_and_verifies_the_rest(
    world: World, operator_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an organisation deleted by someone else between the selection and its verification
    from marketplace.admin import organisations

    gone = world.other_buyer_org.pk

    def verify_after_a_concurrent_delete(user: User, pk: int) -> Organization:
        if pk == gone:
            Organization.objects.filter(pk=gone).delete()
        return actions.verify_organization(user, pk)

    monkeypatch.setattr(organisations, "verify_organization", verify_after_a_concurrent_delete)

    response = _post_action(operator_client, "organization", "verify_selected", [world.buyer_org.pk, gone])

    assert response.status_code == 200
    assert _messages(response) == ["Verified 1 organisation(s).", f"Refused: #{gone}: No such organisation."]
    assert Organization.objects.get(pk=world.buyer_org.pk).is_verified
    assert not AuditEntry.objects.filter(object_id=gone, action="verify_organization").exists()


def test_verified_at_cannot_be_set_by_editing_the_organisation(world: World, operator_client: Client) -> None:
    org = world.buyer_org
    data = {
        "name": org.name,
        "kind": org.kind,
        "country": org.country,
        "business_registration_number": "",
        "verified_at_0": "2024-01-01",
        "verified_at_1": "00:00:00",
        "verified_by": str(world.operator.pk),
        **{
            f"{inline}-{n}_FORMS": "0"
            for inline in ("memberships", "invitations")
            for n in ("TOTAL", "INITIAL")
        },
    }

    response = operator_client.post(_url("organization", "change", org.pk), data)

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.verified_at is None and org.verified_by is None


def test_withdraw_action_uses_the_domain_action_and_refuses_a_second_time(
    world: World, operator_client: Client
) -> None:
    pk = world.listing.pk

    first = _post_action(operator_client, "listing", "withdraw_selected", [pk])
    second = _post_action(operator_client, "listing", "withdraw_selected", [pk])

    assert _messages(first) == ["Withdrew 1 listing(s)."]
    assert _messages(second) == [f"Refused: #{pk}: A withdrawn listing cannot be withdrawn."]
    assert Listing.objects.get(pk=pk).status == ListingStatus.WITHDRAWN
    entries = AuditEntry.objects.filter(object_type="listing", object_id=pk, action="withdraw_listing")
    assert [(e.actor_id, e.from_state, e.to_state) for e in entries] == [
        (world.operator.pk, "published", "withdrawn")
    ]


def _listing_form(listing: Listing, **changes: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": listing.title,
        "summary": listing.summary,
        "know_how": listing.know_how,
        "patents": [p.pk for p in listing.patents.all()],
        "transaction_types": ",".join(listing.transaction_types),
        "price_amount": "" if listing.price_amount is None else str(listing.price_amount),
        "price_currency": listing.price_currency,
        "sector": listing.sector,
        "brokers": "",
        "status": "closed",  # read-only: ignored
    }
    data.update(changes)
    return data


def test_listing_edits_are_update_listing_calls_with_its_rules_and_audit(
    world: World, operator_client: Client
) -> None:
    listing = world.listing
    url = _url("listing", "change", listing.pk)
    other_patent = Patent.objects.create(
        office="KR", application_number="2", titles={"en": "y"}, owner=_org()
    )

    bad_currency = operator_client.post(url, _listing_form(listing, price_currency="XYZ"))
    published_patents = operator_client.post(url, _listing_form(listing, patents=[other_patent.pk]))
    not_a_broker = operator_client.post(url, _listing_form(listing, brokers=str(world.buyer.pk)))
    ok = operator_client.post(
        url,
        _listing_form(listing, price_amount="60000000", price_currency="krw", brokers=str(world.broker.pk)),
    )

    assert "Unsupported currency" in bad_currency.content.decode()
    assert "Patents change only while drafting." in published_patents.content.decode()
    assert "must have a broker profile" in not_a_broker.content.decode()
    assert ok.status_code == 302
    listing.refresh_from_db()
    assert (listing.price_amount, listing.price_currency, listing.status) == (60_000_000, "KRW", "published")
    assert list(listing.brokers.all()) == [world.broker]
    entries = AuditEntry.objects.filter(object_type="listing", object_id=listing.pk, action="update_listing")
    assert [(e.actor_id, e.data) for e in entries] == [(world.operator.pk, {"fields": ["price_amount"]})]
    assert "60,000,000 KRW" in operator_client.get(_url("listing")).content.decode()


def test_a_draft_listing_takes_only_patents_its_seller_holds(world: World, operator_client: Client) -> None:
    own = Patent.objects.create(
        office="KR", application_number="3", titles={"en": "z"}, owner=world.seller_org
    )
    foreign = Patent.objects.create(office="KR", application_number="4", titles={"en": "w"}, owner=_org())
    draft = actions.create_listing(world.seller, world.seller_org.pk, "Draft", [own.pk], ["assignment"])
    url = _url("listing", "change", draft.pk)

    refused = operator_client.post(url, _listing_form(draft, patents=[own.pk, foreign.pk]))
    negotiable = operator_client.post(url, _listing_form(draft, price_amount="", price_negotiable="on"))

    assert "The seller does not hold every patent." in refused.content.decode()
    assert negotiable.status_code == 302  # nothing changed: it already was negotiable
    assert list(draft.patents.all()) == [own]
    assert not AuditEntry.objects.filter(object_id=draft.pk, action="update_listing").exists()


def test_close_demand_action_uses_the_domain_action(world: World, operator_client: Client) -> None:
    world.operator.user_permissions.add(Permission.objects.get(codename="change_demand"))
    demand = actions.post_demand(world.buyer, world.buyer_org.pk, "Graphene electrodes", "For our cells.")

    response = _post_action(operator_client, "demand", "close_selected", [demand.pk])

    assert _messages(response) == ["Closed 1 demand(s)."]
    demand.refresh_from_db()
    assert not demand.is_open
    assert AuditEntry.objects.filter(
        object_type="demand", object_id=demand.pk, action="close_demand"
    ).exists()


def test_a_user_who_is_not_staff_is_sent_to_the_login_page(world: World, client: Client) -> None:
    world.buyer.user_permissions.set(Permission.objects.filter(content_type__app_label="marketplace"))
    for user in (None, world.buyer):
        if user is not None:
            client.force_login(user)
        for url in (reverse("admin:index"), _url("organization"), _url("auditentry")):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))


def test_nobody_adds_changes_or_deletes_audit_entries_not_even_a_superuser(
    world: World, client: Client
) -> None:
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)
    entry = AuditEntry.objects.filter(object_type="organization").first()
    assert entry is not None
    before = AuditEntry.objects.count()

    assert client.get(_url("auditentry", "add")).status_code == 403
    assert client.post(_url("auditentry", "add"), {"action": "x", "object_id": 1}).status_code == 403
    assert client.post(_url("auditentry", "change", entry.pk), {"action": "forged"}).status_code == 403
    assert client.get(_url("auditentry", "delete", entry.pk)).status_code == 403
    assert client.post(_url("auditentry", "delete", entry.pk), {"post": "yes"}).status_code == 403
    _post_action(client, "auditentry", "delete_selected", [entry.pk])

    assert AuditEntry.objects.count() == before
    entry.refresh_from_db()
    assert entry.action == "create_organization"
    changelist = client.get(_url("auditentry"))
    assert "delete_selected" not in changelist.content.decode()


def test_change_pages_link_to_their_audit_entries(world: World, operator_client: Client) -> None:
    org = world.seller_org
    page = operator_client.get(_url("organization", "change", org.pk)).content.decode()
    link = f"{_url('auditentry')}?object_type=organization&amp;object_id={org.pk}"
    assert f'<a href="{link}">2 audit entries</a>' in page  # created, verified

    response = operator_client.get(
        _url("auditentry"), {"object_type": "organization", "object_id": str(org.pk)}
    )

    assert [e.action for e in response.context["cl"].result_list] == [
        "create_organization",
        "verify_organization",
    ]
    by_search = operator_client.get(_url("auditentry"), {"q": str(org.pk)})
    assert org.pk in {e.object_id for e in by_search.context["cl"].result_list}


def test_an_nda_version_is_hashed_on_save_and_frozen_once_signed(world: World, client: Client) -> None:
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(root)
    text = "Version two of the NDA."

    response = client.post(
        _url("ndatemplate", "add"), {"version": "2", "text": text, "text_sha256": "forged"}
    )

    assert response.status_code == 302
    assert NdaTemplate.objects.get(version=2).text_sha256 == nda_hash(text)
    # version 1 is signed once a deal's NDA is signed under it
    signed = NdaTemplate.objects.get(version=1)
    NdaTemplate.objects.filter(version=2).delete()
    _agreed_deal(world)
    url = _url("ndatemplate", "change", signed.pk)
    assert client.post(url, {"version": "1", "text": "changed"}).status_code == 403
    assert client.post(_url("ndatemplate", "delete", signed.pk), {"post": "yes"}).status_code == 403
    signed.refresh_from_db()
    assert signed.text_sha256 == world.nda_sha256 and signed.text != "changed"


def test_site_names_the_product(world: World, operator_client: Client) -> None:
    assert "IP Marketplace operations" in operator_client.get(reverse("admin:index")).content.decode()


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (50_000_000, "KRW", "50,000,000 KRW"),
        (1_200, "jpy", "1,200 JPY"),
        (123_456, "USD", "1,234.56 USD"),
        (5, "EUR", "0.05 EUR"),
        (99, "XYZ", "99 minor units XYZ"),
        (None, "", "—"),
    ],
)
def test_money_is_shown_in_major_units(amount: int | None, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_an_operator_hides_a_room_message_through_the_domain_action(
    world: World, operator_client: Client
) -> None:
    # given: the room of a deal, opened with the buyer's first words
    deal = open_deal(world)
    words = RoomEntry.objects.get(deal=deal, kind="text")

    # when
    response = _post_action(operator_client, "roomentry", "hide", [words.pk])

    # then: hidden (kept), audited, and the hide is an entry of the room's log
    assert response.status_code == 200
    words.refresh_from_db()
    assert words.hidden_at is not None and words.hidden_by == world.operator
    assert (
        AuditEntry.objects.filter(object_type="roomentry", object_id=words.pk, action="hide_message").count()
        == 1
    )
    moderation = RoomEntry.objects.get(deal=deal, kind="moderation")
    assert moderation.source_id == words.pk and moderation.data == {"target_sequence": words.sequence}
