"""Strategic sector of a patent, guessed from its IPC codes (or, for NASA's records, its category)."""

import re
from collections.abc import Iterable

from marketplace.models import Patent, Sector

# IPC prefixes with spaces removed; the longest matching prefix wins. "C01B3/" is hydrogen (C01B 3/00),
# not silicon (C01B 33/00), hence the slash.
IPC_SECTORS: dict[str, Sector] = {
    "H01M": Sector.SECONDARY_BATTERIES,
    "H01G": Sector.SECONDARY_BATTERIES,
    "H01L": Sector.SEMICONDUCTORS,
    "B64": Sector.AEROSPACE_MARINE,
    "B63": Sector.AEROSPACE_MARINE,
    "F02K": Sector.AEROSPACE_MARINE,
    "G06N": Sector.AI,
    "H04": Sector.NEXT_GEN_COMMUNICATIONS,
    "H01Q": Sector.NEXT_GEN_COMMUNICATIONS,
    "A61": Sector.ADVANCED_BIOTECH,
    "C12": Sector.ADVANCED_BIOTECH,
    "C01B3/": Sector.HYDROGEN,
    "B25J": Sector.ADVANCED_ROBOTICS,
    "B60": Sector.ADVANCED_MOBILITY,
}

# NASA's catalogue has no IPC codes; its technology categories stand in for them.
CATEGORY_SECTORS: dict[str, Sector] = {
    "aeronautics": Sector.AEROSPACE_MARINE,
    "propulsion": Sector.AEROSPACE_MARINE,
    "communications": Sector.NEXT_GEN_COMMUNICATIONS,
    "health medicine and biotechnology": Sector.ADVANCED_BIOTECH,
    "robotics automation and control": Sector.ADVANCED_ROBOTICS,
}

IPC_CODE = re.compile(r"[A-H]\d{2}[A-Z]\s*\d{1,4}\s*/\s*\d+")


def ipc_codes(values: Iterable[str]) -> list[str]:
    """Every IPC code in the stored values, normalised without spaces ("H01G 11/86" -> "H01G11/86").

    Some records hold several codes in one value, separated by spaces; this finds them all."""
    return [re.sub(r"\s+", "", code) for value in values for code in IPC_CODE.findall(value)]


def ipc_sector(codes: Iterable[str]) -> Sector:
    best: tuple[int, Sector] = (0, Sector.OTHER)
    for code in codes:
        for prefix, sector in IPC_SECTORS.items():
            if code.startswith(prefix) and len(prefix) > best[0]:
                best = (len(prefix), sector)
    return best[1]


def patent_category(patent: Patent) -> str:
    category = patent.extra.get("category") if isinstance(patent.extra, dict) else None
    return category if isinstance(category, str) else ""


def group_key(patent: Patent) -> str:
    """Patents sharing this key are related enough to be packaged together: the IPC subclass of the first
    code ("H01G"), or the catalogue category when there is no IPC code."""
    codes = ipc_codes(patent.ipc_codes)
    if codes:
        return codes[0][:4]
    category = patent_category(patent)
    return f"category:{category}" if category else "unclassified"


def patent_sector(patent: Patent) -> Sector:
    codes = ipc_codes(patent.ipc_codes)
    if codes:
        return ipc_sector(codes)
    return CATEGORY_SECTORS.get(patent_category(patent), Sector.OTHER)
