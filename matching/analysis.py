"""Language analysis done in Python (the engine has server-core analyzers only).

STUB interface: a helper replaces the bodies with real Korean/Japanese/Chinese/English analysis.
"""

import re
from dataclasses import dataclass

LANGUAGES = ("ko", "en", "ja", "zh")


@dataclass(frozen=True)
class Token:
    term: str
    start: int
    end: int


_WORD = re.compile(r"\w+")


def detect_language(text: str) -> str:
    return "ko" if re.search(r"[\uac00-\ud7a3]", text) else "en"


def tokenize(text: str, language: str | None = None) -> list[Token]:
    return [Token(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def analyze(text: str, language: str | None = None) -> list[str]:
    return [t.term for t in tokenize(text, language)]
