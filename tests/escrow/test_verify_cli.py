"""`python -m escrow.verify`: the offline verifier, run without a database or Django settings."""

import base64
import hashlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from escrow import merkle
from escrow.canonical import canonical_json
from escrow.certificates import build_certificate, deposit_leaf, manifest_sha256, sign_certificate
from escrow.signing import Signer, new_seed_b64, sign_tree_head
from escrow.verify import PUBLIC_KEY_ENV, main

ROOT = Path(__file__).resolve().parents[2]
CREATED_AT = "2026-03-04T05:06:07+00:00"
CONTENTS = {
    "src/main.c": b"int main(void) { return 0; }\n",
    "report.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 64,
}


@pytest.fixture
def signer() -> Signer:
    return Signer.from_seed_b64(new_seed_b64())


@pytest.fixture
def world(tmp_path: Path, signer: Signer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A certificate for deposit 42 at index 2 of a 5-entry log, the deposited files and the log export."""
    monkeypatch.delenv(PUBLIC_KEY_ENV, raising=False)
    manifest = [
        {"name": n, "size": len(c), "sha256": hashlib.sha256(c).hexdigest()} for n, c in CONTENTS.items()
    ]
    leaf = deposit_leaf(42, 7, manifest_sha256(manifest), CREATED_AT)
    leaves = [canonical_json({"kind": "view", "n": i}) for i in range(5)]
    leaves[2] = leaf
    hashes = [merkle.leaf_hash(x) for x in leaves]
    heads = [sign_tree_head(s, merkle.root(hashes[:s]).hex(), 1_772_600_000_000 + s, signer) for s in (3, 5)]
    cert = build_certificate(
        deposit_id=42,
        depositor_id=7,
        depositor_name="Hanbit Materials",
        purpose="proof_of_existence",
        title="Electrolyte process",
        created_at=CREATED_AT,
        manifest=manifest,
        log_index=2,
        leaf=leaf,
        inclusion_proof=merkle.inclusion_proof(hashes, 2),
        tree_head=heads[1],
        signer=signer,
    )
    cert_path = tmp_path / "certificate.json"
    cert_path.write_text(json.dumps(cert, indent=2, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "src").mkdir()
    for name, content in CONTENTS.items():
        (tmp_path / name).write_bytes(content)
    lines = [{"type": "leaf", "index": i, "leaf": base64.b64encode(x).decode()} for i, x in enumerate(leaves)]
    lines.insert(3, {"type": "tree_head", **heads[0]})
    lines.append({"type": "tree_head", **heads[1]})
    log_path = tmp_path / "log.jsonl"
    log_path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    key_path = tmp_path / "platform.pub"
    key_path.write_text(signer.public_key_b64 + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return {
        "cert": cert,
        "cert_path": cert_path,
        "log_path": log_path,
        "log_lines": lines,
        "key_path": key_path,
    }


def _no_database_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.pop(PUBLIC_KEY_ENV, None)
    return env


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # cwd is ROOT so that `-m escrow.verify` resolves; paths are absolute.
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env if env is not None else _no_database_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ------------------------------------------------------------------------------------------- subprocess


def test_valid_certificate_and_files_in_a_process_without_django(
    world: dict[str, Any], signer: Signer
) -> None:
    # given
    files = [str(world["cert_path"].parent / name) for name in CONTENTS]

    # when: -X importtime lists every module the process imports
    result = _run(
        "-X",
        "importtime",
        "-m",
        "escrow.verify",
        str(world["cert_path"]),
        *files,
        "--public-key",
        signer.public_key_b64,
        cwd=ROOT,
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "ok  format: ipmarket-deposit-certificate/1",
        "ok  structure",
        f"ok  key id: {signer.key_id}",
        "ok  signature",
        f"ok  manifest: 2 file(s), sha256 {world['cert']['deposit']['manifest_sha256']}",
        "ok  log leaf: index 2",
        "ok  inclusion proof: leaf 2 of 5 under the tree head",
        "ok  tree head: size 5 at 1772600000005 ms",
        f"ok  file src/main.c: {len(CONTENTS['src/main.c'])} bytes, sha256 matches",
        f"ok  file report.pdf: {len(CONTENTS['report.pdf'])} bytes, sha256 matches",
        "VALID: certificate of deposit 42",
    ]
    imported = [
        line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    ]
    assert "escrow.certificates" in imported  # run as __main__, escrow.verify itself is not listed
    assert not [name for name in imported if name.split(".")[0] in ("django", "psycopg", "psycopg2")]


def test_subprocess_exit_codes(world: dict[str, Any], signer: Signer, tmp_path: Path) -> None:
    # given
    cert = str(world["cert_path"])
    report = tmp_path / "report.pdf"
    flipped = bytearray(CONTENTS["report.pdf"])
    flipped[1000] ^= 0x01
    report.write_bytes(bytes(flipped))
    other_key = Signer.from_seed_b64(new_seed_b64()).public_key_b64
    env_with_key = {**_no_database_env(), PUBLIC_KEY_ENV: str(world["key_path"])}

    # when / then
    assert (
        _run(
            "-m", "escrow.verify", cert, str(report), "--public-key", signer.public_key_b64, cwd=ROOT
        ).returncode
        == 1
    )
    assert _run("-m", "escrow.verify", cert, "--public-key", other_key, cwd=ROOT).returncode == 1
    assert _run("-m", "escrow.verify", cert, cwd=ROOT, env=env_with_key).returncode == 0
    assert _run("-m", "escrow.verify", cert, cwd=ROOT).returncode == 2  # no key anywhere
    log = str(world["log_path"])
    assert (
        _run("-m", "escrow.verify", "--log", log, "--public-key", signer.public_key_b64, cwd=ROOT).returncode
        == 0
    )
    lines = world["log_path"].read_text().splitlines()
    lines[1] = lines[1].replace('"index": 1', '"index": 7')
    world["log_path"].write_text("\n".join(lines) + "\n")
    result = _run("-m", "escrow.verify", "--log", log, "--public-key", signer.public_key_b64, cwd=ROOT)
    assert result.returncode == 1
    assert "FAIL line 2: leaf index 7 where 1 was due: entries 1..6 are missing" in result.stdout


# ------------------------------------------------------------------------------------------- in-process


def _main(*args: str) -> int:
    return main(list(args))


def test_files_are_matched_by_manifest_path_or_base_name(
    world: dict[str, Any], signer: Signer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: run from the deposit folder, src/main.c given as its manifest path; a copy elsewhere by name
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "report.pdf").write_bytes(CONTENTS["report.pdf"])

    # when
    code = _main(
        str(world["cert_path"]),
        "src/main.c",
        str(elsewhere / "report.pdf"),
        "--public-key",
        signer.public_key_b64,
    )

    # then
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok  file src/main.c" in out and "ok  file report.pdf" in out


def test_unlisted_files_are_reported_not_checked(
    world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    # when
    code = _main(str(world["cert_path"]), "report.pdf", "--public-key", signer.public_key_b64)

    # then
    out = capsys.readouterr().out
    assert code == 0
    assert "--  file src/main.c: not checked (file not given)" in out.splitlines()


def test_a_changed_file_is_invalid(
    world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    path = Path("src/main.c")
    path.write_bytes(CONTENTS["src/main.c"].replace(b"0", b"1"))

    # when
    code = _main(str(world["cert_path"]), "src/main.c", "report.pdf", "--public-key", signer.public_key_b64)

    # then
    out = capsys.readouterr().out
    assert code == 1
    assert (
        f"FAIL file src/main.c: sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}, the manifest says"
        in out
    )
    assert out.splitlines()[-1] == "INVALID: certificate of deposit 42, 1 problem(s)"


def test_a_file_not_in_the_manifest_is_invalid(world: dict[str, Any], signer: Signer, tmp_path: Path) -> None:
    stray = tmp_path / "stray.txt"
    stray.write_text("x")
    assert _main(str(world["cert_path"]), str(stray), "--public-key", signer.public_key_b64) == 1


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _one_char_changed(value: str) -> str:
    """The value with its first character replaced by another of the same kind."""
    first = value[0]
    # Two candidates per kind, so the replacement always differs (a value starting
    # with "B" once came back unchanged and the test failed at random).
    kind = "01" if first.isdigit() else ("AB" if first.isupper() else "ab")
    replacement = kind[1] if first == kind[0] else kind[0]
    assert replacement != first
    return replacement + value[1:]


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("title", lambda c: c["deposit"]["title"]),
        ("manifest hash", lambda c: c["deposit"]["manifest_sha256"]),
        ("manifest entry", lambda c: c["deposit"]["manifest"][1]["sha256"]),
        ("proof element", lambda c: c["log"]["inclusion_proof"][0]),
        ("tree head root", lambda c: c["log"]["tree_head"]["root_hash"]),
        ("signature", lambda c: c["signature"]),
        ("tree head signature", lambda c: c["log"]["tree_head"]["signature"]),
        ("leaf", lambda c: c["log"]["leaf"]),
        ("depositor", lambda c: c["deposit"]["depositor"]["name"]),
    ],
)
def test_one_changed_character_in_the_certificate_is_invalid(
    world: dict[str, Any], signer: Signer, where: str, field: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    text = world["cert_path"].read_text(encoding="utf-8")
    value = field(world["cert"])
    world["cert_path"].write_text(
        _edit(text, f'"{value}"', f'"{_one_char_changed(value)}"'), encoding="utf-8"
    )

    # when
    code = _main(str(world["cert_path"]), "--public-key", signer.public_key_b64)

    # then
    out = capsys.readouterr().out
    assert code == 1, where
    assert "FAIL " in out and out.splitlines()[-1].startswith("INVALID: ")


def test_every_byte_flip_of_the_certificate_file_is_refused(
    world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    original = world["cert_path"].read_bytes()
    codes = []

    for position in range(len(original)):
        changed = bytearray(original)
        changed[position] ^= 0x01
        world["cert_path"].write_bytes(bytes(changed))
        try:
            parsed: Any = json.loads(changed)
        except ValueError:
            expected = 2  # not JSON (or not UTF-8) any more: refused as unusable input
        else:
            expected = 0 if parsed == world["cert"] else 1  # only whitespace may change harmlessly

        # when
        code = _main(str(world["cert_path"]), "--public-key", signer.public_key_b64)

        # then
        assert code == expected, position
        codes.append(code)
    capsys.readouterr()
    assert codes.count(1) > 500


def test_usage_errors(
    world: dict[str, Any], signer: Signer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    cert, key = str(world["cert_path"]), signer.public_key_b64
    not_json = tmp_path / "not.json"
    not_json.write_text("{certificate")
    array = tmp_path / "array.json"
    array.write_text("[]")

    # when / then
    assert _main(cert) == 2  # no key
    assert _main(cert, "--public-key", "not-a-key") == 2
    assert _main(cert, "--public-key", base64.b64encode(b"short").decode()) == 2
    assert _main(str(tmp_path / "missing.json"), "--public-key", key) == 2
    assert _main(str(not_json), "--public-key", key) == 2
    assert _main(str(array), "--public-key", key) == 2
    assert _main(cert, str(tmp_path / "missing.bin"), "--public-key", key) == 2
    assert _main(cert, "--log", str(world["log_path"]), "--public-key", key) == 2
    assert _main("--public-key", key) == 2
    assert _main("--bogus") == 2
    assert _main("--help") == 0
    err = capsys.readouterr().err
    assert f"error: no public key: pass --public-key KEY or set {PUBLIC_KEY_ENV}" in err
    assert "is not JSON" in err


def test_key_from_a_file_or_the_environment(
    world: dict[str, Any], signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = str(world["cert_path"])
    assert _main(cert, "--public-key", str(world["key_path"])) == 0
    monkeypatch.setenv(PUBLIC_KEY_ENV, signer.public_key_b64)
    assert _main(cert) == 0
    monkeypatch.setenv(PUBLIC_KEY_ENV, Signer.from_seed_b64(new_seed_b64()).public_key_b64)
    assert _main(cert) == 1
    assert _main(cert, "--public-key", signer.public_key_b64) == 0  # the flag wins over the environment


def test_the_key_inside_a_certificate_is_never_trusted(
    world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: a forger signs a certificate with his own key and even names it inside
    forger = Signer.from_seed_b64(new_seed_b64())
    forged = dict(world["cert"], public_key=forger.public_key_b64)
    forged.pop("signature")
    world["cert_path"].write_text(json.dumps(sign_certificate(forged, forger)))

    # when
    code = _main(str(world["cert_path"]), "--public-key", signer.public_key_b64)

    # then
    assert code == 1
    assert "FAIL key id" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------- log


def _write_log(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def _log_code(world: dict[str, Any], signer: Signer, lines: list[dict[str, Any]]) -> int:
    _write_log(world["log_path"], lines)
    return _main("--log", str(world["log_path"]), "--public-key", signer.public_key_b64)


def test_valid_log_export(world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    code = _main("--log", str(world["log_path"]), "--public-key", signer.public_key_b64)

    # then
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[-1] == "VALID: log of 5 entries and 2 tree heads"
    assert out[0].startswith("ok  tree head #0 (tree_size 3): root ")


def test_modified_removed_or_reordered_log_entries_are_invalid(
    world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    lines: list[dict[str, Any]] = world["log_lines"]
    leaf_lines = [i for i, line in enumerate(lines) if line["type"] == "leaf"]
    head_lines = [i for i, line in enumerate(lines) if line["type"] == "tree_head"]

    def modified(position: int, **changes: Any) -> list[dict[str, Any]]:
        result = [dict(line) for line in lines]
        result[position].update(changes)
        return result

    def without(position: int) -> list[dict[str, Any]]:
        return [line for i, line in enumerate(lines) if i != position]

    def swapped(first: int, second: int, keep_index: bool) -> list[dict[str, Any]]:
        result = [dict(line) for line in lines]
        result[first], result[second] = result[second], result[first]
        if keep_index:  # the entries' contents swapped, their indices rewritten to look in order
            result[first]["index"], result[second]["index"] = result[second]["index"], result[first]["index"]
        return result

    leaf_1 = lines[leaf_lines[1]]["leaf"]
    tampered_leaf = base64.b64encode(base64.b64decode(leaf_1) + b" ").decode()

    # when / then
    for position in leaf_lines:
        assert _log_code(world, signer, modified(position, leaf=tampered_leaf)) == 1
        assert _log_code(world, signer, without(position)) == 1
    for first, second in itertools.pairwise(leaf_lines):
        assert _log_code(world, signer, swapped(first, second, keep_index=False)) == 1
        assert _log_code(world, signer, swapped(first, second, keep_index=True)) == 1
    for position in head_lines:
        head = lines[position]
        assert _log_code(world, signer, modified(position, root_hash="00" * 32)) == 1
        assert _log_code(world, signer, modified(position, tree_size=head["tree_size"] - 1)) == 1
        assert _log_code(world, signer, modified(position, timestamp_ms=head["timestamp_ms"] + 1)) == 1
    assert _log_code(world, signer, [line for line in lines if line["type"] == "leaf"]) == 1  # no signed head
    assert _log_code(world, signer, modified(leaf_lines[0], leaf="not base64!")) == 1
    assert _log_code(world, signer, modified(leaf_lines[0], type="other")) == 1
    capsys.readouterr()


def test_log_reports_name_the_entry_at_fault(
    world: dict[str, Any], signer: Signer, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: entry 3 removed from the export
    lines = [line for line in world["log_lines"] if line.get("index") != 3]

    # when
    code = _log_code(world, signer, lines)

    # then
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "FAIL line 5: leaf index 4 where 3 was due: entries 3..3 are missing" in out
    assert any(
        line.startswith("FAIL tree head #1 (tree_size 5): covers 5 entries but the log has only 4")
        for line in out
    )
    assert out[-1] == "INVALID: log of 4 entries and 2 tree heads, 2 problem(s)"


def test_log_that_is_not_json_is_a_usage_error(world: dict[str, Any], signer: Signer) -> None:
    world["log_path"].write_text(world["log_path"].read_text() + "{oops\n")
    assert _main("--log", str(world["log_path"]), "--public-key", signer.public_key_b64) == 2
    assert (
        _main("--log", str(world["log_path"].parent / "missing.jsonl"), "--public-key", signer.public_key_b64)
        == 2
    )
