"""Turning "require single sign-on" on takes effect at once: a member's session signed in with
a password before it is refused for that organization from its next request (pages and the
API), the break-glass owner's is not, and other organizations are unaffected. Deciding costs
no query unless the session may be refused."""

from __future__ import annotations

import importlib
import time
from types import SimpleNamespace

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client, RequestFactory
from django.urls import reverse

from sso import services
from sso.middleware import sso_refusal
from sso.models import SsoConnection
from sso.signin import SIGNED_KEY
from tenants import rls
from tenants.context import org_scope
from tenants.lookups import user_memberships
from tenants.models import Organization, Role
from tests.factories import PASSWORD
from tests.sso.conftest import follow_oidc, member, signed_in_user_id

pytestmark = pytest.mark.django_db


def _browser() -> Client:
    return Client(HTTP_HOST="testserver")


def _password(browser: Client, email: str, secret: str | None = None) -> None:
    """Signs in with a password (and the authenticator app's code when ``secret``)."""
    cache.clear()  # allauth's rate limits and used codes
    response = browser.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    if secret is not None:
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        response = browser.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302 and signed_in_user_id(browser) is not None


@pytest.fixture
def glass(org, acme_oidc):
    """Acme's owner with an authenticator app, signed in with password + code; Acme does not
    require single sign-on yet."""
    owner = member(org, "glass@acme.test", Role.OWNER)
    secret = generate_totp_secret()
    TOTP.activate(owner.user, secret)
    owner.browser = _browser()
    _password(owner.browser, "glass@acme.test", secret)
    return owner


def _set_policy(glass, *, require: bool) -> None:
    """The owner saves the policy on the settings page, as they would."""
    data = {"break_glass": glass.pk, **({"require_sso": "on"} if require else {})}
    saved = glass.browser.post(f"/o/{glass.organization.slug}/settings/sso/policy/", data)
    assert saved.status_code == 302, saved.content[:500]


def test_a_password_session_is_refused_right_after_an_owner_requires_sso(
    org, other_org, make_member, glass
):
    ana = member(org, "ana@acme.test")
    make_member(other_org, Role.CONTRIBUTOR, user=ana.user)
    browser = _browser()
    _password(browser, "ana@acme.test")
    assert browser.get(f"/o/{org.slug}/controls/").status_code == 200
    assert browser.get(f"/api/v1/orgs/{org.slug}/sso/").status_code == 200

    _set_policy(glass, require=True)

    # The same session, its very next request: sent to single sign-on, writes refused.
    routed = browser.get(f"/o/{org.slug}/controls/")
    assert routed.status_code == 302
    assert routed["Location"] == f"/o/{org.slug}/sso/continue/?next=%2Fo%2F{org.slug}%2Fcontrols%2F"
    page = browser.get(routed["Location"]).content.decode()
    assert "Acme requires single sign-on" in page and "Continue to single sign-on" in page
    write = browser.post(f"/o/{org.slug}/settings/sso/domains/", {"domain": "x.test"})
    assert write.status_code == 403
    assert "requires single sign-on" in write.content.decode()
    refused = browser.get(f"/api/v1/orgs/{org.slug}/sso/")
    assert refused.status_code == 403 and "requires single sign-on" in refused.json()["detail"]
    # An htmx fragment is told to load the page rather than swap it in.
    fragment = browser.get(f"/o/{org.slug}/controls/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 204 and "/sso/continue/" in fragment["HX-Redirect"]
    # Still signed in: the other organization is unaffected.
    assert signed_in_user_id(browser) == str(ana.user_id)
    assert browser.get(f"/o/{other_org.slug}/controls/").status_code == 200
    assert browser.get(f"/api/v1/orgs/{other_org.slug}/sso/").status_code == 200

    # Through Acme's identity provider, back where they were going.
    back = follow_oidc(browser, browser.post(routed["Location"], {"next": "/o/acme-test/"}))
    assert back.status_code == 302 and back["Location"] == f"/o/{org.slug}/"
    assert browser.get(f"/o/{org.slug}/controls/").status_code == 200
    assert browser.get(f"/api/v1/orgs/{org.slug}/sso/").status_code == 200


def test_the_break_glass_owner_keeps_their_password_session(org, glass):
    _set_policy(glass, require=True)
    assert glass.browser.get(f"/o/{org.slug}/controls/").status_code == 200
    assert glass.browser.get(f"/o/{org.slug}/settings/sso/").status_code == 200
    assert glass.browser.get(f"/api/v1/orgs/{org.slug}/sso/").status_code == 200


def test_turning_it_off_gives_the_session_back_at_once(org, glass):
    member(org, "ana@acme.test")
    browser = _browser()
    _password(browser, "ana@acme.test")
    _set_policy(glass, require=True)
    assert browser.get(f"/o/{org.slug}/controls/").status_code == 302
    _set_policy(glass, require=False)
    assert browser.get(f"/o/{org.slug}/controls/").status_code == 200


def test_another_organizations_requirement_does_not_reach_this_one(
    org, other_org, make_member, glass
):
    """Globex's members, signed in with a password, are not touched by Acme's policy."""
    bob = make_member(other_org, Role.CONTRIBUTOR)
    browser = _browser()
    browser.force_login(bob.user)
    _set_policy(glass, require=True)
    assert browser.get(f"/o/{other_org.slug}/controls/").status_code == 200
    assert browser.get(f"/api/v1/orgs/{other_org.slug}/sso/").status_code == 200


def _membership(user, org):
    """As the middleware gets it: one query, the organization with it."""
    return user_memberships(user, org_slug=org.slug)[0]


def _request(signed: list[int]):
    request = RequestFactory().get("/")
    request.session = {SIGNED_KEY: signed}
    return request


def test_deciding_costs_no_query_unless_the_session_may_be_refused(
    org, other_org, make_member, glass, django_assert_num_queries
):
    ana = member(org, "ana@acme.test")
    make_member(other_org, Role.CONTRIBUTOR, user=ana.user)
    elsewhere = _membership(ana.user, other_org)
    with django_assert_num_queries(0):  # Globex does not require it
        assert sso_refusal(_request([]), elsewhere) is None
    _set_policy(glass, require=True)
    with org_scope(org):  # as TenantMiddleware leaves it for RequireSsoMiddleware
        here, glass_here = _membership(ana.user, org), _membership(glass.user, org)
        with django_assert_num_queries(0):  # signed in through Acme's IdP
            assert sso_refusal(_request([org.pk]), here) is None
        with django_assert_num_queries(1):  # 1: Acme's connection (its break-glass owner)
            assert "Acme requires single sign-on" in sso_refusal(_request([]), here)
        with django_assert_num_queries(1):  # 1: the same
            assert sso_refusal(_request([]), glass_here) is None


def test_the_flag_follows_every_way_the_requirement_ends(org, glass):
    _set_policy(glass, require=True)
    org.refresh_from_db()
    assert org.sso_required
    services.connection_set_enabled(membership=glass, enabled=False)
    org.refresh_from_db()
    assert not org.sso_required


def test_a_flag_left_behind_refuses_nobody(org, glass):
    """Should a path end the requirement without clearing the organization's copy, the
    connection decides: the flag only says when to look."""
    member(org, "ana@acme.test")
    browser = _browser()
    _password(browser, "ana@acme.test")
    Organization.objects.filter(pk=org.pk).update(sso_required=True)
    assert not SsoConnection.objects.for_org(org).get().require_sso
    assert browser.get(f"/o/{org.slug}/controls/").status_code == 200


def test_the_migration_copies_the_requirement_of_existing_connections(org, other_org, glass):
    _set_policy(glass, require=True)
    Organization.objects.update(sso_required=False)  # as before the migration
    migration = importlib.import_module("sso.migrations.0003_organization_sso_required")
    state = MigrationExecutor(connection).loader.project_state(
        ("sso", "0003_organization_sso_required")
    )
    with rls.system("test: migrations run as a role that sees every organization"):
        migration.backfill(state.apps, SimpleNamespace(connection=connection))
    assert list(Organization.objects.filter(sso_required=True)) == [org]
