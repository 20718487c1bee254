"""The sign-in page's domain lookup as a ``SECURITY DEFINER`` function (PostgreSQL), made like
``tenants.0009_lookup_functions`` (see ``sso.lookups``; that migration already refused an
owner who cannot read every row)."""

from django.db import migrations

SIGNATURE = "app_sso_verified_domain(text)"


def create(apps, schema_editor):
    from tenants.lookups import function_sql

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for sql in function_sql(SIGNATURE):
            cursor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0001_initial"),
        ("tenants", "0009_lookup_functions"),
    ]

    operations = [migrations.RunPython(create, drop)]
