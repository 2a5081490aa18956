"""Contact masking before the NDA (marketplace/rooms/masking.py): what is hidden, what is kept."""

import pytest

from marketplace.rooms.masking import Masked, mask_contacts

EMAIL, PHONE, LINK = "[email hidden]", "[phone hidden]", "[link hidden]"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("kim@hctech.co.kr", EMAIL),
        ("Write to kim.lee+ip@snu.ac.kr.", f"Write to {EMAIL}."),
        ("(j_park@tech-bridge.example.com)", f"({EMAIL})"),
        ("a@b.io, c@d.org; e@f.net!", f"{EMAIL}, {EMAIL}; {EMAIL}!"),
    ],
)
def test_email_addresses_are_masked(text: str, masked: str) -> None:
    assert mask_contacts(text) == Masked(masked, ("email",))


@pytest.mark.parametrize(
    "phone",
    [
        # Korean mobiles, as people type them
        "010-1234-5678",
        "010 1234 5678",
        "010.1234.5678",
        "01012345678",
        "010-123-4567",
        # landlines: Seoul, the provinces, internet phones, nationwide numbers
        "02-123-4567",
        "02-1234-5678",
        "(02) 1234-5678",
        "031-123-4567",
        "070-1234-5678",
        "1588-1234",
        # international
        "+82-10-1234-5678",
        "+82 10 1234 5678",
        "+821012345678",
        "+1 (415) 555-0132",
    ],
)
def test_phone_numbers_are_masked(phone: str) -> None:
    assert mask_contacts(f"call {phone} tonight") == Masked(f"call {PHONE} tonight", ("phone",))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 010-1234-5678, or 02-123-4567.", f"call {PHONE}, or {PHONE}."),
        ("Mobile: 01012345678!", f"Mobile: {PHONE}!"),
        ("my number is 010-1234-5678?", f"my number is {PHONE}?"),
    ],
)
def test_punctuation_after_a_phone_number_is_kept(text: str, masked: str) -> None:
    assert mask_contacts(text) == Masked(masked, ("phone",))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # with a scheme
        ("https://hctech.example.com/specs", LINK),
        ("see https://hctech.example.com/specs.", f"see {LINK}."),
        ("http://data.example.org/cells?id=7&fmt=csv, then", f"{LINK}, then"),
        ("(see https://x.example.com/a)", f"(see {LINK})"),
        ("the report: https://x.example.com/a),", f"the report: {LINK}),"),
        # without one
        ("www.hctech.co.kr/about!", f"{LINK}!"),
        ("hctech.co.kr", LINK),
        ("see hctech.co.kr.", f"see {LINK}."),
        ("Visit Example.COM today", f"Visit {LINK} today"),
        ("our site is tech-bridge.io; ask there", f"our site is {LINK}; ask there"),
    ],
)
def test_links_are_masked_with_or_without_a_scheme(text: str, masked: str) -> None:
    assert mask_contacts(text) == Masked(masked, ("link",))


@pytest.mark.parametrize(
    "text",
    [
        # Korean patent numbers: application, registration, and an application number typed unbroken
        "Application 10-2019-0012345 is pending.",
        "Registration 10-1234567 covers the electrode.",
        "KR 1020190012345",
        "KR10-2019-0012345 and PCT/KR2019/001234",
        "WO 2019/123456, US 10,123,456 B2",
        # prices, amounts, percentages
        "50,000,000 KRW upfront",
        "KRW 50000000, then 1,500,000,000 won in milestones",
        "a 3.5% royalty",
        # years
        "filed in 2016, granted in 2019",
        # file names and abbreviations that look a little like domains
        "see report.pdf, e.g. the summary",
    ],
)
def test_patent_numbers_prices_and_years_are_not_masked(text: str) -> None:
    assert mask_contacts(text) == Masked(text, ())


def test_patent_numbers_stay_beside_a_masked_phone() -> None:
    text = "About 10-2019-0012345 (reg. 10-1234567): call 010-1234-5678."
    assert mask_contacts(text) == Masked(
        f"About 10-2019-0012345 (reg. 10-1234567): call {PHONE}.", ("phone",)
    )


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("", ()),
        ("Nothing to hide here.", ()),
        # an address's domain is not counted again as a link
        ("kim@hctech.co.kr", ("email",)),
        # each kind once, however often it occurs
        ("kim@a.com, lee@b.com", ("email",)),
        ("010-1234-5678 or 02-123-4567", ("phone",)),
        # every kind: e-mail, then link, then phone (the order they are looked for)
        (
            "call 010-1234-5678, see https://x.example.com or mail kim@hctech.co.kr",
            ("email", "link", "phone"),
        ),
        ("hctech.co.kr and 010-1234-5678", ("link", "phone")),
    ],
)
def test_kinds_name_exactly_what_was_masked(text: str, kinds: tuple[str, ...]) -> None:
    assert mask_contacts(text).kinds == kinds


def test_everything_in_one_message() -> None:
    text = (
        "Mail kim@hctech.co.kr, call +82-10-1234-5678 or see https://hctech.example.com/specs re 10-1234567."
    )
    assert mask_contacts(text) == Masked(
        f"Mail {EMAIL}, call {PHONE} or see {LINK} re 10-1234567.", ("email", "link", "phone")
    )


# --- Korean text around numbers, brackets, trailing punctuation and dates ---


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("연락처는 010-1234-5678입니다", f"연락처는 {PHONE}입니다"),
        ("010-1234-5678로 연락주세요", f"{PHONE}로 연락주세요"),
        ("전화010-1234-5678", f"전화{PHONE}"),
        ("hctech.co.kr에서 보세요", f"{LINK}에서 보세요"),
    ],
)
def test_contacts_followed_by_a_korean_particle_are_masked(text: str, masked: str) -> None:
    assert mask_contacts(text).text == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("the electrode patent (10-2019-0012345).", "the electrode patent (10-2019-0012345)."),
        ("registered (10-1234567)", "registered (10-1234567)"),
        ("call me (010-1234-5678)", f"call me ({PHONE})"),
    ],
)
def test_parentheses_around_a_number_are_not_part_of_it(text: str, masked: str) -> None:
    assert mask_contacts(text).text == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("see hctech.co.kr/specs.", f"see {LINK}."),
        ("(visit example.com/path).", f"(visit {LINK})."),
    ],
)
def test_punctuation_after_a_link_without_scheme_is_kept(text: str, masked: str) -> None:
    assert mask_contacts(text).text == masked


@pytest.mark.parametrize(
    "text", ["licensed 2016-2019", "filed on 2019-10-24", "filed on 2019.10.24.", "granted 24.10.2019"]
)
def test_year_ranges_and_dates_are_not_masked(text: str) -> None:
    assert mask_contacts(text) == Masked(text, ())
