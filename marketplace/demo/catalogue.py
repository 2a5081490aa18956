"""Technology packages made from the real holders' patents: which patents go together, and how each
package is described, priced and offered. Pure planning: nothing here writes to the database."""

import math
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from marketplace.demo.sectors import group_key, patent_sector
from marketplace.models import LegalStatus, Patent, TransactionType

LISTED_STATUSES = (LegalStatus.REGISTERED, LegalStatus.PENDING)  # never package a dead patent
MAX_PACKAGE = 3
EXCERPT_CHARS = 420
T = TransactionType
# What a university TTO offers, and what NASA offers (licences and evaluation options, never assignment).
UNIVERSITY_OFFERS: tuple[tuple[str, ...], ...] = (
    (T.EXCLUSIVE_LICENCE, T.NON_EXCLUSIVE_LICENCE),
    (T.ASSIGNMENT, T.EXCLUSIVE_LICENCE),
    (T.NON_EXCLUSIVE_LICENCE,),
    (T.ASSIGNMENT,),
    (T.JOINT_DEVELOPMENT, T.OPTION),
)
FEDERAL_LAB_OFFERS: tuple[tuple[str, ...], ...] = (
    (T.NON_EXCLUSIVE_LICENCE,),
    (T.EXCLUSIVE_LICENCE, T.NON_EXCLUSIVE_LICENCE),
    (T.OPTION, T.EXCLUSIVE_LICENCE),
)
KNOW_HOW_KO = (
    "발명자 연구실의 공정 조건(온도·농도 범위)과 재현 실험 데이터, 시제품 제작 절차서, "
    "2일간의 현장 기술지도. "
    "(Process windows, replication data, prototype build procedure and two days of on-site training.)",
    "측정·평가 프로토콜과 불량 분석 사례집, 설계 파라미터 표, 발명자와의 월 1회 기술 자문(6개월). "
    "(Test protocols, failure-analysis notes, design tables and six months of monthly consultation.)",
    "소스 코드와 학습 데이터 구성 방법, 성능 검증 스크립트, 도입 기업 엔지니어 교육 16시간. "
    "(Source code, data-set recipe, validation scripts and 16 hours of engineer training.)",
)
KNOW_HOW_EN = (
    "Technical data package on request: drawings, test reports and up to 40 hours of consultation with the "
    "inventors' team.",
    "Lab notebooks for the reduction to practice, calibration procedures and a one-week visit to the lab.",
    "Prototype hardware description, software tools used in the evaluation and a joint test campaign plan.",
)


@dataclass(frozen=True)
class ListingPlan:
    patents: tuple[Patent, ...]
    title: str
    summary: str
    know_how: str
    transaction_types: tuple[str, ...]
    price_amount: int | None  # minor units; None = negotiable
    price_currency: str
    sector: str
    trl: int


def allocate(counts: Sequence[int], total: int) -> list[int]:
    """Split `total` listings over holders by the square root of their patent counts (so the large
    holders get most but small ones still show), at least one each and never more than they hold."""
    if not counts:
        return []
    weights = [math.sqrt(n) for n in counts]
    raw = [total * w / sum(weights) for w in weights]
    quotas = [min(n, max(1, int(r))) for n, r in zip(counts, raw, strict=True)]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(raw[i] - int(raw[i])), i))
    while sum(quotas) < total:
        grown = False
        for i in by_remainder:
            if sum(quotas) < total and quotas[i] < counts[i]:
                quotas[i] += 1
                grown = True
        if not grown:
            break
    return quotas


def packages(rng: random.Random, patents: Sequence[Patent], quota: int) -> list[list[Patent]]:
    """Up to `quota` packages of 1-3 related patents (same IPC subclass), each patent used once.

    The largest groups come first, one package per group, then round again while patents remain."""
    groups: dict[str, list[Patent]] = defaultdict(list)
    for patent in sorted(
        patents, key=lambda p: (p.legal_status != LegalStatus.REGISTERED, p.application_number)
    ):
        groups[group_key(patent)].append(patent)
    order = sorted(groups, key=lambda key: (-len(groups[key]), key))
    result: list[list[Patent]] = []
    while len(result) < quota and any(groups.values()):
        for key in order:
            pool = groups[key]
            if not pool or len(result) >= quota:
                continue
            size = min(len(pool), rng.choice((1, 1, 2, 2, 3)), MAX_PACKAGE)
            chosen = sorted(rng.sample(pool, size), key=lambda p: p.application_number)
            for patent in chosen:
                pool.remove(patent)
            result.append(chosen)
    return result


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first sentences of an abstract, cut at a sentence (or word) boundary."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out or text[:limit].rsplit(" ", 1)[0] + "…"


def _patent_line(patent: Patent) -> str:
    ko, en = patent.titles.get("ko", ""), patent.titles.get("en", "")
    names = f"{ko} — {en}" if ko and en else (ko or en)
    number = patent.registration_number or patent.application_number
    return f"- {names} ({patent.office} {number}, {patent.legal_status})"


def describe(patents: Sequence[Patent]) -> tuple[str, str]:
    """Title and public summary, drawn from the patents' own titles and abstracts."""
    lead = patents[0]
    korean = lead.office == "KR"
    title = (lead.titles.get("ko") if korean else None) or lead.title
    if len(patents) > 1:
        title = f"{title} 외 {len(patents) - 1}건" if korean else f"{title} (+{len(patents) - 1} related)"
    abstract = next((excerpt(t) for p in patents for t in p.abstracts.values() if t), "")
    heading = "패키지 특허 (Patents in this package):" if korean else "Patents in this package:"
    lines = [abstract, "", heading] if abstract else [heading]
    summary = "\n".join([*lines, *(_patent_line(p) for p in patents)])
    return title[:300], summary


def _price(rng: random.Random, korean: bool, size: int) -> tuple[int | None, str]:
    currency = "KRW" if korean else "USD"
    if rng.random() < 0.25:
        return None, currency
    factor = 1 + (size - 1) * 0.6
    if korean:  # won have no minor unit: 10-60 million per patent, rounded to a million
        return int(rng.randrange(10, 61, 5) * factor) * 1_000_000, currency
    # dollars are cents: 15-150 thousand dollars per patent, rounded to a thousand
    return int(rng.randrange(15, 151, 5) * factor) * 1_000 * 100, currency


def plan(rng: random.Random, patents: Sequence[Patent]) -> ListingPlan:
    korean = patents[0].office == "KR"
    title, summary = describe(patents)
    price, currency = _price(rng, korean, len(patents))
    return ListingPlan(
        patents=tuple(patents),
        title=title,
        summary=summary,
        know_how=rng.choice(KNOW_HOW_KO if korean else KNOW_HOW_EN),
        transaction_types=rng.choice(UNIVERSITY_OFFERS if korean else FEDERAL_LAB_OFFERS),
        price_amount=price,
        price_currency=currency,
        sector=patent_sector(patents[0]),
        trl=rng.randint(3, 6) if korean else rng.randint(4, 7),
    )
