"""What a SCIM token may not do to accounts and access it does not own (security review):
rewrite the address of an account it only linked, mark an address verified outside the
organization's verified SSO domains, or give back access the app ended."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from scim.models import ScimLink
from sso.models import SsoDomain
from tenants.models import ActivityEntry, Membership, Role
from tests.factories import MembershipFactory
from tests.scim.conftest import okta_user

pytestmark = pytest.mark.django_db


def _user_name(value: str) -> dict:
    return {"op": "replace", "path": "userName", "value": value}


def _active(value: bool) -> dict:
    return {"op": "replace", "path": "active", "value": value}


def _refused(response, words: str) -> None:
    assert response.status_code == 400, response.content
    assert response.json_body["scimType"] == "mutability"
    assert words in response.json_body["detail"]


def _verified_domain(org, domain: str = "acme.test") -> None:
    SsoDomain.objects.for_org(org).create(
        organization=org, domain=domain, token="a" * 32, verified_at=timezone.now()
    )


def test_a_linked_account_is_never_rewritten_even_when_this_org_is_its_last(org, other_org, scim):
    # The victim's account belongs to another organization; an IdP links it by address...
    elsewhere = MembershipFactory(organization=other_org, user__email="victim@example.com")
    victim = elsewhere.user
    body = scim.post("Users", okta_user("victim@example.com")).json_body
    assert ScimLink.objects.for_org(org).get(membership_id=body["id"]).created_account is False
    # ...then the other organization removes them: this organization is now their only one.
    Membership.objects.for_org(other_org).filter(pk=elsewhere.pk).delete()
    entries = ActivityEntry.objects.for_org(org).count()

    refused = scim.patch(f"Users/{body['id']}", _user_name("attacker@evil.test"))
    _refused(refused, "did not create")
    refused = scim.put(f"Users/{body['id']}", okta_user("attacker@evil.test", given="Eve"))
    _refused(refused, "did not create")
    # A name change alone is skipped (an IdP echoing its own data is not an error).
    renamed = scim.patch(
        f"Users/{body['id']}", {"op": "replace", "path": "name.givenName", "value": "Eve"}
    )
    assert renamed.status_code == 200

    victim.refresh_from_db()
    assert victim.email == "victim@example.com" and victim.first_name != "Eve"
    assert list(EmailAddress.objects.filter(user=victim).values_list("email", flat=True)) == [
        "victim@example.com"
    ]
    assert not EmailAddress.objects.filter(email__iexact="attacker@evil.test").exists()
    assert ActivityEntry.objects.for_org(org).count() == entries


def test_an_account_scim_created_changes_address_verified_only_in_a_verified_domain(org, scim):
    _verified_domain(org)
    body = scim.post("Users", okta_user("ada@acme.test")).json_body
    uid = body["id"]
    assert ScimLink.objects.for_org(org).get(membership_id=uid).created_account is True

    moved = scim.patch(f"Users/{uid}", _user_name("ada.lovelace@acme.test"))
    assert moved.status_code == 200 and moved.json_body["userName"] == "ada.lovelace@acme.test"
    user = Membership.objects.for_org(org).get(pk=uid).user
    assert user.email == "ada.lovelace@acme.test"
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (user.email, True, True)
    entry = ActivityEntry.objects.for_org(org).filter(action="update").latest("id")
    assert entry.changes["email"] == ["ada@acme.test", "ada.lovelace@acme.test"]

    # Outside the organization's verified domains the address changes but is not verified:
    # the person proves it (allauth's verification) before it can reset a password.
    moved = scim.patch(f"Users/{uid}", _user_name("ada@elsewhere.test"))
    assert moved.status_code == 200
    user.refresh_from_db()
    assert user.email == "ada@elsewhere.test"
    assert EmailAddress.objects.get(user=user).verified is False


def test_a_domain_verified_by_another_org_does_not_count(org, other_org, scim):
    _verified_domain(other_org, "other.test")
    SsoDomain.objects.for_org(org).create(organization=org, domain="pending.test", token="b" * 32)
    uid = scim.post("Users", okta_user("ada@acme.test")).json_body["id"]
    for address in ("ada@other.test", "ada@pending.test"):
        assert scim.patch(f"Users/{uid}", _user_name(address)).status_code == 200
        assert EmailAddress.objects.get(email=address).verified is False


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_a_time_boxed_admin_or_owner_whose_access_ended_is_not_revived(org, owner, scim, role):
    ended = timezone.now() - dt.timedelta(days=1)
    member = MembershipFactory(organization=org, role=role, expires_at=ended)
    _refused(scim.patch(f"Users/{member.pk}", _active(True)), "which SCIM does not manage")
    member.refresh_from_db()
    assert member.expires_at == ended and not member.is_active
    assert not ActivityEntry.objects.for_org(org).filter(action="reactivate").exists()


def test_an_end_the_app_set_stays(org, scim):
    ended = timezone.now() - dt.timedelta(hours=1)
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR, expires_at=ended)
    body = okta_user(member.user.email) | {"active": True}
    _refused(scim.put(f"Users/{member.pk}", body), "ended in the app, not by SCIM")
    member.refresh_from_db()
    assert member.expires_at == ended
    # Nothing else in the request was stored either (the link it would have created).
    assert not ScimLink.objects.for_org(org).filter(membership=member).exists()


def test_scim_undoes_its_own_deactivation_restoring_the_end_before(org, scim):
    until = timezone.now() + dt.timedelta(days=30)
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR, expires_at=until)
    assert scim.patch(f"Users/{member.pk}", _active(False)).status_code == 200
    link = ScimLink.objects.for_org(org).get(membership=member)
    member.refresh_from_db()
    assert link.deactivated_at == member.expires_at and link.ended_before == until
    back = scim.patch(f"Users/{member.pk}", _active(True))
    assert back.status_code == 200 and back.json_body["active"] is True
    member.refresh_from_db()
    assert member.expires_at == until  # the time box holds
    link.refresh_from_db()
    assert link.deactivated_at is None and link.ended_before is None


def test_scim_deactivation_replaced_by_the_app_is_not_undone(org, scim):
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR)
    assert scim.delete(f"Users/{member.pk}").status_code == 204
    # The app then sets another end (e.g. an owner re-inviting with an access end).
    later_end = timezone.now() - dt.timedelta(minutes=1)
    Membership.objects.for_org(org).filter(pk=member.pk).update(expires_at=later_end)
    _refused(scim.patch(f"Users/{member.pk}", _active(True)), "ended in the app")
    member.refresh_from_db()
    assert member.expires_at == later_end


def test_a_time_box_that_passed_while_deactivated_is_not_reopened(org, scim):
    until = timezone.now() + dt.timedelta(days=1)
    member = MembershipFactory(organization=org, role=Role.CONTRIBUTOR, expires_at=until)
    assert scim.delete(f"Users/{member.pk}").status_code == 204
    ScimLink.objects.for_org(org).filter(membership=member).update(
        ended_before=timezone.now() - dt.timedelta(minutes=1)
    )
    _refused(scim.patch(f"Users/{member.pk}", _active(True)), "has passed")
    assert not Membership.objects.for_org(org).get(pk=member.pk).is_active


def test_the_address_rules_do_not_touch_other_accounts(org, scim):
    """The uniqueness check still answers before anything is stored."""
    uid = scim.post("Users", okta_user("ada@acme.test")).json_body["id"]
    get_user_model().objects.create(username="taken@acme.test", email="taken@acme.test")
    response = scim.patch(f"Users/{uid}", _user_name("taken@acme.test"))
    assert response.status_code == 409 and response.json_body["scimType"] == "uniqueness"
    assert Membership.objects.for_org(org).get(pk=uid).user.email == "ada@acme.test"
