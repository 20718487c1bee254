"""Webhook signing secrets become an encrypted column, and every secret stored as plaintext so
far (webhook secrets; allauth's TOTP and recovery-code seeds) is encrypted under the newest key
of FIELD_ENCRYPTION_KEYS: afterwards no plaintext secret remains in the database."""

from django.db import migrations

import soc2app.fields
from soc2app.reencrypt import decrypt_text_columns, reencrypt_secrets


def encrypt_plaintext(apps, schema_editor):  # noqa: ANN001, ANN201
    reencrypt_secrets(registry=apps, using=schema_editor.connection.alias)


def decrypt_webhook_secrets(apps, schema_editor):  # noqa: ANN001, ANN201
    """Back to plaintext, so the column fits the former varchar(80) again."""
    decrypt_text_columns(registry=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0004_organization_mfa_policy"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=soc2app.fields.EncryptedTextField(),
        ),
        migrations.RunPython(encrypt_plaintext, decrypt_webhook_secrets, elidable=False),
    ]
