"""Field encryption (soc2app/crypto.py, soc2app/fields.py): the keys from the environment,
rotation with a list of keys, legacy plaintext, and errors that name the variable, never a
secret."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from soc2app import crypto
from soc2app.fields import Secret
from tests.soc2app.test_settings import PROD, _manage

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))


def test_newest_key_encrypts_every_key_decrypts_and_rotation_retires_the_old_one(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    stored = crypto.encrypt("JBSWY3DPEHPK3PXP")
    assert stored.startswith("enc:v1:") and "JBSWY3DPEHPK3PXP" not in stored

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]  # B is new, A still decrypts
    assert crypto.decrypt(stored) == "JBSWY3DPEHPK3PXP"
    assert not crypto.is_current(stored)
    rotated = crypto.reencrypt(stored)
    assert rotated is not None and crypto.is_current(rotated)
    assert crypto.reencrypt(rotated) is None  # nothing left to do: idempotent

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # A retired: only B is needed now
    assert crypto.decrypt(rotated) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(stored)  # what was not re-encrypted is lost with A


def test_a_missing_key_is_a_clear_error_naming_the_variable_not_the_secret(settings, caplog):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    stored = crypto.encrypt("top-secret-seed")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_C]
    with pytest.raises(crypto.DecryptionError) as err:
        crypto.decrypt(stored)
    assert err.value.status == 503 and err.value.code == "secret_unreadable"
    assert "FIELD_ENCRYPTION_KEYS lacks the key" in err.value.message
    for text in (err.value.message, caplog.text):
        assert "top-secret-seed" not in text and KEY_A not in text and KEY_C not in text


def test_legacy_plaintext_is_recognised_by_its_missing_prefix(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    assert not crypto.is_encrypted("whsec_legacy")
    assert crypto.decrypt("whsec_legacy") == "whsec_legacy"
    encrypted = crypto.reencrypt("whsec_legacy")
    assert encrypted is not None and crypto.decrypt(encrypted) == "whsec_legacy"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["not-a-key"], "key 1 of 1 is not a Fernet key"),
        ([KEY_A, "c2hvcnQ="], "key 2 of 2 is not a Fernet key"),
        ([KEY_A, KEY_A], "lists the same key twice"),
    ],
)
def test_malformed_keys_are_refused_naming_the_variable(raw, message):
    with pytest.raises(ImproperlyConfigured) as err:
        crypto.keys_setting(raw, production=False, secret_key="x")
    assert str(err.value).startswith("FIELD_ENCRYPTION_KEYS") and message in str(err.value)
    assert "not-a-key" not in str(err.value)  # a key's value is never echoed


def test_development_derives_a_key_from_secret_key_and_production_requires_its_own():
    first = crypto.keys_setting([], production=False, secret_key="one")
    assert first == crypto.keys_setting([], production=False, secret_key="one")
    assert first != crypto.keys_setting([], production=False, secret_key="two")
    Fernet(first[0])  # a valid key
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS must be set"):
        crypto.keys_setting([], production=True, secret_key="x" * 60)


@pytest.mark.backend_free  # manage.py check in a subprocess: CI runs it once
def test_production_start_up_refuses_a_missing_or_malformed_key():
    env = {k: v for k, v in PROD.items() if k != "FIELD_ENCRYPTION_KEYS"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when APP_ENV=production" in result.stderr
    result = _manage("check", **{**PROD, "FIELD_ENCRYPTION_KEYS": f"{KEY_A},oops"})
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEYS: key 2 of 2" in result.stderr
    assert KEY_A not in result.stderr
    result = _manage("check", **{**PROD, "FIELD_ENCRYPTION_KEYS": f" {KEY_B} , {KEY_A} "})
    assert result.returncode == 0, result.stderr


def test_a_secret_attribute_never_shows_its_value(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    secret = Secret(plain="whsec_abc")
    assert "whsec_abc" not in repr(secret) and "whsec_abc" not in str(secret)
    assert f"{secret}" == "••••••" and secret.reveal() == "whsec_abc"
    stored = secret.stored()
    assert Secret(stored=stored).reveal() == "whsec_abc"


@pytest.mark.django_db
def test_dumped_and_loaded_rows_keep_their_ciphertext(settings, org):
    from django.core import serializers

    from tenants.models import WebhookEndpoint

    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    endpoint = WebhookEndpoint.objects.create(
        organization=org, url="https://example.com/h", secret="whsec_dump", events=["report.ready"]
    )
    dumped = serializers.serialize("json", [endpoint])
    assert "whsec_dump" not in dumped and "enc:v1:" in dumped
    (loaded,) = serializers.deserialize("json", dumped)
    assert loaded.object.secret.reveal() == "whsec_dump"
    assert loaded.object.secret.stored() == endpoint.secret.stored()  # not encrypted twice
