import uuid

from elasticsearch_dsl import Document, Keyword, Text

from matching.es import client, index_name


def test_index_and_search_round_trip() -> None:
    # given: a fresh index of our own
    name = index_name(f"roundtrip-{uuid.uuid4().hex[:8]}")

    class Note(Document):
        title = Text()
        office = Keyword()

        class Index:
            name = "placeholder"

    es = client()
    Note._index._name = name
    Note.init(using=es)
    try:
        # when
        Note(title="three-dimensional graphene electrode for supercapacitors", office="KR").save(using=es)
        Note(title="flame suppression agent", office="US").save(using=es, refresh=True)

        # then
        hits = Note.search(using=es).query("match", title="graphene").filter("term", office="KR").execute()
        assert [hit.title for hit in hits] == ["three-dimensional graphene electrode for supercapacitors"]
        assert Note.search(using=es).count() == 2
    finally:
        es.indices.delete(index=name)


def test_the_engine_is_elasticsearch_8() -> None:
    # The minimal distribution has no root ("info") endpoint; the nodes API reports the version.
    nodes = client().nodes.info(node_id="_local", metric="_none")["nodes"]
    assert [node["version"][:2] for node in nodes.values()] == ["8."]
