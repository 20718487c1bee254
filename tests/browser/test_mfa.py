"""Two-factor authentication required by an organization, in a real browser: a member is sent
to set up an authenticator app, confirms the session with a code and reaches the organization;
an owner turns the policy on from the Security page."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from tenants.models import Role
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(secret: str) -> str:
    """The app's current code; waits for the next one near the end of a 30-second window, so
    the server still accepts it when the form arrives."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_a_member_sets_up_the_app_and_goes_back_to_the_organization(page):
    org = OrganizationFactory(name="Acme", slug="acme", require_mfa=True)
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)

    _sign_in(page, member.user.email)
    # allauth asks for the password once more before an authenticator can be added.
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert page.get_by_text("Acme requires two-factor authentication").is_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/**")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label("Authenticator code").fill(_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/**")

    # Setting the app up used a code from it: this session is confirmed, and the recovery
    # codes page offers the way back to the page the member was sent away from.
    page.get_by_role("link", name="Continue to where you were going").click()
    page.wait_for_url("**/o/acme/")
    assert page.get_by_role("heading", level=1).inner_text() == "Acme"
    page.goto("/accounts/2fa/")
    assert page.get_by_text("Continue to where you were going").count() == 0  # arrived

    # A new session (signed out and in again) confirms with a code from the app.
    page.context.clear_cookies()
    _sign_in(page, member.user.email)
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.get_by_label("Code").fill(_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/o/acme/")


def test_an_owner_signed_in_with_the_app_turns_the_policy_on(page):
    org = OrganizationFactory(name="Acme", slug="acme")
    owner = MembershipFactory(organization=org, role=Role.OWNER)
    MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    secret = generate_totp_secret()
    TOTP.activate(owner.user, secret)

    _sign_in(page, owner.user.email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_label("Code").fill(_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/o/acme/")

    page.get_by_role("link", name="Security", exact=True).click()
    page.wait_for_url("**/o/acme/settings/security/")
    page.get_by_label("Require two-factor authentication of every member").check()
    page.get_by_role("button", name="Save two-factor policy").click()
    assert page.get_by_text("Two-factor policy saved.").is_visible()
    # The owner's own session used the app, so the page stays open to them.
    assert page.url.endswith("/o/acme/settings/security/")
    org.refresh_from_db()
    assert org.require_mfa
    # One of the two members has it on.
    assert page.get_by_role("cell", name="On", exact=True).count() == 1
    assert page.get_by_role("cell", name="Off", exact=True).count() == 1
