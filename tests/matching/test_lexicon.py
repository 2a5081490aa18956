"""The English -> Korean lexicon: alignment on toy parallel data, pruning, query translation, the file."""

from pathlib import Path

import pytest

from matching import analysis, lexicon

PAIRS = [
    (["graphen", "electrod"], ["그래핀", "전극"]),
    (["graphen", "sensor"], ["그래핀", "센서"]),
    (["sensor", "method"], ["센서", "방법"]),
    (["electrod", "method"], ["전극", "방법"]),
]


def test_model1_aligns_words_that_always_co_occur() -> None:
    table = lexicon.model1(PAIRS, iterations=10)
    for english, korean in (
        ("graphen", "그래핀"),
        ("electrod", "전극"),
        ("sensor", "센서"),
        ("method", "방법"),
    ):
        best, p = table[english][0]
        assert best == korean
        assert p > 0.5
    for row in table.values():
        assert sum(p for _, p in row) == pytest.approx(1.0)


def test_dice_prefers_the_consistent_partner() -> None:
    table = lexicon.dice(PAIRS)
    assert table["graphen"][0][0] == "그래핀"
    assert sum(p for _, p in table["graphen"]) == pytest.approx(1.0)


def test_prune_keeps_top_n_above_threshold() -> None:
    table = {"a": [("x", 0.6), ("y", 0.3), ("z", 0.1)], "b": [("x", 0.02)]}
    assert lexicon.prune(table, top_n=2, min_probability=0.05) == {"a": [("x", 0.6), ("y", 0.3)]}


def test_apply_adds_weights_and_keeps_latin_terms() -> None:
    table = {"graphen": [("그래핀", 0.8), ("산화", 0.2)], "oxid": [("산화", 0.5)]}
    assert lexicon.apply(table, ["graphen", "oxid", "3d"], keep="none") == [("그래핀", 0.8), ("산화", 0.7)]
    # English terms are Latin: kept as they are too, to meet glosses and acronyms in Korean text
    assert lexicon.apply(table, ["graphen", "3d"], keep="all", keep_weight=0.5) == [
        ("그래핀", 0.8),
        ("산화", 0.2),
        ("graphen", 0.5),
        ("3d", 0.5),
    ]
    assert lexicon.apply(table, ["graphen", "3d", "수소"], keep="untranslated", keep_weight=1.0) == [
        ("그래핀", 0.8),
        ("산화", 0.2),
        ("3d", 1.0),
    ]
    assert lexicon.apply(table, ["unknown"], keep="none") == []
    with pytest.raises(ValueError):
        lexicon.apply(table, ["graphen"], keep="some")


def test_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.json"
    lexicon.write(path, {"graphen": [("그래핀", 0.9)]}, {"source": {"file": "x.csv"}})
    assert lexicon.read(path) == {"graphen": [("그래핀", 0.9)]}
    assert lexicon.translate(["graphen"], keep="none", path=path) == [("그래핀", 0.9)]
    assert lexicon.translate(["graphen"], keep="none", path=tmp_path / "missing.json") == []


def test_shipped_lexicon_translates_common_terms() -> None:
    if not lexicon.DEFAULT_PATH.is_file():
        pytest.skip("matching/data/lexicon_en_ko.json not built")
    korean = dict(lexicon.translate(analysis.analyze("antenna sensor method", "en"), keep="none"))
    assert {"안테나", "센서", "방법"} <= set(korean)
