"""On PostgreSQL, a training completion stays immutable but for one update: once its person
is anonymised (``people.anonymise``), their IP address and user agent (personal data) may be
cleared (to NULL, to empty), and nothing else may change with them. Dates, source, provider,
the certificate and its hash, the module's hash stay as they were; deletes are still refused.

The trigger compares the whole new row with the old one, those two columns cleared where the
update clears them, so a column added later is covered without changing the trigger. It
reads the person's row under the same row-level security as the update (its organization),
so a person it cannot see refuses."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION training_completion_immutable() RETURNS trigger AS $$
DECLARE
    cleared training_trainingcompletion;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- Each of the two either as it was or cleared; every other column as it was.
        cleared := OLD;
        IF NEW.ip_address IS NULL THEN
            cleared.ip_address := NULL;
        END IF;
        IF NEW.user_agent = '' THEN
            cleared.user_agent := '';
        END IF;
        IF NEW IS NOT DISTINCT FROM cleared AND EXISTS (
            SELECT 1 FROM people_person p
            WHERE p.id = OLD.person_id AND p.anonymised_at IS NOT NULL
        ) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'a training completion is immutable' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
"""

# As 0002 left it: every update and delete refused.
PREVIOUS = """
CREATE OR REPLACE FUNCTION training_completion_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a training completion is immutable' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("training", "0002_completions_immutable"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
