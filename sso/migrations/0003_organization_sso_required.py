"""Organizations whose connection already requires single sign-on get the copy the middleware
reads (``Organization.sso_required``): without it their members' password sessions would no
longer be refused."""

from django.db import migrations


def backfill(apps, schema_editor):
    from tenants.rls import owner_backfill

    connection = schema_editor.connection
    connections = apps.get_model("sso", "SsoConnection")._base_manager.using(connection.alias)
    organizations = apps.get_model("tenants", "Organization")._base_manager.using(connection.alias)
    # Every organization's connection: FORCE ROW LEVEL SECURITY lifted for this transaction.
    with owner_backfill(connection, "sso_ssoconnection"):
        required = connections.filter(require_sso=True).values("organization_id")
        organizations.filter(pk__in=required).update(sso_required=True)


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0002_domain_lookup"),
        ("tenants", "0011_organization_sso_required"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
