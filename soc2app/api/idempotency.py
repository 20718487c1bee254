"""API writes that a client can retry safely, and that never claim "nothing was saved" when
something was.

Every POST, PUT, PATCH and DELETE of the organization API runs through ``run_write`` (wired in
by ``TenantViewSetMixin.initial``):

- **One transaction, answer built inside it.** The view's handler (service call, any read for
  the response, serialization) runs in one ``transaction.atomic``; the answer exists before
  COMMIT. A hook registered first in ``on_commit`` records that COMMIT went through, so a
  connection lost *after* it (the on-commit side effects, say) answers with the response
  built, not with a 503 saying nothing was saved. A connection lost before COMMIT rolled the
  whole request back: that 503 is true. Lost *during* COMMIT, nobody can know: the 503 says
  so (``OutcomeUnknown``) and tells the client to retry with its key.
- **Idempotency-Key.** A POST may carry an ``Idempotency-Key`` header (8-255 letters, digits,
  ``-_.:``). Its first successful answer is stored (``IdempotentRequest``) in the write's own
  transaction, so the key is remembered exactly when the write committed. The same key again
  (same caller, path and body) answers that stored response, with ``Idempotent-Replayed:
  true``, and writes nothing; another body, path or caller with the key is a 409. A failed
  request (4xx) rolls back with its key: fix the input and retry with the same key. A second
  request arriving while the first still runs waits up to ``IDEMPOTENCY_WAIT_MS`` on the key's
  row, then gets 409 "in progress". Keys are kept ``IDEMPOTENCY_KEY_HOURS`` (a beat job sweeps
  them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from soc2app.errors import Conflict, ValidationFailed
from tenants.models import IdempotentRequest, Organization

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]{8,255}")
# Headers of the first answer a client acts on; the rest are the server's own.
REMEMBERED_HEADERS = ("Location",)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired

OUTCOME_UNKNOWN_MESSAGE = (
    "The connection to the database was lost while this was being saved, so it may or may "
    "not have been saved. Send it again with the same Idempotency-Key header: if it was saved "
    "you get the first answer and nothing is written twice. Without a key, check before "
    "sending it again."
)


class OutcomeUnknown(Exception):
    """The connection died during COMMIT: the write may or may not be in the database."""


def request_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key``, validated; None when it sent none (or is no POST)."""
    if request.method != "POST":
        return None  # PUT/PATCH/DELETE are idempotent by themselves
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise ValidationFailed(
            f"The {HEADER} header must be 8 to 255 letters, digits or -_.: characters; "
            "send a new UUID for each distinct request.",
            code="invalid_idempotency_key",
        )
    return key


def _principal_ref(principal: Any) -> str:
    kind = "key" if getattr(principal, "is_api_key", False) else "member"
    return f"{kind}:{principal.pk}"


def body_fingerprint(request: Request) -> str:
    """SHA-256 of the parsed body in a canonical form: a retry that sends the same fields (in
    another order, with another multipart boundary) has the same fingerprint."""
    digest = hashlib.sha256()
    data = request.data
    if hasattr(data, "lists"):  # form or multipart: fields and files
        for name, values in sorted(data.lists(), key=lambda item: item[0]):
            for value in values:
                digest.update(f"{len(name)}:{name}=".encode())
                if isinstance(value, UploadedFile):
                    digest.update(f"file:{value.name}:".encode())
                    for chunk in value.chunks():
                        digest.update(chunk)
                    value.seek(0)  # the handler reads it again
                else:
                    digest.update(f"{len(str(value))}:{value}".encode())
    else:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
        digest.update(text.encode())
    return digest.hexdigest()


def _replay(stored: IdempotentRequest) -> Response:
    body = json.loads(stored.response_body) if stored.response_body else None
    headers = {**stored.response_headers, REPLAYED_HEADER: "true"}
    return Response(body, status=stored.status_code, headers=headers)


def _check_same(stored: IdempotentRequest, *, request: Request, principal: str, body: str) -> None:
    if stored.principal != principal or (stored.method, stored.path) != (
        request.method,
        request.path,
    ):
        raise Conflict(
            f"This {HEADER} was already used for another request; send a new key for each "
            "distinct request.",
            code="idempotency_key_reused",
        )
    if stored.body_sha256 != body:
        raise Conflict(
            f"This {HEADER} was already used with a different body; send a new key for a "
            "new request, or the same body to get the first answer.",
            code="idempotency_key_reused",
        )


def _insert_waiting(row: IdempotentRequest) -> None:
    """Insert the key's row; a concurrent request holding the same key (its transaction not yet
    committed) is waited for at most ``IDEMPOTENCY_WAIT_MS`` on PostgreSQL."""
    if connection.vendor != "postgresql":
        row.save(force_insert=True)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        # Transaction-local; a failed insert's savepoint rollback restores it by itself.
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.IDEMPOTENCY_WAIT_MS}ms"]
        )
        row.save(force_insert=True)
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _claim(
    *, organization: Organization, key: str, request: Request, principal: str, body: str
) -> IdempotentRequest | Response:
    """The key's row for this request (inserted, to be completed), or the stored answer."""
    now = timezone.now()
    rows = IdempotentRequest.objects.for_org(organization)
    stored = rows.filter(key=key).first()
    if stored is not None and stored.expires_at <= now:
        stored.delete()  # expired, not swept yet: the key is free again
        stored = None
    if stored is not None:
        _check_same(stored, request=request, principal=principal, body=body)
        return _replay(stored)
    row = IdempotentRequest(
        organization=organization,
        key=key,
        principal=principal,
        method=request.method,
        path=request.path[:500],
        body_sha256=body,
        status_code=0,  # completed below, in the same transaction
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS),
    )
    try:
        with transaction.atomic():
            _insert_waiting(row)
    except IntegrityError:
        # A concurrent request with this key committed between our read and insert.
        stored = rows.filter(key=key).first()
        if stored is None:  # and was swept meanwhile: vanishingly rare, the client retries
            raise Conflict(
                f"A request with this {HEADER} is in progress; retry in a few seconds.",
                code="idempotency_key_in_progress",
            ) from None
        _check_same(stored, request=request, principal=principal, body=body)
        return _replay(stored)
    except OperationalError as exc:
        if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        raise Conflict(
            f"A request with this {HEADER} is in progress; retry in a few seconds to get "
            "its answer.",
            code="idempotency_key_in_progress",
        ) from None
    return row


def _remember(row: IdempotentRequest, response: Response, redact: tuple[str, ...]) -> None:
    data = response.data
    if redact and isinstance(data, dict):
        # Secrets shown once (a webhook's signing secret) are not kept in a second table.
        data = {k: (None if k in redact else v) for k, v in data.items()}
    row.status_code = response.status_code
    row.response_body = (
        ""
        if data is None
        # Text, not jsonb: a replay sends the keys in the first answer's order.
        else json.dumps(data, cls=DjangoJSONEncoder)
    )
    row.response_headers = {h: response[h] for h in REMEMBERED_HEADERS if h in response}
    row.save(update_fields=["status_code", "response_body", "response_headers"])


def run_write(
    view: Any,
    handler: Callable[..., Response],
    key: str | None,
    request: Request,
    *args: Any,
    **kwargs: Any,
) -> Response:
    """Run an unsafe request's ``handler`` as described in the module docstring."""
    committed = False
    reached_commit = False
    response: Response | None = None

    def mark_committed() -> None:
        nonlocal committed
        committed = True

    try:
        with transaction.atomic():
            transaction.on_commit(mark_committed)  # first: runs before any side effect's hook
            row = None
            if key is not None:
                claimed = _claim(
                    organization=view.organization,
                    key=key,
                    request=request,
                    principal=_principal_ref(view.principal),
                    body=body_fingerprint(request),
                )
                if isinstance(claimed, Response):
                    return claimed
                row = claimed
            response = handler(request, *args, **kwargs)
            if row is not None:
                if 200 <= response.status_code < 300:
                    _remember(row, response, getattr(view, "idempotency_redact", ()))
                else:  # an error answer is not remembered: the client fixes and retries
                    row.delete()
            reached_commit = True
    except (OperationalError, InterfaceError) as exc:
        if committed and response is not None:
            # Saved; what failed came after (an on-commit side effect): answer what was saved.
            logger.warning(
                "database connection lost after %s %s committed: %s",
                request.method,
                request.path,
                exc,
            )
            from soc2app.middleware import close_broken_connections

            close_broken_connections()
            return response
        if reached_commit:
            raise OutcomeUnknown(str(exc)) from exc
        raise
    return _refreshed(view, request, response)


def _refreshed(view: Any, request: Request, response: Response) -> Response:
    """A view whose answer depends on what its on-commit side effects did (a report's task
    sent, or not) defines ``answer_after_commit(response)``. Saved is saved: if the database
    is gone by then, the answer built in the transaction stands."""
    refresh = getattr(view, "answer_after_commit", None)
    if refresh is None or not 200 <= response.status_code < 300:
        return response
    try:
        return refresh(response)
    except (OperationalError, InterfaceError) as exc:
        logger.warning(
            "reading %s %s again after commit failed: %s", request.method, request.path, exc
        )
        from soc2app.middleware import close_broken_connections

        close_broken_connections()
        return response


def idempotency_keys_sweep() -> int:
    """Delete the keys past their expiry, in every organization (beat); returns how many."""
    # One statement on the system connection (workers only).
    deleted, _ = (
        IdempotentRequest.objects.dangerously_unscoped(reason="sweep expired idempotency keys")
        .filter(expires_at__lte=timezone.now())
        .delete()
    )
    return deleted
