"""Sign-in through django-allauth: e-mail login, verification, rate limits, TOTP, reset."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory


def _login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _totp_now(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.django_db
def test_login_page_uses_our_layout(client):
    body = client.get(reverse("account_login")).content.decode()
    assert "/static/css/app.css" in body and 'class="entrance"' in body
    assert 'class="field' in body  # our field partial, errors beside the input


@pytest.mark.django_db
def test_member_logs_in_with_email_and_lands_in_the_organization(client, manager):
    response = _login(client, manager.user.email.upper())
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response["Location"] == f"/o/{manager.organization.slug}/"


@pytest.mark.django_db
def test_wrong_password_is_shown_on_the_form(client, manager):
    response = _login(client, manager.user.email, "wrong-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_unverified_email_cannot_sign_in(client):
    user = UserFactory(verified_email=False)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    response = _login(client, user.email)
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert "_auth_user_id" not in client.session
    assert any("Confirm" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_failed_logins_are_rate_limited(client, manager):
    bodies = [
        _login(client, manager.user.email, "wrong-password").content.decode() for _ in range(6)
    ]
    assert all("Too many failed login attempts" not in b for b in bodies[:5])
    assert "Too many failed login attempts" in bodies[5]
    # Even the right password is refused while the limit holds.
    blocked = _login(client, manager.user.email)
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_password_reset_sends_a_link(client, manager):
    response = client.post(reverse("account_reset_password"), {"email": manager.user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and manager.user.email in mail.outbox[0].to
    assert re.search(r"/accounts/password/reset/key/\S+", mail.outbox[0].body)


@pytest.mark.django_db
def test_totp_mfa_can_be_enabled_and_is_then_required(client, manager):
    assert _login(client, manager.user.email).status_code == 302
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302:  # allauth asks for the password again before security changes
        assert page["Location"].startswith(reverse("account_reauthenticate"))
        client.post(page["Location"], {"password": PASSWORD})
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": _totp_now(secret)})
    assert response.status_code == 302
    from allauth.mfa.models import Authenticator

    stored = Authenticator.objects.get(user=manager.user, type="totp").data["secret"]
    assert stored.startswith("enc:v1:") and secret not in stored  # encrypted at rest

    client.post(reverse("account_logout"))
    cache.clear()  # allauth remembers used codes; the next login uses the same 30-s window
    response = _login(client, manager.user.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    ok = client.post(reverse("mfa_authenticate"), {"code": _totp_now(secret)})
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(manager.user.pk)
