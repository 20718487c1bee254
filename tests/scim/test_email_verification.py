"""An account SCIM creates has its address marked verified only when the address's domain is a
verified single sign-on domain of the token's organization; elsewhere it is unverified (the
person proves it through allauth's confirmation e-mail). The activity log says which, for
creations and address changes alike."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from sso.models import SsoDomain
from tenants.models import ActivityEntry, Membership
from tests.factories import MembershipFactory
from tests.scim.conftest import okta_user

pytestmark = pytest.mark.django_db


def _domain(org, name: str, verified: bool = True) -> None:
    SsoDomain.objects.for_org(org).create(
        organization=org,
        domain=name,
        token="v" * 32,
        verified_at=timezone.now() if verified else None,
    )


def _address(uid: str, org) -> EmailAddress:
    user = Membership.objects.for_org(org).get(pk=uid).user
    return EmailAddress.objects.get(user=user)


def _created_entry(org, email: str) -> ActivityEntry:
    return ActivityEntry.objects.for_org(org).get(action="scim.account_created", object_repr=email)


def test_a_new_account_in_a_verified_domain_is_verified(org, scim):
    _domain(org, "acme.test")
    created = scim.post("Users", okta_user("Ada@ACME.test"))
    assert created.status_code == 201, created.content
    address = _address(created.json_body["id"], org)
    assert (address.email, address.verified, address.primary) == ("ada@acme.test", True, True)
    entry = _created_entry(org, "ada@acme.test")
    assert entry.changes == {"email": [None, "ada@acme.test"], "email_verified": [None, True]}
    assert entry.actor_label == "SCIM (okta)"


@pytest.mark.parametrize(
    "email",
    [
        "ada@gmail.test",  # no domain of this organization
        "ada@pending.test",  # added, never verified
        "ada@other.test",  # another organization's verified domain
    ],
)
def test_a_new_account_elsewhere_is_created_unverified(org, other_org, scim, email):
    _domain(org, "acme.test")
    _domain(org, "pending.test", verified=False)
    _domain(other_org, "other.test")
    created = scim.post("Users", okta_user(email))
    assert created.status_code == 201, created.content
    assert created.json_body["userName"] == email
    address = _address(created.json_body["id"], org)
    assert (address.email, address.verified, address.primary) == (email, False, True)
    assert _created_entry(org, email).changes["email_verified"] == [None, False]


def test_an_existing_account_it_links_keeps_its_addresses(org, other_org, scim):
    """Linking is not creating: the account's own (verified) address is left as it is, and
    no account creation is logged."""
    elsewhere = MembershipFactory(organization=other_org, user__email="bo@gmail.test")
    EmailAddress.objects.update_or_create(
        user=elsewhere.user, email="bo@gmail.test", defaults={"verified": True, "primary": True}
    )
    created = scim.post("Users", okta_user("bo@gmail.test"))
    assert created.status_code == 201, created.content
    address = EmailAddress.objects.get(user=elsewhere.user)
    assert (address.email, address.verified) == ("bo@gmail.test", True)
    assert not ActivityEntry.objects.for_org(org).filter(action="scim.account_created").exists()


def test_an_address_change_says_what_became_of_the_verification(org, scim):
    _domain(org, "acme.test")
    uid = scim.post("Users", okta_user("ada@acme.test")).json_body["id"]
    moved = scim.patch(
        f"Users/{uid}", {"op": "replace", "path": "userName", "value": "ada@gmail.test"}
    )
    assert moved.status_code == 200, moved.content
    assert _address(uid, org).verified is False
    entry = ActivityEntry.objects.for_org(org).filter(action="update").latest("id")
    assert entry.changes["email"] == ["ada@acme.test", "ada@gmail.test"]
    assert entry.changes["email_verified"] == [True, False]
    back = scim.put(f"Users/{uid}", okta_user("ada@acme.test"))
    assert back.status_code == 200, back.content
    assert _address(uid, org).verified is True
    entry = ActivityEntry.objects.for_org(org).filter(action="update").latest("id")
    assert entry.changes["email_verified"] == [False, True]
