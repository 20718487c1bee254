"""The keys of the activity log's HMAC chain and checkpoints (``settings.ACTIVITY_LOG_KEYS``).

Newest first: the first key signs new entries and checkpoints; the others only verify what
they signed, so a key can be rotated by putting a new one in front and kept at the end until
nothing signed with it needs verifying (in practice: for as long as the log is kept). Each
entry and checkpoint records the short id of its key (``key_id``: the first 12 hex digits of
the SHA-256 of the key, which tells nothing about the key), so verification picks the right one
without trying them all. The keys live in the environment of the processes only: a database
role (or a dump) that can write the log cannot compute a valid hash.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_ID_LENGTH = 12
MIN_KEY_LENGTH = 32


def log_keys_setting(configured: list[str], *, production: bool, secret_key: str) -> list[str]:
    """The value of ``settings.ACTIVITY_LOG_KEYS`` from the environment's list: required in
    production, never weak; in development a key derived from ``SECRET_KEY``."""
    if not configured and production:
        raise ImproperlyConfigured(
            "ACTIVITY_LOG_KEYS must be set when APP_ENV=production: comma-separated random keys "
            f"of {MIN_KEY_LENGTH}+ characters, newest first "
            "(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if any(len(key) < MIN_KEY_LENGTH or key == secret_key for key in configured):
        raise ImproperlyConfigured(
            f"ACTIVITY_LOG_KEYS: every key must be a random value of {MIN_KEY_LENGTH}+ "
            "characters, not SECRET_KEY"
        )
    # Development: a fresh checkout signs and verifies with no configuration.
    return configured or [hashlib.sha256(f"activity-log-key:{secret_key}".encode()).hexdigest()]


@dataclass(frozen=True)
class LogKey:
    key_id: str
    secret: bytes

    def sign(self, message: bytes) -> str:
        """HMAC-SHA256 (hex) of ``message``."""
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


def key_id_of(secret: str) -> str:
    return hashlib.sha256(b"activity-log-key-id:" + secret.encode()).hexdigest()[:KEY_ID_LENGTH]


def log_keys() -> list[LogKey]:
    """The configured keys, newest first."""
    return [LogKey(key_id_of(secret), secret.encode()) for secret in settings.ACTIVITY_LOG_KEYS]


def signing_key() -> LogKey:
    """The key new entries and checkpoints are signed with."""
    return log_keys()[0]


def key_for(key_id: str) -> LogKey | None:
    """The configured key with this id, or None (unknown, retired, or forged)."""
    return next((key for key in log_keys() if key.key_id == key_id), None)


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
