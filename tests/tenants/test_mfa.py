"""An organization's two-factor policy: who it covers, how it is enforced (pages, portal,
browser API calls; API keys untouched), who may change it, and the self-lockout guard."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from soc2app.errors import NotPermitted, ValidationFailed
from tenants.mfa import mfa_policy_set
from tenants.models import ActivityEntry, Organization, Role
from tests.factories import PASSWORD


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _with_app(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _sign_in(user, secret: str | None = None) -> Client:
    """A real sign-in through allauth (password, then the app's code when it has one)."""
    client = Client()
    cache.clear()  # allauth remembers used codes and rate limits
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    if secret is not None:
        assert response["Location"] == reverse("mfa_authenticate")
        response = client.post(reverse("mfa_authenticate"), {"code": _code(secret)})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    return client


def _require(org: Organization, *, everyone: bool = False, auditors: bool = False) -> None:
    Organization.objects.filter(pk=org.pk).update(
        require_mfa=everyone, require_mfa_for_auditors=auditors
    )


def home(org) -> str:
    return reverse("org_home", kwargs={"org_slug": org.slug})


def test_nothing_changes_while_the_organization_requires_nothing(org, manager):
    assert _sign_in(manager.user).get(home(org)).status_code == 200


def test_a_member_without_an_app_is_sent_to_set_one_up(org, manager):
    _require(org, everyone=True)
    client = _sign_in(manager.user)
    response = client.get(home(org) + "?x=1")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp") + "?next=")
    assert "%3Fx%3D1" in response["Location"]  # back to the page afterwards
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Acme requires two-factor authentication" in page
    # Anything but a page view is refused outright, with the reason.
    refused = client.post(reverse("invitation_create", kwargs={"org_slug": org.slug}))
    assert refused.status_code == 403
    assert "requires two-factor" in refused.content.decode()


def test_a_session_that_did_not_use_the_app_confirms_once(org, manager):
    secret = _with_app(manager.user)
    _require(org, everyone=True)
    client = Client()
    client.force_login(manager.user)  # signed in before the app existed: no code this session
    response = client.get(home(org))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    cache.clear()
    confirmed = client.post(reverse("mfa_reauthenticate"), {"code": _code(secret)})
    assert confirmed.status_code == 302
    assert client.get(home(org)).status_code == 200


def test_a_member_who_signed_in_with_the_app_passes(org, manager):
    secret = _with_app(manager.user)
    _require(org, everyone=True)
    assert _sign_in(manager.user, secret).get(home(org)).status_code == 200


def test_the_policy_is_per_organization(org, other_org, make_member):
    member = make_member(org, Role.CONTRIBUTOR)
    elsewhere = make_member(other_org, Role.CONTRIBUTOR, user=member.user)
    _require(org, everyone=True)
    client = _sign_in(member.user)
    assert client.get(home(org)).status_code == 302
    assert client.get(home(elsewhere.organization)).status_code == 200


def test_auditors_only(org, make_member):
    auditor = make_member(org, Role.AUDITOR)
    manager = make_member(org, Role.COMPLIANCE_MANAGER)
    _require(org, auditors=True)
    portal = reverse("portal_home", kwargs={"org_slug": org.slug})
    response = _sign_in(auditor.user).get(portal)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert _sign_in(manager.user).get(home(org)).status_code == 200
    secret = _with_app(auditor.user)
    assert _sign_in(auditor.user, secret).get(portal).status_code == 200


def page_of(membership) -> str:
    """A page the member can open: auditors live in the portal."""
    if membership.role == Role.AUDITOR:
        return reverse("portal_home", kwargs={"org_slug": membership.organization.slug})
    return home(membership.organization)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("everyone", [True, False])
def test_who_the_policy_covers(org, make_member, client_for, role, everyone):
    member = make_member(org, role)
    _require(org, everyone=everyone, auditors=not everyone)
    response = client_for(member).get(page_of(member))
    covered = everyone or role == Role.AUDITOR
    if covered:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp"))
    else:
        assert response.status_code == 200


def test_auditors_are_refused_anything_but_a_page_view(org, make_member, client_for):
    auditor = make_member(org, Role.AUDITOR)
    _require(org, auditors=True)
    response = client_for(auditor).post(page_of(auditor))
    assert response.status_code == 403
    assert "Acme requires two-factor authentication" in response.content.decode()


def test_signing_in_with_a_recovery_code_counts(org, manager):
    _with_app(manager.user)
    codes = RecoveryCodes.activate(manager.user).get_unused_codes()
    _require(org, everyone=True)
    client = Client()
    client.post(reverse("account_login"), {"login": manager.user.email, "password": PASSWORD})
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.get(home(org)).status_code == 200


def test_removing_the_app_mid_session_sends_the_member_to_set_it_up_again(org, manager):
    secret = _with_app(manager.user)
    _require(org, everyone=True)
    client = _sign_in(manager.user, secret)
    assert client.get(home(org)).status_code == 200
    Authenticator.objects.filter(user=manager.user).delete()
    response = client.get(home(org))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_htmx_requests_are_sent_to_the_page_as_a_whole(org, manager, client_for):
    _require(org, everyone=True)
    client = client_for(manager)
    response = client.get(home(org), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("mfa_activate_totp") + "?next=")
    assert "mfa_next" not in client.session  # a fragment is no page to come back to
    client.get(home(org))
    assert client.session["mfa_next"] == home(org)  # the page is


def test_the_policy_costs_one_query_and_only_when_it_is_on(org, manager):
    secret = _with_app(manager.user)
    client = _sign_in(manager.user, secret)
    client.get(home(org))  # remembers the organization in the session

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(home(org)).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    off = queries()
    _require(org, everyone=True)
    on = queries()
    # The membership (with its organization) is loaded anyway; the policy adds the lookup of
    # the member's authenticator app, nothing else.
    assert len(on) == len(off) + 1
    assert not any("mfa_authenticator" in sql for sql in off)
    assert sum("mfa_authenticator" in sql for sql in on) == 1


# --- the settings page and the service ----------------------------------------------------


def security(org) -> str:
    return reverse("org_security", kwargs={"org_slug": org.slug})


def test_an_admin_turns_it_on_and_it_is_logged(org, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    _with_app(admin.user)
    client = client_for(admin)
    page = client.get(security(org)).content.decode()
    assert "Two-factor authentication" in page and "<td>On</td>" in page
    response = client.post(security(org), {"require_mfa": "on"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.require_mfa and not org.require_mfa_for_auditors
    entry = ActivityEntry.objects.for_org(org).get(object_type="tenants.organization")
    assert entry.action == "update" and entry.changes == {"require_mfa": [False, True]}


def test_requiring_it_of_everyone_without_an_app_yourself_is_refused(org, make_member):
    admin = make_member(org, Role.ADMIN)
    with pytest.raises(ValidationFailed, match="lock you out"):
        mfa_policy_set(membership=admin, require_mfa=True, require_mfa_for_auditors=False)
    org.refresh_from_db()
    assert not org.require_mfa
    # Auditors only is fine: it does not cover the admin.
    mfa_policy_set(membership=admin, require_mfa=False, require_mfa_for_auditors=True)
    org.refresh_from_db()
    assert org.require_mfa_for_auditors


def test_the_page_shows_the_lockout_error(org, make_member, client_for):
    admin = make_member(org, Role.ADMIN)
    response = client_for(admin).post(security(org), {"require_mfa": "on"})
    assert response.status_code == 400
    assert "lock you out" in response.content.decode()
    org.refresh_from_db()
    assert not org.require_mfa


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR])
def test_other_roles_cannot_change_it(org, make_member, client_for, role):
    member = make_member(org, role)
    _with_app(member.user)
    client = client_for(member)
    assert client.get(security(org)).status_code == 403
    assert client.post(security(org), {"require_mfa": "on"}).status_code == 403
    with pytest.raises(NotPermitted):
        mfa_policy_set(membership=member, require_mfa=True, require_mfa_for_auditors=True)
    org.refresh_from_db()
    assert not org.require_mfa and not org.require_mfa_for_auditors


def test_auditors_and_outsiders_cannot_reach_it(org, make_member, outsider, client_for):
    auditor = make_member(org, Role.AUDITOR)
    assert client_for(auditor).post(security(org), {"require_mfa": "on"}).status_code == 403
    assert client_for(outsider).get(security(org)).status_code == 404
    org.refresh_from_db()
    assert not org.require_mfa


def test_members_page_shows_who_has_it_in_one_query(
    org, manager, make_member, client_for, django_assert_max_num_queries
):
    for _ in range(5):
        _with_app(make_member(org, Role.CONTRIBUTOR).user)
    client = client_for(manager)
    client.get(reverse("members", kwargs={"org_slug": org.slug}))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("members", kwargs={"org_slug": org.slug})).content.decode()
    assert page.count('<td data-label="Two-factor">On</td>') == 5
    assert Authenticator.objects.count() == 5
