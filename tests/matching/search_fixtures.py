"""Search test fixtures: indices of their own per test (real Elasticsearch), real patent records."""

import uuid
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from elasticsearch import helpers

from marketplace.importers import kipris_csv, nasa_csv
from marketplace.importers.writer import write_patents
from marketplace.models import Organization, Patent
from matching import indexing
from matching.es import client
from matching.indices import ALL

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def search_indices(settings: object) -> Iterator[str]:
    """A fresh index prefix for the test; every index under it is deleted afterwards."""
    base = settings.ELASTICSEARCH_INDEX_PREFIX
    prefix = f"{base}-{uuid.uuid4().hex[:8]}"
    settings.ELASTICSEARCH_INDEX_PREFIX = prefix
    yield prefix
    delete_indices(prefix)


def delete_indices(prefix: str) -> None:
    # Deleting by wildcard is refused (destructive_requires_name): resolve the names first.
    names = list(client().indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if names:
        client().indices.delete(index=",".join(names))


def import_real(kr_rows: int = 0, nasa_rows: int = 0) -> list[Patent]:
    """The first rows of the shared data files, through the production importer."""
    if kr_rows:
        with (DATA / "kr_university_patents_inu.csv").open(encoding="utf-8-sig", newline="") as stream:
            write_patents(list(islice(kipris_csv.read(stream, date.today()), kr_rows)))
    if nasa_rows:
        with (DATA / "us_nasa_licensable_patents_2014.csv").open(encoding="utf-8-sig", newline="") as stream:
            write_patents(list(islice(nasa_csv.read(stream, date.today()), nasa_rows)))
    return list(Patent.objects.order_by("pk"))


def rebuild_all() -> None:
    for ref in ALL:
        indexing.rebuild(ref, schedule_missing=False)


def seller(name: str = "seller", kind: str = "university") -> tuple[User, Organization]:
    user = User.objects.create_user(f"{name}-{uuid.uuid4().hex[:6]}")
    org = Organization.objects.create(name=f"{name} org", kind=kind, country="KR")
    org.memberships.create(user=user, role="admin")
    return user, org


@pytest.fixture(scope="module")
def module_search_indices() -> Iterator[str]:
    """Indices shared by a module's tests (creating indices is the slow part); see `indexed_scene`."""
    from django.test import override_settings

    prefix = f"{django_settings.ELASTICSEARCH_INDEX_PREFIX}-{uuid.uuid4().hex[:8]}"
    with override_settings(ELASTICSEARCH_INDEX_PREFIX=prefix):
        for ref in ALL:
            ref.ensure()
        yield prefix
        delete_indices(prefix)


@pytest.fixture
def indexed_scene(module_search_indices: str) -> Iterator[None]:
    """Index what the test's database holds now into the module's indices; empty them afterwards."""
    written = {ref: indexing.source_ids(ref) for ref in ALL}
    for ref, ids in written.items():
        indexing.write(ref, ids)
        client().indices.refresh(index=ref.alias)
    yield
    # Delete what was written (delete_by_query lives in a module this engine does not have).
    actions = [
        {"_op_type": "delete", "_index": ref.alias, "_id": str(pk)}
        for ref, ids in written.items()
        for pk in ids
    ]
    helpers.bulk(client(), actions, raise_on_error=False, refresh=True)
