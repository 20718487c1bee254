"""Second factors and webhook secrets are stored encrypted (FIELD_ENCRYPTION_KEYS): raw SQL finds
no plaintext, sign-in and signatures still work, keys rotate with ``reencrypt_secrets``, the
migration encrypts rows written as plaintext, and a missing key is a clear error, not a 500."""

from __future__ import annotations

import importlib
import io
import json
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from cryptography.fernet import Fernet
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from tenants import rls
from tenants.context import org_scope
from tenants.models import ActivityEntry, DeliveryStatus, Organization, WebhookDelivery
from tenants.webhooks.delivery import delivery_attempt
from tenants.webhooks.services import webhook_send_test
from tests.factories import PASSWORD
from tests.webhook_receiver import verify

pytestmark = pytest.mark.django_db
KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
MIGRATION = importlib.import_module("tenants.migrations.0005_encrypt_webhook_secrets")


def _code(secret: str) -> Callable[[], str]:
    """The app's current code, made when the form is posted: allauth accepts no other step
    (MFA_TOTP_TOLERANCE 0), so a code made just before a 30-second boundary waits it out."""

    def make() -> str:
        if time.time() % 30 > 28.5:
            time.sleep(30 - time.time() % 30)
        return format_hotp_value(hotp_value(secret, int(time.time()) // 30))

    return make


def _second_factors(user) -> tuple[str, list[str]]:
    """A TOTP app and recovery codes, set up the way allauth's pages do."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret, RecoveryCodes.activate(user).get_unused_codes()


def _sign_in(user, code: str | Callable[[], str]) -> Client:
    """Password, then the second factor, through allauth's pages; the code must be accepted."""
    client = Client()
    cache.clear()  # allauth remembers used codes
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(
        reverse("mfa_authenticate"), {"code": code if isinstance(code, str) else code()}
    )
    assert response.status_code == 302, response.context["form"].errors
    assert client.session.get("_auth_user_id") == str(user.pk)
    return client


def _authenticator_rows(user) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE user_id = %s", [user.pk])
        return " ".join(str(row[0]) for row in cursor.fetchall())


def _webhook_rows(org: Organization) -> str:
    with org_scope(org), connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM tenants_webhookendpoint")
        return " ".join(row[0] for row in cursor.fetchall())


def _deliver_test_event(owner, endpoint) -> WebhookDelivery:
    delivery = webhook_send_test(membership=owner, endpoint=endpoint)
    delivery_attempt(delivery_id=delivery.pk)
    return WebhookDelivery.objects.for_org(owner.organization).get(pk=delivery.pk)


def _reencrypt(*args: str) -> str:
    out = io.StringIO()
    call_command("reencrypt_secrets", *args, stdout=out)
    return out.getvalue()


def test_raw_sql_finds_no_plaintext_secret(org, owner, endpoint):
    secret, codes = _second_factors(owner.user)
    seed = Authenticator.objects.get(user=owner.user, type="recovery_codes").data["seed"]
    stored = _authenticator_rows(owner.user)
    assert secret not in stored and codes[0] not in stored
    assert stored.count("enc:v1:") == 2 and not seed.startswith("whsec") and seed in stored
    stored = _webhook_rows(org)
    assert stored.startswith("enc:v1:") and endpoint.plain_secret not in stored
    # Nor does the activity log hold the webhook's secret.
    changes = json.dumps(list(ActivityEntry.objects.for_org(org).values_list("changes", flat=True)))
    assert endpoint.plain_secret not in changes


def test_totp_recovery_codes_and_signatures_work_with_encrypted_secrets(
    org, owner, endpoint, receiver
):
    secret, codes = _second_factors(owner.user)
    _sign_in(owner.user, _code(secret))
    _sign_in(owner.user, codes[0])
    assert _deliver_test_event(owner, endpoint).status == DeliveryStatus.SUCCEEDED
    assert verify(receiver.requests[-1], endpoint.plain_secret)["event"] == "webhook.test"


def test_rotation_old_key_still_decrypts_then_the_command_retires_it(
    settings, org, owner, endpoint, receiver
):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    secret, codes = _second_factors(owner.user)  # encrypted with A
    with org_scope(org):
        endpoint.secret = endpoint.plain_secret
        endpoint.save(update_fields=["secret"])  # encrypted with A too

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]  # B is new; A still decrypts
    _sign_in(owner.user, _code(secret))
    assert _deliver_test_event(owner, endpoint).status == DeliveryStatus.SUCCEEDED
    before = _authenticator_rows(owner.user) + _webhook_rows(org)

    assert "1 would be re-encrypted" in _reencrypt("--dry-run")
    assert _authenticator_rows(owner.user) + _webhook_rows(org) == before  # wrote nothing
    out = _reencrypt()
    assert "tenants.WebhookEndpoint.secret: 1 secrets, 0 plaintext encrypted, 1 re-encrypted" in out
    assert "mfa.Authenticator.data: 2 secrets, 0 plaintext encrypted, 2 re-encrypted" in out
    assert secret not in out and endpoint.plain_secret not in out
    again = _reencrypt()  # idempotent: nothing left to change
    assert "0 re-encrypted with the newest key, 1 already current" in again
    assert "0 re-encrypted with the newest key, 2 already current" in again

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # only B is needed now
    _sign_in(owner.user, codes[1])
    assert _deliver_test_event(owner, endpoint).status == DeliveryStatus.SUCCEEDED
    assert verify(receiver.requests[-1], endpoint.plain_secret)["event"] == "webhook.test"


def test_a_missing_key_is_a_clear_error_not_a_500(settings, org, owner, endpoint, receiver):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    secret, _codes = _second_factors(owner.user)
    with org_scope(org):
        endpoint.secret = endpoint.plain_secret
        endpoint.save(update_fields=["secret"])
    settings.FIELD_ENCRYPTION_KEYS = [KEY_C]  # A lost

    client = Client()
    cache.clear()
    client.post(reverse("account_login"), {"login": owner.user.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": _code(secret)()})
    page = response.content.decode()
    assert response.status_code == 503 and "FIELD_ENCRYPTION_KEYS lacks the key" in page
    assert "_auth_user_id" not in client.session  # and no way in without the second factor

    # The webhooks page still lists (and can remove) the endpoint; the delivery says why.
    other = Client()
    other.force_login(owner.user)
    listed = other.get(reverse("webhook_endpoints", kwargs={"org_slug": org.slug}))
    assert listed.status_code == 200 and endpoint.url in listed.content.decode()
    delivery = _deliver_test_event(owner, endpoint)
    assert delivery.status == DeliveryStatus.PENDING and not receiver.requests
    assert "FIELD_ENCRYPTION_KEYS lacks the key" in delivery.last_error

    with pytest.raises(CommandError, match="3 secret\\(s\\) open with none of"):
        _reencrypt()


def test_the_migration_encrypts_rows_written_as_plaintext(org, owner, endpoint, receiver):
    secret, codes = _second_factors(owner.user)
    # As the rows were before encryption: plaintext in the columns.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE mfa_authenticator SET data = %s WHERE user_id = %s AND type = 'totp'",
            [json.dumps({"secret": secret}), owner.user.pk],
        )
        cursor.execute(
            "UPDATE mfa_authenticator SET data = %s WHERE user_id = %s AND type = 'recovery_codes'",
            [
                json.dumps({"used_mask": 0, "seed": "ab" * 40, "migrated_codes": ["12345678"]}),
                owner.user.pk,
            ],
        )
    with org_scope(org), connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_webhookendpoint SET secret = %s", [endpoint.plain_secret])
    assert secret in _authenticator_rows(owner.user) and _webhook_rows(org) == endpoint.plain_secret

    state = MigrationExecutor(connection).loader.project_state(
        ("tenants", "0005_encrypt_webhook_secrets")
    )
    with rls.system("test: migrations run as a role that sees every organization"):
        MIGRATION.encrypt_plaintext(state.apps, SimpleNamespace(connection=connection))

    stored = _authenticator_rows(owner.user)
    assert secret not in stored and "ab" * 40 not in stored and "12345678" not in stored
    assert stored.count("enc:v1:") == 3
    assert endpoint.plain_secret not in _webhook_rows(org)
    # ... and every secret still works.
    _sign_in(owner.user, _code(secret))
    _sign_in(owner.user, "12345678")  # a migrated recovery code
    assert _deliver_test_event(owner, endpoint).status == DeliveryStatus.SUCCEEDED
    assert verify(receiver.requests[-1], endpoint.plain_secret)
    assert "0 plaintext encrypted" in _reencrypt()  # none remains


def test_reversing_the_migration_puts_webhook_secrets_back_in_plaintext(org, endpoint):
    state = MigrationExecutor(connection).loader.project_state(
        ("tenants", "0005_encrypt_webhook_secrets")
    )
    assert _webhook_rows(org).startswith("enc:v1:")
    with rls.system("test: migrations run as a role that sees every organization"):
        MIGRATION.decrypt_webhook_secrets(state.apps, SimpleNamespace(connection=connection))
    assert _webhook_rows(org) == endpoint.plain_secret  # fits the former varchar(80) again
