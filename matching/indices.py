"""The three search indices (listings, patents, demands): mappings, versioned names and the aliases.

Every index is reached through an alias (`<prefix>-listings`) that points at one versioned index
(`<prefix>-listings-v20261121t101500123456`). A rebuild fills a new version and swaps the alias in one
atomic call, so searches never see a half-built index. While a rebuild runs, the new version also carries
the `<alias>-next` alias, and incremental updates are written to both (see indexing.py).

Text is analysed in Python (matching/analysis.py): the analysed terms, space-separated, go to the
`*_terms` fields, which the engine splits on whitespace only; the original text is kept in the `text`
fields (standard analyzer) for display, the BM25 baseline and "more like this".
"""

import hashlib
import json
from dataclasses import dataclass

from django.utils import timezone
from elasticsearch_dsl import (
    Boolean,
    Completion,
    Date,
    DenseVector,
    Index,
    Integer,
    Keyword,
    Long,
    Mapping,
    Text,
)

from matching.embeddings import encoder
from matching.es import client, index_name
from matching.models import IndexName

SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}


def _terms() -> Text:
    return Text(analyzer="whitespace", similarity="BM25")


def _vector() -> DenseVector:
    return DenseVector(
        dims=encoder().dimensions,
        index=True,
        similarity="cosine",
        index_options={"type": "hnsw", "m": 16, "ef_construction": 100},
    )


def _common(mapping: Mapping) -> None:
    """Fields every index shares: analysed text, IPC hierarchy, vector, autocomplete."""
    mapping.field("pk", Long())  # the row's id: the tie-breaker of every sort (_id has no doc values)
    mapping.field("title", Text(analyzer="standard"))
    mapping.field("body", Text(analyzer="standard"))
    mapping.field("language", Keyword())
    mapping.field("title_terms", _terms())
    mapping.field("body_terms", _terms())
    # Both term fields in one: the spelling suggester and "more like this" read this field.
    mapping.field("all_terms", _terms())
    mapping.field("ipc", Keyword())
    mapping.field("ipc_section", Keyword())
    mapping.field("ipc_class", Keyword())
    mapping.field("ipc_subclass", Keyword())
    mapping.field("cpc", Keyword())
    mapping.field("suggest", Completion(analyzer="simple", max_input_length=100))
    mapping.field("vector", _vector())
    # The title alone, encoded apart: English -> Korean matching gains most from it (docs/benchmarks.md).
    mapping.field("title_vector", _vector())
    mapping.field("has_vector", Boolean())


def listings_mapping() -> Mapping:
    m = Mapping()
    _common(m)
    for name in ("sector", "owner_kind", "seller_id", "transaction_types", "legal_status", "office"):
        m.field(name, Keyword())
    m.field("seller_name", Text(analyzer="standard"))
    m.field("price_currency", Keyword())
    m.field("price_band", Keyword())
    m.field("price_amount", Long())
    m.field("trl", Integer())
    m.field("min_expiry", Date())
    m.field("published_at", Date())
    m.field("patent_ids", Keyword())
    m.field("is_generated", Boolean())
    return m


def patents_mapping() -> Mapping:
    m = Mapping()
    _common(m)
    for name in ("office", "legal_status", "owner_id", "owner_kind", "application_number", "applicants"):
        m.field(name, Keyword())
    m.field("application_date", Date())
    m.field("expiry", Date())
    return m


def demands_mapping() -> Mapping:
    m = Mapping()
    _common(m)
    for name in ("buyer_id", "sector", "transaction_type", "keywords"):
        m.field(name, Keyword())
    m.field("is_open", Boolean())
    m.field("created_at", Date())
    return m


MAPPINGS = {
    IndexName.LISTINGS: listings_mapping,
    IndexName.PATENTS: patents_mapping,
    IndexName.DEMANDS: demands_mapping,
}


@dataclass(frozen=True)
class IndexRef:
    name: str  # "listings", "patents" or "demands"; or a temporary index's own name
    kind: str = ""  # the mapping and facets it uses, when not its name (a temporary evaluation index)

    @property
    def schema(self) -> str:
        return self.kind or self.name

    @property
    def alias(self) -> str:
        return index_name(self.name)

    @property
    def next_alias(self) -> str:
        """Carried by the version a rebuild is filling, so incremental updates reach it too."""
        return f"{self.alias}-next"

    def new_version_name(self) -> str:
        return f"{self.alias}-v{timezone.now():%Y%m%dt%H%M%S%f}"

    def create_version(self, name: str | None = None) -> str:
        name = name or self.new_version_name()
        index = Index(name, using=client())
        index.settings(**SETTINGS)
        mapping = MAPPINGS[IndexName(self.schema)]()
        mapping.meta("_meta", {"mapping_version": self.mapping_version()})
        index.mapping(mapping)
        index.create()
        return name

    def mapping_version(self) -> str:
        """A digest of this code's mapping: a live index with another one needs a rebuild."""
        body = json.dumps(MAPPINGS[IndexName(self.schema)]().to_dict(), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def live_mapping_version(self) -> str | None:
        live = self.live_version()
        if live is None:
            return None
        mapping = client().indices.get_mapping(index=live)[live]["mappings"]
        return str(mapping.get("_meta", {}).get("mapping_version", "")) or None

    def versions_behind(self, alias: str) -> list[str]:
        found = client().options(ignore_status=404).indices.get_alias(name=alias)
        if found.meta.status == 404:
            return []
        return sorted(found.body.keys())

    def live_version(self) -> str | None:
        versions = self.versions_behind(self.alias)
        return versions[-1] if versions else None

    def write_targets(self) -> list[str]:
        """The live version and, during a rebuild, the version being filled."""
        return sorted(set(self.versions_behind(self.alias)) | set(self.versions_behind(self.next_alias)))

    def ensure(self) -> str:
        """The live version, created empty behind the alias when there is none yet."""
        live = self.live_version()
        if live:
            return live
        name = self.create_version()
        client().indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])
        return name


LISTINGS = IndexRef(IndexName.LISTINGS)
PATENTS = IndexRef(IndexName.PATENTS)
DEMANDS = IndexRef(IndexName.DEMANDS)
ALL = (LISTINGS, PATENTS, DEMANDS)


def by_name(name: str) -> IndexRef:
    for ref in ALL:
        if ref.name == name:
            return ref
    raise KeyError(name)
