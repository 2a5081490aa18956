"""The vault over HTTP: a real multipart upload through the encrypting handler, the certificate checked
offline (library and CLI), downloads, the log's public endpoints, and the upload limits."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import AsyncClient, Client

from escrow import merkle
from escrow.certificates import verify_certificate
from escrow.models import Deposit, DepositFile, LogEntry
from escrow.signing import tree_head_message, verify_signature
from escrow.vault import keys
from marketplace import actions
from tests.escrow.vault_fixtures import (
    KEK1,
    SIGNING_SEED,
    as_bytes,
    data_key_of,
    key_spellings,
    raw_rows,
    stored_files,
    vault_fixture,  # noqa: F401 -- the "vault" fixture
    world_fixture,  # noqa: F401 -- the "world" fixture
)
from tests.marketplace.factories import World

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SOURCE = b"int main(void) { return spray_dry(3, 0.42); }\n" * 3000  # ~140 KB: several chunks
DRAWING = bytes(range(256)) * 300


def _files(**contents: bytes) -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(name, content, "application/octet-stream") for name, content in contents.items()
    ]


def _seller_client(w: World) -> Client:
    client = Client()
    client.force_login(w.seller)
    return client


def _post(client: Client, data: dict[str, object], **extra: str) -> tuple[int, dict[str, object]]:
    response = client.post("/escrow/deposits/", data, **extra)  # type: ignore[arg-type]
    return response.status_code, response.json()


def test_a_deposit_round_trip_over_http_is_encrypted_certified_and_verifiable_offline(
    world: World, vault: Path, tmp_path: Path
) -> None:
    # given the seller's signed-in browser
    client = _seller_client(world)

    # when it uploads two files as a proof of existence
    status, body = _post(
        client,
        {
            "organization": world.seller_org.pk,
            "purpose": "proof_of_existence",
            "title": "Spray-drying controller, v3",
            "description": "Firmware and the nozzle drawing",
            "files": _files(**{"controller.c": SOURCE, "nozzle.dwg": DRAWING}),
        },
    )

    # then the deposit exists with its manifest, and the certificate verifies with the public key alone
    assert status == 201, body
    deposit = Deposit.objects.get(pk=body["id"])
    assert deposit.state == "sealed" and deposit.total_size == len(SOURCE) + len(DRAWING)
    rows = list(deposit.files.order_by("position"))
    assert [(r.position, r.name, r.size) for r in rows] == [
        (0, "controller.c", len(SOURCE)),
        (1, "nozzle.dwg", len(DRAWING)),
    ]
    certificate = body["certificate"]
    assert isinstance(certificate, dict)
    public = client.get("/escrow/public-key").json()
    assert public == {
        "key_id": keys.signer().key_id,
        "public_key": keys.signer().public_key_b64,
        "algorithm": "Ed25519",
    }
    (tmp_path / "controller.c").write_bytes(SOURCE)
    (tmp_path / "nozzle.dwg").write_bytes(DRAWING)
    files = {"controller.c": tmp_path / "controller.c", "nozzle.dwg": tmp_path / "nozzle.dwg"}
    assert verify_certificate(certificate, public["public_key"], files) == []
    assert certificate["deposit"]["id"] == deposit.pk
    assert certificate["log"]["index"] == deposit.log_index == 0

    # and the certificate download is the same document
    download = client.get(f"/escrow/deposits/{deposit.pk}/certificate.json")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert json.loads(download.content) == certificate

    # and the offline CLI agrees, with no database and no Django settings in its environment
    cert_path = tmp_path / "certificate.json"
    cert_path.write_bytes(download.content)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "escrow.verify", str(cert_path), *map(str, files.values()),
         "--public-key", public["public_key"]],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (tmp_path / "nozzle.dwg").write_bytes(DRAWING[:-1] + b"\x00")  # not the deposited drawing
    bad = subprocess.run(
        [sys.executable, "-m", "escrow.verify", str(cert_path), *map(str, files.values()),
         "--public-key", public["public_key"]],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 1, bad.stdout + bad.stderr
    forged = dict(certificate, deposit=dict(certificate["deposit"], title="Another title"))  # type: ignore[arg-type]
    assert "signature: the certificate signature does not verify" in verify_certificate(
        forged, public["public_key"]
    )

    # and only ciphertext is stored: no plaintext, not even a fragment of it
    stored = stored_files(vault)
    assert sorted(p.relative_to(vault).as_posix() for p in stored) == sorted(r.storage_name for r in rows)
    for row, plaintext in zip(rows, (SOURCE, DRAWING), strict=True):
        ciphertext = (vault / row.storage_name).read_bytes()
        assert ciphertext != plaintext and plaintext[:64] not in ciphertext
        assert len(ciphertext) > len(plaintext)

    # and the depositor downloads the plaintext, streamed, with the download on the log
    response = client.get(f"/escrow/deposits/{deposit.pk}/files/0")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == SOURCE  # type: ignore[attr-defined]
    assert response["Content-Disposition"] == 'attachment; filename="controller.c"'
    assert response["Content-Length"] == str(len(SOURCE))
    assert list(LogEntry.objects.values_list("kind", "actor_id")) == [
        ("deposit", world.seller.pk),
        ("download", world.seller.pk),
    ]


def test_no_key_is_stored_in_plaintext_in_any_vault_table(world: World, vault: Path) -> None:
    # given a deposit made over HTTP
    status, body = _post(
        _seller_client(world),
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Process",
         "files": _files(**{"process.pdf": SOURCE})},
    )  # fmt: skip
    assert status == 201
    deposit = Deposit.objects.get(pk=body["id"])
    data_key = data_key_of(deposit)  # the key exists (it decrypts the file) ...

    # when every column of every vault row is read as the database stores it
    columns = [
        as_bytes(value)
        for table in ("escrow_deposit", "escrow_depositfile", "escrow_logentry", "escrow_treehead")
        for row in raw_rows(table)
        for value in row
    ]

    # then neither the data key, the KEK nor the signing key appears in any spelling
    assert columns
    for secret in (data_key, KEK1, SIGNING_SEED):
        for spelling in key_spellings(secret):
            assert not any(spelling in value for value in columns)
    # ... and what is stored is the wrapped key: 12-byte nonce, 32-byte key, 16-byte tag
    assert len(bytes(deposit.wrapped_key)) == 60 and deposit.kek_id == "k1"


def test_uploads_over_the_size_limit_are_refused_with_nothing_stored(
    world: World, vault: Path, settings: Any
) -> None:
    # given a limit of 100 kB per deposit
    settings.ESCROW_MAX_DEPOSIT_BYTES = 100_000

    # when two 60 kB files are uploaded (the first is complete when the second crosses the limit)
    status, body = _post(
        _seller_client(world),
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Too much",
         "files": _files(a=b"a" * 60_000, b=b"b" * 60_000)},
    )  # fmt: skip

    # then TOO_LARGE, and no deposit row, no stored file, no log entry
    assert (status, body["code"]) == (413, "too_large")
    assert Deposit.objects.count() == 0 and DepositFile.objects.count() == 0
    assert stored_files(vault) == []
    assert LogEntry.objects.count() == 0


def test_a_body_that_cannot_fit_is_refused_before_it_is_parsed(
    world: World, vault: Path, settings: Any
) -> None:
    # given tiny limits
    settings.ESCROW_MAX_DEPOSIT_BYTES = 1_000
    settings.ESCROW_MAX_FILES_PER_DEPOSIT = 1
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000

    # when a body far larger than they allow is posted
    status, body = _post(
        _seller_client(world),
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Huge",
         "files": _files(big=b"x" * 1_000_000)},
    )  # fmt: skip

    # then TOO_LARGE, nothing stored
    assert (status, body["code"]) == (413, "too_large")
    assert Deposit.objects.count() == 0 and stored_files(vault) == []


def test_uploads_with_too_many_files_are_refused_with_nothing_stored(
    world: World, vault: Path, settings: Any
) -> None:
    # given at most two files per deposit
    settings.ESCROW_MAX_FILES_PER_DEPOSIT = 2

    # when three are uploaded
    status, body = _post(
        _seller_client(world),
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Three",
         "files": _files(a=b"1", b=b"2", c=b"3")},
    )  # fmt: skip

    # then TOO_MANY_FILES, and nothing is left behind
    assert (status, body["code"]) == (400, "too_many_files")
    assert Deposit.objects.count() == 0 and stored_files(vault) == []


def test_a_refused_deposit_deletes_the_ciphertext_it_had_stored(world: World, vault: Path) -> None:
    # when a buyer tries to deposit for the seller's organisation
    client = Client()
    client.force_login(world.buyer)
    status, body = _post(
        client,
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Not mine",
         "files": _files(a=SOURCE)},
    )  # fmt: skip

    # then PERMISSION_DENIED, and the files encrypted during the upload are gone
    assert (status, body["code"], body["field"]) == (403, "permission_denied", "organization_id")
    assert Deposit.objects.count() == 0 and stored_files(vault) == []


def test_an_upload_without_files_is_an_empty_deposit(world: World, vault: Path) -> None:
    status, body = _post(
        _seller_client(world),
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Nothing"},
    )
    assert (status, body["code"]) == (400, "empty_deposit")
    assert Deposit.objects.count() == 0


def test_api_tokens_authenticate_uploads_and_bad_tokens_or_nobody_are_refused(
    world: World, vault: Path
) -> None:
    # given the seller's API token
    _, token = actions.create_api_token(world.seller, "CI upload")
    data = {"organization": world.seller_org.pk, "purpose": "listing", "listing": world.listing.pk,
            "title": "Listing samples"}  # fmt: skip

    # when a client without cookies posts with it, with a wrong one, and with none
    with_token = Client(enforce_csrf_checks=True).post(
        "/escrow/deposits/",
        {**data, "files": _files(a=b"sample")},
        headers={"Authorization": f"Bearer {token}"},
    )
    wrong = Client().post(
        "/escrow/deposits/",
        {**data, "files": _files(a=b"sample")},
        headers={"Authorization": "Bearer ipm_nope"},
    )
    nobody = Client().post("/escrow/deposits/", {**data, "files": _files(a=b"sample")})

    # then the token's user deposits (no CSRF needed without a cookie); the others get 401
    assert with_token.status_code == 201, with_token.json()
    assert Deposit.objects.get().listing_id == world.listing.pk
    assert (wrong.status_code, wrong.json()["code"]) == (401, "not_authenticated")
    assert (nobody.status_code, nobody.json()["code"]) == (401, "not_authenticated")
    assert len(stored_files(vault)) == 1


def test_a_session_upload_without_the_csrf_token_is_refused_and_leaves_nothing(
    world: World, vault: Path
) -> None:
    # given a signed-in browser session with CSRF checks enforced
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.seller)

    # when a form is posted without the token (as a foreign page would)
    status, body = _post(
        client,
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "Forged",
         "files": _files(a=SOURCE)},
    )  # fmt: skip

    # then refused, nothing kept
    assert (status, body["code"]) == (403, "permission_denied")
    assert Deposit.objects.count() == 0 and stored_files(vault) == []


def test_the_log_endpoints_serve_signed_heads_and_proofs_that_verify(world: World, vault: Path) -> None:
    # given three deposits
    client = _seller_client(world)
    heads = []
    for n in range(3):
        status, _ = _post(
            client,
            {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": f"Rev {n}",
             "files": _files(a=b"revision %d" % n)},
        )  # fmt: skip
        assert status == 201
        heads.append(client.get("/escrow/log/tree-head").json())
    public_key = keys.signer().public_key_b64

    # when a monitor fetches the heads and the proofs between them
    first, last = heads[0], heads[-1]
    consistency = client.get(
        f"/escrow/log/consistency?from={first['tree_size']}&to={last['tree_size']}"
    ).json()
    inclusion = client.get(f"/escrow/log/inclusion?index=1&tree_size={last['tree_size']}").json()

    # then each head is signed, the last extends the first, and entry 1 is in the last tree
    assert [h["tree_size"] for h in heads] == [1, 2, 3]
    for head in heads:
        message = tree_head_message(head["tree_size"], head["root_hash"], head["timestamp_ms"])
        assert verify_signature(public_key, message, head["signature"])
    assert merkle.verify_consistency(
        first["tree_size"],
        last["tree_size"],
        bytes.fromhex(first["root_hash"]),
        bytes.fromhex(last["root_hash"]),
        [bytes.fromhex(p) for p in consistency["proof"]],
    )
    leaf = bytes(LogEntry.objects.get(index=1).leaf)
    assert inclusion["leaf_hash"] == merkle.leaf_hash(leaf).hex()
    assert merkle.verify_inclusion(
        merkle.leaf_hash(leaf),
        1,
        3,
        [bytes.fromhex(p) for p in inclusion["proof"]],
        bytes.fromhex(last["root_hash"]),
    )
    bad = client.get("/escrow/log/inclusion?index=5&tree_size=3")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid")
    assert client.get("/escrow/log/consistency?from=x&to=3").status_code == 400


def test_downloads_stream_under_asgi_as_well(world: World, vault: Path) -> None:
    # given a deposit
    status, body = _post(
        _seller_client(world),
        {"organization": world.seller_org.pk, "purpose": "proof_of_existence", "title": "ASGI",
         "files": _files(**{"controller.c": SOURCE})},
    )  # fmt: skip
    assert status == 201
    client = AsyncClient()
    client.force_login(world.seller)

    # when it is downloaded through Django's ASGI handler (as uvicorn serves it)
    async def fetch() -> tuple[int, list[bytes]]:
        response = await client.get(f"/escrow/deposits/{body['id']}/files/0")
        return response.status_code, [chunk async for chunk in response.streaming_content]  # type: ignore[attr-defined]

    code, chunks = async_to_sync(fetch)()

    # then the plaintext arrives chunk by chunk (never buffered whole), and the download is logged
    assert code == 200 and b"".join(chunks) == SOURCE
    assert len(chunks) > 1
    assert LogEntry.objects.filter(kind="download", actor=world.seller).count() == 1
