"""Offline verifier of deposit certificates and transparency-log exports. Needs no database.

    python -m escrow.verify CERT.json [FILES...] [--public-key KEY]
    python -m escrow.verify --log EXPORT.jsonl [--public-key KEY]

KEY is the platform's Ed25519 public key in base64, or a path to a file holding it; without
--public-key it is read from IPMARKET_ESCROW_PUBLIC_KEY. A key found inside a certificate is never
trusted: the certificate only names the key id it claims, which must match KEY.

A FILE is matched to the manifest entry its path ends with (.../src/main.c for the entry src/main.c),
else by its base name. EXPORT.jsonl holds one JSON object a line: {"type": "leaf", "index": 0, "leaf": base64}
with indices 0, 1, 2, ... in order, and {"type": "tree_head", "tree_size", "root_hash",
"timestamp_ms", "key_id", "signature"}.

Exit status: 0 valid, 1 invalid, 2 usage error (no key, unreadable file, not JSON).
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from escrow.certificates import Check, certificate_checks, log_checks
from escrow.signing import b64decode_strict, key_id_of

PUBLIC_KEY_ENV = "IPMARKET_ESCROW_PUBLIC_KEY"
VALID, INVALID, USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _public_key(value: str | None) -> str:
    source = "--public-key"
    if value is None:
        value = os.environ.get(PUBLIC_KEY_ENV, "")
        source = PUBLIC_KEY_ENV
        if not value.strip():
            raise UsageError(f"no public key: pass --public-key KEY or set {PUBLIC_KEY_ENV}")
    value = value.strip()
    candidate = Path(value)
    # A base64 key can contain "/", so only an existing file is read as one.
    if candidate.is_file():
        try:
            value = candidate.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the public key file {candidate}: {exc}") from None
    try:
        key_id_of(value)
    except ValueError as exc:
        raise UsageError(
            f"{source} is not a base64 Ed25519 public key (nor a file holding one): {exc}"
        ) from None
    return value


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None


def _report(checks: list[Check], what: str) -> int:
    for check in checks:
        status = "--  " if check.skipped else "ok  " if check.ok else "FAIL "
        _out(f"{status}{check.name}" + (f": {check.detail}" if check.detail else ""))
    failures = [check for check in checks if not check.ok]
    if failures:
        _out(f"INVALID: {what}, {len(failures)} problem(s)")
        return INVALID
    _out(f"VALID: {what}")
    return VALID


def _files_by_name(cert: Any, paths: Sequence[str]) -> dict[str, Path]:
    manifest = cert.get("deposit", {}).get("manifest", []) if isinstance(cert, dict) else []
    names = (
        {entry.get("name") for entry in manifest if isinstance(entry, dict)}
        if isinstance(manifest, list)
        else set()
    )
    files: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if not path.is_file() or not os.access(path, os.R_OK):
            raise UsageError(f"cannot read {given}")
        as_given = path.as_posix()
        # The manifest entry whose path the given path ends with (src/main.c for /tmp/x/src/main.c).
        suffixes = [n for n in names if isinstance(n, str) and (as_given == n or as_given.endswith("/" + n))]
        name = max(suffixes, key=len) if suffixes else path.name
        if name in files:
            raise UsageError(f"two files given for the manifest entry {name!r}")
        files[name] = path
    return files


def _verify_certificate(cert_path: str, paths: Sequence[str], public_key: str) -> int:
    cert = _read_json(Path(cert_path))
    if not isinstance(cert, dict):
        raise UsageError(f"{cert_path} is not a certificate (a JSON object)")
    files = _files_by_name(cert, paths)
    deposit = cert.get("deposit")
    what = f"deposit {deposit.get('id')}" if isinstance(deposit, dict) else "certificate"
    return _report(certificate_checks(cert, public_key, files), f"certificate of {what}")


def _read_log(path: Path) -> tuple[list[bytes], list[dict[str, Any]], list[Check]]:
    leaves: list[bytes] = []
    heads: list[dict[str, Any]] = []
    problems: list[Check] = []
    expected = 0
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    with handle:
        try:
            lines = list(enumerate(handle, start=1))
        except UnicodeDecodeError as exc:
            raise UsageError(f"{path} is not UTF-8 text: {exc}") from None
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path} line {number} is not JSON: {exc}") from None
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "leaf":
            index = record.get("index")
            if isinstance(index, bool) or not isinstance(index, int):
                problems.append(Check(f"line {number}", False, "leaf without an integer index"))
                continue
            if index != expected:
                # Leaves must come as 0, 1, 2, ...: a gap is a removed entry, a step back a reordering.
                why = f"entries {expected}..{index - 1} are missing" if index > expected else "out of order"
                problems.append(
                    Check(f"line {number}", False, f"leaf index {index} where {expected} was due: {why}")
                )
            expected = max(expected, index + 1)
            try:
                leaves.append(b64decode_strict(record.get("leaf")))
            except ValueError:
                problems.append(Check(f"line {number}", False, f"leaf {index} is not canonical base64"))
                leaves.append(b"")  # keeps the later indices in place; the export is invalid anyway
        elif kind == "tree_head":
            heads.append({key: value for key, value in record.items() if key != "type"})
        else:
            problems.append(Check(f"line {number}", False, f"unknown record type {kind!r}"))
    return leaves, heads, problems


def _verify_log(log_path: str, public_key: str) -> int:
    leaves, heads, problems = _read_log(Path(log_path))
    checks = [*problems, *log_checks(leaves, heads, public_key)]
    if not heads:
        checks.append(Check("tree heads", False, "the export holds no signed tree head"))
    return _report(checks, f"log of {len(leaves)} entries and {len(heads)} tree heads")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m escrow.verify",
        description="Verify an escrow deposit certificate (and the deposited files), or a transparency-log "
        "export, offline with the platform's public key.",
    )
    parser.add_argument("certificate", nargs="?", help="the certificate JSON file")
    parser.add_argument(
        "files", nargs="*", help="deposited files to check against the certificate's manifest"
    )
    parser.add_argument("--log", metavar="EXPORT.jsonl", help="verify a transparency-log export instead")
    parser.add_argument(
        "--public-key",
        metavar="KEY",
        help=f"the platform's Ed25519 public key (base64) or a file holding it; default ${PUBLIC_KEY_ENV}",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_intermixed_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 for --help
        return int(exc.code) if isinstance(exc.code, int) else USAGE
    try:
        if args.log and (args.certificate or args.files):
            raise UsageError("give either a certificate (and files) or --log, not both")
        if not args.log and not args.certificate:
            raise UsageError("give a certificate file or --log EXPORT.jsonl")
        public_key = _public_key(args.public_key)
        if args.log:
            return _verify_log(args.log, public_key)
        return _verify_certificate(args.certificate, args.files, public_key)
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
