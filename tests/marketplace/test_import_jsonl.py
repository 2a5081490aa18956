import csv
import dataclasses
import io
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.importers import FIELDS, FORMATS, jsonl
from marketplace.importers.writer import write_patents
from marketplace.interface import PatentRecord
from marketplace.models import Organization, Patent

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
KR_FILE = DATA / "kr_university_patents_inu.csv"
NASA_FILE = DATA / "us_nasa_licensable_patents_2014.csv"
NASA = "National Aeronautics and Space Administration"
GRAPHENE = "1020160138184"
DOC = Path(__file__).resolve().parents[2] / "docs" / "data-formats.md"


def _import(fmt: str, path: Path, **options: object) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_patents", str(path), format=fmt, stdout=out, stderr=err, no_progress=True, **options)
    return out.getvalue(), err.getvalue()


def _export(path: Path, *offices: str) -> str:
    out = io.StringIO()
    call_command("export_patents", str(path), format="jsonl", office=list(offices) or None, stdout=out)
    return out.getvalue()


def _import_real_files() -> None:
    _import("kipris-csv", KR_FILE)
    _import("nasa-csv", NASA_FILE)


def _line(**fields: object) -> str:
    record = {"format": "ipmarket.patent/1", "office": "KR", "titles": {"ko": "제목"}, **fields}
    return json.dumps(record, ensure_ascii=False)


@pytest.mark.django_db
def test_export_and_import_of_both_real_files_round_trip_exactly(tmp_path: Path) -> None:
    # given
    _import_real_files()
    first = tmp_path / "patents.jsonl"

    # when: exported, imported back over the same data, then into an empty catalogue and exported again
    written = _export(first)
    over_itself, errors = _import("jsonl", first)
    owners = dict(Patent.objects.values_list("application_number", "owner__name"))
    Patent.objects.all().delete()
    into_empty, _ = _import("jsonl", first)
    second = tmp_path / "again.jsonl"
    _export(second)

    # then
    assert written == "patents.jsonl: 2376 patents written\n"
    assert over_itself == (
        "patents.jsonl: 2376 rows, 0 created, 0 updated, 2376 unchanged, 0 superseded by a later row, "
        "0 failed, 0 organisations created, 0 owners linked\n"
    )
    assert errors == ""
    assert into_empty == (
        "patents.jsonl: 2376 rows, 2376 created, 0 updated, 0 unchanged, 0 superseded by a later row, "
        "0 failed, 0 organisations created, 2376 owners linked\n"
    )
    assert second.read_bytes() == first.read_bytes()
    assert dict(Patent.objects.values_list("application_number", "owner__name")) == owners
    lines = first.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2376
    assert sum('"office":"KR"' in line for line in lines) == 979
    assert sum('"office":"US"' in line for line in lines) == 1397


@pytest.mark.django_db
def test_an_exported_real_record_reads_as_documented(tmp_path: Path) -> None:
    _import("kipris-csv", KR_FILE)
    path = tmp_path / "kr.jsonl"

    _export(path, "KR")

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 979
    graphene_line = next(line for line in lines if f'"{GRAPHENE}"' in line)
    assert f"```json\n{graphene_line}\n```" in DOC.read_text(encoding="utf-8")
    graphene = json.loads(graphene_line)
    assert list(graphene) == ["format", *(f.name for f in dataclasses.fields(PatentRecord))]
    assert {key: value for key, value in graphene.items() if key != "abstracts"} == {
        "format": "ipmarket.patent/1",
        "office": "KR",
        "application_number": GRAPHENE,
        "titles": {
            "en": "PREPARATION METHOD OF 3D GRAPHENE ELECTRODE FOR SUPERCAPACITOR USING SPRAY DISCHARGE",
            "ko": "스프레이 분사를 이용한 슈퍼커패시터용 3차원 그래핀 전극의 제조방법",
        },
        "claims": [],
        "application_date": "2016-10-24",
        "registration_number": "1018463630000",
        "registration_date": "2018-04-02",
        "publication_number": "",
        "publication_date": None,
        "ipc_codes": ["H01G 11/86", "H01G 11/32", "H01G 11/46", "B05D 1/12", "B05D 3/02"],
        "cpc_codes": [],
        "applicants": ["인천대학교 산학협력단", "에이치씨테크(주)"],
        "inventors": ["안호선", "김지훈", "이길원", "최홍", "심규현"],
        "legal_status": "registered",
        "expiry_date": "2036-10-24",
        "next_annual_fee_due": None,
        "family_id": "",
        "source": "kipris-csv",
        "source_reference": GRAPHENE,
        "extra": {"attorney": "차준용"},
    }
    assert graphene["abstracts"]["ko"].startswith("본 발명은 스프레이 분사를 이용한")


@pytest.mark.django_db
def test_reimporting_a_jsonl_file_changes_nothing(tmp_path: Path) -> None:
    # given: the NASA catalogue as JSONL, loaded into an empty catalogue
    _import("nasa-csv", NASA_FILE)
    path = tmp_path / "nasa.jsonl"
    _export(path, "US")
    Patent.objects.all().delete()
    Organization.objects.all().delete()
    first, _ = _import("jsonl", path)

    # when
    second, errors = _import("jsonl", path)

    # then
    assert first == (
        "nasa.jsonl: 1397 rows, 1397 created, 0 updated, 0 unchanged, 0 superseded by a later row, "
        "0 failed, 1 organisations created, 1397 owners linked\n"
    )
    assert second == (
        "nasa.jsonl: 1397 rows, 0 created, 0 updated, 1397 unchanged, 0 superseded by a later row, "
        "0 failed, 0 organisations created, 0 owners linked\n"
    )
    assert errors == ""


@pytest.mark.django_db
def test_bad_lines_are_reported_with_line_field_and_reason_and_the_rest_is_imported(tmp_path: Path) -> None:
    # given: three good lines among blank and bad ones, CRLF line ends and no final line feed
    lines = [
        _line(
            application_number="1020200000001",
            legal_status="registered",
            claims=["청구항 1"],
            applicants=["인천대학교 산학협력단"],
        ),
        "",
        '{"format": "ipmarket.patent/1", "office": "KR",',
        '["not", "an", "object"]',
        _line(),
        _line(application_number="  "),
        _line(application_number="1020200000002", office="XX"),
        _line(application_number="1020200000003", legal_status="alive"),
        _line(application_number="1020200000004", application_date="2020-13-45"),
        _line(application_number="1020200000005", expiry_date="2040.01.02"),
        _line(application_number="1020200000006", titles={"en": 5}),
        _line(application_number="1020200000007", titles="제목"),
        _line(application_number="1020200000008", titles={}),
        _line(application_number="1" * 41),
        _line(application_number="1020200000009", ipc_codes=["H01G 11/86", "X" * 33]),
        _line(application_number="1020200000010", applicants="인천대학교 산학협력단"),
        _line(application_number="1020200000011", inventors=["홍길동", None]),
        _line(application_number="1020200000012", applicants=[" 인천대학교 산학협력단"]),
        json.dumps({"office": "KR", "application_number": "1020200000013", "titles": {"ko": "제목"}}),
        _line(application_number="1020200000014", format="ipmarket.patent/2"),
        _line(application_number="1020200000015", abstract={"ko": "요약"}),
        '{"format": "ipmarket.patent/1", "office": "KR", "office": "US"}',
        '{"format": "ipmarket.patent/1", "office": "KR", "application_number": "1", "extra": {"x": NaN}}',
        _line(application_number="1020200000016", titles={"ko": "널\u0000문자"}),
        _line(application_number="1020200000017", titles={"korean": "제목"}),
        _line(application_number="1020200000018", extra=[]),
        _line(application_number="1020200000019", registration_number=None),
        "   ",
        _line(application_number="1020200000020", cpc_codes=["Y02E 60/13"], next_annual_fee_due="2026-10-24"),
        _line(application_number="1020200000021", family_id="KR-F-1", applicants=["테스트(주)", "홍길동"]),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    report = tmp_path / "errors.csv"

    # when
    out, err = _import("jsonl", path, errors=report)

    # then
    assert out == (
        "mixed.jsonl: 28 rows, 3 created, 0 updated, 0 unchanged, 0 superseded by a later row, 25 failed, "
        "2 organisations created, 2 owners linked\n"
    )
    assert list(csv.reader(report.open(encoding="utf-8")))[1:] == [
        ["3", "", "not valid JSON: Expecting property name enclosed in double quotes at column 48"],
        ["4", "", "expected a JSON object, got array"],
        ["5", "application_number", "missing"],
        ["6", "application_number", "blank"],
        ["7", "office", "unknown office 'XX' (known: KR, US, JP, CN, EP, WO)"],
        [
            "8",
            "legal_status",
            "unknown legal status 'alive' (known: pending, registered, lapsed, expired, withdrawn)",
        ],
        ["9", "application_date", "not a date (YYYY-MM-DD): '2020-13-45'"],
        ["10", "expiry_date", "not a date (YYYY-MM-DD): '2040.01.02'"],
        ["11", "titles.en", "expected a string, got number"],
        ["12", "titles", "expected an object of language -> text, got string"],
        ["13", "titles", "no title in any language"],
        ["14", "application_number", "longer than 40 characters (41)"],
        ["15", "ipc_codes[1]", "longer than 32 characters (33)"],
        ["16", "applicants", "expected an array of strings, got string"],
        ["17", "inventors[1]", "expected a string, got null"],
        ["18", "applicants[0]", "leading or trailing whitespace"],
        ["19", "format", "expected 'ipmarket.patent/1', got missing"],
        ["20", "format", "expected 'ipmarket.patent/1', got 'ipmarket.patent/2'"],
        ["21", "abstract", "unknown field"],
        ["22", "", "not valid JSON: key 'office' given twice"],
        ["23", "", "not valid JSON: NaN is not a JSON number"],
        ["24", "titles.ko", "contains NUL or an unpaired surrogate"],
        ["25", "titles", "not a language tag: 'korean'"],
        ["26", "extra", "expected an object, got array"],
        ["27", "registration_number", "expected a string, got null"],
    ]
    assert "mixed.jsonl:3: not valid JSON" in err
    assert "mixed.jsonl:7: office: unknown office 'XX'" in err
    assert list(Patent.objects.values_list("application_number", flat=True)) == [
        "1020200000001",
        "1020200000020",
        "1020200000021",
    ]
    first = Patent.objects.get(application_number="1020200000001")
    assert (first.claims, first.legal_status, first.titles) == (["청구항 1"], "registered", {"ko": "제목"})
    assert first.owner is not None
    assert (first.owner.name, first.owner.kind) == ("인천대학교 산학협력단", "university")
    assert Patent.objects.get(application_number="1020200000020").owner is None  # no applicant
    assert Organization.objects.get(name="테스트(주)").kind == "sme"
    fee = Patent.objects.get(application_number="1020200000020")
    assert (fee.cpc_codes, fee.next_annual_fee_due) == (["Y02E 60/13"], date(2026, 10, 24))
    assert Patent.objects.get(application_number="1020200000021").family_id == "KR-F-1"


@pytest.mark.django_db
def test_patents_are_owned_by_their_first_applicants_organisation() -> None:
    # when
    kr, _ = _import("kipris-csv", KR_FILE)
    nasa, _ = _import("nasa-csv", NASA_FILE)

    # then
    assert kr.endswith("0 failed, 59 organisations created, 979 owners linked\n")
    assert nasa.endswith("0 failed, 1 organisations created, 1397 owners linked\n")
    graphene = Patent.objects.select_related("owner").get(office="KR", application_number=GRAPHENE)
    assert graphene.owner is not None
    owner = graphene.owner
    assert (owner.name, owner.kind, owner.country) == ("인천대학교 산학협력단", "university", "KR")
    assert (owner.verified_at, owner.is_generated) == (None, False)
    assert owner.patents.count() == 874
    nasa_org = Organization.objects.get(name=NASA)
    assert (nasa_org.kind, nasa_org.country, nasa_org.verified_at, nasa_org.is_generated) == (
        "public_institution",
        "US",
        None,
        False,
    )
    assert Patent.objects.filter(office="US").exclude(owner=nasa_org).count() == 0
    assert Patent.objects.filter(owner__isnull=True).count() == 0
    assert Counter(Organization.objects.filter(country="KR").values_list("kind", flat=True)) == {
        "public_institution": 5,
        "sme": 41,
        "university": 13,
    }
    assert {
        name: kind
        for name, kind in Organization.objects.filter(
            name__in=["지오씨 주식회사", "한국기계연구원", "광주과학기술원", "서재곤"]
        ).values_list("name", "kind")
    } == {
        "지오씨 주식회사": "sme",
        "한국기계연구원": "public_institution",
        "광주과학기술원": "university",
        "서재곤": "sme",
    }


@pytest.mark.django_db
def test_reimporting_creates_no_organisation_and_keeps_every_owner() -> None:
    # given: imported once; an operator moved one patent to another holder and cleared another's owner
    _import_real_files()
    organisations = Organization.objects.count()
    buyer = Organization.objects.create(name="에이치씨테크(주)", kind="sme", country="KR")
    Patent.objects.filter(application_number=GRAPHENE).update(owner=buyer)
    Patent.objects.filter(application_number="11848332").update(owner=None)

    # when
    kr, _ = _import("kipris-csv", KR_FILE)
    nasa, _ = _import("nasa-csv", NASA_FILE)

    # then
    assert kr.endswith(
        "979 unchanged, 30 superseded by a later row, 0 failed, 0 organisations created, 0 owners linked\n"
    )
    assert nasa.endswith(
        "1397 unchanged, 233 superseded by a later row, 0 failed, 0 organisations created, 1 owners linked\n"
    )
    assert Organization.objects.count() == organisations + 1
    assert Patent.objects.get(application_number=GRAPHENE).owner == buyer
    assert Patent.objects.get(application_number="11848332").owner == Organization.objects.get(name=NASA)


@pytest.mark.django_db
def test_an_existing_organisation_is_matched_by_exact_name_and_country() -> None:
    # given: the university registered itself, and a namesake exists in another country
    university = Organization.objects.create(name="인천대학교 산학협력단", kind="university", country="KR")
    Organization.objects.create(name="인천대학교 산학협력단", kind="university", country="US")
    Organization.objects.create(name="인천대학교 산학협력단 ", kind="university", country="KR")

    # when
    out, _ = _import("kipris-csv", KR_FILE)

    # then
    assert "58 organisations created" in out
    assert Patent.objects.filter(owner=university).count() == 874
    assert Organization.objects.filter(name="인천대학교 산학협력단").count() == 2


@pytest.mark.django_db
def test_a_csv_reimport_keeps_the_fields_its_source_does_not_carry(tmp_path: Path) -> None:
    # given: a KIPRIS patent enriched through JSONL with claims, CPC codes, fee date and family
    _import("kipris-csv", KR_FILE)
    path = tmp_path / "kr.jsonl"
    _export(path, "KR")
    graphene = next(line for line in path.open(encoding="utf-8") if f'"{GRAPHENE}"' in line)
    enriched = json.loads(graphene) | {
        "claims": ["스프레이를 이용하여 환원된 산화그래핀 용액을 분사하는 단계를 포함하는 제조방법."],
        "cpc_codes": ["H01G 11/86"],
        "next_annual_fee_due": "2026-10-24",
        "family_id": "KR-1018463630000",
    }
    (tmp_path / "enriched.jsonl").write_text(json.dumps(enriched, ensure_ascii=False) + "\n", "utf-8")
    enrich, _ = _import("jsonl", tmp_path / "enriched.jsonl")

    # when
    again, _ = _import("kipris-csv", KR_FILE)

    # then
    assert "1 rows, 0 created, 1 updated, 0 unchanged" in enrich
    assert "0 created, 0 updated, 979 unchanged" in again
    patent = Patent.objects.get(application_number=GRAPHENE)
    assert patent.claims == enriched["claims"]
    assert (patent.cpc_codes, patent.next_annual_fee_due, patent.family_id) == (
        ["H01G 11/86"],
        date(2026, 10, 24),
        "KR-1018463630000",
    )


@pytest.mark.django_db
def test_the_writer_runs_the_same_queries_for_a_batch_of_50_as_for_500(tmp_path: Path) -> None:
    # given: 500 real records, and the organisations of their holders already known
    _import_real_files()
    path = tmp_path / "all.jsonl"
    _export(path)
    with path.open(encoding="utf-8") as stream:
        records = [item for _, item in FORMATS["jsonl"](stream, date.today())][:500]

    def queries(count: int) -> int:
        Patent.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            write_patents(enumerate(records[:count]), fields=FIELDS["jsonl"])
        return len(captured)

    # then: savepoint, patents, organisations, upsert, search outbox (the patents, then the listings that
    # package them: a lookup and, with none here, no insert), release — whatever the number of rows
    assert queries(50) == queries(500) == 7


def test_the_jsonl_fields_are_every_field_of_patent_record_in_order() -> None:
    assert list(jsonl.FIELDS) == [f.name for f in dataclasses.fields(PatentRecord)]


def test_line_breaks_other_than_line_feed_are_escaped_in_exported_lines() -> None:
    record = PatentRecord(office="KR", application_number="1", titles={"en": "a\u2028b\x85c"})

    line = jsonl.dumps(record)

    assert line.splitlines() == [line]
    assert jsonl.parse_line(line) == record
