"""Language analysis done in Python (the engine has server-core analyzers only).

Elasticsearch here runs only the server-core analyzers, so the terms that Korean, Japanese, Chinese and
English search needs are made here, before indexing and at query time, and go to fields indexed with the
`whitespace` analyzer. Every term is lowercased (NFKC, so full-width Latin folds too) and contains no space.

Per language (docs/search-analysis.md has the measurements behind each choice):

* ko: Kiwi (kiwipiepy) morphemes; kept: nouns (general, proper, numerals), roots, verb and adjective stems,
  hanja, foreign words, numbers. Particles, endings, suffixes, bound nouns, determiners, adverbs are dropped,
  so 배터리 / 배터리의 / 배터리를 all give `배터리`. Latin runs inside Korean text are handed to Kiwi as
  pre-tokenized foreign words (so `LiFePO4를` is `LiFePO4` + particle) and then go through the English path.
* ja: Sudachi (sudachipy, core dictionary), split mode C plus its mode-A parts for compounds
  (リチウムイオン電池 gives リチウムイオン電池, リチウム, イオン, 電池); normalized forms; only nouns, verbs,
  adjectives, adjectival nouns kept.
* zh: jieba search-mode segmentation (rjieba, the Rust port: same dictionary, faster): a long word
  gives its dictionary sub-words too (锂离子 gives 锂离子, 离子); function words and punctuation dropped.
* en: `[letters/digits]+` words, lowercased, English stopwords dropped, Snowball English stem (PyStemmer);
  a word with digits (a formula, a model number) is kept whole and unstemmed.

Mixed script: the text is cut into script runs; each run goes to the analyzer of its script, Han being
hanja in Korean text, Japanese in Japanese text, and Japanese (if the run has kana) or Chinese otherwise.

Analyzers are built lazily, once per process (Kiwi, the Sudachi dictionary) or once per thread (Sudachi
tokenizers and Snowball stemmers, which must not be shared between threads); the Kiwi instance is shared
behind a lock.
"""

from __future__ import annotations

import html
import importlib.metadata as _metadata
import re
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

LANGUAGES = ("ko", "en", "ja", "zh")

# Names what `analyze` produces: cached terms (AnalysedText) and the lexicon are only valid for it. Bump the
# revision whenever a rule here changes; a library upgrade changes the string by itself.
ANALYZER_VERSION = "r1-" + "-".join(
    f"{name}{_metadata.version(name)}"
    for name in ("kiwipiepy", "sudachipy", "sudachidict-core", "rjieba", "pystemmer")
)


@dataclass(frozen=True)
class Token:
    term: str
    start: int
    end: int


# --- scripts ------------------------------------------------------------------------------------------

_HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\ud7b0-\ud7ff"
_KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3006\u3007\U00020000-\U0003134f"
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\uff21-\uff3a\uff41-\uff5a"
_DIGIT = "0-9\uff10-\uff19"

# A Latin word: letters and digits with at least one letter (LiFePO4, 3D, graphene).
_LATIN_WORD = re.compile(f"[{_LATIN}{_DIGIT}]*[{_LATIN}][{_LATIN}{_DIGIT}]*")
# Words the English path makes terms of (pure digit runs too).
_EN_WORD = re.compile(f"[{_LATIN}{_DIGIT}]+")
# Script runs: Hangul, Japanese/Chinese (kana and Han together), Latin words.
_RUN = re.compile(f"(?P<ko>[{_HANGUL}]+)|(?P<cjk>[{_KANA}{_HAN}\u30fc]+)|(?P<latin>{_LATIN_WORD.pattern})")
_HAS_KANA = re.compile(f"[{_KANA}]")
_COUNT = {
    "ko": re.compile(f"[{_HANGUL}]"),
    "kana": re.compile(f"[{_KANA}]"),
    "han": re.compile(f"[{_HAN}]"),
    "latin": re.compile(f"[{_LATIN}]"),
}
_HAS_WORD_CHAR = re.compile(r"\w")


def _norm(term: str) -> str:
    return unicodedata.normalize("NFKC", term).lower()


# --- language detection -------------------------------------------------------------------------------


def detect_language(text: str) -> str:
    """Script-based: kana means Japanese, Hangul Korean, other Han Chinese, else English.

    Latin letters count a twelfth of a CJK character (an English word is ~6 letters, a CJK word ~1-3
    characters), so a Korean title with its English translation in parentheses is Korean, and an English
    sentence quoting one Korean word stays English.
    """
    sample = text[:4000]
    hangul = len(_COUNT["ko"].findall(sample))
    kana = len(_COUNT["kana"].findall(sample))
    han = len(_COUNT["han"].findall(sample))
    latin = len(_COUNT["latin"].findall(sample))
    cjk = hangul + kana + han
    if cjk == 0 or latin > 12 * cjk:
        return "en"
    if kana and kana * 4 >= hangul:
        return "ja"
    if hangul and hangul * 2 >= han:
        return "ko"
    if kana:
        return "ja"
    return "zh" if han else "ko"


# --- English ------------------------------------------------------------------------------------------

_EN_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t
    """.split()  # noqa: SIM905 (a word list reads best as words)
)

_local = threading.local()


def _stemmer() -> Any:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer  # PyStemmer; a stemmer object must not be shared between threads

        stemmer = Stemmer.Stemmer("english")
        _local.stemmer = stemmer
    return stemmer


def _english_term(word: str) -> str | None:
    term = _norm(word)
    if term.isdigit() or any(c.isdigit() for c in term):
        return term
    if term in _EN_STOPWORDS:
        return None
    return str(_stemmer().stemWord(term))


def _english(text: str, offset: int) -> Iterator[Token]:
    for match in _EN_WORD.finditer(text):
        term = _english_term(match.group())
        if term:
            yield Token(term, offset + match.start(), offset + match.end())


# --- Korean -------------------------------------------------------------------------------------------

_kiwi: Kiwi | None = None
_kiwi_lock = threading.Lock()

_KO_KEEP = frozenset({"NNG", "NNP", "NR", "XR", "VV", "VA", "SH", "SN"})
_KO_STOP = frozenset(
    {"하", "되", "있", "없", "않", "같", "이", "아니", "관하", "위하", "대하", "의하", "통하", "따르"}
)


def _get_kiwi() -> Kiwi:
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                kiwi = Kiwi()
                kiwi.tokenize("")  # Kiwi finishes its set-up on first use
                _kiwi = kiwi
    return _kiwi


def _korean(text: str, offset: int) -> Iterator[Token]:
    if not text.strip():
        return
    kiwi = _get_kiwi()
    latin = [(m.start(), m.end(), "SL") for m in _LATIN_WORD.finditer(text)]
    with _kiwi_lock:
        morphemes = kiwi.tokenize(text, pretokenized=latin)
    for morpheme in morphemes:
        tag = morpheme.tag.split("-", 1)[0]  # VV-R / VV-I: regular or irregular conjugation
        start = offset + morpheme.start
        end = start + morpheme.len
        if tag == "SL" or tag.startswith("W_"):
            surface = text[morpheme.start : morpheme.start + morpheme.len]
            yield from _english(surface, start)
        elif tag in _KO_KEEP and morpheme.form not in _KO_STOP:
            yield Token(_norm(morpheme.form), start, end)


# --- Japanese -----------------------------------------------------------------------------------------

_sudachi_dictionary: Any = None
_sudachi_lock = threading.Lock()

_JA_KEEP = frozenset({"名詞", "動詞", "形容詞", "形状詞"})
_JA_STOP = frozenset(
    {"こと", "もの", "ため", "よう", "これ", "それ", "ところ", "とき", "為る", "居る", "有る"}
)


def _sudachi() -> Any:
    tokenizer = getattr(_local, "sudachi", None)
    if tokenizer is None:
        global _sudachi_dictionary
        with _sudachi_lock:
            if _sudachi_dictionary is None:
                from sudachipy import Dictionary

                _sudachi_dictionary = Dictionary(dict="core")
        from sudachipy import SplitMode

        tokenizer = _sudachi_dictionary.tokenizer(mode=SplitMode.C)
        _local.sudachi = tokenizer
    return tokenizer


def _ja_term(morpheme: Any) -> str | None:
    pos = morpheme.part_of_speech()
    if pos[0] not in _JA_KEEP or pos[1] in ("非自立可能", "代名詞"):
        return None
    term = _norm(morpheme.normalized_form())
    if term in _JA_STOP or not _HAS_WORD_CHAR.search(term):
        return None
    return term


def _japanese(text: str, offset: int) -> Iterator[Token]:
    if not text.strip():
        return
    from sudachipy import SplitMode

    for morpheme in _sudachi().tokenize(text):
        term = _ja_term(morpheme)
        if term is None:
            continue
        start = offset + morpheme.begin()
        yield Token(term, start, offset + morpheme.end())
        parts = morpheme.split(SplitMode.A)
        if len(parts) > 1:
            for part in parts:
                part_term = _ja_term(part)
                if part_term and part_term != term:
                    yield Token(part_term, offset + part.begin(), offset + part.end())


# --- Chinese ------------------------------------------------------------------------------------------

_ZH_STOP = frozenset(
    """
    的 了 在 是 和 与 及 或 等 将 把 被 中 对 为 以 于 从 由 其 该 之 而 并 且
    也 都 所 这 那 个 一 一种 所述 通过 进行 使 使得 具有 可以 能够 用于 包括 以及
    其中 上 下 时 后 前 内 至 到 得 地 着 过 就 又 还 则
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
_jieba_lock = threading.Lock()
_jieba_ready = False


def _rjieba() -> Any:
    global _jieba_ready
    import rjieba

    if not _jieba_ready:
        with _jieba_lock:
            rjieba.cut("初始化")  # loads the dictionary once
            _jieba_ready = True
    return rjieba


def _chinese(text: str, offset: int) -> Iterator[Token]:
    if not text.strip():
        return
    for word, start, end in _rjieba().tokenize(text, mode="search"):
        term = _norm(word)
        if term in _ZH_STOP or not _HAS_WORD_CHAR.search(term):
            continue
        yield Token(term, offset + start, offset + end)


# --- mixed-script segmentation ------------------------------------------------------------------------

_ANALYZERS: dict[str, Callable[[str, int], Iterator[Token]]] = {
    "ko": _korean,
    "ja": _japanese,
    "zh": _chinese,
    "en": _english,
}


def _segments(text: str, language: str) -> list[tuple[int, int, str]]:
    """Cut text into (start, end, analyzer language) stretches; separators join the stretch before them."""
    segments: list[tuple[int, int, str]] = []
    for match in _RUN.finditer(text):
        kind = match.lastgroup
        if kind == "ko":
            lang = "ko"
        elif kind == "cjk":
            if language in ("ko", "ja", "zh"):
                lang = language
            else:
                lang = "ja" if _HAS_KANA.search(match.group()) else "zh"
            if lang == "ko" and _HAS_KANA.search(match.group()):
                lang = "ja"
        else:  # Latin: Kiwi takes it itself (it needs the particle after it); elsewhere English.
            lang = "ko" if language == "ko" else "en"
        start = match.start()
        if segments and segments[-1][2] == lang:
            segments[-1] = (segments[-1][0], match.end(), lang)
            continue
        if segments:
            segments[-1] = (segments[-1][0], start, segments[-1][2])
        else:
            start = 0
        segments.append((start, match.end(), lang))
    if segments:
        segments[-1] = (segments[-1][0], len(text), segments[-1][2])
    elif text:
        segments.append((0, len(text), "en"))  # digits and punctuation only
    return segments


def tokenize(text: str, language: str | None = None) -> list[Token]:
    """Analysed tokens of text, each with its character offsets in text, in text order."""
    if not text:
        return []
    lang = language if language in LANGUAGES else detect_language(text)
    tokens: list[Token] = []
    for start, end, segment_lang in _segments(text, lang):
        tokens.extend(_ANALYZERS[segment_lang](text[start:end], start))
    tokens.sort(key=lambda t: (t.start, -t.end))
    return tokens


def analyze(text: str, language: str | None = None) -> list[str]:
    return [t.term for t in tokenize(text, language)]


_WARM_UP = {"ko": "배터리의 성능", "en": "batteries", "ja": "電池の性能", "zh": "电池的性能"}


def warm_up(languages: Collection[str] = LANGUAGES) -> None:
    """Build the analyzers now (Kiwi takes seconds) rather than on the first request; e.g. at worker start."""
    for language in languages:
        analyze(_WARM_UP[language], language)


# --- highlighting -------------------------------------------------------------------------------------


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _render(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(html.escape(text[pos:s]))
        out.append(f"<em>{html.escape(text[s:e])}</em>")
        pos = e
    out.append(html.escape(text[pos:end]))
    fragment = "".join(out).strip()
    if start > 0:
        fragment = "…" + fragment
    if end < len(text):
        fragment += "…"
    return fragment


def _snap(text: str, pos: int, lo: int, hi: int, *, forward: bool) -> int:
    """Move a fragment boundary to a nearby space or punctuation so it doesn't cut a word."""
    step = 1 if forward else -1
    limit = 20
    i = pos
    while lo < i < hi and limit > 0:
        if text[i - 1].isspace() or not text[i - 1].isalnum():
            return i
        i += step
        limit -= 1
    return pos


def highlight(
    text: str,
    terms: Collection[str],
    language: str | None = None,
    *,
    fragments: int = 2,
    fragment_chars: int = 160,
) -> list[str]:
    """HTML-escaped fragments of text with <em>…</em> around every token whose term is in terms.

    Fragments are windows of about fragment_chars characters; the ones with the most distinct matched
    terms (then most matches) come first; [] when nothing matches.
    """
    wanted = {_norm(t) for t in terms}
    if not text or not wanted:
        return []
    matched = [t for t in tokenize(text, language) if t.term in wanted]
    return _fragments(text, matched, fragments, fragment_chars)


_LATIN_TERM = re.compile(r"^[0-9a-z]+$")


def highlight_surface(
    text: str, terms: Collection[str], *, fragments: int = 2, fragment_chars: int = 160
) -> list[str]:
    """Like `highlight`, without analysing the text: each term is found where it appears in the text (a
    Korean, Japanese or Chinese term as written, 배터리 inside 배터리를; a Latin stem at a word start, up to
    the end of the word, batteri -> batteries). Approximate, and cheap enough for every search hit."""
    words = sorted({t for t in terms if t and " " not in t}, key=len, reverse=True)
    if not text or not words:
        return []
    alternatives = [
        rf"(?<![0-9A-Za-z]){re.escape(w)}[0-9A-Za-z]*" if _LATIN_TERM.match(w) else re.escape(w)
        for w in words
    ]
    pattern = re.compile("|".join(alternatives), re.IGNORECASE)
    matched = [Token(_norm(m.group()), m.start(), m.end()) for m in pattern.finditer(text)]
    return _fragments(text, matched, fragments, fragment_chars)


def _fragments(text: str, matched: list[Token], fragments: int, fragment_chars: int) -> list[str]:
    if not matched:
        return []
    spans = _merge([(t.start, t.end) for t in matched])
    if len(text) <= fragment_chars:
        return [_render(text, 0, len(text), spans)]
    # Candidate windows: one starting a little before each match.
    candidates: list[tuple[int, int, int, int]] = []  # (-distinct, -count, start, end)
    lead = fragment_chars // 5
    for token in matched:
        start = max(0, min(token.start - lead, len(text) - fragment_chars))
        start = _snap(text, start, 0, token.start, forward=True) if start > 0 else 0
        end = min(len(text), start + fragment_chars)
        end = _snap(text, end, token.end, len(text), forward=False) if end < len(text) else end
        inside = [t for t in matched if t.start >= start and t.end <= end]
        distinct = len({t.term for t in inside})
        candidates.append((-distinct, -len(inside), start, end))
    candidates.sort()
    chosen: list[tuple[int, int]] = []
    for _d, _c, start, end in candidates:
        if any(start < ce and cs < end for cs, ce in chosen):
            continue
        chosen.append((start, end))
        if len(chosen) >= fragments:
            break
    return [_render(text, start, end, spans) for start, end in chosen]
