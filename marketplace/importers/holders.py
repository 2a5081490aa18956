"""Holders of imported patents: the organisation behind a patent's first applicant.

Kind rule, first match wins (the order matters: "주식회사 OO연구소" is a company):
1. a company's legal form (주식회사, (주), 유한회사, 농업회사법인, 인코포레이티드, Inc., Corp., Co., Ltd,
   LLC, GmbH…) -> sme;
2. a university (대학, 산학협력단/재단, 과학기술원 such as KAIST and GIST, University, College,
   Institute of Technology) -> university;
3. a public body (연구원, 연구소, 기술원, 연구센터, 진흥원, 공사, 공단, 광역시, 특별시, Institute,
   Administration, Agency, Laboratory, National, NASA…) -> public_institution;
4. anything else -> sme. Such names are companies that KIPRIS writes without their legal form ("지오씨",
   "엘지이노텍") or individual inventors; the marketplace has no kind for a person, and a sole proprietor is
   closest to a small enterprise. Company size is unknown, so large companies are sme too until an operator
   reclassifies them.
"""

import re

from django.db import connection

from marketplace.models import Organization, OrgKind

COMPANY = re.compile(
    r"주식회사|\(주\)|유한회사|합자회사|합명회사|농업회사법인|인코포레이티드|코포레이션|리미티드|컴퍼니"
    r"|\b(?:inc|incorporated|corp|corporation|co|ltd|limited|llc|gmbh|ag|plc)\b",
    re.IGNORECASE,
)
UNIVERSITY = re.compile(
    r"대학|산학협력|과학기술원|\b(?:university|college|institute of technology)\b", re.IGNORECASE
)
PUBLIC = re.compile(
    r"연구원|연구소|기술원|연구센터|진흥원|공사|공단|광역시|특별시"
    r"|\b(?:institute|administration|agency|laborator(?:y|ies)|national|ministry|nasa|government)\b",
    re.IGNORECASE,
)
MARKERS = (
    (COMPANY, OrgKind.SME),
    (UNIVERSITY, OrgKind.UNIVERSITY),
    (PUBLIC, OrgKind.PUBLIC_INSTITUTION),
)
# A national office's holders are filed under that country; EP and WO do not say where a holder is, so
# their records get no owner from the import.
COUNTRY_OF_OFFICE = {"KR": "KR", "US": "US", "JP": "JP", "CN": "CN"}
# Any constant: the advisory lock that serialises organisation creation between concurrent imports.
CREATE_LOCK = 0x1A7E_0B5E

HolderKey = tuple[str, str]  # (name, country)


def marked_kind(name: str) -> OrgKind | None:
    """The kind a name says by itself (legal form or institution word), or None for a bare name."""
    for pattern, kind in (
        (COMPANY, OrgKind.SME),
        (UNIVERSITY, OrgKind.UNIVERSITY),
        (PUBLIC, OrgKind.PUBLIC_INSTITUTION),
    ):
        if pattern.search(name):
            return kind
    return None


def guess_kind(name: str) -> OrgKind:
    return marked_kind(name) or OrgKind.SME


def holder_of(office: str, applicants: list[str]) -> HolderKey | None:
    """(name, country) of the patent's holder: its first applicant, filed under the office's country."""
    country = COUNTRY_OF_OFFICE.get(office)
    if not applicants or country is None:
        return None
    return applicants[0], country


def _find(keys: set[HolderKey]) -> dict[HolderKey, int]:
    found: dict[HolderKey, int] = {}
    rows = (
        Organization.objects.filter(name__in={n for n, _ in keys}, country__in={c for _, c in keys})
        .order_by("pk")
        .values_list("name", "country", "pk")
    )
    for name, country, pk in rows:
        if (name, country) in keys:
            # Names are not unique (an operator may have created a second one): the oldest wins.
            found.setdefault((name, country), pk)
    return found


def resolve_holders(keys: set[HolderKey]) -> tuple[dict[HolderKey, int], int]:
    """Organisation id for every (name, country), creating the missing ones; also how many were created.

    Two queries for a batch where all exist, four otherwise. Matching is by exact name + country: there is
    no unique constraint on names (operators may keep two organisations of the same name), so a
    transaction-level advisory lock stands in for one while the missing ones are created. It is held to the
    end of the caller's transaction, so call this inside it.
    """
    if not keys:
        return {}, 0
    found = _find(keys)
    missing = keys - found.keys()
    if not missing:
        return found, 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CREATE_LOCK])
    found.update(_find(missing))  # another import may have created them while we waited
    created = Organization.objects.bulk_create(
        Organization(name=name, country=country, kind=guess_kind(name), is_generated=False)
        for name, country in sorted(missing - found.keys())
    )
    found.update({(org.name, org.country): org.pk for org in created})
    return found, len(created)
