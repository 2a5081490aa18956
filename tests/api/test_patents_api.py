import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from gql import Client as GqlClient
from gql import gql
from gql.transport.httpx import HTTPXTransport

from backend.api.schema import schema

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
KR_TITLE_EN = "PREPARATION METHOD OF 3D GRAPHENE ELECTRODE FOR SUPERCAPACITOR USING SPRAY DISCHARGE"
KR_TITLE_EN = "PREPARATION METHOD OF 3D GRAPHENE ELECTRODE FOR SUPERCAPACITOR USING SPRAY DISCHARGE"

PATENT_QUERY = gql(
    """
    query ($number: String!) {
      patents(first: 1, applicationNumber: $number) {
        totalCount
        edges { node { office title titles { language text } ipcCodes applicants applicationDate
                        registrationNumber legalStatus expiryDate } }
      }
    }
    """
)


@pytest.fixture
def real_patents(transactional_db: None) -> None:
    for fmt, name in (
        ("kipris-csv", "kr_university_patents_inu.csv"),
        ("nasa-csv", "us_nasa_licensable_patents_2014.csv"),
    ):
        call_command("import_patents", str(DATA / name), format=fmt, no_progress=True, stdout=io.StringIO())


def test_real_patents_are_served_over_http_to_a_graphql_client(
    live_server_url: str, real_patents: None
) -> None:
    client = GqlClient(transport=HTTPXTransport(url=f"{live_server_url}/graphql/"))

    kr = client.execute(PATENT_QUERY, variable_values={"number": "1020160138184"})["patents"]
    nasa = client.execute(PATENT_QUERY, variable_values={"number": "11848332"})["patents"]

    assert kr["totalCount"] == 1
    assert kr["edges"][0]["node"] == {
        "office": "KR",
        "title": KR_TITLE_EN,
        "titles": [
            {
                "language": "en",
                "text": KR_TITLE_EN,
            },
            {"language": "ko", "text": "스프레이 분사를 이용한 슈퍼커패시터용 3차원 그래핀 전극의 제조방법"},
        ],
        "ipcCodes": ["H01G 11/86", "H01G 11/32", "H01G 11/46", "B05D 1/12", "B05D 3/02"],
        "applicants": ["인천대학교 산학협력단", "에이치씨테크(주)"],
        "applicationDate": "2016-10-24",
        "registrationNumber": "1018463630000",
        "legalStatus": "registered",
        "expiryDate": "2036-10-24",
    }
    assert nasa["edges"][0]["node"]["title"] == (
        "Nanoencapsulated aerogels produced by monomer vapor deposition and polymerization"
    )
    assert nasa["edges"][0]["node"]["legalStatus"] == "expired"  # expired 2025-10-18
    totals = client.execute(
        gql(
            '{ kr: patents(first: 1, office: "KR") { totalCount }'
            ' us: patents(first: 1, office: "US") { totalCount } }'
        )
    )
    assert (totals["kr"]["totalCount"], totals["us"]["totalCount"]) == (979, 1397)


@pytest.mark.django_db
def test_the_patent_list_costs_the_same_queries_for_5_and_50_rows(real_patents: None) -> None:
    counts = []
    for size in (5, 50):
        query = (
            f'{{ patents(first: {size}, ipcPrefix: "H01") {{ totalCount edges {{ node {{ id title }} }} }} }}'
        )
        with CaptureQueriesContext(connection) as captured:
            body = Client().post("/graphql/", {"query": query}, content_type="application/json").json()
        assert "errors" not in body
        assert len(body["data"]["patents"]["edges"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_a_page_larger_than_100_is_refused() -> None:
    body = (
        Client()
        .post(
            "/graphql/", {"query": "{ patents(first: 101) { totalCount } }"}, content_type="application/json"
        )
        .json()
    )

    assert body.get("data") is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["PAGE_SIZE_EXCEEDED"]


def test_the_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == str(schema) + "\n", "schema.graphql drifted: run `make schema` and commit it"
