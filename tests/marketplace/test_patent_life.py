"""Patent life from real records: expiry, fee dates by office rule, and every warning. Pure: no database."""

from datetime import date

from marketplace.models import Patent
from marketplace.patent_life import LifeAlert, LifeWarning, add_months, in_days, listing_flags, patent_life
from tests.marketplace.real_patents import kr_graphene, nasa_aerogel


def test_korean_patent_expires_20_years_after_filing() -> None:
    life = patent_life(kr_graphene(), date(2025, 6, 1))

    assert life.expiry_date == date(2036, 10, 24)
    assert life.expiry_computed is True
    assert life.remaining_days == 4163
    assert life.next_fee_due == date(2026, 4, 2)
    assert life.warnings == ()


def test_a_stored_expiry_wins_over_the_computed_one() -> None:
    life = patent_life(kr_graphene(expiry_date=date(2037, 3, 1)), date(2026, 1, 15))

    assert life.expiry_date == date(2037, 3, 1)
    assert life.expiry_computed is False


def test_korean_annual_fee_falls_on_the_registration_anniversary_from_the_fourth_year() -> None:
    patent = kr_graphene()

    # the first three years are paid at registration (2018-04-02): the 4th year's fee is due 2021-04-02
    assert patent_life(patent, date(2018, 5, 1)).next_fee_due == date(2021, 4, 2)
    assert patent_life(patent, date(2026, 1, 15)).next_fee_due == date(2026, 4, 2)
    assert patent_life(patent, date(2026, 4, 2)).next_fee_due == date(2026, 4, 2)
    assert patent_life(patent, date(2026, 4, 3)).next_fee_due == date(2027, 4, 2)
    # the 2036-04-02 anniversary is the last before expiry (2036-10-24)
    assert patent_life(patent, date(2035, 12, 1)).next_fee_due == date(2036, 4, 2)
    assert patent_life(patent, date(2036, 4, 3)).next_fee_due is None
    assert patent_life(patent, date(2026, 1, 15)).fee_due_computed is True


def test_a_pending_application_has_no_fee_date_but_a_stored_one_is_used() -> None:
    pending = kr_graphene(legal_status="pending", registration_number="", registration_date=None)
    stored = kr_graphene(next_annual_fee_due=date(2026, 2, 20))

    assert patent_life(pending, date(2026, 1, 15)).next_fee_due is None
    life = patent_life(stored, date(2026, 1, 15))
    assert (life.next_fee_due, life.fee_due_computed) == (date(2026, 2, 20), False)


def test_us_maintenance_fees_fall_due_3_5_7_5_and_11_5_years_after_grant() -> None:
    # US 8039099 was granted on 2011-10-18 from application 11/848,332 filed 2007-08-31
    patent = nasa_aerogel(
        expiry_date=None, application_date=date(2007, 8, 31), registration_date=date(2011, 10, 18)
    )

    assert patent_life(patent, date(2013, 1, 1)).next_fee_due == date(2015, 4, 18)
    assert patent_life(patent, date(2015, 4, 19)).next_fee_due == date(2019, 4, 18)
    assert patent_life(patent, date(2023, 2, 1)).next_fee_due == date(2023, 4, 18)
    assert patent_life(patent, date(2023, 4, 19)).next_fee_due is None  # all three paid
    assert patent_life(patent, date(2023, 4, 19)).expiry_date == date(2027, 8, 31)


def test_us_terms_before_1995_and_for_designs() -> None:
    # filed before 8 June 1995: the longer of 20 years from filing and 17 from grant
    old = Patent(
        office="US",
        application_number="08004123",
        application_date=date(1993, 1, 10),
        registration_date=date(1999, 6, 1),
        legal_status="registered",
    )
    # NASA's design patent D628,609 (serial 29/359105): 14 years from grant, no maintenance fees
    design = Patent(
        office="US",
        application_number="29359105",
        registration_number="D628609",
        application_date=date(2010, 4, 6),
        registration_date=date(2010, 12, 7),
        legal_status="registered",
    )

    assert patent_life(old, date(2000, 1, 1)).expiry_date == date(2016, 6, 1)
    life = patent_life(design, date(2012, 1, 1))
    assert (life.expiry_date, life.next_fee_due) == (date(2024, 12, 7), None)


def test_korean_utility_models_last_10_years_and_unknown_offices_give_no_dates() -> None:
    # KR 2020120000879 (utility model, filed 2012-02-06, never registered)
    utility = Patent(office="KR", application_number="2020120000879", application_date=date(2012, 2, 6))
    japanese = Patent(office="JP", application_number="2015123456", application_date=date(2015, 3, 1))

    assert patent_life(utility, date(2026, 1, 15)).expiry_date == date(2022, 2, 6)
    assert patent_life(utility, date(2026, 1, 15)).codes == (LifeWarning.EXPIRED,)
    life = patent_life(japanese, date(2026, 1, 15))
    assert (life.expiry_date, life.remaining_days, life.next_fee_due, life.warnings) == (None, None, None, ())


def test_nasa_record_expired_on_2025_10_18() -> None:
    patent = nasa_aerogel()

    before = patent_life(patent, date(2024, 12, 1))
    on_the_day = patent_life(patent, date(2025, 10, 18))
    after = patent_life(patent, date(2025, 11, 28))

    assert before.warnings == (LifeAlert(LifeWarning.EXPIRING_SOON, date(2025, 10, 18), 321),)
    assert on_the_day.warnings == (LifeAlert(LifeWarning.EXPIRING_SOON, date(2025, 10, 18), 0),)
    assert on_the_day.remaining_days == 0
    assert after.warnings == (LifeAlert(LifeWarning.EXPIRED, date(2025, 10, 18), -41),)
    assert after.remaining_days == 0
    # as imported after that day, the status says so too
    assert patent_life(nasa_aerogel(legal_status="expired"), date(2025, 11, 28)).warnings == after.warnings


def test_expiring_soon_starts_365_days_before_expiry() -> None:
    # 2036 is a leap year: 2035-10-24 is 366 days before the expiry
    assert patent_life(kr_graphene(), date(2035, 10, 25)).warnings == (
        LifeAlert(LifeWarning.EXPIRING_SOON, date(2036, 10, 24), 365),
    )
    assert patent_life(kr_graphene(), date(2035, 10, 24)).codes == ()


def test_fee_due_soon_starts_90_days_before_and_covers_an_overdue_stored_date() -> None:
    # 2026-04-02 is the 9th year's fee
    assert patent_life(kr_graphene(), date(2026, 1, 2)).warnings == (
        LifeAlert(LifeWarning.FEE_DUE_SOON, date(2026, 4, 2), 90),
    )
    assert patent_life(kr_graphene(), date(2026, 1, 1)).warnings == ()
    overdue = kr_graphene(next_annual_fee_due=date(2026, 4, 2))
    assert patent_life(overdue, date(2026, 5, 1)).warnings == (
        LifeAlert(LifeWarning.FEE_DUE_SOON, date(2026, 4, 2), -29),
    )


def test_status_lapsed_or_withdrawn_gives_that_warning_whatever_the_dates() -> None:
    # dates alone would say "fee due in 60 days"
    lapsed = patent_life(kr_graphene(legal_status="lapsed"), date(2026, 2, 1))
    withdrawn = patent_life(kr_graphene(legal_status="withdrawn"), date(2026, 2, 1))

    assert lapsed.warnings == (LifeAlert(LifeWarning.LAPSED),)
    assert (lapsed.remaining_days, lapsed.next_fee_due) == (0, None)
    assert withdrawn.warnings == (LifeAlert(LifeWarning.WITHDRAWN),)
    # an "expired" status before the computed expiry: the date does not explain it, so none is given
    assert patent_life(kr_graphene(legal_status="expired"), date(2026, 2, 1)).warnings == (
        LifeAlert(LifeWarning.EXPIRED),
    )


def test_listing_flags_are_the_codes_over_all_patents_once_each() -> None:
    today = date(2036, 2, 1)
    lives = [
        patent_life(kr_graphene(), today),  # expiring soon, fee due 2036-04-02
        patent_life(nasa_aerogel(), today),  # expired
        patent_life(kr_graphene(legal_status="lapsed"), today),
    ]

    assert listing_flags(lives) == ["lapsed", "expired", "expiring_soon", "fee_due_soon"]
    assert listing_flags([]) == []


def test_dates_that_do_not_exist_fall_back_to_the_end_of_the_month() -> None:
    assert add_months(date(2020, 2, 29), 12) == date(2021, 2, 28)
    assert add_months(date(2011, 8, 31), 42) == date(2015, 2, 28)
    assert add_months(date(2016, 10, 24), 240) == date(2036, 10, 24)
    assert [in_days(n) for n in (212, 1, 0, -3)] == ["in 212 days", "in 1 day", "today", "3 days ago"]
