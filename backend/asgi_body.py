"""Request bodies under ASGI without plaintext on disk.

Django's `ASGIHandler.read_body` reads the whole body before any view runs, into a SpooledTemporaryFile
that rolls over to a plain temporary file beyond FILE_UPLOAD_MAX_MEMORY_SIZE: an upload to the vault
would reach the disk unencrypted before the encrypting upload handler sees a byte of it. Here the body
goes into an `EncryptedSpool` instead, for every request (any body may carry secrets).

`EncryptedSpool` keeps small bodies in memory; past the threshold it moves to an anonymous temporary
file whose bytes are AES-256-CTR under a random key made for that spool and kept only in this process's
memory, so the file is unreadable once the key is gone (at close, or if the process dies). CTR gives
random access: the keystream at byte `offset` starts at counter block `offset // 16`, skipping
`offset % 16` bytes.

Confidentiality only, no integrity: the spool lives for one request, on our own disk, and whatever is
kept from it is checked later (the vault's AES-GCM records and SHA-256 hashes). An attacker able to
rewrite the temporary file while the request runs could flip plaintext bits, but could as well rewrite
the request itself.
"""

import io
import os
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, cast

import django
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler

if TYPE_CHECKING:  # typeshed's name for bytes-like objects (collections.abc.Buffer from Python 3.12)
    from _typeshed import ReadableBuffer, WriteableBuffer

KEY_SIZE = 32  # AES-256
BLOCK_SIZE = 16
NONCE_SIZE = 8  # the high half of the counter block; the low half counts blocks from the start
READLINE_CHUNK = 8 * 1024

Receive = Callable[[], Awaitable[Mapping[str, Any]]]


class _EncryptedFile:
    """The spilled content: an anonymous temporary file of AES-256-CTR ciphertext, and its key."""

    def __init__(self) -> None:
        # TemporaryFile is unlinked at once (O_TMPFILE on Linux): no name, gone when closed.
        self.file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 -- closed with the spool
        self._key = os.urandom(KEY_SIZE)
        self._nonce = os.urandom(NONCE_SIZE)
        self._encryptor = self.cipher_at(0)  # runs on with the appends, from offset 0
        # The last read's context and where it stands: sequential reads go on with it (a new context
        # costs about as much as decrypting 64 KiB).
        self._reader: tuple[int, CipherContext] | None = None

    def cipher_at(self, offset: int) -> CipherContext:
        """A CTR context positioned at byte `offset` (CTR encryption and decryption are the same XOR)."""
        counter = self._nonce + (offset // BLOCK_SIZE).to_bytes(BLOCK_SIZE - NONCE_SIZE, "big")
        context = Cipher(algorithms.AES(self._key), modes.CTR(counter)).encryptor()
        if skip := offset % BLOCK_SIZE:
            context.update(bytes(skip))
        return context

    def append(self, data: memoryview, offset: int) -> None:
        """Encrypt `data` with the running keystream and write it at `offset`, the end so far."""
        ciphertext = memoryview(self._encryptor.update(data))
        while ciphertext:
            written = os.pwrite(self.file.fileno(), ciphertext, offset)
            ciphertext = ciphertext[written:]
            offset += written

    def read(self, offset: int, size: int) -> bytes:
        ciphertext = os.pread(self.file.fileno(), size, offset)
        if self._reader is not None and self._reader[0] == offset:
            decryptor = self._reader[1]
        else:
            decryptor = self.cipher_at(offset)
        self._reader = (offset + len(ciphertext), decryptor)
        return decryptor.update(ciphertext)

    def close(self) -> None:
        self._key = b""  # the ciphertext is unreadable from here on
        self._reader = None
        self.file.close()


class EncryptedSpool(io.BufferedIOBase):
    """A seekable byte file: in memory up to `max_memory_size` bytes, then encrypted on disk.

    Writes always append at the end (as a file opened in "a+b" mode) and leave the position there:
    rewriting bytes in place would encrypt two plaintexts under the same keystream. Reads start at the
    position and move it, as in any file.
    """

    def __init__(self, max_memory_size: int) -> None:
        super().__init__()
        self.max_memory_size = max_memory_size
        self._memory = bytearray()  # the content until it spills, then empty
        self._disk: _EncryptedFile | None = None
        self._size = 0
        self._position = 0

    @property
    def spilled(self) -> bool:
        """Whether the content has moved to the encrypted temporary file."""
        return self._disk is not None

    @property
    def spill_file(self) -> io.FileIO | None:
        """The temporary file holding the ciphertext, for tests to inspect (None while in memory)."""
        return None if self._disk is None else self._disk.file

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def write(self, buffer: "ReadableBuffer", /) -> int:
        self._check_open()
        data = memoryview(buffer).cast("B")
        length = len(data)
        if self._disk is None and self._size + length > self.max_memory_size:
            self._disk = _EncryptedFile()
            self._disk.append(memoryview(self._memory), 0)
            self._memory = bytearray()
        if self._disk is None:
            self._memory += data
        else:
            self._disk.append(data, self._size)
        self._size += length
        self._position = self._size
        return length

    def read(self, size: int | None = -1, /) -> bytes:
        self._check_open()
        start = min(self._position, self._size)
        end = self._size if size is None or size < 0 else min(self._size, start + size)
        if end <= start:
            return b""
        data = bytes(self._memory[start:end]) if self._disk is None else self._disk.read(start, end - start)
        self._position = start + len(data)
        return data

    def read1(self, size: int = -1, /) -> bytes:
        return self.read(size)

    def readinto(self, buffer: "WriteableBuffer", /) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, buffer: "WriteableBuffer", /) -> int:
        return self.readinto(buffer)

    def readline(self, size: int | None = -1, /) -> bytes:
        self._check_open()
        limit = None if size is None or size < 0 else size
        start = self._position
        line = bytearray()
        while limit is None or len(line) < limit:
            want = READLINE_CHUNK if limit is None else min(READLINE_CHUNK, limit - len(line))
            chunk = self.read(want)
            if not chunk:
                break
            newline = chunk.find(b"\n")
            if newline >= 0:
                line += chunk[: newline + 1]
                break
            line += chunk
        self._position = start + len(line)  # the chunk read past the line is given back
        return bytes(line)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        self._check_open()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def tell(self) -> int:
        self._check_open()
        return self._position

    def truncate(self, size: int | None = None, /) -> int:
        raise io.UnsupportedOperation("an encrypted spool only grows")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no descriptor: the file on disk holds ciphertext")

    def close(self) -> None:
        if not self.closed:
            self._memory = bytearray()
            if self._disk is not None:
                self._disk.close()
        super().close()


class SpoolEncryptingASGIHandler(ASGIHandler):
    """Django's ASGI handler, spooling request bodies into an `EncryptedSpool`."""

    async def read_body(self, receive: Receive) -> IO[bytes]:
        """Django's read_body with the same outcomes (a disconnect before the end is RequestAborted, the
        file comes back rewound), but no plaintext on disk."""
        body_file = EncryptedSpool(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted()  # the client left before the end of the body
                if "body" in message:
                    body_file.write(message["body"])
                if not message.get("more_body", False):
                    break
        except BaseException:
            body_file.close()
            raise
        body_file.seek(0)
        # Not an IO[bytes] by type, but all of it that Django's request and upload parsers use.
        return cast(IO[bytes], body_file)


def get_asgi_application() -> SpoolEncryptingASGIHandler:
    """As `django.core.asgi.get_asgi_application`, with the spool-encrypting handler."""
    django.setup(set_prefix=False)
    return SpoolEncryptingASGIHandler()
