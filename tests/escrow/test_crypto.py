"""Envelope encryption and streaming AES-256-GCM of the vault (pure: no database)."""

import base64
import hashlib
import os
import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escrow.canonical import canonical_json, sha256_hex
from escrow.crypto import (
    CHUNK_SIZE,
    HEADER_SIZE,
    RECORD_SIZE,
    TAG_SIZE,
    KeyRing,
    StreamEncryptor,
    TamperedError,
    UnknownKekError,
    decrypt_stream,
    new_data_key,
)

AAD = b"deposit:42|file:7"
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5]


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    """Cut data into pieces of the given sizes (cycled), the last piece taking what is left."""
    pieces, position, turn = [], 0, 0
    while position < len(data):
        size = sizes[turn % len(sizes)] if sizes else len(data)
        pieces.append(data[position : position + size])
        position += size
        turn += 1
    return pieces


def _encrypt(key: bytes, data: bytes, aad: bytes = AAD, piece_sizes: list[int] | None = None) -> bytes:
    encryptor = StreamEncryptor(key, aad)
    out = [encryptor.update(piece) for piece in _pieces(data, piece_sizes or [len(data) or 1])]
    out.append(encryptor.finalize())
    return b"".join(out)


def _decrypt(key: bytes, ciphertext: bytes, aad: bytes = AAD, piece_size: int = 8192) -> bytes:
    return b"".join(decrypt_stream(key, aad, _pieces(ciphertext, [piece_size])))


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


# ------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("size", SIZES)
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    encrypt_pieces=st.lists(st.integers(1, 3 * CHUNK_SIZE), min_size=1, max_size=6),
    decrypt_pieces=st.lists(st.integers(1, 3 * CHUNK_SIZE), min_size=1, max_size=6),
)
def test_round_trip_with_any_piece_sizes(
    size: int, seed: int, encrypt_pieces: list[int], decrypt_pieces: list[int]
) -> None:
    # given
    plaintext = random.Random(seed).randbytes(size)  # noqa: S311 - reproducible test data
    key = new_data_key()
    encryptor = StreamEncryptor(key, AAD)

    # when
    ciphertext = b"".join(
        [encryptor.update(p) for p in _pieces(plaintext, encrypt_pieces)] + [encryptor.finalize()]
    )
    decrypted = list(decrypt_stream(key, AAD, _pieces(ciphertext, decrypt_pieces)))

    # then
    assert b"".join(decrypted) == plaintext
    assert all(len(chunk) <= CHUNK_SIZE for chunk in decrypted)
    chunks = max(1, -(-size // CHUNK_SIZE))  # an empty file is one empty final chunk
    assert len(ciphertext) == HEADER_SIZE + size + chunks * TAG_SIZE
    assert encryptor.size == size
    assert encryptor.plaintext_sha256 == hashlib.sha256(plaintext).hexdigest()
    assert encryptor.ciphertext_sha256 == hashlib.sha256(ciphertext).hexdigest()


def test_update_with_empty_pieces_and_single_bytes() -> None:
    # given
    key, plaintext = new_data_key(), os.urandom(CHUNK_SIZE + 3)
    encryptor = StreamEncryptor(key, AAD)

    # when
    parts = [encryptor.update(b"")]
    parts += [encryptor.update(plaintext[i : i + 1]) for i in range(len(plaintext))]
    parts += [encryptor.update(b""), encryptor.finalize()]

    # then
    assert _decrypt(key, b"".join(parts)) == plaintext


def test_full_chunk_is_held_back_until_more_data_arrives() -> None:
    # given: exactly one chunk; it must carry the final flag, so it cannot be sealed yet
    key = new_data_key()
    encryptor = StreamEncryptor(key, AAD)

    # when
    first = encryptor.update(os.urandom(CHUNK_SIZE))
    second = encryptor.update(b"x")

    # then
    assert len(first) == HEADER_SIZE
    assert len(second) == RECORD_SIZE
    assert len(encryptor.finalize()) == 1 + TAG_SIZE


def test_encryptor_refuses_use_out_of_order() -> None:
    # given
    encryptor = StreamEncryptor(new_data_key(), AAD)

    # when / then
    with pytest.raises(RuntimeError):
        _ = encryptor.size
    with pytest.raises(RuntimeError):
        _ = encryptor.ciphertext_sha256
    encryptor.finalize()
    with pytest.raises(RuntimeError):
        encryptor.update(b"more")
    with pytest.raises(RuntimeError):
        encryptor.finalize()


def test_same_key_and_aad_twice_never_repeats_ciphertext() -> None:
    # given: a retried upload encrypts the same file under the same data key and aad
    key, plaintext = new_data_key(), os.urandom(1000)

    # when
    first, second = _encrypt(key, plaintext), _encrypt(key, plaintext)

    # then: a fresh salt per file gives a fresh file key, so no GCM nonce is ever reused
    assert first[HEADER_SIZE:] != second[HEADER_SIZE:]
    assert _decrypt(key, first) == _decrypt(key, second) == plaintext


def test_data_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        StreamEncryptor(os.urandom(16), AAD)


# -------------------------------------------------------------------------------------------- tampering


def _expect_tampered(key: bytes, ciphertext: bytes, aad: bytes = AAD) -> None:
    with pytest.raises(TamperedError):
        _decrypt(key, ciphertext, aad)


def test_every_single_byte_flip_of_a_small_file_is_detected() -> None:
    # given
    key = new_data_key()
    for plaintext in (b"", b"x", os.urandom(100)):
        ciphertext = _encrypt(key, plaintext)

        # when / then: header, body and tag alike
        for position in range(len(ciphertext)):
            _expect_tampered(key, _flip(ciphertext, position))


@pytest.fixture(scope="module")
def three_chunks() -> tuple[bytes, bytes, bytes]:
    key, plaintext = new_data_key(), os.urandom(2 * CHUNK_SIZE + 100)
    return key, plaintext, _encrypt(key, plaintext)


def test_byte_flips_at_every_header_byte_chunk_edge_and_tag_are_detected(
    three_chunks: tuple[bytes, bytes, bytes],
) -> None:
    # given
    key, _, ciphertext = three_chunks
    positions = set(range(HEADER_SIZE))
    for record_start in range(HEADER_SIZE, len(ciphertext), RECORD_SIZE):
        record_end = min(record_start + RECORD_SIZE, len(ciphertext))
        positions |= set(range(record_start, record_start + 24))  # first bytes of the chunk
        positions |= set(range(record_end - TAG_SIZE - 8, record_end))  # last bytes and the whole tag

    # when / then
    for position in sorted(positions):
        _expect_tampered(key, _flip(ciphertext, position))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_byte_flip_anywhere_is_detected(
    three_chunks: tuple[bytes, bytes, bytes], data: st.DataObject
) -> None:
    # given
    key, _, ciphertext = three_chunks
    position = data.draw(st.integers(0, len(ciphertext) - 1))
    bit = data.draw(st.integers(0, 7))

    # when
    tampered = ciphertext[:position] + bytes([ciphertext[position] ^ (1 << bit)]) + ciphertext[position + 1 :]

    # then
    _expect_tampered(key, tampered)


def test_truncation_is_detected(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    # given
    key, _, ciphertext = three_chunks
    boundaries = [HEADER_SIZE + RECORD_SIZE, HEADER_SIZE + 2 * RECORD_SIZE]

    # when / then: at a chunk boundary (only the final flag can tell), mid-chunk, and within the header
    for length in [*boundaries, len(ciphertext) - 1, len(ciphertext) - TAG_SIZE, HEADER_SIZE, 5, 0]:
        _expect_tampered(key, ciphertext[:length])


def test_truncated_empty_file_is_detected() -> None:
    # given
    key = new_data_key()
    ciphertext = _encrypt(key, b"")

    # when / then: the header alone no longer passes for an empty file
    _expect_tampered(key, ciphertext[:HEADER_SIZE])


def test_appended_data_is_detected(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    # given
    key, _, ciphertext = three_chunks
    last_record = ciphertext[HEADER_SIZE + 2 * RECORD_SIZE :]

    # when / then
    for extra in (
        b"\x00",
        os.urandom(TAG_SIZE),
        last_record,
        ciphertext[HEADER_SIZE : HEADER_SIZE + RECORD_SIZE],
    ):
        with pytest.raises(TamperedError):
            _decrypt(key, ciphertext + extra)


def test_appending_after_a_full_final_chunk_is_reported_as_such() -> None:
    # given: one full final chunk, then a copy of it
    key = new_data_key()
    ciphertext = _encrypt(key, os.urandom(CHUNK_SIZE))

    # when / then
    with pytest.raises(TamperedError, match="data after the final chunk"):
        _decrypt(key, ciphertext + ciphertext[HEADER_SIZE:])


def test_swapped_chunks_are_detected(three_chunks: tuple[bytes, bytes, bytes]) -> None:
    # given
    key, _, ciphertext = three_chunks
    header = ciphertext[:HEADER_SIZE]
    first = ciphertext[HEADER_SIZE : HEADER_SIZE + RECORD_SIZE]
    second = ciphertext[HEADER_SIZE + RECORD_SIZE : HEADER_SIZE + 2 * RECORD_SIZE]
    last = ciphertext[HEADER_SIZE + 2 * RECORD_SIZE :]

    # when / then
    _expect_tampered(key, header + second + first + last)
    _expect_tampered(key, header + first + first + last)  # a repeated chunk
    _expect_tampered(key, header + first + last)  # a dropped middle chunk


def test_chunk_moved_from_another_file_is_detected() -> None:
    # given: two files of one deposit, even with the same data key and aad
    key = new_data_key()
    one, other = _encrypt(key, os.urandom(CHUNK_SIZE + 10)), _encrypt(key, os.urandom(CHUNK_SIZE + 10))

    # when
    mixed = one[: HEADER_SIZE + RECORD_SIZE] + other[HEADER_SIZE + RECORD_SIZE :]
    header_swapped = other[:HEADER_SIZE] + one[HEADER_SIZE:]

    # then
    _expect_tampered(key, mixed)
    _expect_tampered(key, header_swapped)


def test_wrong_aad_or_key_is_detected() -> None:
    # given
    key = new_data_key()
    ciphertext = _encrypt(key, b"secret drawings")

    # when / then
    _expect_tampered(key, ciphertext, aad=b"deposit:42|file:8")
    _expect_tampered(key, ciphertext, aad=b"")
    _expect_tampered(new_data_key(), ciphertext)


def test_generator_yields_authenticated_chunks_before_detecting_truncation(
    three_chunks: tuple[bytes, bytes, bytes],
) -> None:
    # given: a stream cut after the second chunk
    key, plaintext, ciphertext = three_chunks
    stream = decrypt_stream(key, AAD, [ciphertext[: HEADER_SIZE + 2 * RECORD_SIZE]])

    # when
    received = next(stream)

    # then: the first chunk is authentic, the end of the stream is not
    assert received == plaintext[:CHUNK_SIZE]
    with pytest.raises(TamperedError):
        list(stream)


# ------------------------------------------------------------------------------------------------ memory


def test_streaming_runs_in_bounded_memory(tmp_path: Path) -> None:
    # given: 24 MiB, produced and consumed 8 KiB at a time
    total, block = 24 * 1024 * 1024, 8192
    key = new_data_key()
    source_hash = hashlib.sha256()
    target = tmp_path / "cipher.bin"

    def blocks() -> Iterator[bytes]:
        rng = random.Random(7)  # noqa: S311 - reproducible test data
        for _ in range(total // block):
            piece = rng.randbytes(block)
            source_hash.update(piece)
            yield piece

    def read(path: Path) -> Iterator[bytes]:
        with path.open("rb") as handle:
            while piece := handle.read(block):
                yield piece

    # when
    tracemalloc.start()
    try:
        encryptor = StreamEncryptor(key, AAD)
        with target.open("wb") as out:
            for piece in blocks():
                out.write(encryptor.update(piece))
            out.write(encryptor.finalize())
        _, encrypt_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result_hash = hashlib.sha256()
        for chunk in decrypt_stream(key, AAD, read(target)):
            result_hash.update(chunk)
        _, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then: a few chunks' worth, never the file
    assert result_hash.hexdigest() == source_hash.hexdigest() == encryptor.plaintext_sha256
    assert encrypt_peak < 1024 * 1024
    assert decrypt_peak < 1024 * 1024


def test_one_huge_update_is_processed_without_quadratic_copying() -> None:
    # given: a whole 32 MiB file handed over at once
    key, plaintext = new_data_key(), os.urandom(32 * 1024 * 1024)
    encryptor = StreamEncryptor(key, AAD)

    # when
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()

    # then
    assert _decrypt(key, ciphertext, piece_size=len(ciphertext)) == plaintext


# --------------------------------------------------------------------------------------------- key ring


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_key_ring_parses_ids_and_keys() -> None:
    # given
    one, two = os.urandom(32), os.urandom(32)

    # when
    ring = KeyRing.parse(f" k1:{_b64(one)} , k-2.b_c:{_b64(two)},", "k-2.b_c")

    # then
    assert ring.active_id == "k-2.b_c"
    assert ring.ids == ["k-2.b_c", "k1"]
    assert _b64(one) not in repr(ring) and _b64(two) not in repr(ring)


@pytest.mark.parametrize(
    ("spec", "active", "message"),
    [
        ("", "k1", "empty"),
        (" , ", "k1", "empty"),
        ("k1", "k1", "entry 1 is not of the form id:base64key"),
        (f":{_b64(bytes(32))}", "k1", "entry 1 is not of the form"),
        ("k1:not base64!", "k1", "'k1' is not valid base64"),
        (f"k1:{_b64(bytes(16))}", "k1", "'k1' must decode to 32 bytes, got 16"),
        (f"k1:{_b64(bytes(33))}", "k1", "must decode to 32 bytes, got 33"),
        (f"k1:{_b64(bytes(32))},k1:{_b64(bytes(32))}", "k1", "'k1' appears more than once"),
        (f"k1:{_b64(bytes(32))}", "k2", "active KEK 'k2' is not in the ring"),
        (f"k|1:{_b64(bytes(32))}", "k|1", "invalid KEK id"),
        (f"{'k' * 41}:{_b64(bytes(32))}", "k" * 41, "invalid KEK id"),
    ],
)
def test_key_ring_parse_errors(spec: str, active: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("|", r"\|")):
        KeyRing.parse(spec, active)


def test_wrap_unwrap_round_trip_and_the_wrapped_bytes_hide_the_key() -> None:
    # given
    ring = KeyRing({"k1": os.urandom(32)}, "k1")
    data_key = new_data_key()

    # when
    kek_id, wrapped = ring.wrap(data_key, b"deposit:42")

    # then
    assert kek_id == "k1"
    assert len(wrapped) == 12 + 32 + 16
    assert data_key not in wrapped
    assert data_key.hex().encode() not in wrapped and _b64(data_key).encode() not in wrapped
    assert ring.unwrap("k1", wrapped, b"deposit:42") == data_key
    assert ring.unwrap("k1", memoryview(wrapped), b"deposit:42") == data_key  # as a BinaryField returns it
    assert ring.wrap(data_key, b"deposit:42")[1] != wrapped  # random nonce


def test_unwrap_refuses_another_context_kek_or_changed_bytes() -> None:
    # given
    ring = KeyRing({"k1": os.urandom(32), "k2": os.urandom(32)}, "k1")
    data_key = new_data_key()
    _, wrapped = ring.wrap(data_key, b"deposit:42")

    # when / then: the wrapped key copied to another deposit row does not open there
    with pytest.raises(TamperedError):
        ring.unwrap("k1", wrapped, b"deposit:43")
    with pytest.raises(TamperedError):
        ring.unwrap("k2", wrapped, b"deposit:42")
    for position in range(len(wrapped)):
        with pytest.raises(TamperedError):
            ring.unwrap("k1", _flip(wrapped, position), b"deposit:42")
    with pytest.raises(TamperedError):
        ring.unwrap("k1", wrapped[:-1], b"deposit:42")


def test_unwrap_with_an_unknown_kek_says_so() -> None:
    # given
    ring = KeyRing({"k1": os.urandom(32)}, "k1")
    _, wrapped = ring.wrap(new_data_key(), b"deposit:42")

    # when / then
    with pytest.raises(UnknownKekError, match="unknown KEK id 'old'") as raised:
        ring.unwrap("old", wrapped, b"deposit:42")
    assert isinstance(raised.value, KeyError)
    with pytest.raises(KeyError):
        ring.wrap(new_data_key(), b"deposit:42", kek_id="old")


def test_rewrap_moves_a_data_key_to_the_active_kek() -> None:
    # given: a key wrapped under k1, then k2 becomes active
    k1, k2 = os.urandom(32), os.urandom(32)
    old_ring = KeyRing({"k1": k1}, "k1")
    data_key = new_data_key()
    _, wrapped = old_ring.wrap(data_key, b"deposit:42")
    ring = KeyRing({"k1": k1, "k2": k2}, "k2")

    # when
    kek_id, rewrapped = ring.rewrap("k1", wrapped, b"deposit:42")

    # then: k2 alone now opens it, for the same deposit only
    assert kek_id == "k2"
    assert KeyRing({"k2": k2}, "k2").unwrap("k2", rewrapped, b"deposit:42") == data_key
    with pytest.raises(TamperedError):
        ring.unwrap("k2", rewrapped, b"deposit:1")
    with pytest.raises(TamperedError):
        ring.rewrap("k1", wrapped, b"deposit:1")


def test_wrap_refuses_a_data_key_of_the_wrong_size() -> None:
    ring = KeyRing({"k1": os.urandom(32)}, "k1")
    with pytest.raises(ValueError, match="32 bytes"):
        ring.wrap(os.urandom(31), b"deposit:42")


# ---------------------------------------------------------------------------------------------- canonical


def test_canonical_json_sorts_and_compacts() -> None:
    assert canonical_json({"b": [1, "é"], "a": {"d": None, "c": True}}) == (
        '{"a":{"c":true,"d":null},"b":[1,"é"]}'.encode()
    )
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("value", [1.0, {"a": [0.5]}, {1: "x"}, {"a": b"bytes"}, float("nan")])
def test_canonical_json_refuses_ambiguous_values(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json(value)
