"""On PostgreSQL, an acceptance stays immutable but for one update: once its person is
anonymised (``people.anonymise``), their IP address and user agent (personal data) may be
cleared (to NULL, to empty), and nothing else may change with them. The text hash, consent,
time, channel, person and version stay as they were; deletes are still refused.
The SQL: ``people.anonymise_sql``."""

from django.db import migrations

from people.anonymise_sql import anonymise_operation


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("policies", "0005_link_reminders"),
    ]

    operations = [
        anonymise_operation(
            "policies_acceptance_immutable", "policies_acceptance", "an acceptance is immutable"
        )
    ]
