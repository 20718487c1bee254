"""The sign-in page's domain lookup as a ``SECURITY DEFINER`` function (PostgreSQL), made like
``tenants.0009_lookup_functions`` (see ``sso.lookups``)."""

import importlib

from django.db import migrations


def create(apps, schema_editor):
    from sso.lookups import FUNCTION
    from tenants.lookups import function_sql

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
        role, can_bypass = cursor.fetchone()
        if not can_bypass:
            tenants_0009 = importlib.import_module("tenants.migrations.0009_lookup_functions")
            raise RuntimeError(tenants_0009.OWNER_MUST_BYPASS.format(role=role))
        for sql in function_sql(FUNCTION):
            cursor.execute(sql)


def drop(apps, schema_editor):
    from sso.lookups import FUNCTION

    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}")


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0001_initial"),
        ("tenants", "0009_lookup_functions"),
    ]

    operations = [migrations.RunPython(create, drop)]
