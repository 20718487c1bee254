"""On PostgreSQL, a training completion stays immutable but for one update: once its person
is anonymised (``people.anonymise``), their IP address and user agent (personal data) may be
cleared (to NULL, to empty), and nothing else may change with them. Dates, source, provider,
the certificate and its hash, the module's hash stay as they were; deletes are still refused.
The SQL: ``people.anonymise_sql``."""

from django.db import migrations

from people.anonymise_sql import anonymise_operation


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("training", "0002_completions_immutable"),
    ]

    operations = [
        anonymise_operation(
            "training_completion_immutable",
            "training_trainingcompletion",
            "a training completion is immutable",
        )
    ]
