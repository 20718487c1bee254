from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tenants.models import ActivityEntry, Invitation, InvitationStatus, Membership, Role
from tenants.services import invitation_create, invitations_expire
from tests.factories import UserFactory


def _invite(client, org, **data):
    return client.post(reverse("invitation_create", args=[org.slug]), data)


def _token_from_mail() -> str:
    match = re.search(r"/invitations/([\w-]+)/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_manager_invites_a_colleague_who_accepts(org, manager, client_for):
    response = _invite(
        client_for(manager), org, email="New.Person@Example.com", role=Role.CONTRIBUTOR
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert org.name in mail.outbox[0].subject
    token = _token_from_mail()
    invitation = Invitation.objects.for_org(org).get()
    assert invitation.token_hash != token and token not in invitation.token_hash

    invitee = UserFactory(email="new.person@example.com")
    c = client_for_user(invitee)
    page = c.get(reverse("invitation_accept", args=[token]))
    assert page.status_code == 200 and "Join Acme" in page.content.decode()
    response = c.post(reverse("invitation_accept", args=[token]))
    assert response.status_code == 302
    assert response["Location"] == reverse("org_home", args=[org.slug])
    membership = Membership.objects.for_org(org).get(user=invitee)
    assert membership.role == Role.CONTRIBUTOR
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.accepted_by == invitee
    actions = list(ActivityEntry.objects.for_org(org).values_list("action", flat=True))
    assert "invite" in actions and "join" in actions

    # Single use: the same link a second time is refused with a clear message.
    again = c.post(reverse("invitation_accept", args=[token]))
    assert again.status_code == 400
    assert "already been used" in again.content.decode()


def client_for_user(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


@pytest.mark.django_db
def test_expired_invitation_is_refused_with_its_date(org, manager):
    new = invitation_create(membership=manager, email="late@example.com", role=Role.CONTRIBUTOR)
    Invitation.objects.for_org(org).filter(pk=new.invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(hours=1)
    )
    user = UserFactory(email="late@example.com")
    response = client_for_user(user).post(new.accept_path)
    assert response.status_code == 400
    assert "expired on" in response.content.decode()
    assert not Membership.objects.for_org(org).filter(user=user).exists()


@pytest.mark.django_db
def test_expire_job_is_idempotent(org, manager):
    new = invitation_create(membership=manager, email="late@example.com", role=Role.CONTRIBUTOR)
    Invitation.objects.for_org(org).filter(pk=new.invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert invitations_expire() == 1
    assert invitations_expire() == 0
    assert Invitation.objects.for_org(org).get().status == InvitationStatus.EXPIRED


@pytest.mark.django_db
def test_invitation_for_someone_else_is_refused(org, manager):
    new = invitation_create(membership=manager, email="right@example.com", role=Role.CONTRIBUTOR)
    intruder = UserFactory(email="wrong@example.com")
    response = client_for_user(intruder).post(new.accept_path)
    assert response.status_code == 400
    assert "different e-mail address" in response.content.decode()
    assert not Membership.objects.for_org(org).filter(user=intruder).exists()
    assert Invitation.objects.for_org(org).get().status == InvitationStatus.PENDING


@pytest.mark.django_db
def test_revoked_and_unknown_tokens(org, manager, client_for):
    new = invitation_create(membership=manager, email="x@example.com", role=Role.CONTRIBUTOR)
    response = client_for(manager).post(
        reverse("invitation_revoke", args=[org.slug, new.invitation.pk])
    )
    assert response.status_code == 302
    user = UserFactory(email="x@example.com")
    page = client_for_user(user).get(new.accept_path)
    assert page.status_code == 400 and "withdrawn" in page.content.decode()
    bogus = client_for_user(user).get(reverse("invitation_accept", args=["not-a-real-token"]))
    assert bogus.status_code == 404 and "not valid" in bogus.content.decode()


@pytest.mark.django_db
def test_anonymous_visitor_is_asked_to_sign_in(client, org, manager):
    new = invitation_create(membership=manager, email="x@example.com", role=Role.CONTRIBUTOR)
    page = client.get(new.accept_path).content.decode()
    assert "Sign in" in page and "x@example.com" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email", "role": Role.CONTRIBUTOR}, "email", "valid email"),
        ({"email": "a@example.com", "role": "superuser"}, "role", "Select a valid choice"),
        ({"email": "a@example.com", "role": Role.OWNER}, "role", "Select a valid choice"),
        (
            {"email": "a@example.com", "role": Role.AUDITOR, "access_until": "2001-01-01"},
            "access_until",
            "today or a later day",
        ),
        (
            {"email": "a@example.com", "role": Role.AUDITOR, "access_until": "31/31/2031"},
            "access_until",
            "valid date",
        ),
    ],
)
def test_invalid_invitation_shows_error_next_to_the_field(
    org, manager, client_for, data, field, message
):
    response = _invite(client_for(manager), org, **data)
    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Invitation.objects.for_org(org).exists()


@pytest.mark.django_db
def test_existing_member_and_duplicate_invitation(org, manager, make_member, client_for):
    colleague = make_member(org, Role.CONTRIBUTOR)
    response = _invite(
        client_for(manager), org, email=colleague.user.email.upper(), role=Role.CONTRIBUTOR
    )
    assert "already a member" in " ".join(response.context["form"].errors["email"])
    _invite(client_for(manager), org, email="dup@example.com", role=Role.CONTRIBUTOR)
    response = _invite(client_for(manager), org, email="dup@example.com", role=Role.AUDITOR)
    assert "pending invitation" in " ".join(response.context["form"].errors["email"])
    assert Invitation.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_auditor_invitation_gets_an_access_expiry(org, manager):
    new = invitation_create(membership=manager, email="cpa@firm.example", role=Role.AUDITOR)
    assert new.invitation.access_expires_at > timezone.now() + dt.timedelta(days=80)
    user = UserFactory(email="cpa@firm.example")
    client_for_user(user).post(new.accept_path)
    membership = Membership.objects.for_org(org).get(user=user)
    assert (
        membership.role == Role.AUDITOR
        and membership.expires_at == new.invitation.access_expires_at
    )
