"""Re-encrypt every stored secret under the newest key (``manage.py reencrypt_secrets`` and the
data migrations that encrypt rows written as plaintext).

What is covered, found rather than listed so that a new app cannot forget its secrets:
* every ``EncryptedTextField`` column of every concrete model (webhook signing secrets,
  integration credentials of future apps);
* the secrets allauth keeps inside ``mfa.Authenticator.data`` (``JSON_SECRETS`` below).

Each value is rewritten by a conditional ``UPDATE ... WHERE pk = %s AND column = <old value>``,
so a row changed meanwhile is left alone and a second run changes nothing (idempotent). It
crosses organizations: the command runs on the system connection (``tenants.rls.system``,
logged), a migration on its own connection as the tables' owner (``rls.owner_backfill``). Works on the
live registry and on a migration's historical one (raw SQL on the table and column names).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import connections, models

from soc2app import crypto
from soc2app.fields import EncryptedTextField

# (app label, model, JSON field, keys holding one secret, keys holding a list of secrets):
# what allauth 65.x passes through the MFA adapter's encrypt/decrypt (tenants.mfa_adapter).
JSON_SECRETS = [("mfa", "Authenticator", "data", ("secret", "seed"), ("migrated_codes",))]


@dataclass
class Tally:
    """What happened to the secrets of one column (counts of values, not of rows)."""

    label: str
    total: int = 0
    encrypted: int = 0  # were plaintext
    rotated: int = 0  # were under an older key
    unreadable: int = 0  # no configured key opens them
    skipped: list[int] = field(default_factory=list)  # rows changed meanwhile

    @property
    def current(self) -> int:
        return self.total - self.encrypted - self.rotated - self.unreadable

    def count(self, stored: str) -> str | None:
        """The new stored value of one secret, or None to keep it; counts it."""
        self.total += 1
        try:
            new = crypto.reencrypt(stored)
        except crypto.DecryptionError:
            self.unreadable += 1
            return None
        if new is not None:
            if crypto.is_encrypted(stored):
                self.rotated += 1
            else:
                self.encrypted += 1
        return new


def _text_columns(registry: Apps) -> Iterable[tuple[type[models.Model], models.Field]]:
    for model in registry.get_models():
        meta = model._meta
        if not meta.managed or meta.proxy or meta.abstract:
            continue
        for model_field in meta.concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                yield model, model_field


def _reencrypt_text(
    model: type[models.Model], column: models.Field, *, dry_run: bool, using: str
) -> Tally:
    connection = connections[using]
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    col = qn(column.column)
    tally = Tally(f"{model._meta.label}.{column.name}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY {pk}")  # noqa: S608 (quoted names)
        rows = cursor.fetchall()
    for row_pk, stored in rows:
        new = tally.count(stored)
        if new is None or dry_run:
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s",  # noqa: S608
                [new, row_pk, stored],
            )
            if cursor.rowcount != 1:
                tally.skipped.append(row_pk)
    return tally


def _reencrypt_json(
    model: type[models.Model],
    field_name: str,
    keys: tuple[str, ...],
    list_keys: tuple[str, ...],
    *,
    dry_run: bool,
    using: str,
) -> Tally:
    tally = Tally(f"{model._meta.label}.{field_name}")
    manager = model._base_manager.using(using)
    for row_pk, data in manager.order_by("pk").values_list("pk", field_name):
        if isinstance(data, str):  # a driver that hands JSON back as text
            data = json.loads(data)
        if not isinstance(data, dict):
            continue
        new_data, changed = dict(data), False
        for key in keys:
            if isinstance(data.get(key), str):
                new = tally.count(data[key])
                if new is not None:
                    new_data[key], changed = new, True
        for key in list_keys:
            if isinstance(data.get(key), list):
                values = list(data[key])
                for i, value in enumerate(values):
                    if isinstance(value, str) and (new := tally.count(value)) is not None:
                        values[i], changed = new, True
                new_data[key] = values
        if changed and not dry_run:
            # Only if the row is as it was read (a code used meanwhile rewrites ``data``).
            if not manager.filter(pk=row_pk, **{field_name: data}).update(**{field_name: new_data}):
                tally.skipped.append(row_pk)
    return tally


@contextmanager
def _across_organizations(using: str | None) -> Iterator[str]:
    """Where these jobs read and rewrite the secrets of every organization; yields the alias.
    A migration (``using``): its own connection, as the tables' owner. Otherwise the system
    connection (worker and command processes), logged."""
    from tenants import rls

    if using is not None:
        with rls.owner_backfill(connections[using], *rls.tenant_tables()):
            yield using
        return
    with rls.system("reencrypt_secrets: every stored secret, of every organization") as system:
        yield system.alias


def reencrypt_secrets(
    *, registry: Apps | None = None, dry_run: bool = False, using: str | None = None
) -> list[Tally]:
    """Re-encrypt (or encrypt, when plaintext) every stored secret under the newest key;
    ``using``: a migration's connection (else the system connection)."""
    registry = registry or global_apps
    tallies: list[Tally] = []
    with _across_organizations(using) as using:
        for model, column in _text_columns(registry):
            tallies.append(_reencrypt_text(model, column, dry_run=dry_run, using=using))
        for app_label, model_name, field_name, keys, list_keys in JSON_SECRETS:
            try:
                model = registry.get_model(app_label, model_name)
            except LookupError:  # app not installed (or not migrated yet, in a migration)
                continue
            tallies.append(
                _reencrypt_json(model, field_name, keys, list_keys, dry_run=dry_run, using=using)
            )
    return tallies


def decrypt_text_columns(*, registry: Apps, using: str) -> None:
    """Every ``EncryptedTextField`` column back to plaintext: only for reversing the migration
    that introduced encryption (the columns then become what they were before)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    with _across_organizations(using), connection.cursor() as cursor:
        for model, column in _text_columns(registry):
            table, pk, col = (
                qn(model._meta.db_table),
                qn(model._meta.pk.column),
                qn(column.column),
            )
            cursor.execute(f"SELECT {pk}, {col} FROM {table} WHERE {col} IS NOT NULL")  # noqa: S608
            for row_pk, stored in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {table} SET {col} = %s WHERE {pk} = %s",  # noqa: S608
                    [crypto.decrypt(stored), row_pk],
                )
