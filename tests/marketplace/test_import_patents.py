import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command

from marketplace.importers import holders, kipris_csv, nasa_csv
from marketplace.models import Patent

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
KR_FILE = DATA / "kr_university_patents_inu.csv"
NASA_FILE = DATA / "us_nasa_licensable_patents_2014.csv"
KR_HEADER = (
    "특허명 TEXT,IPC넘버,출원인  NGRAM,출원번호 NUMERIC,출원날짜DATETIME,등록번호 NUMERIC,등록일자DATETIME,"
    "공개번호 NUMERIC,공개일자 DATETIME,대리인 NGRAM,발명가 KEYWORD,설명, STORED,,,,\n"
)


def _import(fmt: str, path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_patents", str(path), format=fmt, stdout=out, stderr=err, no_progress=True)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_real_korean_file_imports_once_and_is_idempotent() -> None:
    # when
    first, errors = _import("kipris-csv", KR_FILE)
    second, _ = _import("kipris-csv", KR_FILE)

    # then: 1,009 rows name 979 distinct applications; the second run changes nothing
    assert "1009 rows, 979 created, 0 updated, 0 unchanged, 30 superseded by a later row, 0 failed" in first
    assert "0 created, 0 updated, 979 unchanged" in second
    assert errors == ""
    assert Patent.objects.filter(office="KR").count() == 979
    patent = Patent.objects.get(office="KR", application_number="1020160138184")
    assert patent.titles["ko"] == "스프레이 분사를 이용한 슈퍼커패시터용 3차원 그래핀 전극의 제조방법"
    assert (
        patent.titles["en"]
        == "PREPARATION METHOD OF 3D GRAPHENE ELECTRODE FOR SUPERCAPACITOR USING SPRAY DISCHARGE"
    )
    assert patent.ipc_codes == ["H01G 11/86", "H01G 11/32", "H01G 11/46", "B05D 1/12", "B05D 3/02"]
    assert patent.applicants == ["인천대학교 산학협력단", "에이치씨테크(주)"]
    assert patent.inventors == ["안호선", "김지훈", "이길원", "최홍", "심규현"]
    assert patent.application_date == date(2016, 10, 24)
    assert patent.registration_number == "1018463630000"
    assert patent.expiry_date == date(2036, 10, 24)
    assert patent.legal_status == "registered"


@pytest.mark.django_db
def test_real_nasa_file_imports_with_case_numbers_for_inventions_without_serial() -> None:
    out, errors = _import("nasa-csv", NASA_FILE)

    assert "1630 rows, 1397 created" in out
    assert errors == ""
    granted = Patent.objects.get(office="US", application_number="11848332")
    assert granted.titles == {
        "en": "Nanoencapsulated aerogels produced by monomer vapor deposition and polymerization"
    }
    assert granted.registration_number == "8039099"
    assert granted.expiry_date == date(2025, 10, 18)
    assert granted.extra["center"] == "JSC"
    unfiled = Patent.objects.get(office="US", application_number="case:KSC-12236-2-PCT")
    assert unfiled.legal_status == "pending"
    assert unfiled.expiry_date is None  # 1970-01-01 is the catalogue's "unknown"


@pytest.mark.django_db
def test_bad_rows_are_reported_with_line_and_field_and_the_rest_is_imported(tmp_path: Path) -> None:
    # given: a good row, a row with a broken date, a row with a broken IPC list, a row without a number
    ipc = "['G06F 17/30 ....', 'G06F 17/30']"
    rows = [
        ["좋은 발명(GOOD INVENTION)", ipc, "인천대학교 산학협력단", "1020200000001", " 2020.01.02"],
        ["나쁜 날짜(BAD DATE)", ipc, "회사", "1020200000002", " 2020.13.45"],
        ["나쁜 IPC(BAD IPC)", "['G06F", "회사", "1020200000003", " 2020.01.02"],
        ["번호 없음(NO NUMBER)", ipc, "회사", "", " 2020.01.02"],
    ]
    body = io.StringIO()
    csv.writer(body, lineterminator="\n").writerows(
        [*r, "", "", "", "", "", "홍길동", "요약", "", "", "", "", ""] for r in rows
    )
    path = tmp_path / "mixed.csv"
    path.write_text(KR_HEADER + body.getvalue(), encoding="utf-8")
    report = tmp_path / "errors.csv"

    # when
    out, err = io.StringIO(), io.StringIO()
    call_command("import_patents", str(path), format="kipris-csv", errors=report, stdout=out, stderr=err)

    # then
    assert (
        "4 rows, 1 created, 0 updated, 0 unchanged, 0 superseded by a later row, 3 failed" in out.getvalue()
    )
    assert list(Patent.objects.values_list("application_number", flat=True)) == ["1020200000001"]
    assert list(csv.reader(report.open(encoding="utf-8"))) == [
        ["line", "field", "reason"],
        ["3", "출원날짜", "not a date: '2020.13.45'"],
        [
            "4",
            "IPC넘버",
            "not a list literal: unterminated string literal (detected at line 1) (<unknown>, line 1)",
        ],
        ["5", "출원번호", "empty application number"],
    ]
    assert "mixed.csv:3: 출원날짜: not a date" in err.getvalue()


def test_titles_split_on_the_last_balanced_parenthesis() -> None:
    assert kipris_csv.split_title("탄소나노튜브(CNT) 전극(CARBON NANOTUBE (CNT) ELECTRODE)") == {
        "ko": "탄소나노튜브(CNT) 전극",
        "en": "CARBON NANOTUBE (CNT) ELECTRODE",
    }
    assert kipris_csv.split_title("영문 제목 없음") == {"ko": "영문 제목 없음"}
    assert kipris_csv.split_title("괄호(한글)") == {"ko": "괄호(한글)"}


def test_nasa_serial_numbers_become_digits_and_placeholders_fall_back_to_the_case_number() -> None:
    assert nasa_csv.application_number("11/848,332", "MSC-23563-2") == "11848332"
    assert nasa_csv.application_number("/0", "KSC-12236-2-PCT") == "case:KSC-12236-2-PCT"
    assert nasa_csv.application_number("", "LAR-1") == "case:LAR-1"


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(KR_HEADER.encode("utf-8") + "caf\xe9,1\n".encode("latin-1"))

    with pytest.raises(Exception, match="not UTF-8"):
        _import("kipris-csv", path)
    assert Patent.objects.count() == 0


def test_kipris_applicant_lists_are_put_back_together_around_legal_forms() -> None:
    # real applicant lists from the KIPRIS file; KIPRIS writes them joined by spaces
    lists = [
        ["지오씨 주식회사", "인천대학교 산학협력단"],
        ["인천대학교 산학협력단", "주식회사 한화건설"],
        [
            "인천대학교 산학협력단",
            "(주)삼우아이티",
            "청원화학 주식회사",
            "대우조선해양건설 주식회사",
            "주식회사 동양구조이앤알",
        ],
        ["인천대학교 산학협력단", "(주) 디.에이치.테크", "주식회사 에스 피 지"],
        ["농업회사법인 에이앤피테크놀로지주식회사", "인천대학교 산학협력단"],
        ["한국광기술원", "하이프레스 인코포레이티드", "강준희"],
        ["인천대학교 산학협력단", "상명대학교 천안산학협력단"],
        ["서울대학교산학협력단", "인천대학교 산학협력단"],
    ]

    assert [kipris_csv.parse_applicants(" ".join(names)) for names in lists] == lists


def test_an_organisation_kind_is_guessed_from_its_name() -> None:
    expected = {
        "인천대학교 산학협력단": "university",
        "인천전문대학산학협력단": "university",
        "광주과학기술원": "university",
        "Incheon National University": "university",
        "Massachusetts Institute of Technology": "university",
        "한국기계연구원": "public_institution",
        "한국광기술원": "public_institution",
        "인천광역시": "public_institution",
        "National Aeronautics and Space Administration": "public_institution",
        "Lawrence Berkeley National Laboratory": "public_institution",
        "에이치씨테크(주)": "sme",
        "주식회사 OO연구소": "sme",
        "현대자동차주식회사": "sme",
        "Acme Co., Ltd.": "sme",
        "Incyte Inc.": "sme",
        "엘지이노텍": "sme",
        "서재곤": "sme",
    }

    assert {name: holders.guess_kind(name) for name in expected} == expected


@pytest.mark.django_db
def test_a_csv_value_longer_than_its_column_is_a_row_error_not_a_failed_batch(tmp_path: Path) -> None:
    ipc = f"['x', 'G06F 17/30|{'G' * 33}']"
    rows = [
        ["좋은 발명(GOOD INVENTION)", "['G06F', 'G06F 17/30']", "회사", "1020200000001", " 2020.01.02"],
        ["긴 IPC(LONG IPC)", ipc, "회사", "1020200000002", " 2020.01.02"],
    ]
    body = io.StringIO()
    csv.writer(body, lineterminator="\n").writerows([*r, "", "", "", "", "", "홍길동", "요약"] for r in rows)
    path = tmp_path / "long.csv"
    path.write_text(KR_HEADER + body.getvalue(), encoding="utf-8")

    out, err = _import("kipris-csv", path)

    assert "2 rows, 1 created, 0 updated, 0 unchanged, 0 superseded by a later row, 1 failed" in out
    assert err == "long.csv:3: ipc_codes[1]: longer than 32 characters (33)\n"
