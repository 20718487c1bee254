"""``EvidenceVersion.is_latest``: the newest version of each item, as an indexed flag.

The backfill is one set-based UPDATE (an anti-join on the unique (organization, item, number)
index); the partial unique constraint and index are created after it, on the filled column.
The (organization, freshness) index goes: the state is read per organization through the
latest versions, and with no index on it the daily UPDATEs of the state can be heap-only
(HOT) on PostgreSQL, helped by free room left in each page (fillfactor, new pages only).
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q


def backfill(apps, schema_editor):
    version = apps.get_model("evidence", "EvidenceVersion")
    rows = version._base_manager.using(schema_editor.connection.alias)
    newer = version._base_manager.filter(
        organization_id=OuterRef("organization_id"),
        item_id=OuterRef("item_id"),
        number__gt=OuterRef("number"),
    )
    # Every organization's rows: under ``FORCE ROW LEVEL SECURITY`` a migrating owner that is
    # not a superuser would otherwise see none of them (tenants.rls.owner_backfill).
    from tenants import rls

    with rls.owner_backfill(schema_editor.connection, "evidence_evidenceversion"):
        rows.filter(~Exists(newer)).update(is_latest=True)


def fillfactor(percent):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE evidence_evidenceversion SET (fillfactor = {int(percent)})"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_notify_claim"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="evidenceversion", name="version_org_freshness"),
        migrations.RunPython(fillfactor(85), fillfactor(100)),
        migrations.AddField(
            model_name="evidenceversion",
            name="is_latest",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="evidenceversion",
            constraint=models.UniqueConstraint(
                condition=Q(is_latest=True),
                fields=("organization", "item"),
                name="version_one_latest",
            ),
        ),
        migrations.AddIndex(
            model_name="evidenceversion",
            index=models.Index(
                condition=Q(is_latest=True), fields=["id"], name="version_latest_id"
            ),
        ),
        migrations.AddIndex(
            model_name="evidenceitem",
            index=models.Index(
                condition=Q(removed_at__isnull=False), fields=["id"], name="evidence_item_removed"
            ),
        ),
    ]
