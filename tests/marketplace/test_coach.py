"""The listing-quality coach: exact hint codes, messages and scores; no database queries."""

from datetime import date

import pytest
from pytest_django import DjangoAssertNumQueries

from marketplace.coach import Hint, QualityHint, assess_listing
from marketplace.models import Listing
from tests.marketplace.factories import build_world
from tests.marketplace.real_patents import kr_graphene, nasa_aerogel

ABSTRACT = {"en": "3D graphene electrodes for supercapacitors made by spraying reduced graphene oxide."}
SUMMARY = (
    "Supercapacitor electrodes made of 3D graphene in one spray step: reduced graphene oxide is sprayed "
    "onto a heated target and flash-evaporates into a porous structure, with no binder and no template. "
    "For energy-storage makers that need high capacitance and long cycle life."
)


def complete_listing(**changes: object) -> Listing:
    fields: dict[str, object] = {
        "title": "3D graphene supercapacitor electrodes",
        "summary": SUMMARY,
        "know_how": "Nozzle temperature profile and RGO concentration window",
        "quantified_benefit": "Specific capacitance 30% above activated carbon after 10,000 cycles",
        "transaction_types": ["exclusive_licence", "non_exclusive_licence"],
        "price_amount": 50_000_000,
        "price_currency": "KRW",
        "trl": 5,
        "sector": "secondary_batteries",
    }
    fields.update(changes)
    return Listing(**fields)


def codes(hints: tuple[Hint, ...]) -> list[QualityHint]:
    return [hint.code for hint in hints]


@pytest.mark.django_db
def test_the_world_listing_gets_its_hints_without_a_query(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    # given: the listing and its patent as the API would load them
    world = build_world()
    listing = Listing.objects.get(pk=world.listing.pk)
    patents = list(listing.patents.all())

    # when
    with django_assert_num_queries(0):
        quality = assess_listing(listing, patents, date(2026, 1, 15))

    # then: heaviest first; the pending patent's computed expiry (2036-10-24) is far away
    assert codes(quality.hints) == [
        QualityHint.SHORT_SUMMARY,
        QualityHint.NO_QUANTIFIED_BENEFIT,
        QualityHint.NO_TRL,
        QualityHint.PATENT_WITHOUT_ABSTRACT,
        QualityHint.SECTOR_NOT_SET,
    ]
    assert quality.score == 100 - 10 - 10 - 10 - 5 - 5 == 60
    assert quality.hints[0].message == (
        "The summary has 34 characters; give at least 200: the problem solved, how, and for which products."
    )
    assert quality.hints[3] == Hint(
        QualityHint.PATENT_WITHOUT_ABSTRACT,
        "patents",
        "Patent KR 1020160138184 (GRAPHENE ELECTRODE) has no abstract: buyers search and compare on it, "
        "so add one.",
        5,
        patents[0].pk,
    )


def test_a_complete_listing_scores_100() -> None:
    quality = assess_listing(complete_listing(), [kr_graphene(abstracts=ABSTRACT)], date(2025, 6, 1))

    assert (quality.score, quality.hints) == (100, ())


def test_an_empty_listing_gets_every_content_hint() -> None:
    listing = complete_listing(
        summary="",
        know_how="",
        quantified_benefit=" ",
        transaction_types=["assignment"],
        price_amount=None,
        price_currency="",
        price_negotiable=True,
        trl=None,
        sector="other",
    )

    quality = assess_listing(listing, [], date(2025, 6, 1))

    assert codes(quality.hints) == [
        QualityHint.MISSING_SUMMARY,
        QualityHint.NO_QUANTIFIED_BENEFIT,
        QualityHint.NO_KNOW_HOW,
        QualityHint.NO_TRL,
        QualityHint.NO_PRICE,
        QualityHint.SECTOR_NOT_SET,
        QualityHint.ONE_TRANSACTION_TYPE,
    ]
    assert [hint.field for hint in quality.hints] == [
        "summary",
        "quantified_benefit",
        "know_how",
        "trl",
        "price_amount",
        "sector",
        "transaction_types",
    ]
    assert quality.score == 100 - 20 - 10 - 10 - 10 - 5 - 5 - 5 == 35
    assert quality.hints[-1].message == (
        "Only assignment is offered: also offering non-exclusive licence or exclusive licence reaches "
        "buyers who cannot take that one."
    )


def test_a_patent_near_expiry_and_fee_date_is_named_with_days_and_dates() -> None:
    # 212 days before KR 1020160138184 expires; its annual fee falls on 2036-04-02
    quality = assess_listing(complete_listing(), [kr_graphene(abstracts=ABSTRACT)], date(2036, 3, 26))

    assert [(hint.code, hint.message) for hint in quality.hints] == [
        (
            QualityHint.PATENT_EXPIRING_SOON,
            "Patent KR 1020160138184 expires in 212 days (2036-10-24): buyers will discount it.",
        ),
        (
            QualityHint.PATENT_LAPSING_SOON,
            "The annual fee of patent KR 1020160138184 is due in 7 days (2036-04-02): unpaid, the patent "
            "lapses; pay it and say so in the listing.",
        ),
    ]
    assert quality.score == 100 - 15 - 10 == 75


def test_lapsed_expired_and_withdrawn_patents_weigh_most_and_the_score_stops_at_0() -> None:
    patents = [
        nasa_aerogel(abstracts=ABSTRACT),
        kr_graphene(abstracts=ABSTRACT, legal_status="lapsed"),
        kr_graphene(abstracts=ABSTRACT, legal_status="withdrawn"),
        kr_graphene(abstracts=ABSTRACT, legal_status="expired", application_number="1020160000001"),
    ]

    quality = assess_listing(complete_listing(), patents, date(2025, 11, 28))

    assert codes(quality.hints) == [
        QualityHint.PATENT_LAPSED_OR_EXPIRED,
        QualityHint.PATENT_LAPSED_OR_EXPIRED,
        QualityHint.PATENT_LAPSED_OR_EXPIRED,
        QualityHint.PATENT_WITHDRAWN,
    ]
    assert [hint.message for hint in quality.hints[:2]] == [
        "Patent US 11848332 expired on 2025-10-18: it grants no rights any more; remove it from the listing "
        "or offer its know-how on its own.",
        "Patent KR 1020160138184 lapsed: it grants no rights any more; remove it from the listing or offer "
        "its know-how on its own.",
    ]
    assert quality.score == 0  # 100 - 4 x 30
