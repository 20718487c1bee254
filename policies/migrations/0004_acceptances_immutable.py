"""On PostgreSQL, acceptances are never updated or deleted (the model refuses updates on
every database). Anonymising a person changes the person, never their acceptances."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION policies_acceptance_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'an acceptance is immutable' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS policies_acceptance_immutable ON policies_acceptance;
CREATE TRIGGER policies_acceptance_immutable BEFORE UPDATE OR DELETE ON policies_acceptance
    FOR EACH ROW EXECUTE FUNCTION policies_acceptance_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS policies_acceptance_immutable ON policies_acceptance;
DROP FUNCTION IF EXISTS policies_acceptance_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("policies", "0003_acceptance")]

    operations = [migrations.RunPython(forwards, backwards)]
