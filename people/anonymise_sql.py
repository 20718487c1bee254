"""The PostgreSQL trigger functions that keep a person's records immutable but for
anonymising (``people.anonymise``): once the person is anonymised, the record's IP address and
user agent may be cleared (to NULL, to empty) and nothing else may change with them; deletes
stay refused. Used by the migrations that install them (policies 0006, training 0003): change
the SQL only through a new migration with its own copy, never here, or older migrations would
install something else.

The function compares the whole new row with the old one, those two columns cleared where the
update clears them, so a column added later is covered without changing the trigger. It reads
the person's row under the same row-level security as the update (its organization), so a
person it cannot see refuses."""

from __future__ import annotations


def anonymise_trigger(function: str, table: str, message: str) -> str:
    """``CREATE OR REPLACE FUNCTION function()``: the trigger of ``table``'s rows (with
    ``person_id``, ``ip_address``, ``user_agent``), refusing with ``message``. The three are
    constants of the migrations, never input."""
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
DECLARE
    cleared {table};
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
    RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
"""  # noqa: S608


def refuse_all_trigger(function: str, message: str) -> str:
    """The function before anonymising existed: every update and delete refused."""
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
END;
$$ LANGUAGE plpgsql;
"""


def anonymise_operation(function: str, table: str, message: str):  # noqa: ANN201
    """The migration operation: the anonymising trigger forwards, the refuse-all one back
    (PostgreSQL only; SQLite has no such triggers)."""
    from django.db import migrations

    def forwards(apps, schema_editor):  # noqa: ANN001, ANN202
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(anonymise_trigger(function, table, message))

    def backwards(apps, schema_editor):  # noqa: ANN001, ANN202
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(refuse_all_trigger(function, message))

    return migrations.RunPython(forwards, backwards)
