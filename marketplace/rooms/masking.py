"""Masking contact details in relayed messages before the NDA.

Before the NDA a broker stands between seller and buyer; if either could write "mail me at …" the broker's
relay (and the NDA's protection) would be gone. So e-mail addresses, phone numbers and links in a message
are masked for the other side; the author's own side and brokers see the original.

Patent numbers look like phone numbers (10-2019-0012345, 10-1234567) and are the substance of the talk,
so their shapes are kept.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
URL = re.compile(
    r"(?:https?://|www\.)\S+?(?=[.,;:!?)\]]*(?:\s|$))"
    r"|(?<![a-z0-9-])[a-z0-9-]+(?:\.[a-z0-9-]+)*"
    r"\.(?:com|net|org|io|co|ai|dev|app|me|info|biz|kr|jp|cn|de|uk|us|edu|gov)"
    r"(?![a-z0-9-])(?:/\S*?(?=[.,;:!?)\]]*(?:\s|$)))?",
    re.IGNORECASE,
)
# A run of digits with the separators people type in phone numbers, optionally with a country code or a
# bracketed area code. The borders are ASCII: Korean text runs straight into numbers (010-1234-5678입니다).
PHONE = re.compile(r"(?<![0-9A-Za-z_-])(?:\+|\(\d{2,4}\)\s?)?\d[\d\s().-]{6,}\d(?![0-9A-Za-z_-])")
# Year ranges and dates have phone-like shapes too.
DATE_LIKE = re.compile(
    r"^(?:19|20)\d{2}\s*[-~]\s*(?:19|20)\d{2}$"
    r"|^(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d{2}$"
)
# Korean application (10-2019-0012345), registration (10-1234567) and PCT-like numbers: not phones.
PATENT_NUMBER = re.compile(r"^\d{2}-\d{4}-\d{7}$|^\d{2}-\d{7}$|^\d{4}-\d{6,7}$")

EMAIL_MASK = "[email hidden]"
PHONE_MASK = "[phone hidden]"
LINK_MASK = "[link hidden]"


@dataclass(frozen=True)
class Masked:
    text: str
    kinds: tuple[str, ...]  # what was hidden: "email", "phone", "link"


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if not 8 <= digits <= 15:
        return False
    candidate = candidate.strip()
    if candidate.isdigit():
        # An unbroken run is a domestic number (01012345678) only; 1020190012345 is an application number.
        return candidate.startswith("0") and digits <= 11
    return not PATENT_NUMBER.match(candidate) and not DATE_LIKE.match(candidate)


def _counting(kind: str, mask: str, kinds: list[str]) -> Callable[["re.Match[str]"], str]:
    def sub(match: "re.Match[str]") -> str:
        kinds.append(kind)
        return mask

    return sub


def mask_contacts(text: str) -> Masked:
    kinds: list[str] = []
    # E-mail first: an address's domain would otherwise be taken for a link.
    text = EMAIL.sub(_counting("email", EMAIL_MASK, kinds), text)
    text = URL.sub(_counting("link", LINK_MASK, kinds), text)

    def phone(match: "re.Match[str]") -> str:
        if not _is_phone(match.group(0)):
            return match.group(0)
        kinds.append("phone")
        return PHONE_MASK

    text = PHONE.sub(phone, text)
    return Masked(text=text, kinds=tuple(dict.fromkeys(kinds)))
