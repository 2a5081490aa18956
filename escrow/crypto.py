"""Envelope encryption and streaming AES-256-GCM for the deposit vault.

Each deposit has its own random data key. The data key is stored only wrapped (AES-256-GCM) by a
key-encryption key (KEK) from the settings, so rotating a KEK re-wraps 32-byte keys instead of
re-encrypting files. Files are encrypted in 64 KiB chunks (a STREAM-like construction) so that uploads
and downloads of any size run in bounded memory, and every chunk is authenticated on its own:

    file      = header || record_0 || ... || record_last
    header    = b"IPMV" || version (1 byte) || chunk size (4 bytes, big-endian) || salt (16 random bytes)
    file key  = HKDF-SHA256(data key, salt, info=b"ipmarket-vault-file/1|" + aad)
    record_i  = AES-256-GCM(file key, nonce=0x00000000 || i (8 bytes, big-endian),
                            plaintext chunk_i, aad=aad || i (8 bytes) || final flag (1 byte))

The counter in the nonce and AAD detects reordered or swapped chunks, the final flag detects
truncation at a chunk boundary and data appended after the end, and `aad` (e.g. the deposit and file
ids) plus the derived file key detect a chunk moved between files. The random salt gives every
encryption its own file key, so encrypting twice under the same data key and aad (a retried upload)
never reuses a GCM nonce. The header is not itself authenticated, but a changed magic, version or
chunk size is refused and a changed salt derives another key, so every chunk then fails.

No Django here: the offline verifier and the tests import this module without settings.
"""

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 12
MAGIC = b"IPMV"
VERSION = 1
SALT_SIZE = 16
HEADER_SIZE = len(MAGIC) + 1 + 4 + SALT_SIZE
RECORD_SIZE = CHUNK_SIZE + TAG_SIZE

_KEK_AAD_PREFIX = b"ipmarket-vault-kek/1|"
_FILE_INFO_PREFIX = b"ipmarket-vault-file/1|"
_WRAPPED_SIZE = NONCE_SIZE + KEY_SIZE + TAG_SIZE
# Ids end up in the AAD next to a "|" separator and in a 40-character database column.
_KEK_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")


class TamperedError(Exception):
    """Ciphertext or a wrapped key failed to authenticate: changed, truncated, reordered or misplaced."""


class UnknownKekError(KeyError):
    """A wrapped key names a KEK that is not configured."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else "unknown KEK"


def new_data_key() -> bytes:
    return os.urandom(KEY_SIZE)


class KeyRing:
    """The configured key-encryption keys, by id; new wraps use the active one."""

    def __init__(self, keks: dict[str, bytes], active_id: str) -> None:
        if not keks:
            raise ValueError("the KEK ring is empty: configure at least one id:base64key")
        for kek_id, key in keks.items():
            if not _KEK_ID.fullmatch(kek_id):
                raise ValueError(f"invalid KEK id {kek_id!r}: use 1-40 letters, digits, '_', '.' or '-'")
            if len(key) != KEY_SIZE:
                raise ValueError(f"KEK {kek_id!r} must be {KEY_SIZE} bytes, got {len(key)}")
        if active_id not in keks:
            raise ValueError(f"the active KEK {active_id!r} is not in the ring ({', '.join(sorted(keks))})")
        self._keks = {kek_id: AESGCM(key) for kek_id, key in keks.items()}
        self._active_id = active_id

    @classmethod
    def parse(cls, spec: str, active_id: str) -> "KeyRing":
        """Parse "id:base64key,id2:base64key" (standard base64 of 32 random bytes each)."""
        keks: dict[str, bytes] = {}
        for position, entry in enumerate(spec.split(","), start=1):
            entry = entry.strip()
            if not entry:
                continue
            kek_id, sep, encoded = entry.partition(":")
            kek_id = kek_id.strip()
            if not sep or not kek_id:
                raise ValueError(f"KEK entry {position} is not of the form id:base64key")
            if kek_id in keks:
                raise ValueError(f"KEK id {kek_id!r} appears more than once")
            try:
                key = base64.b64decode(encoded.strip(), validate=True)
            except binascii.Error as exc:
                raise ValueError(f"KEK {kek_id!r} is not valid base64") from exc
            if len(key) != KEY_SIZE:
                raise ValueError(f"KEK {kek_id!r} must decode to {KEY_SIZE} bytes, got {len(key)}")
            keks[kek_id] = key
        return cls(keks, active_id)

    @property
    def active_id(self) -> str:
        return self._active_id

    @property
    def ids(self) -> list[str]:
        return sorted(self._keks)

    def __repr__(self) -> str:  # never the keys themselves
        return f"KeyRing(ids={self.ids}, active_id={self._active_id!r})"

    def _aead(self, kek_id: str) -> AESGCM:
        try:
            return self._keks[kek_id]
        except KeyError:
            raise UnknownKekError(
                f"unknown KEK id {kek_id!r}: it is not in the configured ring ({', '.join(self.ids)})"
            ) from None

    @staticmethod
    def _aad(kek_id: str, context: bytes) -> bytes:
        return _KEK_AAD_PREFIX + kek_id.encode() + b"|" + context

    def wrap(self, data_key: bytes, context: bytes, kek_id: str | None = None) -> tuple[str, bytes]:
        """Encrypt a data key under a KEK, bound to `context` (e.g. b"deposit:42")."""
        if len(data_key) != KEY_SIZE:
            raise ValueError(f"a data key is {KEY_SIZE} bytes, got {len(data_key)}")
        kek_id = self._active_id if kek_id is None else kek_id
        aead = self._aead(kek_id)
        nonce = os.urandom(NONCE_SIZE)
        return kek_id, nonce + aead.encrypt(nonce, data_key, self._aad(kek_id, context))

    def unwrap(self, kek_id: str, wrapped: bytes | memoryview, context: bytes) -> bytes:
        aead = self._aead(kek_id)
        wrapped = bytes(wrapped)  # a database BinaryField may hand back a memoryview
        if len(wrapped) != _WRAPPED_SIZE:
            raise TamperedError(f"a wrapped key is {_WRAPPED_SIZE} bytes, got {len(wrapped)}")
        try:
            return aead.decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], self._aad(kek_id, context))
        except InvalidTag:
            raise TamperedError("the wrapped data key does not authenticate (wrong key or context)") from None

    def rewrap(self, kek_id: str, wrapped: bytes | memoryview, context: bytes) -> tuple[str, bytes]:
        """Re-encrypt a wrapped data key under the active KEK (key rotation); the files are untouched."""
        return self.wrap(self.unwrap(kek_id, wrapped, context), context)


def _file_aead(data_key: bytes, aad: bytes, salt: bytes) -> AESGCM:
    if len(data_key) != KEY_SIZE:
        raise ValueError(f"a data key is {KEY_SIZE} bytes, got {len(data_key)}")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_FILE_INFO_PREFIX + aad)
    return AESGCM(hkdf.derive(data_key))


def _nonce(counter: int) -> bytes:
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "big")


def _chunk_aad(aad: bytes, counter: int, final: bool) -> bytes:
    return aad + counter.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class StreamEncryptor:
    """Encrypts one file incrementally: feed `update()` any number of pieces of any size, then
    `finalize()` once; write every returned piece, in order, to the ciphertext file."""

    def __init__(self, data_key: bytes, aad: bytes) -> None:
        salt = os.urandom(SALT_SIZE)
        self._aead = _file_aead(data_key, aad, salt)
        self._aad = aad
        self._header = MAGIC + bytes([VERSION]) + CHUNK_SIZE.to_bytes(4, "big") + salt
        self._header_sent = False
        self._buffer = bytearray()
        self._counter = 0
        self._size = 0
        self._plain_hash = hashlib.sha256()
        self._cipher_hash = hashlib.sha256()
        self._finalized = False

    def _seal(self, chunk: bytes, final: bool) -> bytes:
        record = self._aead.encrypt(_nonce(self._counter), chunk, _chunk_aad(self._aad, self._counter, final))
        self._counter += 1
        return record

    def _emit(self, pieces: list[bytes]) -> bytes:
        out = b"".join(pieces)
        self._cipher_hash.update(out)
        return out

    def update(self, data: bytes) -> bytes:
        if self._finalized:
            raise RuntimeError("StreamEncryptor.update() after finalize()")
        view = memoryview(data).cast("B")
        self._size += len(view)
        self._plain_hash.update(view)
        pieces: list[bytes] = []
        if not self._header_sent:
            pieces.append(self._header)
            self._header_sent = True
        buffer = self._buffer
        position, end = 0, len(view)
        # A full chunk is sealed only once a later byte exists: the last chunk must carry the final
        # flag, and until finalize() we cannot know whether a full buffer is the last one.
        while end - position > CHUNK_SIZE - len(buffer):
            if buffer:
                take = CHUNK_SIZE - len(buffer)
                buffer += view[position : position + take]
                position += take
                pieces.append(self._seal(bytes(buffer), final=False))
                buffer.clear()
            else:
                pieces.append(self._seal(bytes(view[position : position + CHUNK_SIZE]), final=False))
                position += CHUNK_SIZE
        buffer += view[position:]
        return self._emit(pieces)

    def finalize(self) -> bytes:
        if self._finalized:
            raise RuntimeError("StreamEncryptor.finalize() called twice")
        pieces: list[bytes] = []
        if not self._header_sent:
            pieces.append(self._header)
            self._header_sent = True
        # An empty file is one final, empty chunk, so even it cannot be truncated unnoticed.
        pieces.append(self._seal(bytes(self._buffer), final=True))
        self._buffer.clear()
        self._finalized = True
        return self._emit(pieces)

    def _require_finalized(self) -> None:
        if not self._finalized:
            raise RuntimeError("StreamEncryptor results are available after finalize()")

    @property
    def size(self) -> int:
        self._require_finalized()
        return self._size

    @property
    def plaintext_sha256(self) -> str:
        self._require_finalized()
        return self._plain_hash.hexdigest()

    @property
    def ciphertext_sha256(self) -> str:
        self._require_finalized()
        return self._cipher_hash.hexdigest()


def _parse_header(header: bytes, data_key: bytes, aad: bytes) -> AESGCM:
    if header[: len(MAGIC)] != MAGIC:
        raise TamperedError("not a vault ciphertext (bad magic)")
    if header[len(MAGIC)] != VERSION:
        raise TamperedError(f"unsupported vault ciphertext version {header[len(MAGIC)]}")
    if int.from_bytes(header[len(MAGIC) + 1 : len(MAGIC) + 5], "big") != CHUNK_SIZE:
        raise TamperedError("unexpected chunk size in the ciphertext header")
    return _file_aead(data_key, aad, bytes(header[len(MAGIC) + 5 : HEADER_SIZE]))


def decrypt_stream(data_key: bytes, aad: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decrypt a ciphertext given in pieces of any size, yielding the plaintext chunk by chunk.

    Each yielded chunk is authentic on its own, but only a generator that runs to completion proves the
    file is complete: a consumer must discard what it received if TamperedError is raised midway.
    Memory is bounded by one input piece plus one record.
    """
    buffer = bytearray()
    aead: AESGCM | None = None
    counter = 0

    def open_record(aead: AESGCM, record: bytes, final: bool) -> bytes:
        try:
            return aead.decrypt(_nonce(counter), record, _chunk_aad(aad, counter, final))
        except InvalidTag:
            pass
        if not final:
            # Say why, if this is a genuine last chunk with bytes after it.
            try:
                aead.decrypt(_nonce(counter), record, _chunk_aad(aad, counter, True))
            except InvalidTag:
                pass
            else:
                raise TamperedError(f"data after the final chunk (chunk {counter})")
        raise TamperedError(f"chunk {counter} does not authenticate")

    for piece in chunks:
        buffer += piece
        position = 0
        if aead is None:
            if len(buffer) < HEADER_SIZE:
                continue
            aead = _parse_header(bytes(buffer[:HEADER_SIZE]), data_key, aad)
            position = HEADER_SIZE
        # A record followed by more bytes cannot be the last one; the last is decided at the end.
        while len(buffer) - position > RECORD_SIZE:
            yield open_record(aead, bytes(buffer[position : position + RECORD_SIZE]), final=False)
            counter += 1
            position += RECORD_SIZE
        del buffer[:position]
    if aead is None:
        raise TamperedError("the ciphertext is shorter than its header")
    if len(buffer) < TAG_SIZE:
        raise TamperedError("the ciphertext is truncated (no final chunk)")
    yield open_record(aead, bytes(buffer), final=True)
