"""The three lookups a web request makes across organizations, by a key only its caller has.

An API key by its public prefix and secret's hash, an invitation by its token's hash, and a
signed-in user's own memberships: the request does not know the organization yet, and the web
role is bound by row-level security (``tenants.rls``) with no way to lift it. On PostgreSQL
each goes through a ``SECURITY DEFINER`` function owned by the tables' owner (migration
``tenants.0009_lookup_functions``): one per lookup, ``search_path`` pinned, executable by the
application's role only (``create_app_role`` grants it; ``PUBLIC`` cannot), returning only the
columns the lookup needs (never a hash). The row comes back with its organization in the same
query, as ``select_related`` would. Elsewhere (SQLite: no row-level security) the ORM does it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from tenants.models import Invitation, Membership, Organization
from tenants.models_integrations import ApiKey
from tenants.permissions import Action
from tenants.standing import LAPSED, creator_lapsed, creator_lapsed_sql

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# name(argument types) -> (columns returned, body). The bodies read the tables schema-qualified;
# each function also pins its search_path, so no object a caller creates can stand in.
# A column is (name, type), or (name, type, SQL expression over the row ``t``) for a computed
# one: not a model field, set on the row as an attribute.
Column = tuple[str, ...]
API_KEY_COLUMNS: tuple[Column, ...] = (
    ("id", "bigint"),
    ("organization_id", "bigint"),
    ("name", "varchar"),
    ("role", "varchar"),
    ("prefix", "varchar"),
    ("created_by_id", "bigint"),
    ("created_at", "timestamptz"),
    ("expires_at", "timestamptz"),
    ("revoked_at", "timestamptz"),
    ("last_used_at", "timestamptz"),
    # Whether the member who created the key no longer stands behind it (tenants.standing):
    # read with the key, so a creator's access that ran out refuses the key at once.
    (LAPSED, "boolean", creator_lapsed_sql(Action.APIKEY_MANAGE)),
)
INVITATION_COLUMNS: tuple[Column, ...] = (
    ("id", "bigint"),
    ("organization_id", "bigint"),
    ("email", "varchar"),
    ("role", "varchar"),
    ("status", "varchar"),
    ("invited_by_id", "bigint"),
    ("created_at", "timestamptz"),
    ("expires_at", "timestamptz"),
    ("access_expires_at", "timestamptz"),
    ("accepted_at", "timestamptz"),
    ("accepted_by_id", "bigint"),
)
MEMBERSHIP_COLUMNS: tuple[Column, ...] = (
    ("id", "bigint"),
    ("organization_id", "bigint"),
    ("user_id", "bigint"),
    ("role", "varchar"),
    ("expires_at", "timestamptz"),
    ("created_at", "timestamptz"),
)
Definition = tuple[tuple[Column, ...], str, str]
FUNCTIONS: dict[str, Definition] = {
    # An API key whose prefix and secret's hash both match: the hash never leaves the database.
    "app_api_key_for_auth(text, text)": (
        API_KEY_COLUMNS,
        "public.tenants_apikey",
        "t.prefix = $1 AND t.secret_hash = $2",
    ),
    "app_invitation_by_token(text)": (
        INVITATION_COLUMNS,
        "public.tenants_invitation",
        "t.token_hash = $1",
    ),
    # Keyed by the signed-in user's id, which the session proves.
    "app_user_memberships(bigint)": (
        MEMBERSHIP_COLUMNS,
        "public.tenants_membership",
        "t.user_id = $1",
    ),
}

# Other apps' lookups (``register_function``), by signature.
REGISTERED: dict[str, Definition] = {}


def register_function(signature: str, columns: tuple[Column, ...], table: str, where: str) -> None:
    """Another app's narrow lookup (its ``AppConfig.ready``): created by that app's migration
    with ``function_sql``, granted by ``create_app_role`` like the three above
    (``all_functions``). Kept apart from ``FUNCTIONS``, which ``tenants.0009`` creates before
    other apps' tables exist. Tenants never learns what the lookups are for."""
    REGISTERED[signature] = (columns, table, where)


def all_functions() -> dict[str, Definition]:
    return {**FUNCTIONS, **REGISTERED}


def _selected(column: Column) -> str:
    name, kind, *expression = column
    return f"{expression[0] if expression else f't.{name}'}::{kind}"


def function_sql(
    signature: str, where: str | None = None, columns: tuple[Column, ...] | None = None
) -> list[str]:
    """CREATE OR REPLACE the function, executable by nobody until ``create_app_role``
    (``where``, ``columns``: a migration's frozen condition and columns, for columns a later
    migration adds; a change of columns needs the function dropped first)."""
    current_columns, table, current = all_functions()[signature]
    where = current if where is None else where
    columns = current_columns if columns is None else columns
    returns = ", ".join(f"{column[0]} {column[1]}" for column in columns)
    select = ", ".join(_selected(column) for column in columns)
    body = f"SELECT {select} FROM {table} AS t WHERE {where}"  # noqa: S608 (fixed)
    return [
        f"CREATE OR REPLACE FUNCTION {signature} RETURNS TABLE ({returns}) "
        f"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
        f"AS $fn$ {body} $fn$",
        f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
    ]


def rows_with_organization(model: type[Model], signature: str, args: Sequence[Any]) -> list:
    """Rows of ``model`` from a registered function (PostgreSQL only), with organizations."""
    return _with_organization(model, signature, args)


def _with_organization(
    model: type[Model],
    signature: str,
    args: Sequence[Any],
    extra_sql: str = "",
    extra_params: Sequence[Any] = (),
) -> list:
    """Rows of ``model`` from the function, each with its organization (one query); computed
    columns become attributes of the row."""
    columns = [column[0] for column in all_functions()[signature][0]]
    fields = [column[0] for column in all_functions()[signature][0] if len(column) == 2]
    org_fields = [f.attname for f in Organization._meta.concrete_fields]
    name = signature.split("(")[0]
    placeholders = ", ".join(["%s"] * len(args))
    select = ", ".join([f"f.{c}" for c in columns] + [f'o."{c}"' for c in org_fields])
    sql = (
        f"SELECT {select} FROM {name}({placeholders}) AS f "  # noqa: S608 (fixed names only)
        f"JOIN tenants_organization AS o ON o.id = f.organization_id {extra_sql}"
    )
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [*args, *extra_params])
        for values in cursor.fetchall():
            named = dict(zip(columns, values, strict=False))
            row = model.from_db(connection.alias, fields, [named[f] for f in fields])
            for extra in columns:
                if extra not in fields:
                    setattr(row, extra, named[extra])
            row.organization = Organization.from_db(
                connection.alias, org_fields, values[len(columns) :]
            )
            rows.append(row)
    return rows


def api_key_for_auth(prefix: str, secret_hash: str) -> ApiKey | None:
    """The key with this prefix and secret hash (any organization), with its organization."""
    if connection.vendor != "postgresql":
        lapsed = creator_lapsed(
            Action.APIKEY_MANAGE, Membership._base_manager.all(), system_issued=True
        )
        return (
            ApiKey._base_manager.select_related("organization")
            .annotate(**{LAPSED: lapsed})
            .filter(prefix=prefix, secret_hash=secret_hash)
            .first()
        )
    found = _with_organization(ApiKey, "app_api_key_for_auth(text, text)", [prefix, secret_hash])
    return found[0] if found else None


def invitation_by_token(token_hash: str) -> Invitation | None:
    """The invitation with this token hash (any organization), with its organization."""
    if connection.vendor != "postgresql":
        return (
            Invitation._base_manager.select_related("organization")
            .filter(token_hash=token_hash)
            .first()
        )
    found = _with_organization(Invitation, "app_invitation_by_token(text)", [token_hash])
    return found[0] if found else None


def user_memberships(user: AbstractBaseUser, *, org_slug: str | None = None) -> list[Membership]:
    """The user's own current memberships (one organization's when ``org_slug``), each with
    its organization, by organization name."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        rows = (
            Membership._base_manager.filter(user=user)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .select_related("organization")
            .order_by("organization__name")
        )
        return list(rows.filter(organization__slug=org_slug) if org_slug is not None else rows)
    signature = "app_user_memberships(bigint)"
    where = "WHERE (f.expires_at IS NULL OR f.expires_at > %s)"
    params: list = [now]
    if org_slug is not None:
        where += " AND o.slug = %s"
        params.append(org_slug)
    order = f"{where} ORDER BY o.name, f.id"
    return _with_organization(Membership, signature, [user.pk], order, params)
