"""On PostgreSQL, a trigger refuses any change to an approved policy version's text, hash,
number, state or owner (the model's ``save`` refuses the same on every database). A policy
with an approved version is never deleted (``policies.services.policy_delete``)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION policies_version_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.state = 'approved' AND (
        NEW.body IS DISTINCT FROM OLD.body OR NEW.sha256 IS DISTINCT FROM OLD.sha256
        OR NEW.number IS DISTINCT FROM OLD.number OR NEW.state IS DISTINCT FROM OLD.state
        OR NEW.policy_id IS DISTINCT FROM OLD.policy_id
        OR NEW.organization_id IS DISTINCT FROM OLD.organization_id
    ) THEN
        RAISE EXCEPTION 'an approved policy version is immutable' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS policies_version_immutable ON policies_policyversion;
CREATE TRIGGER policies_version_immutable BEFORE UPDATE ON policies_policyversion
    FOR EACH ROW EXECUTE FUNCTION policies_version_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS policies_version_immutable ON policies_policyversion;
DROP FUNCTION IF EXISTS policies_version_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
