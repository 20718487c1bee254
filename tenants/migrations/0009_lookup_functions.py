"""The web's three cross-organization lookups as ``SECURITY DEFINER`` functions (PostgreSQL).

See ``tenants.lookups``: owned by the migrating role (the tables' owner), ``search_path``
pinned, ``EXECUTE`` revoked from ``PUBLIC`` (``create_app_role`` grants it to the application's
role). They run as their owner, so the owner must read every row under ``FORCE ROW LEVEL
SECURITY``: a superuser or a ``BYPASSRLS`` role; anything else would make every API key,
invitation and organization switcher come back empty, so the migration refuses it.
"""

from django.db import migrations

OWNER_MUST_BYPASS = (
    "The lookup functions run as the role that migrates ({role}), which is bound by row-level "
    "security and would find nothing: migrate as the tables' owner with SUPERUSER or BYPASSRLS "
    "(MIGRATE_DATABASE_URL; README, Row-level security)."
)


def create(apps, schema_editor):
    from tenants.lookups import FUNCTIONS, function_sql

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
        role, can_bypass = cursor.fetchone()
        if not can_bypass:
            raise RuntimeError(OWNER_MUST_BYPASS.format(role=role))
        for signature in FUNCTIONS:
            for sql in function_sql(signature):
                cursor.execute(sql)


def drop(apps, schema_editor):
    from tenants.lookups import FUNCTIONS

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for signature in FUNCTIONS:
            cursor.execute(f"DROP FUNCTION IF EXISTS {signature}")


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0008_idempotent_requests"),
    ]

    operations = [migrations.RunPython(create, drop)]
