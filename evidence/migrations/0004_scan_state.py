"""``EvidenceVersion.scan_state``: the malware scan of a file (evidence.scanning).

Existing versions were stored before scanning existed: ``not_scanned``, which hides nothing.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_is_latest")]

    operations = [
        migrations.AddField(
            model_name="evidenceversion",
            name="scan_state",
            field=models.CharField(
                choices=[
                    ("not_scanned", "Not scanned"),
                    ("clean", "Clean"),
                    ("pending", "Waiting for the malware scan"),
                    ("infected", "Quarantined: malware found"),
                ],
                default="not_scanned",
                db_default="not_scanned",
                max_length=12,
            ),
        ),
    ]
