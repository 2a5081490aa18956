"""matching.analysis: Korean/Japanese/Chinese/English analysis, language detection, highlighting."""

import threading

import pytest

from matching.analysis import LANGUAGES, Token, analyze, detect_language, highlight, tokenize, warm_up

# Sentences from the KR file (인천대학교 patents) and patent-style Japanese / Chinese sentences.
KO_ABSTRACT = (
    "본 발명은 스프레이 분사를 이용한 슈퍼커패시터용 3차원 그래핀 전극의 제조방법에 관한 것으로, "
    "환원된 산화그래핀(RGO) 용액을 가열된 타겟 표면에 직접 액적 분사하여 과열증발시킨다."
)
KO_TITLE = (
    "스프레이 분사를 이용한 슈퍼커패시터용 3차원 그래핀 전극의 제조방법"
    "(PREPARATION METHOD OF 3D GRAPHENE ELECTRODE FOR SUPERCAPACITOR USING SPRAY DISCHARGE)"
)
JA_SENTENCE = "リチウムイオン電池の正極材料を製造する方法であって、前記正極活物質を焼成する工程を含む。"
ZH_SENTENCE = "本发明公开了一种锂离子电池正极材料的制备方法，包括以下步骤。"  # noqa: RUF001
EN_ABSTRACT = (
    "Batteries comprising graphene electrodes are manufactured by spraying a reduced graphene oxide."
)


def test_languages_constant() -> None:
    assert LANGUAGES == ("ko", "en", "ja", "zh")
    warm_up()


@pytest.mark.parametrize(
    "sentence",
    [
        "이 배터리의 수명은 기존 제품보다 길다.",
        "전기자동차용 배터리를 충전하는 장치에 관한 것이다.",
        "배터리 관리 시스템은 셀 전압을 측정한다.",
        "리튬이온배터리에서 발생하는 열을 냉각한다.",
    ],
)
def test_korean_particles_dropped(sentence: str) -> None:
    terms = analyze(sentence, "ko")
    assert "배터리" in terms
    assert not any(t.startswith("배터리") and t != "배터리" for t in terms)


def test_korean_content_morphemes() -> None:
    terms = analyze(KO_ABSTRACT, "ko")
    for expected in [
        "발명",
        "스프레이",
        "분사",
        "이용",
        "그래핀",
        "전극",
        "제조",
        "방법",
        "rgo",
        "용액",
        "표면",
    ]:
        assert expected in terms
    # particles, endings, bound nouns and suffixes do not become terms
    for dropped in ["은", "를", "의", "에", "것", "으로", "용", "하"]:
        assert dropped not in terms


def test_korean_verb_stems_and_formulas() -> None:
    terms = analyze("양극재는 LiFePO4를 포함하며, 전압을 높였다.", "ko")
    assert "lifepo4" in terms  # the formula stays whole, its particle dropped
    assert "높이" in terms  # verb stem, not the conjugated 높였
    assert "양극" in terms and "전압" in terms


def test_korean_title_with_english_parenthetical() -> None:
    assert detect_language(KO_TITLE) == "ko"
    terms = analyze(KO_TITLE)
    assert {"그래핀", "전극", "슈퍼커패시터"} <= set(terms)
    # the English part goes through the English stemmer, as it would in an English document
    assert {"graphen", "electrod", "supercapacitor", "prepar", "spray"} <= set(terms)
    assert "of" not in terms and "for" not in terms


def test_japanese_segmentation() -> None:
    terms = analyze(JA_SENTENCE, "ja")
    for expected in [
        "リチウムイオン電池",
        "リチウム",
        "イオン",
        "電池",
        "正極",
        "材料",
        "製造",
        "方法",
        "焼成",
        "工程",
    ]:
        assert expected in terms
    assert "含む" in terms  # dictionary form of an inflected verb
    for dropped in ["の", "を", "する", "で", "、", "。"]:
        assert dropped not in terms


def test_japanese_normalized_verb_forms() -> None:
    assert "優れる" in analyze("耐久性に優れている。", "ja")
    assert "用いる" in analyze("グラフェンを用いた透明導電膜", "ja")


def test_chinese_segmentation() -> None:
    terms = analyze(ZH_SENTENCE, "zh")
    for expected in ["锂离子", "离子", "电池", "正极", "材料", "制备", "方法", "本发明", "发明"]:
        assert expected in terms
    for dropped in ["的", "了", "，", "。", "一种"]:  # noqa: RUF001
        assert dropped not in terms


def test_chinese_search_mode_query_matches_document() -> None:
    document = set(analyze("所述石墨烯薄膜通过化学气相沉积法在铜基底上生长。", "zh"))
    assert set(analyze("化学气相沉积", "zh")) & document
    assert "薄膜" in document and "基底" in document


def test_english_stemming() -> None:
    assert analyze("batteries") == analyze("battery") == ["batteri"]
    assert analyze("Manufacturing") == analyze("manufactured")
    terms = analyze(EN_ABSTRACT, "en")
    assert "the" not in terms and "a" not in terms and "are" not in terms
    assert terms.count("graphen") == 2
    assert "electrod" in terms


def test_english_keeps_alphanumerics_whole() -> None:
    assert analyze("LiFePO4 cathodes and 3D printing", "en") == ["lifepo4", "cathod", "3d", "print"]


def test_full_width_latin_folds() -> None:
    assert "lifepo4" in analyze("ＬｉＦｅＰＯ４を含む正極", "ja")


def test_terms_are_lowercase_without_spaces() -> None:
    for text in [KO_TITLE, KO_ABSTRACT, JA_SENTENCE, ZH_SENTENCE, EN_ABSTRACT]:
        for term in analyze(text):
            assert term and term == term.lower() and not any(c.isspace() for c in term)


def test_token_offsets_point_into_original_text() -> None:
    for text in [KO_TITLE, JA_SENTENCE, ZH_SENTENCE, EN_ABSTRACT]:
        tokens = tokenize(text)
        assert tokens
        for token in tokens:
            assert isinstance(token, Token)
            assert 0 <= token.start < token.end <= len(text)
    ko = tokenize("배터리의 성능", "ko")
    assert ko[0] == Token("배터리", 0, 3)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (KO_ABSTRACT, "ko"),
        (KO_TITLE, "ko"),
        ("배터리", "ko"),
        ("CNT 복합체", "ko"),
        ("3 차원 UHF RFID 태그(3 dimension UHF RFID TAG)", "ko"),
        (JA_SENTENCE, "ja"),
        ("グラフェン電極", "ja"),
        ("OLED用の封止材", "ja"),
        (ZH_SENTENCE, "zh"),
        ("锂离子电池", "zh"),
        (EN_ABSTRACT, "en"),
        ("battery", "en"),
        ("", "en"),
        ("12345 !!", "en"),
        ("The Korean word 배터리 means battery; it is used in many product names and patent titles.", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_mixed_script_runs_use_their_own_analyzer() -> None:
    # English text quoting Korean and Chinese: each run analysed by its own analyzer
    terms = analyze("Batteries (배터리의 수명) and 锂离子电池 cells", "en")
    assert {"batteri", "배터리", "수명", "锂离子", "电池", "cell"} <= set(terms)
    # Japanese text with a Latin formula
    terms = analyze("LiFePO4を含むリチウムイオン電池", "ja")
    assert "lifepo4" in terms and "電池" in terms


def test_hanja_in_korean_text() -> None:
    terms = analyze("본 발명은 電池에 관한 것이다", "ko")
    assert "電池" in terms and "발명" in terms


def test_highlight_marks_matching_tokens() -> None:
    fragments = highlight(KO_ABSTRACT, analyze("그래핀 전극을"), "ko")
    assert fragments
    assert "<em>그래핀</em>" in fragments[0]
    assert "<em>전극</em>의" in fragments[0]  # the particle stays outside the mark


def test_highlight_escapes_html() -> None:
    text = "<b>Battery</b> & batteries > cells"
    assert highlight(text, ["batteri"]) == [
        "&lt;b&gt;<em>Battery</em>&lt;/b&gt; &amp; <em>batteries</em> &gt; cells"
    ]


def test_highlight_no_match() -> None:
    assert highlight(KO_ABSTRACT, analyze("배터리")) == []
    assert highlight("", ["x"]) == []
    assert highlight(KO_ABSTRACT, []) == []


def test_highlight_best_fragments_first() -> None:
    filler = "Unrelated words about other matters fill this part of the description. " * 4
    text = filler + "A battery pack. " + filler + "Graphene battery electrodes for a battery. " + filler
    fragments = highlight(text, analyze("graphene battery electrode"), fragments=2, fragment_chars=80)
    assert len(fragments) == 2
    assert fragments[0].count("<em>") == 4 and "<em>Graphene</em>" in fragments[0]
    assert fragments[1].count("<em>") == 1
    for fragment in fragments:
        plain = fragment.replace("<em>", "").replace("</em>", "").strip("…")
        assert len(plain) <= 80 and plain in text


def test_highlight_overlapping_chinese_terms_merge() -> None:
    fragments = highlight(ZH_SENTENCE, ["锂离子", "离子"], "zh")
    assert fragments == [fragments[0]]
    assert "<em>锂离子</em>" in fragments[0]


def test_thread_safety() -> None:
    texts = [KO_ABSTRACT, JA_SENTENCE, ZH_SENTENCE, EN_ABSTRACT]
    expected = [analyze(t) for t in texts]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                for text, want in zip(texts, expected, strict=True):
                    assert analyze(text) == want
        except BaseException as exc:  # collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
