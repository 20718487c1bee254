"""A previewed import file, held server-side until it is confirmed or dropped (every CSV
import: ``kind`` names which, so a token of one import names nothing in another).

Kept in the ``imports`` cache (Redis, or files under ``VAR_DIR`` without one: either is shared by
every web process, unlike a per-process memory cache) for ``TTL`` seconds,
compressed, under a key made of the organization, the user and a random token: a token
copied into another organization's or another user's confirm form names nothing there. The
file's SHA-256 travels with the token and is checked again on confirm, so what is imported is
exactly what was previewed. When the cache loses it (expiry, a Redis restart), the confirm
page says so and the user uploads the file again; nothing partial can result.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from dataclasses import dataclass

from django.core.cache import caches

TTL = 30 * 60


@dataclass(frozen=True)
class Pending:
    data: bytes
    name: str
    sha256: str


def _key(kind: str, org_id: int, user_id: int, token: str) -> str:
    return f"{kind}-import:{org_id}:{user_id}:{token}"


def _valid(token: object) -> bool:
    return (
        isinstance(token, str)
        and 20 <= len(token) <= 64
        and token.isascii()
        and (token.replace("-", "").replace("_", "").isalnum())
    )


def pending_put(*, kind: str, org_id: int, user_id: int, data: bytes, name: str) -> str:
    token = secrets.token_urlsafe(24)
    value = {
        "data": zlib.compress(data),
        "name": name[:200],
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    caches["imports"].set(_key(kind, org_id, user_id, token), value, TTL)
    return token


def pending_get(*, kind: str, org_id: int, user_id: int, token: object) -> Pending | None:
    if not _valid(token):
        return None
    value = caches["imports"].get(_key(kind, org_id, user_id, str(token)))
    if not isinstance(value, dict):
        return None
    data = zlib.decompress(value["data"])
    if hashlib.sha256(data).hexdigest() != value["sha256"]:
        return None
    return Pending(data=data, name=value["name"], sha256=value["sha256"])


def pending_drop(*, kind: str, org_id: int, user_id: int, token: object) -> None:
    if _valid(token):
        caches["imports"].delete(_key(kind, org_id, user_id, str(token)))
