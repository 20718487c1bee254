"""Single sign-on in a real browser: a person signs in from the sign-in page through the
local OpenID Connect provider (the browser follows every redirect itself), and the owner's
Settings → Single sign-on page fits a laptop and a phone without sideways scrolling or
console (CSP) errors. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone

from sso import services
from tenants.models import Role
from tests.browser.test_monitoring import _fits, _login
from tests.factories import OrganizationFactory
from tests.sso.conftest import member, oidc_connection, verified_domain
from tests.sso.oidc_provider import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_DOMAIN = "engineering.subsidiary.an-extraordinarily-long-company-name.example.com"


def test_sign_in_with_sso_and_the_settings_page(browser, live_server, settings):
    # The local identity provider listens on loopback: allowed only with the test flag (the
    # SSRF guard of sso.outbound refuses private addresses otherwise).
    settings.WEBHOOK_ALLOW_PRIVATE = True
    out = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else None
    with OidcProvider() as provider:
        org = OrganizationFactory(name="Acme", slug="acme-sso")
        boss = member(org, "boss@acme.test", Role.OWNER)
        verified_domain(org)
        # A second verified domain whose daily re-check has failed twice (its proof removed):
        # the page warns with the count and the reason, whatever the reason's length.
        failing = verified_domain(org, "failing.acme.test")
        type(failing).objects.for_org(org).filter(pk=failing.pk).update(
            check_failures=2,
            last_checked_at=timezone.now(),
            last_check_error="DNS: no TXT record at _soc2app-verification.failing.acme.test "
            "holding soc2app-verification=" + "t" * 32 + " (the name does not exist).",
        )
        oidc_connection(org, provider)
        services.domain_add(membership=boss, domain=LONG_DOMAIN)
        ana = member(org, "ana@acme.test")
        provider.user["email"] = ana.user.email

        # Sign-in page → "Sign in with single sign-on" → address → provider → back, signed in.
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/accounts/login/")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out / "sso-password-login-laptop.png"), full_page=True)
        page.get_by_role("link", name="Sign in with single sign-on").click()
        page.get_by_label("Work e-mail address").fill("ana@acme.test")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/accounts/" not in url and "/sso/" not in url)
        page.goto(f"/o/{org.slug}/")
        assert page.url.endswith(f"/o/{org.slug}/")  # not sent back to the sign-in page
        assert page.get_by_text("Signed in as Contributor").is_visible()
        context.close()

        for label, (width, height) in {"laptop": (1366, 900), "phone": (390, 844)}.items():
            context, page, problems = _login(
                browser, live_server.url, boss.user.email, width, height
            )
            page.goto(f"/o/{org.slug}/settings/sso/")
            assert page.get_by_role("heading", name="Single sign-on", level=1).is_visible()
            assert page.get_by_text("/accounts/oidc/oidc-acme-sso/login/callback/").count()
            warning = page.get_by_text("Proof missing on 2 daily checks in a row")
            assert warning.is_visible()
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out / f"sso-settings-{label}.png"), full_page=True)
            assert _fits(page), f"settings page scrolls sideways at {width}px"
            page.goto("/sso/")
            if out is not None:
                page.screenshot(path=str(out / f"sso-login-{label}.png"), full_page=True)
            assert _fits(page)
            assert not problems, problems
            context.close()
