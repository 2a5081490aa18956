"""Unsaved Patent objects built from real records of the shared data files, for the pure-function tests."""

from datetime import date

from marketplace.models import Patent


def kr_graphene(**changes: object) -> Patent:
    """KR 1020160138184 as KIPRIS lists it (kr_university_patents_inu.csv, line 2), without stored dates."""
    fields: dict[str, object] = {
        "office": "KR",
        "application_number": "1020160138184",
        "application_date": date(2016, 10, 24),
        "registration_number": "1018463630000",
        "registration_date": date(2018, 4, 2),
        "legal_status": "registered",
        "titles": {
            "en": "PREPARATION METHOD OF 3D GRAPHENE ELECTRODE FOR SUPERCAPACITOR USING SPRAY DISCHARGE"
        },
    }
    fields.update(changes)
    return Patent(**fields)


def nasa_aerogel(**changes: object) -> Patent:
    """US 11848332 / 8039099 as the NASA catalogue lists it: expiry 2025-10-18, no filing or grant date."""
    fields: dict[str, object] = {
        "office": "US",
        "application_number": "11848332",
        "registration_number": "8039099",
        "legal_status": "registered",
        "expiry_date": date(2025, 10, 18),
        "titles": {"en": "Nanoencapsulated aerogels produced by monomer vapor deposition and polymerization"},
    }
    fields.update(changes)
    return Patent(**fields)
