"""HTTP endpoints of the vault: streamed uploads and downloads, certificates, the log's public data.

Who is asking: `Authorization: Bearer <API token>` (resolved as the GraphQL endpoint does), else the
session. A session-authenticated upload must pass Django's CSRF check; the check reads the form, so the
encrypting upload handler is installed before it (the middleware's own check is skipped with
csrf_exempt because it would parse the body with the default, plaintext-spooling handlers).
Errors are JSON `{"code", "message", "field"}` with the escrow error codes.
"""

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from escrow.error_codes import EscrowErrorCode
from escrow.vault import data_room, deposits, keys, log
from escrow.vault.upload import EncryptingUploadHandler
from marketplace.actions.accounts import user_for_token
from marketplace.error_codes import ActionError

STATUS: dict[str, int] = {
    EscrowErrorCode.NOT_AUTHENTICATED: 401,
    EscrowErrorCode.PERMISSION_DENIED: 403,
    EscrowErrorCode.NDA_REQUIRED: 403,
    EscrowErrorCode.NOT_RELEASED: 403,
    EscrowErrorCode.SAME_OPERATOR: 403,
    EscrowErrorCode.NOT_FOUND: 404,
    EscrowErrorCode.INVALID_STATE: 409,
    EscrowErrorCode.ALREADY_RELEASED: 409,
    EscrowErrorCode.TOO_LARGE: 413,
    # The stored data no longer matches its record: the server's fault, never the client's.
    EscrowErrorCode.TAMPERED: 500,
}


def error_response(code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"code": str(code), "message": message, "field": field}, status=STATUS.get(code, 400))


def _from_action(error: ActionError) -> JsonResponse:
    return error_response(str(error.code), error.message, error.field)


def _user(request: HttpRequest) -> User | JsonResponse:
    """The bearer token's user, else the session's; a JSON 401 for a bad token or nobody."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return error_response(EscrowErrorCode.NOT_AUTHENTICATED, "The API token is unknown or revoked.")
        request.user = user
        return user
    if isinstance(request.user, User) and request.user.is_authenticated:
        return request.user
    return error_response(EscrowErrorCode.NOT_AUTHENTICATED, "Sign in or send an API token.")


def _csrf_protected(request: HttpRequest) -> HttpResponse:
    """Stands for the upload view in the CSRF check (the view itself is marked exempt)."""
    return HttpResponse()


def _csrf_refused(request: HttpRequest) -> bool:
    checker = CsrfViewMiddleware(_csrf_protected)
    return checker.process_view(request, _csrf_protected, (), {}) is not None


def _optional_int(post: Any, name: str) -> int | None:
    value = (post.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ActionError(EscrowErrorCode.INVALID, f"{name} must be an integer id.", name) from None


@csrf_exempt  # checked below for session requests, after the encrypting handler is in place
@require_POST
def create_deposit(request: HttpRequest) -> HttpResponseBase:
    """POST /escrow/deposits/ (multipart): organization, purpose, title, description, listing, deal,
    milestone (ids, as the purpose needs; a data-room document needs only deal), files (repeatable)."""
    user = _user(request)
    if isinstance(user, JsonResponse):
        return user  # refused before a byte of the body is read
    handler = EncryptingUploadHandler(request)
    request.upload_handlers = [handler]
    batch = handler.batch
    try:
        if "Authorization" not in request.headers and _csrf_refused(request):
            batch.discard()
            return error_response(
                EscrowErrorCode.PERMISSION_DENIED, "Send the csrftoken cookie's value as X-CSRFToken."
            )
        post = request.POST  # parses the body through the handler: files are encrypted as they arrive
        request.FILES  # noqa: B018 -- complete the parse
    except (MultiPartParserError, ValueError) as exc:  # malformed body, or Django's own field limits
        batch.discard()
        return error_response(EscrowErrorCode.INVALID, f"The upload could not be read: {exc}", "files")
    except BaseException:
        batch.discard()
        raise
    if handler.error is not None:
        batch.discard()
        return _from_action(handler.error)
    try:
        purpose = (post.get("purpose") or "").strip()
        title = post.get("title") or ""
        if purpose == "data_room":
            deal_id = _optional_int(post, "deal")
            if deal_id is None:
                raise ActionError(EscrowErrorCode.INVALID, "Name the deal.", "deal")
            deposit = data_room.add_document(user, deal_id, title, batch)
        else:
            organization_id = _optional_int(post, "organization")
            if organization_id is None:
                raise ActionError(EscrowErrorCode.INVALID, "Name the organisation.", "organization")
            deposit = deposits.create_deposit(
                user,
                organization_id,
                purpose,
                title,
                batch,
                description=post.get("description") or "",
                listing_id=_optional_int(post, "listing"),
                deal_id=_optional_int(post, "deal"),
                milestone_id=_optional_int(post, "milestone"),
            )
    except ActionError as error:
        batch.discard()  # also when refused before create_deposit took charge of the batch
        return _from_action(error)
    return JsonResponse({"id": deposit.pk, "certificate": deposit.certificate}, status=201)


def _authenticated_get(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @require_GET
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = _user(request)
        if isinstance(user, JsonResponse):
            return user
        try:
            return view(request, user, *args, **kwargs)
        except ActionError as error:
            return _from_action(error)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


async def _async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Under ASGI, Django would read a synchronous iterator to the end into memory before sending a byte;
    pulled one chunk at a time from a worker thread, memory stays at one chunk (storage reads and
    decryption only: no database access here)."""

    def pull() -> bytes | None:
        return next(chunks, None)

    while (chunk := await sync_to_async(pull, thread_sensitive=False)()) is not None:
        yield chunk


@_authenticated_get
def download_file(request: HttpRequest, user: User, deposit_id: int, position: int) -> HttpResponseBase:
    """GET /escrow/deposits/<id>/files/<position>: the plaintext, streamed, once access is granted and
    the access is on the log."""
    row, chunks = deposits.open_file(user, deposit_id, position)
    content = _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type=row.content_type or "application/octet-stream")
    response["Content-Length"] = str(row.size)
    response["Content-Disposition"] = content_disposition_header(True, row.name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Digest"] = f"sha-256={row.sha256}"
    return response


@_authenticated_get
def certificate(request: HttpRequest, user: User, deposit_id: int) -> HttpResponse:
    """GET /escrow/deposits/<id>/certificate.json: the signed certificate, as a download."""
    body = json.dumps(deposits.certificate_for(user, deposit_id), ensure_ascii=False, indent=2)
    response = HttpResponse(body.encode(), content_type="application/json")
    response["Content-Disposition"] = content_disposition_header(
        True, f"deposit-{deposit_id}-certificate.json"
    )
    return response


@require_GET
def public_key(request: HttpRequest) -> JsonResponse:
    signer = keys.signer()
    return JsonResponse(
        {"key_id": signer.key_id, "public_key": signer.public_key_b64, "algorithm": "Ed25519"}
    )


@require_GET
def tree_head(request: HttpRequest) -> JsonResponse:
    """The latest signed tree head, signed afresh if the log has grown since the last one."""
    return JsonResponse(log.tree_head_json(log.sign_tree_head()))


def _int_params(request: HttpRequest, *names: str) -> list[int] | JsonResponse:
    values = []
    for name in names:
        try:
            values.append(int(request.GET[name]))
        except (KeyError, ValueError):
            return error_response(EscrowErrorCode.INVALID, f"Give {name} as an integer.", name)
    return values


@require_GET
def consistency(request: HttpRequest) -> JsonResponse:
    """GET /escrow/log/consistency?from=M&to=N: the proof that the tree of size N extends that of M."""
    params = _int_params(request, "from", "to")
    if isinstance(params, JsonResponse):
        return params
    old_size, new_size = params
    try:
        proof = log.consistency_proof_between(old_size, new_size)
    except ValueError as exc:
        return error_response(EscrowErrorCode.INVALID, str(exc), "to")
    return JsonResponse({"from": old_size, "to": new_size, "proof": proof})


@require_GET
def inclusion(request: HttpRequest) -> JsonResponse:
    """GET /escrow/log/inclusion?index=I&tree_size=N: the audit path of leaf I in the tree of size N.
    The leaf itself is not served (it names deposits and users); its holder has it."""
    params = _int_params(request, "index", "tree_size")
    if isinstance(params, JsonResponse):
        return params
    index, tree_size = params
    try:
        proof = log.inclusion_proof_for(index, tree_size)
    except ValueError as exc:
        return error_response(EscrowErrorCode.INVALID, str(exc), "index")
    leaf_hash = log.leaf_hash_at(index)
    return JsonResponse({"index": index, "tree_size": tree_size, "leaf_hash": leaf_hash, "proof": proof})
