"""Analysed terms are computed once per text and analyzer version; surface highlighting."""

import pytest

from matching import analysis, documents
from matching.analysis import highlight_surface
from matching.models import AnalysedText
from tests.matching.search_fixtures import import_real

pytestmark = pytest.mark.django_db


def test_a_second_build_reads_every_term_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    patents = import_real(kr_rows=5, nasa_rows=5)
    ids = [p.pk for p in patents]
    first = documents.patent_documents(ids)
    assert AnalysedText.objects.filter(analyzer_version=analysis.ANALYZER_VERSION).exists()
    calls: list[str] = []
    real = documents.analyze

    def counting(text: str, language: str | None = None) -> list[str]:
        calls.append(text)
        return real(text, language)

    monkeypatch.setattr(documents, "analyze", counting)
    second = documents.patent_documents(ids)
    assert calls == []
    for pk in ids:
        doc1, doc2 = first.docs[pk], second.docs[pk]
        assert doc1 is not None and doc2 is not None
        assert doc1["title_terms"] == doc2["title_terms"] and doc1["body_terms"] == doc2["body_terms"]
        assert doc1["title_terms"]  # real records have titles


def test_the_cache_is_keyed_by_the_analyzer_version(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [p.pk for p in import_real(kr_rows=2)]
    documents.patent_documents(ids)
    monkeypatch.setattr(documents, "ANALYZER_VERSION", "another-analyzer")
    documents.patent_documents(ids)
    assert set(AnalysedText.objects.values_list("analyzer_version", flat=True)) == {
        analysis.ANALYZER_VERSION,
        "another-analyzer",
    }


def test_surface_highlighting_marks_inflected_korean_and_english_words() -> None:
    text = "리튬 배터리를 충전하는 장치 & batteries <safe>"
    [fragment] = highlight_surface(text, {"배터리", "batteri"})
    assert fragment == "리튬 <em>배터리</em>를 충전하는 장치 &amp; <em>batteries</em> &lt;safe&gt;"
    assert highlight_surface(text, {"그래핀"}) == []
    assert highlight_surface("rebattering", {"batteri"}) == []  # a Latin stem only at a word start
