"""Encryption at rest of the secrets the app must read back (TOTP seeds, recovery-code seeds,
webhook signing secrets, integration credentials).

Secrets the app only *checks* (API keys, link tokens) are hashed instead; this module is for
the ones it has to use again in the clear.

* Keys: ``FIELD_ENCRYPTION_KEYS``, comma-separated Fernet keys, **newest first**. The newest
  encrypts; every key in the list decrypts, so a key can be rotated without downtime: put the
  new key first, keep the old one after it, run ``manage.py reencrypt_secrets``, then drop the
  old key (README, "Secrets at rest"). Required in production; in development a key derived from ``SECRET_KEY``.
* Stored form: ``enc:v1:<Fernet token>`` (AES-128-CBC + HMAC-SHA256, with a timestamp). The
  prefix tells ciphertext from the plaintext rows written before encryption existed, which
  ``decrypt`` passes through until the data migration or the command has encrypted them.
* Errors: a token none of the keys opens raises ``DecryptionError``, a domain error (503) whose
  message says what to do, never the secret or the key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from soc2app.errors import DomainError

logger = logging.getLogger(__name__)

PREFIX = "enc:v1:"
ENV_NAME = "FIELD_ENCRYPTION_KEYS"
GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


class DecryptionError(DomainError):
    """A stored secret that none of the configured keys opens: the key it was encrypted with
    is missing from ``FIELD_ENCRYPTION_KEYS`` (or the value was damaged)."""

    status = 503
    code = "secret_unreadable"

    def __init__(self, what: str = "A stored secret") -> None:
        super().__init__(
            f"{what} could not be decrypted: the server's {ENV_NAME} lacks the key it was "
            "encrypted with. Ask your administrator to add that key back to the list (after "
            'the newest one); see README, "Secrets at rest".'
        )


def validate_keys(keys: list[str]) -> list[str]:
    """The keys, each checked to be a Fernet key; ``ImproperlyConfigured`` names the variable
    and the position of a bad one (never its value: it is a secret)."""
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"{ENV_NAME}: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                f"base64-encoded bytes); {GENERATE_HINT}"
            )
    if len(set(keys)) != len(keys):
        raise ImproperlyConfigured(f"{ENV_NAME} lists the same key twice")
    return keys


def development_key(secret_key: str) -> str:
    """A Fernet key derived from ``SECRET_KEY``, for development and tests only (production
    requires its own keys, so changing ``SECRET_KEY`` there cannot lock the secrets away)."""
    digest = hashlib.sha256(b"soc2app field encryption\x00" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def keys_setting(configured: list[str], *, production: bool, secret_key: str) -> list[str]:
    """The value of ``settings.FIELD_ENCRYPTION_KEYS`` from the environment's list."""
    if configured:
        return validate_keys(configured)
    if production:
        raise ImproperlyConfigured(
            f"{ENV_NAME} must be set when APP_ENV=production (comma-separated keys, newest "
            f"first); {GENERATE_HINT}"
        )
    return [development_key(secret_key)]


@functools.lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ImproperlyConfigured(f"{ENV_NAME} is empty: no key to encrypt secrets with")
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _current() -> tuple[MultiFernet, Fernet]:
    from django.conf import settings

    return _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def encrypt(plaintext: str) -> str:
    """``enc:v1:<token>`` of ``plaintext`` under the newest key."""
    multi, _newest = _current()
    return PREFIX + multi.encrypt(plaintext.encode()).decode("ascii")


def decrypt(stored: str, *, what: str = "A stored secret") -> str:
    """The plaintext of a stored value; a legacy plaintext value (no prefix) as it is."""
    if not is_encrypted(stored):
        return stored
    multi, _newest = _current()
    try:
        return multi.decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        # The message names no secret and no key; the stack trace carries none either.
        logger.error("%s could not be decrypted with %s", what, ENV_NAME)
        raise DecryptionError(what) from exc


def is_current(stored: str) -> bool:
    """Whether ``stored`` is ciphertext under the newest key (nothing to re-encrypt)."""
    if not is_encrypted(stored):
        return False
    _multi, newest = _current()
    try:
        newest.decrypt(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        return False
    return True


def reencrypt(stored: str) -> str | None:
    """``stored`` encrypted under the newest key, or None when it already is. Legacy plaintext
    is encrypted; ciphertext under an older key is decrypted and encrypted again."""
    if is_current(stored):
        return None
    return encrypt(decrypt(stored))
