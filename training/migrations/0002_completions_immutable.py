"""On PostgreSQL, training completions are never updated or deleted (the model refuses
updates on every database). Anonymising a person changes the person, never their records."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION training_completion_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a training completion is immutable' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS training_completion_immutable ON training_trainingcompletion;
CREATE TRIGGER training_completion_immutable
    BEFORE UPDATE OR DELETE ON training_trainingcompletion
    FOR EACH ROW EXECUTE FUNCTION training_completion_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS training_completion_immutable ON training_trainingcompletion;
DROP FUNCTION IF EXISTS training_completion_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("training", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
