"""The invitation form is not a spam cannon: rate limits per inviter and organization,
organization names without line breaks or links, header-safe subjects, sane dates, and no 500
when the mail cannot be built or sent."""

from __future__ import annotations

import datetime as dt
import logging
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from soc2app.errors import ValidationFailed
from tenants.invitation_limits import TooManyInvitations
from tenants.models import Invitation, InvitationStatus, Membership, Organization, Role
from tenants.services import invitation_create, organization_create
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _invite(client, org, email, **data):
    data = {"email": email, "role": Role.CONTRIBUTOR, **data}
    return client.post(reverse("invitation_create", args=[org.slug]), data)


def test_an_address_longer_than_the_column_is_refused_not_a_500(org, manager, client_for):
    long_email = "a" * 250 + "@example.com"
    refused = _invite(client_for(manager), org, long_email)
    assert refused.status_code == 400
    assert "254 characters" in refused.content.decode()
    with pytest.raises(ValidationFailed, match="254 characters"):
        invitation_create(membership=manager, email=long_email, role=Role.CONTRIBUTOR)
    assert not Invitation.objects.for_org(org).exists()


# --- rate limits ------------------------------------------------------------------------------
def test_an_inviter_is_limited_per_hour(settings, org, manager, client_for, mailoutbox):
    settings.INVITATION_RATE_PER_INVITER = 3
    client = client_for(manager)
    for n in range(3):
        assert _invite(client, org, f"p{n}@example.com").status_code == 302
    refused = _invite(client, org, "p3@example.com")
    assert refused.status_code == 400
    assert "3 invitations this hour" in refused.content.decode()
    assert Invitation.objects.for_org(org).count() == 3


def test_the_inviter_limit_spans_their_organizations(settings, org, owner):
    """A new organization buys no new quota."""
    settings.INVITATION_RATE_PER_INVITER = 2
    second = organization_create(name="Spam Two", slug="spam-two", user=owner.user)
    other = Membership.objects.for_org(second).get(user=owner.user)
    invitation_create(membership=owner, email="a@example.com", role=Role.CONTRIBUTOR)
    invitation_create(membership=other, email="b@example.com", role=Role.CONTRIBUTOR)
    with pytest.raises(TooManyInvitations, match="invitations this hour"):
        invitation_create(membership=other, email="c@example.com", role=Role.CONTRIBUTOR)


def test_an_organization_is_limited_per_hour(settings, org, manager, owner):
    settings.INVITATION_RATE_PER_ORG = 2
    invitation_create(membership=manager, email="a@example.com", role=Role.CONTRIBUTOR)
    invitation_create(membership=owner, email="b@example.com", role=Role.CONTRIBUTOR)
    with pytest.raises(TooManyInvitations, match="This organization has sent 2") as caught:
        invitation_create(membership=owner, email="c@example.com", role=Role.CONTRIBUTOR)
    assert caught.value.status == 429
    assert Invitation.objects.for_org(org).count() == 2


def test_refused_input_uses_no_quota(settings, org, manager):
    settings.INVITATION_RATE_PER_INVITER = 1
    with pytest.raises(ValidationFailed):
        invitation_create(membership=manager, email="x@example.com", role=Role.OWNER)
    invitation_create(membership=manager, email="x@example.com", role=Role.CONTRIBUTOR)


# --- organization names -----------------------------------------------------------------------
REFUSED_NAMES = [
    "Acme\r\nBcc: victims@example.com",
    "Acme\nsecond line",
    "Acme\u2028Corp",  # line separator
    "Acme\u200bCorp",  # zero-width space
    "Acme \u202eevil",  # right-to-left override
    "Your account is locked: log in at https://evil.example",
    "Verify at www.evil-bank",
    "Visit acme-security.com now",
    "bit.ly/reset-password",
    "Call 192.168.10.1",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_names_with_control_characters_or_links_are_refused(client, name):
    client.force_login(UserFactory())
    response = client.post(reverse("org_create"), {"name": name, "slug": "phish"})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["name"])
    assert "control character" in errors or "web address" in errors
    assert not Organization.objects.filter(slug="phish").exists()


@pytest.mark.parametrize(
    "name", ["Acme Inc.", "O'Brien & Sons", "Müller GmbH", "St. Louis Labs", "A.B.C Corp"]
)
def test_ordinary_names_are_accepted(client, name):
    client.force_login(UserFactory())
    response = client.post(reverse("org_create"), {"name": name, "slug": "fine-name"})
    assert response.status_code == 302
    assert Organization.objects.get(slug="fine-name").name == name


def test_the_service_and_command_refuse_them_too():
    with pytest.raises(ValidationFailed, match="control character"):
        organization_create(name="A\r\nB", slug="abc")
    with pytest.raises(CommandError):
        call_command("create_org", "phish", "--name", "Go to evil.example.com")
    assert not Organization.objects.exists()


# --- the mail ---------------------------------------------------------------------------------
def test_a_stored_name_with_a_line_break_sends_a_safe_subject(
    client_for, mailoutbox, django_capture_on_commit_callbacks
):
    # Stored before names were checked.
    org = OrganizationFactory(name="Acme\r\nBcc: victims@example.com", slug="old-acme")
    manager = MembershipFactory(organization=org, role=Role.COMPLIANCE_MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client_for(manager), org, "new@example.com")
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject == (
        "You are invited to Acme Bcc: victims@example.com on SOC 2 Readiness"
    )
    assert message.bcc == [] and message.recipients() == ["new@example.com"]
    assert "\n" not in message.message()["Subject"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_mail_server_is_logged_not_a_500(
    settings, org, manager, client_for, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_TIMEOUT = 2
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = _invite(client_for(manager), org, "new@example.com")
    assert response.status_code == 302
    invitation = Invitation.objects.for_org(org).get()
    assert invitation.status == InvitationStatus.PENDING  # can be withdrawn and sent again
    assert "could not be sent" in caplog.text


def test_only_the_organization_name_in_the_subject(
    org, manager, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client_for(manager), org, "new@example.com")
    assert mailoutbox[0].subject == "You are invited to Acme on SOC 2 Readiness"
    assert len(mail.outbox) == 1


# --- dates ------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", ["9999-12-31", "2999-01-01"])
def test_an_absurd_access_end_is_a_form_error_not_a_500(org, manager, client_for, day):
    response = _invite(
        client_for(manager), org, "cpa@example.com", role=Role.AUDITOR, access_until=day
    )
    assert response.status_code == 400
    assert "Pick a day up to" in " ".join(response.context["form"].errors["access_until"])
    assert not Invitation.objects.for_org(org).exists()


def test_the_service_refuses_an_absurd_end(org, manager):
    far = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    with pytest.raises(ValidationFailed, match="at most"):
        invitation_create(
            membership=manager, email="cpa@example.com", role=Role.AUDITOR, access_expires_at=far
        )
    assert not Invitation.objects.for_org(org).exists()


def test_an_address_that_cannot_be_a_header_writes_nothing(org, manager, mailoutbox):
    """The mail is built before the invitation is written: no committed row without it."""
    with pytest.raises(ValidationFailed, match="cannot be used in an e-mail"):
        invitation_create(
            membership=manager, email="a@example.com\nBcc: b@example.com", role=Role.CONTRIBUTOR
        )
    assert not Invitation.objects.for_org(org).exists() and mailoutbox == []
