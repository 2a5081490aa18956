"""English -> Korean term translations for cross-lingual matching, learned from parallel patent titles.

KIPRIS titles carry an English title beside the Korean one ("한국어 제목(ENGLISH TITLE)"); the Korean
patents of the benchmark's `train` split (matching.benchmark_sets.split_of) give about 500 such pairs. Both
sides are analysed with matching.analysis.analyze (English side "en", Korean side "ko") and aligned by
IBM Model 1 (EM over t(korean | english), with a NULL English word that absorbs Korean function words),
or by the Dice co-occurrence coefficient. Each English term keeps its best translations above a
probability threshold. The result is a small JSON file (matching/data/lexicon_en_ko.json) that
`translate()` loads once per process.

Query-time: `translate(terms)` turns analysed English query terms into weighted Korean terms. Latin and
number tokens are also kept as they are: Korean abstracts often carry acronyms and English glosses
("광대역 패치 안테나(Broadband Patch Antenna)").
"""

import json
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from matching import analysis

logger = logging.getLogger(__name__)

FORMAT = "ipmarket.lexicon/1"
DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "lexicon_en_ko.json"
NULL = "\0null"
METHODS = ("model1", "dice")
# Defaults chosen on the xling benchmark (scripts/xling_experiments.py).
ITERATIONS = 10
TOP_N = 3
MIN_PROBABILITY = 0.1
KEEP = "all"
KEEP_WEIGHT = 0.5
# Analysed with the current analysis module when the file is written and when it is loaded: a lexicon built
# with another analyser has keys the queries no longer produce, so loading it logs a warning.
PROBE = {
    "en": "Preparation methods of 3D graphene electrodes",
    "ko": "슈퍼커패시터용 3차원 그래핀 전극의 제조방법",
}
_LATIN_OR_NUMBER = re.compile(r"^[0-9a-z][0-9a-z.\-]*$")

Translations = dict[str, list[tuple[str, float]]]


def analysed_pairs(pairs: Sequence[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    """(English terms, Korean terms) of each (English, Korean) title; pairs with an empty side dropped."""
    out = []
    for english, korean in pairs:
        e, k = analysis.analyze(english, "en"), analysis.analyze(korean, "ko")
        if e and k:
            out.append((e, k))
    return out


def model1(pairs: Sequence[tuple[list[str], list[str]]], iterations: int = ITERATIONS) -> Translations:
    """IBM Model 1: t(k | e) by EM with a NULL English word in every pair, from a uniform start."""
    cooccurring: dict[str, set[str]] = defaultdict(set)
    for english, korean in pairs:
        for e in [NULL, *english]:
            cooccurring[e].update(korean)
    t: dict[str, dict[str, float]] = {
        e: dict.fromkeys(sorted(ks), 1.0 / len(ks)) for e, ks in sorted(cooccurring.items())
    }
    for _ in range(iterations):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for english, korean in pairs:
            sources = [NULL, *english]
            for k in korean:
                z = sum(t[e][k] for e in sources)
                for e in sources:
                    counts[e][k] += t[e][k] / z
        t = {}
        for e, row in counts.items():
            total = sum(row.values())
            t[e] = {k: c / total for k, c in row.items()}
    return {e: sorted(row.items(), key=lambda kv: (-kv[1], kv[0])) for e, row in t.items() if e != NULL}


def dice(pairs: Sequence[tuple[list[str], list[str]]]) -> Translations:
    """Dice coefficient 2·|e∧k| / (|e| + |k|) over the pairs, normalised per English term."""
    df_e: Counter[str] = Counter()
    df_k: Counter[str] = Counter()
    both: Counter[tuple[str, str]] = Counter()
    for english, korean in pairs:
        es, ks = set(english), set(korean)
        df_e.update(es)
        df_k.update(ks)
        both.update((e, k) for e in es for k in ks)
    rows: dict[str, dict[str, float]] = defaultdict(dict)
    for (e, k), n in both.items():
        rows[e][k] = 2 * n / (df_e[e] + df_k[k])
    out: Translations = {}
    for e, row in rows.items():
        total = sum(row.values())
        out[e] = sorted(((k, v / total) for k, v in row.items()), key=lambda kv: (-kv[1], kv[0]))
    return out


def prune(table: Translations, top_n: int = TOP_N, min_probability: float = MIN_PROBABILITY) -> Translations:
    pruned: Translations = {}
    for e in sorted(table):
        kept = [(k, round(p, 4)) for k, p in table[e][:top_n] if p >= min_probability]
        if kept:
            pruned[e] = kept
    return pruned


def learn(
    pairs: Sequence[tuple[str, str]],
    method: str = "model1",
    iterations: int = ITERATIONS,
    top_n: int = TOP_N,
    min_probability: float = MIN_PROBABILITY,
) -> Translations:
    """Pruned English-term -> [(Korean term, probability)] table from (English, Korean) title pairs."""
    analysed = analysed_pairs(pairs)
    if method == "model1":
        table = model1(analysed, iterations)
    elif method == "dice":
        table = dice(analysed)
    else:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return prune(table, top_n, min_probability)


def probe() -> dict[str, list[str]]:
    return {language: analysis.analyze(text, language) for language, text in PROBE.items()}


def document(translations: Translations, provenance: dict[str, Any]) -> dict[str, Any]:
    """The JSON file's content: provenance, the analyser probe and the translations."""
    return {
        "format": FORMAT,
        **provenance,
        "probe": probe(),
        "translations": {e: [[k, p] for k, p in row] for e, row in translations.items()},
    }


def write(path: Path, translations: Translations, provenance: dict[str, Any]) -> None:
    """The JSON file, one English term a line (small diffs when it is rebuilt)."""
    content = document(translations, provenance)
    rows = content.pop("translations")
    head = json.dumps(content, ensure_ascii=False, indent=1)[:-2]
    lines = [
        f"  {json.dumps(e, ensure_ascii=False)}: {json.dumps(row, ensure_ascii=False)}"
        for e, row in rows.items()
    ]
    text = head + ',\n "translations": {\n' + ",\n".join(lines) + "\n }\n}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def read(path: Path) -> Translations:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} file")
    if data.get("probe") != probe():
        logger.warning("%s was built with another analyser; rebuild it with manage.py build_lexicon", path)
    return {e: [(str(k), float(p)) for k, p in row] for e, row in data["translations"].items()}


@cache
def _loaded(path: Path) -> Translations:
    return read(path) if path.is_file() else {}


def is_latin_or_number(term: str) -> bool:
    return bool(_LATIN_OR_NUMBER.match(term))


KEEP_MODES = ("all", "untranslated", "none")


def apply(
    table: Translations,
    terms: Sequence[str],
    *,
    keep: str = KEEP,
    keep_weight: float = KEEP_WEIGHT,
) -> list[tuple[str, float]]:
    """Weighted Korean terms for analysed English terms by `table` (see `translate`)."""
    if keep not in KEEP_MODES:
        raise ValueError(f"keep must be one of {KEEP_MODES}, got {keep!r}")
    weights: dict[str, float] = {}
    for term in terms:
        translations = table.get(term, [])
        for korean, p in translations:
            weights[korean] = weights.get(korean, 0.0) + p
        kept = keep == "all" or (keep == "untranslated" and not translations)
        if kept and is_latin_or_number(term):
            weights[term] = weights.get(term, 0.0) + keep_weight
    return [(k, w) for k, w in weights.items() if w > 0 and math.isfinite(w)]


def translate(
    terms: Sequence[str],
    *,
    keep: str = KEEP,
    keep_weight: float = KEEP_WEIGHT,
    path: Path = DEFAULT_PATH,
) -> list[tuple[str, float]]:
    """Weighted Korean terms for analysed English query terms, in order of first appearance.

    Each English term contributes its translations with their probabilities; a repeated term contributes
    again, and weights of one Korean term add up. Latin and number terms are also kept as they are, with
    weight `keep_weight`: every one (`keep="all"`), only those the lexicon does not know
    (`"untranslated"`), or none (`"none"`); Korean text carries acronyms, formulas and English glosses
    ("광대역 패치 안테나(Broadband Patch Antenna)"), which the Korean analysis turns into the same English
    terms. The lexicon file is read once per process; a missing file translates nothing.
    """
    return apply(_loaded(path), terms, keep=keep, keep_weight=keep_weight)
