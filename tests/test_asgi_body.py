"""Request bodies under ASGI are spooled encrypted: the spool's file semantics (against io.BytesIO), no
plaintext in its file on disk, the handler's read_body, and a vault upload through the real uvicorn."""

import contextlib
import io
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.exceptions import RequestAborted
from hypothesis import given
from hypothesis import strategies as st

from backend import asgi_body
from backend.asgi_body import EncryptedSpool, SpoolEncryptingASGIHandler
from escrow.models import DepositFile
from escrow.vault import storage
from marketplace import actions
from tests.marketplace.factories import build_world

MARKER = b"CONFIDENTIAL nozzle temperature profile, RGO 0.42 g/L; "
THRESHOLDS = {"memory": 10**9, "spills at once": 0, "spills midway": 200}

Message = dict[str, Any]


def _scan(spool: EncryptedSpool) -> bytes:
    """Every byte of the spool's file on disk, read beside the spool (its position is not touched)."""
    spill_file = spool.spill_file
    assert spill_file is not None
    size = os.fstat(spill_file.fileno()).st_size
    return os.pread(spill_file.fileno(), size, 0)


# --- the spool as a file, against io.BytesIO ---

payloads = st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(b"ab\n\x00")).map(bytes))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("write"), payloads),
        st.tuples(st.just("read"), st.integers(-1, 400) | st.none()),
        st.tuples(st.just("readline"), st.integers(-1, 400) | st.none()),
        st.tuples(st.just("readinto"), st.integers(0, 400)),
        st.tuples(
            st.just("seek"), st.integers(-500, 500), st.sampled_from([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END])
        ),
    ),
    max_size=40,
)


@pytest.mark.parametrize("threshold", THRESHOLDS.values(), ids=THRESHOLDS.keys())
@given(operations=operations)
def test_the_spool_reads_and_seeks_like_a_file_in_memory_or_spilled(
    threshold: int, operations: list[tuple[Any, ...]]
) -> None:
    # given a spool and the in-memory file it must behave like (writes append, as in "a+b" mode)
    spool, model = EncryptedSpool(threshold), io.BytesIO()

    # when the same writes, reads and seeks are made on both
    for name, *args in operations:
        if name == "write":
            model.seek(0, io.SEEK_END)
            assert spool.write(args[0]) == model.write(args[0])
        elif name == "read":
            assert spool.read(args[0]) == model.read(args[0])
        elif name == "readline":
            assert spool.readline(args[0]) == model.readline(args[0])
        elif name == "readinto":
            ours, theirs = bytearray(args[0]), bytearray(args[0])
            assert spool.readinto(ours) == model.readinto(theirs)
            assert ours == theirs
        else:
            offset, whence = args
            base = {io.SEEK_SET: 0, io.SEEK_CUR: model.tell(), io.SEEK_END: len(model.getvalue())}[whence]
            if base + offset < 0:
                continue  # BytesIO clamps such seeks to 0 where files refuse them; not compared
            assert spool.seek(offset, whence) == model.seek(offset, whence)
        assert spool.tell() == model.tell()

    # then both hold the same bytes, on disk exactly when they outgrew the threshold
    content = model.getvalue()
    spool.seek(0)
    assert spool.read() == content
    spool.seek(0)
    assert list(spool) == list(io.BytesIO(content))
    assert spool.spilled == (len(content) > threshold)
    if spool.spilled and len(content) >= 16:
        assert _scan(spool) != content


def test_a_small_body_stays_in_memory() -> None:
    # given a spool with Django's in-memory limit
    spool = EncryptedSpool(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)

    # when a body of exactly that size is written
    spool.write(b"x" * settings.FILE_UPLOAD_MAX_MEMORY_SIZE)

    # then no file is made; one more byte spills it
    assert not spool.spilled and spool.spill_file is None
    spool.write(b"y")
    assert spool.spilled
    assert spool.seek(-2, io.SEEK_END) == settings.FILE_UPLOAD_MAX_MEMORY_SIZE - 1
    assert spool.read() == b"xy"


def test_the_spilled_file_never_holds_the_plaintext() -> None:
    # given 5 MB of a recognisable text, written in the 64 KiB pieces a server hands over
    plaintext = (MARKER * (5 * 1024 * 1024 // len(MARKER) + 1))[: 5 * 1024 * 1024]
    spool = EncryptedSpool(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)

    # when it is spooled
    for start in range(0, len(plaintext), 64 * 1024):
        spool.write(plaintext[start : start + 64 * 1024])

    # then the file on disk has every byte, none of the text (not even the part first kept in memory)
    on_disk = _scan(spool)
    assert spool.spilled and len(on_disk) == len(plaintext)
    assert MARKER[:12] not in on_disk
    # and reads at any offset, block-aligned or not, give the plaintext back
    for offset in (0, 15, 16, 17, 2_621_440, 2_621_441, len(plaintext) - 5):
        spool.seek(offset)
        assert spool.read(70_000) == plaintext[offset : offset + 70_000]


def test_closing_the_spool_closes_its_file_and_ends_reads() -> None:
    # given a spilled spool
    spool = EncryptedSpool(4)
    spool.write(b"secret body")
    spill_file = spool.spill_file
    assert spill_file is not None

    # when it is closed
    spool.close()

    # then the file is gone and the spool refuses reads, as a closed file does
    assert spill_file.closed and spool.closed
    with pytest.raises(ValueError, match="closed file"):
        spool.read()


def test_two_spools_encrypt_the_same_body_differently() -> None:
    # given the same body spooled twice
    first, second = EncryptedSpool(0), EncryptedSpool(0)

    # when both spill
    first.write(MARKER * 10)
    second.write(MARKER * 10)

    # then their files differ: every spool has a key of its own
    assert _scan(first) != _scan(second)


# --- read_body, fed by a fake ASGI receive ---


def _receive(messages: list[Message]) -> Callable[[], Awaitable[Mapping[str, Any]]]:
    pending = list(messages)

    async def receive() -> Mapping[str, Any]:
        assert pending, "read_body asked for a message after the end of the body"
        return pending.pop(0)

    return receive


@pytest.fixture
def spools(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EncryptedSpool]]:
    """The spools read_body makes, kept to check they are closed."""
    made: list[EncryptedSpool] = []

    class Kept(EncryptedSpool):
        def __init__(self, max_memory_size: int) -> None:
            super().__init__(max_memory_size)
            made.append(self)

    monkeypatch.setattr(asgi_body, "EncryptedSpool", Kept)
    yield made


async def test_read_body_returns_the_whole_body_rewound_and_encrypted_on_disk(
    spools: list[EncryptedSpool],
) -> None:
    # given a 3 MB body in 1 MB messages, one of them without a body (allowed by the ASGI spec)
    parts = [os.urandom(1024 * 1024) for _ in range(3)]
    messages: list[Message] = [{"type": "http.request", "body": part, "more_body": True} for part in parts]
    messages.insert(1, {"type": "http.request", "more_body": True})
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    # when the handler reads it
    body = await SpoolEncryptingASGIHandler().read_body(_receive(messages))

    # then it has all of it, from the start, spilled (above 2.5 MB) into the encrypted file
    assert [id(body)] == [id(spool) for spool in spools]  # the one spool made, returned as IO[bytes]
    assert body.tell() == 0
    assert body.read() == b"".join(parts)
    assert spools[0].spilled and parts[0][:64] not in _scan(spools[0])


async def test_read_body_keeps_a_small_body_in_memory(spools: list[EncryptedSpool]) -> None:
    # given a JSON body in one message (no more_body: it defaults to false)
    messages: list[Message] = [{"type": "http.request", "body": b'{"query": "{ __typename }"}'}]

    # when the handler reads it
    body = await SpoolEncryptingASGIHandler().read_body(_receive(messages))

    # then it is read back whole and nothing went to disk
    assert body.read() == b'{"query": "{ __typename }"}'
    assert not spools[0].spilled


async def test_a_disconnect_before_the_end_aborts_and_closes_the_spool(spools: list[EncryptedSpool]) -> None:
    # given a client that sends 3 MB and goes away before the rest
    messages: list[Message] = [
        {"type": "http.request", "body": b"a" * 3 * 1024 * 1024, "more_body": True},
        {"type": "http.disconnect"},
    ]

    # when the handler reads the body, then the request is aborted and the spool (and its file) closed
    with pytest.raises(RequestAborted):
        await SpoolEncryptingASGIHandler().read_body(_receive(messages))
    spill_file = spools[0].spill_file
    assert spools[0].closed and spill_file is not None and spill_file.closed


# --- end to end, through uvicorn ---


@pytest.mark.django_db(transaction=True)  # the server process sees only committed rows
def test_a_4_mb_deposit_through_uvicorn_is_stored_and_downloads_identically(live_server_url: str) -> None:
    # given a verified organisation's member with an API token, and 4 MB of technical material
    world = build_world()
    _, token = actions.create_api_token(world.seller, "CI upload")
    auth = {"Authorization": f"Bearer {token}"}
    material = os.urandom(4 * 1024 * 1024)

    # when it is uploaded to the real ASGI server (a body above the 2.5 MB in-memory limit)
    response = httpx.post(
        f"{live_server_url}/escrow/deposits/",
        data={"organization": str(world.seller_org.pk), "purpose": "proof_of_existence", "title": "Material"},
        files={"files": ("material.bin", material, "application/octet-stream")},
        headers=auth,
        timeout=60,
    )

    # then the deposit is made, and downloading the file gives the very same bytes
    try:
        assert response.status_code == 201, response.text
        download = httpx.get(
            f"{live_server_url}/escrow/deposits/{response.json()['id']}/files/0", headers=auth, timeout=60
        )
        assert download.status_code == 200
        assert download.content == material
    finally:  # the ciphertext went to the shared test vault folder: leave nothing there
        names = list(DepositFile.objects.values_list("storage_name", flat=True))
        storage.delete_quietly(names)
        for name in names:
            with contextlib.suppress(OSError):  # the batch's folder, once empty
                Path(storage.vault_storage().path(name)).parent.rmdir()
