"""The invented cast: buyer companies, broker firms and people. Every name is fictional on purpose.

People carry the textbook placeholder names of their language (홍길동, John Doe, Max Mustermann, 山田太郎…)
or characters of Korean folk tales, so nobody mistakes them for real people. E-mail addresses use the
domains reserved for examples (RFC 2606 example.com, and example.kr), so no mail can reach anyone.
"""

from dataclasses import dataclass

from marketplace.models import OrgKind, Sector

# Every generated user's address ends with one of these; `--reset` finds generated users by them.
DEMO_EMAIL_DOMAINS = ("example.com", "example.kr")
OPERATOR_EMAIL = "operator@demo-platform.example.com"
OPERATOR_NAME = "Demo Operator"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class BuyerOrg:
    name: str
    kind: OrgKind
    country: str
    currency: str
    sectors: tuple[Sector, ...]
    people: tuple[Person, ...]  # the first is the organisation's admin


@dataclass(frozen=True)
class Broker:
    person: Person
    sectors: tuple[Sector, ...]
    bio: str


@dataclass(frozen=True)
class BrokerFirm:
    name: str
    country: str
    brokers: tuple[Broker, ...]


S = Sector
BUYERS: tuple[BuyerOrg, ...] = (
    BuyerOrg(
        "가온배터리(주)",
        OrgKind.SME,
        "KR",
        "KRW",
        (S.SECONDARY_BATTERIES, S.HYDROGEN),
        (Person("홍길동", "hong.gildong@gaon-battery.example.kr"),),
    ),
    BuyerOrg(
        "한울반도체(주)",
        OrgKind.LARGE_ENTERPRISE,
        "KR",
        "KRW",
        (S.SEMICONDUCTORS, S.DISPLAYS, S.NEXT_GEN_COMMUNICATIONS),
        (
            Person("김철수", "kim.cheolsu@hanul-semi.example.kr"),
            Person("김영희", "kim.younghee@hanul-semi.example.kr"),
        ),
    ),
    BuyerOrg(
        "누리바이오(주)",
        OrgKind.SME,
        "KR",
        "KRW",
        (S.ADVANCED_BIOTECH,),
        (Person("이영희", "lee.younghee@nuri-bio.example.kr"),),
    ),
    BuyerOrg(
        "Northwind Avionics Inc.",
        OrgKind.SME,
        "US",
        "USD",
        (S.AEROSPACE_MARINE, S.ADVANCED_ROBOTICS, S.OTHER),
        (Person("John Doe", "john.doe@northwind-avionics.example.com"),),
    ),
    BuyerOrg(
        "Bluefield Hydrogen Corp.",
        OrgKind.LARGE_ENTERPRISE,
        "US",
        "USD",
        (S.HYDROGEN, S.SECONDARY_BATTERIES, S.OTHER),
        (
            Person("Jane Roe", "jane.roe@bluefield-hydrogen.example.com"),
            Person("Richard Roe", "richard.roe@bluefield-hydrogen.example.com"),
        ),
    ),
    BuyerOrg(
        "株式会社みらい精機 (Mirai Seiki K.K.)",
        OrgKind.LARGE_ENTERPRISE,
        "JP",
        "JPY",
        (S.ADVANCED_ROBOTICS, S.SEMICONDUCTORS, S.OTHER),
        (Person("Taro Yamada (山田太郎)", "taro.yamada@mirai-seiki.example.com"),),
    ),
    BuyerOrg(
        "Rheinwerk Sensorik GmbH",
        OrgKind.SME,
        "DE",
        "EUR",
        (S.NEXT_GEN_COMMUNICATIONS, S.AI, S.OTHER),
        (Person("Max Mustermann", "max.mustermann@rheinwerk-sensorik.example.com"),),
    ),
    BuyerOrg(
        "Aurore Médical SAS",
        OrgKind.SME,
        "FR",
        "EUR",
        (S.ADVANCED_BIOTECH, S.AI),
        (Person("Jean Dupont", "jean.dupont@aurore-medical.example.com"),),
    ),
)

BROKER_FIRMS: tuple[BrokerFirm, ...] = (
    BrokerFirm(
        "테크브릿지파트너스(주)",
        "KR",
        (
            Broker(
                Person("이몽룡", "lee.mongryong@techbridge.example.kr"),
                (S.SEMICONDUCTORS, S.SECONDARY_BATTERIES, S.DISPLAYS),
                "반도체·이차전지 분야 기술이전 전문 중개인. 대학 기술의 기업 이전 협상을 주로 맡는다. "
                "(Technology-transfer broker for semiconductors and batteries.)",
            ),
            Broker(
                Person("성춘향", "seong.chunhyang@techbridge.example.kr"),
                (S.ADVANCED_BIOTECH, S.HYDROGEN),
                "바이오·수소 분야 기술사업화 중개. 공동연구와 옵션 계약 구성에 밝다. "
                "(Biotech and hydrogen; structures options and joint development.)",
            ),
            Broker(
                Person("임꺽정", "lim.kkeokjeong@techbridge.example.kr"),
                (S.NEXT_GEN_COMMUNICATIONS, S.AI, S.OTHER),
                "통신·AI·소프트웨어 특허 거래 중개. 해외 기업과의 라이선스 협상 경험. "
                "(Communications and AI; licences with foreign companies.)",
            ),
        ),
    ),
    BrokerFirm(
        "Transfer Works LLC",
        "US",
        (
            Broker(
                Person("Joe Bloggs", "joe.bloggs@transfer-works.example.com"),
                (S.AEROSPACE_MARINE, S.ADVANCED_ROBOTICS, S.OTHER),
                "Brokers licences of federal-lab inventions to aerospace and robotics companies.",
            ),
            Broker(
                Person("Erika Mustermann", "erika.mustermann@transfer-works.example.com"),
                (S.ADVANCED_BIOTECH, S.SECONDARY_BATTERIES, S.HYDROGEN, S.OTHER),
                "Co-brokers cross-border deals between Korean, US and European firms; life sciences "
                "and energy.",
            ),
        ),
    ),
)

# Members given to the real holders (one each), Korean holders first from the Korean list.
KR_SELLER_PEOPLE = (
    Person("심청", "sim.cheong@tto.example.kr"),
    Person("전우치", "jeon.uchi@tto.example.kr"),
    Person("흥부", "heungbu@tto.example.kr"),
    Person("놀부", "nolbu@tto.example.kr"),
)
OTHER_SELLER_PEOPLE = (
    Person("John Q. Public", "john.q.public@tto.example.com"),
    Person("Fred Nurk", "fred.nurk@tto.example.com"),
    Person("Joe Sixpack", "joe.sixpack@tto.example.com"),
)


def seller_person(country: str, index: int) -> Person:
    """The index-th member for holders of this country; numbered once the list runs out."""
    pool = KR_SELLER_PEOPLE if country == "KR" else OTHER_SELLER_PEOPLE
    person = pool[index % len(pool)]
    if index < len(pool):
        return person
    local, _, domain = person.email.partition("@")
    return Person(f"{person.name} {index // len(pool) + 1}", f"{local}{index // len(pool) + 1}@{domain}")
