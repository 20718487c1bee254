from django.db import migrations, models

# The shipped defaults of controls/data/frequency_rules.yaml at the time of this migration
# (frozen here: a migration must not change when the data file is edited later).
AUTOMATIC_TYPES = ["technical"]


def backfill(apps, schema_editor):
    """Existing controls get the operation their type implies (technical: automatic)."""
    from tenants.rls import owner_backfill

    connection = schema_editor.connection
    controls = apps.get_model("controls", "Control")._base_manager.using(connection.alias)
    # Every organization's controls: FORCE ROW LEVEL SECURITY lifted for this transaction.
    with owner_backfill(connection, "controls_control"):
        controls.filter(control_type__in=AUTOMATIC_TYPES).update(operation="automatic")


class Migration(migrations.Migration):
    dependencies = [
        ("controls", "0002_tenant_controls_and_audits"),
        ("tenants", "0005_encrypt_webhook_secrets"),
    ]

    operations = [
        migrations.AddField(
            model_name="control",
            name="operation",
            field=models.CharField(
                choices=[
                    ("manual", "Manual (a person performs it)"),
                    ("automatic", "Automatic (a system does it and reports)"),
                ],
                default="manual",
                max_length=10,
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="control",
            constraint=models.CheckConstraint(
                condition=models.Q(("operation__in", ["manual", "automatic"])),
                name="control_operation_valid",
            ),
        ),
    ]
