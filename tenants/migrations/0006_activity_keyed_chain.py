"""The activity log becomes a keyed chain (HMAC-SHA256, ``tenants.activity``) and append-only
for every role but the table's owner.

``resign``: each organization's existing chain (plain SHA-256) is checked first; an intact one
is re-signed with the newest key of ``ACTIVITY_LOG_KEYS`` (production refuses to start without
one, so ``migrate`` always has it), a broken one is left as it is, without a key id, so that
``verify_activity_log`` keeps reporting it instead of the upgrade blessing the tampering.

``APPEND_ONLY``: a trigger refuses UPDATE (except clearing ``actor_id``, Django's SET_NULL when
a user is deleted), DELETE and TRUNCATE from any role other than the table's owner, whatever
that role was granted (``GRANT ... ON ALL TABLES``, default privileges): the grants of
``create_app_role`` are the first wall, this is the second.
"""

import logging

from django.db import migrations, models

logger = logging.getLogger("tenants.migrations")
BATCH = 2000

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION tenants_activity_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        IF TG_LEVEL = 'STATEMENT' THEN RETURN NULL; END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the activity log is append-only: % refused for role %', TG_OP, current_user
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS activity_append_only ON tenants_activityentry;
CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON tenants_activityentry
    FOR EACH ROW EXECUTE FUNCTION tenants_activity_append_only();
DROP TRIGGER IF EXISTS activity_no_truncate ON tenants_activityentry;
CREATE TRIGGER activity_no_truncate BEFORE TRUNCATE ON tenants_activityentry
    FOR EACH STATEMENT EXECUTE FUNCTION tenants_activity_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS activity_append_only ON tenants_activityentry;
DROP TRIGGER IF EXISTS activity_no_truncate ON tenants_activityentry;
DROP FUNCTION IF EXISTS tenants_activity_append_only();
"""


def _batches(queryset):
    """The queryset in id order, ``BATCH`` rows at a time (keyset: safe to update meanwhile)."""
    last = 0
    while True:
        rows = list(queryset.filter(id__gt=last).order_by("id")[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _rechain(apps, schema_editor, *, check, sign, key_id) -> None:
    """Per organization: when every entry passes ``check(entry)`` and links to the previous
    one, give each a new ``entry_hash = sign(entry)`` (chained) and ``key_id``; else leave the
    organization's chain as it is (logged), so verification keeps reporting the break."""
    from tenants.rls import owner_backfill

    connection = schema_editor.connection
    entries = apps.get_model("tenants", "ActivityEntry")._base_manager.using(connection.alias)
    # Every organization's entries: FORCE ROW LEVEL SECURITY lifted for this transaction.
    with owner_backfill(connection, "tenants_activityentry"):
        _rechain_all(entries, check=check, sign=sign, key_id=key_id)


def _rechain_all(entries, *, check, sign, key_id) -> None:
    org_ids = entries.order_by().values_list("organization_id", flat=True).distinct()
    for org_id in sorted(org_ids):
        chain = entries.filter(organization_id=org_id)
        broken = _first_broken(chain, check)
        if broken is not None:
            logger.warning(
                "activity log of organization %s is broken at entry %s: left as it is, "
                "verify_activity_log reports it",
                org_id,
                broken,
            )
            continue
        prev = ""
        for rows in _batches(chain):
            for entry in rows:
                entry.prev_hash = prev
                entry.key_id = key_id
                entry.entry_hash = sign(entry)
                prev = entry.entry_hash
            entries.bulk_update(rows, ["prev_hash", "key_id", "entry_hash"])


def _first_broken(chain, check):
    prev = ""
    for rows in _batches(chain):
        for entry in rows:
            if entry.prev_hash != prev or not check(entry):
                return entry.pk
            prev = entry.entry_hash
    return None


def resign(apps, schema_editor):
    """Plain SHA-256 chains that are intact become keyed with the newest key."""
    from tenants.activity import entry_digest, legacy_digest
    from tenants.activity_keys import signing_key

    key = signing_key()
    _rechain(
        apps,
        schema_editor,
        check=lambda entry: legacy_digest(entry) == entry.entry_hash,
        sign=lambda entry: entry_digest(entry, key),
        key_id=key.key_id,
    )


def unsign(apps, schema_editor):
    """Back to plain SHA-256 (migrating back to 0005), for keyed chains that verify."""
    from tenants.activity import entry_digest, legacy_digest
    from tenants.activity_keys import key_for

    def check(entry) -> bool:
        return key_for(entry.key_id) is not None and entry_digest(entry) == entry.entry_hash

    _rechain(apps, schema_editor, check=check, sign=legacy_digest, key_id="")


def _run_sql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the "%" of RAISE are not placeholders.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0005_encrypt_webhook_secrets"),
    ]

    operations = [
        migrations.AddField(
            model_name="activityentry",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.RunPython(resign, unsign),
        migrations.RunPython(_run_sql(APPEND_ONLY), _run_sql(DROP_APPEND_ONLY)),
    ]
