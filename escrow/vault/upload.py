"""Streaming upload with encryption as the bytes arrive: plaintext is never written to disk by this code.

`EncryptingUploadHandler` replaces Django's upload handlers for one request. Each multipart file part is
encrypted chunk by chunk (AES-256-GCM, `escrow.crypto.StreamEncryptor`) under one fresh data key per
request; only ciphertext goes to a temporary file and then to the vault storage under a random name.
Limits (ESCROW_MAX_DEPOSIT_BYTES over all files of the request, ESCROW_MAX_FILES_PER_DEPOSIT) abort the
upload as soon as they are crossed; whatever was stored is deleted and the typed error is kept on the
handler (`handler.error`) for the view to report.

Binding each ciphertext to its place (the AAD): every request gets a random batch id; file number `p`
(0-based, in upload order) is encrypted with the AAD `canonical_json({"format":
"ipmarket-vault-file/1", "batch": <batch id>, "position": p})` and stored as `vault/<batch id>/<p>.enc`.
The deposit's DepositFile rows keep `position` and `storage_name`, so decryption rebuilds the same AAD
(the batch id is the storage name's folder). Swapping two files' rows or storage objects within a
deposit then fails the AEAD check; moving a file to another deposit fails too, because every deposit
has its own data key (whose wrapping is bound to the deposit id, see keys.deposit_context).

Under ASGI, Django reads the whole request body before the view runs; our handler
(backend/asgi_body.py) spools it AES-CTR encrypted under a per-request key held only in memory, so the
plaintext does not reach the disk there either.
"""

import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from escrow.canonical import canonical_json
from escrow.crypto import StreamEncryptor, new_data_key
from escrow.error_codes import EscrowErrorCode
from escrow.vault import storage
from marketplace.error_codes import ActionError

AAD_FORMAT = "ipmarket-vault-file/1"
# Room for the multipart framing and the form fields around the files, when judging Content-Length.
FRAMING_SLACK = 64 * 1024


def file_aad(batch_id: str, position: int) -> bytes:
    return canonical_json({"format": AAD_FORMAT, "batch": batch_id, "position": position})


def storage_name_for(batch_id: str, position: int) -> str:
    return f"vault/{batch_id}/{position}.enc"


def aad_for_stored(storage_name: str, position: int) -> bytes:
    """The AAD a stored file was encrypted with, from its DepositFile row."""
    return file_aad(PurePosixPath(storage_name).parent.name, position)


@dataclass(frozen=True)
class SealedFile:
    name: str
    content_type: str
    size: int
    sha256: str  # of the plaintext
    ciphertext_sha256: str
    storage_name: str


@dataclass
class SealedBatch:
    """The files of one request, encrypted and stored, and the data key they share (to be wrapped)."""

    batch_id: str
    data_key: bytes = field(repr=False)
    files: list[SealedFile] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def discard(self) -> None:
        """Delete the stored ciphertexts (the deposit was refused): nothing is left orphaned."""
        storage.delete_quietly([f.storage_name for f in self.files])
        self.files.clear()


def new_batch() -> SealedBatch:
    return SealedBatch(batch_id=secrets.token_hex(16), data_key=new_data_key())


class EncryptingUploadHandler(FileUploadHandler):
    """Install with `request.upload_handlers = [EncryptingUploadHandler(request)]` before anything reads
    request.POST or request.FILES. The sealed files are in `handler.batch` (also `request.sealed_upload`);
    nothing is put in request.FILES."""

    def __init__(
        self,
        request: HttpRequest | None = None,
        *,
        max_bytes: int | None = None,
        max_files: int | None = None,
    ) -> None:
        super().__init__(request)
        self.max_bytes = settings.ESCROW_MAX_DEPOSIT_BYTES if max_bytes is None else max_bytes
        self.max_files = settings.ESCROW_MAX_FILES_PER_DEPOSIT if max_files is None else max_files
        self.batch = new_batch()
        self.error: ActionError | None = None
        self._received = 0  # plaintext bytes of all files so far
        self._tmp: IO[bytes] | None = None
        self._encryptor: StreamEncryptor | None = None
        if request is not None:
            request.sealed_upload = self  # type: ignore[attr-defined]

    def _refuse(self, code: EscrowErrorCode, message: str) -> None:
        self.error = ActionError(code, message, "files")
        self._drop_current()
        self.batch.discard()
        # The parser then reads the rest of the body without handing it to us, and the client still
        # gets our JSON error instead of a reset connection.
        raise StopUpload(connection_reset=False)

    def _drop_current(self) -> None:
        if self._tmp is not None:
            self._tmp.close()  # an anonymous temporary file: closing it removes it
        self._tmp = None
        self._encryptor = None

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
        # A body that cannot fit is refused before a byte of it is parsed.
        fields_room = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        if content_length > self.max_bytes + fields_room + FRAMING_SLACK * (self.max_files + 1):
            self.error = ActionError(
                EscrowErrorCode.TOO_LARGE, f"A deposit holds at most {self.max_bytes} bytes.", "files"
            )
            return QueryDict(), MultiValueDict()
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        position = len(self.batch.files)
        if position >= self.max_files:
            self._refuse(EscrowErrorCode.TOO_MANY_FILES, f"A deposit holds at most {self.max_files} files.")
        self._encryptor = StreamEncryptor(self.batch.data_key, file_aad(self.batch.batch_id, position))
        self._tmp = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in file_complete or _drop_current

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self._tmp is None or self._encryptor is None:
            raise RuntimeError("receive_data_chunk before new_file")
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self._refuse(EscrowErrorCode.TOO_LARGE, f"A deposit holds at most {self.max_bytes} bytes.")
        self._tmp.write(self._encryptor.update(raw_data))
        return None  # consumed: no other handler sees the plaintext

    def file_complete(self, file_size: int) -> None:
        if self._tmp is None or self._encryptor is None:
            raise RuntimeError("file_complete before new_file")
        encryptor, tmp = self._encryptor, self._tmp
        position = len(self.batch.files)
        try:
            tmp.write(encryptor.finalize())
            stored = storage.save(storage_name_for(self.batch.batch_id, position), tmp)
        finally:
            self._drop_current()
        self.batch.files.append(
            SealedFile(
                name=(self.file_name or f"file-{position}")[:255],
                content_type=(self.content_type or "")[:120],
                size=encryptor.size,
                sha256=encryptor.plaintext_sha256,
                ciphertext_sha256=encryptor.ciphertext_sha256,
                storage_name=stored,
            )
        )
        return None

    def upload_interrupted(self) -> None:
        # The client went away in the middle of a file: keep nothing of this request.
        self.error = ActionError(EscrowErrorCode.INVALID, "The upload was interrupted.", "files")
        self._drop_current()
        self.batch.discard()

    def upload_complete(self) -> None:
        self._drop_current()
