"""The API key lookup (``app_api_key_for_auth``) also returns ``creator_lapsed``: whether the
member who created the key no longer stands behind it (``tenants.standing``), so a creator's
access that ran out refuses the key in the query that loads it.

A function's columns cannot change in place: it is dropped and created again, and the roles
that could execute it (``create_app_role``'s grant) are granted it again."""

from django.db import migrations

SIGNATURE = "app_api_key_for_auth(text, text)"
# The columns as tenants.0009 created them.
BEFORE = (
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
)
GRANTEES = (
    "SELECT quote_ident(r.rolname) FROM pg_proc AS p, aclexplode(p.proacl) AS a "
    "JOIN pg_roles AS r ON r.oid = a.grantee "
    "WHERE p.oid = to_regprocedure(%s) AND a.privilege_type = 'EXECUTE' "
    "AND a.grantee <> p.proowner"
)


def _recreate(schema_editor, columns) -> None:
    from tenants.lookups import function_sql

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(GRANTEES, [SIGNATURE])
        grantees = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
        for sql in function_sql(SIGNATURE, columns=columns):
            cursor.execute(sql)
        for grantee in grantees:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {grantee}")


def with_standing(apps, schema_editor):
    _recreate(schema_editor, None)


def without_standing(apps, schema_editor):
    _recreate(schema_editor, BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0011_organization_sso_required"),
    ]

    operations = [migrations.RunPython(with_standing, without_standing)]
