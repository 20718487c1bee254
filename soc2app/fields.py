"""``EncryptedTextField``: a model field whose column holds only ciphertext (``soc2app.crypto``).

The attribute is a ``Secret``, whatever was assigned: code calls ``.reveal()`` where it needs
the plaintext (signing a webhook, calling an integration). Loading a row decrypts nothing, so
a list page works, and an endpoint can still be removed, even when a key is missing; only the
code that uses the secret meets ``DecryptionError``. ``repr``/``str`` never show the value, so
a secret cannot reach a log line, a template or the activity log by accident.

Lookups compare ciphertext, so filtering on such a field finds nothing useful: don't.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from soc2app import crypto

MASK = "••••••"


class Secret:
    """A secret held encrypted (as loaded) or in the clear (as assigned), revealed on demand."""

    __slots__ = ("_plain", "_stored")

    def __init__(self, *, plain: str | None = None, stored: str | None = None) -> None:
        self._plain = plain
        self._stored = stored

    def reveal(self) -> str:
        if self._plain is None:
            self._plain = crypto.decrypt(self._stored or "")
        return self._plain

    def stored(self) -> str:
        """The column's value: ciphertext (a loaded legacy plaintext is encrypted now)."""
        if self._stored is None or not crypto.is_encrypted(self._stored):
            self._stored = crypto.encrypt(self.reveal())
        return self._stored

    def __repr__(self) -> str:
        return "<Secret: hidden>"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._plain) or bool(self._stored)


class _SecretAttribute(DeferredAttribute):
    """Wraps whatever is assigned (a str from code, a Secret from the database) in a Secret."""

    def __set__(self, instance: models.Model, value: Any) -> None:
        if isinstance(value, str):
            value = Secret(plain=value)
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    descriptor_class = _SecretAttribute

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        return None if value is None else Secret(stored=value)

    def to_python(self, value: Any) -> Any:
        # Deserialization (loaddata) hands back what value_to_string wrote: ciphertext, to be
        # kept as it is rather than encrypted a second time.
        if isinstance(value, str) and crypto.is_encrypted(value):
            return Secret(stored=value)
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = Secret(plain=value)
        if not isinstance(value, Secret):
            raise TypeError(f"{self.name} holds a str or Secret, not {type(value).__name__}")
        return value.stored()

    def value_to_string(self, obj: models.Model) -> str:
        # Serialization (dumpdata) writes the ciphertext, never the plaintext.
        value = self.value_from_object(obj)
        return "" if value is None else self.get_prep_value(value)
