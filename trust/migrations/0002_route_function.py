"""The trust center's public route lookup as a ``SECURITY DEFINER`` function (PostgreSQL):
see ``trust.lookups`` and ``tenants.lookups`` (owned by the migrating role, ``search_path``
pinned, ``EXECUTE`` revoked from ``PUBLIC`` until ``create_app_role`` grants it)."""

from django.db import migrations

SIGNATURE = "app_trust_center_route(text, text)"
# As first created (trust.0003 adds the custom domain's verification to it).
WHERE = "t.published AND ((t.slug = $1 AND $1 <> '') OR (t.custom_domain = $2 AND $2 <> ''))"


def create(apps, schema_editor):
    from tenants.lookups import function_sql

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in function_sql(SIGNATURE, WHERE):
            cursor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


class Migration(migrations.Migration):
    dependencies = [
        ("trust", "0001_initial"),
        ("tenants", "0009_lookup_functions"),
    ]

    operations = [migrations.RunPython(create, drop)]
