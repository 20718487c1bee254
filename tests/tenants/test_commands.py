from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tenants.models import ActivityEntry, Membership, Organization, Role


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    org = Organization.objects.get(slug="acme")
    counts = (Membership.objects.for_org(org).count(), ActivityEntry.objects.for_org(org).count())
    call_command("seed_demo")
    second = capsys.readouterr().out
    assert counts[0] == 4 and counts[1] > 4  # the memberships, then the demo data
    assert (
        Membership.objects.for_org(org).count(),
        ActivityEntry.objects.for_org(org).count(),
    ) == counts
    for out in (first, second):
        assert (
            "manager@acme.example.com" in out
            and "auditor@acme.example.com" in out
            and "password:" in out
        )
    roles = set(Membership.objects.for_org(org).values_list("role", flat=True))
    assert roles == {Role.OWNER, Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR}


@pytest.mark.django_db
def test_create_org_with_owner(capsys):
    call_command(
        "create_org", "initech", "--name", "Initech", "--owner-email", "Boss@Initech.example"
    )
    org = Organization.objects.get(slug="initech")
    owner = Membership.objects.for_org(org).select_related("user").get()
    assert owner.role == Role.OWNER and owner.user.email == "boss@initech.example"
    assert not owner.user.has_usable_password()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad Slug", "--name", "X"], "slug:"),
        (["new", "--name", "X"], "reserved"),
        (["okay-slug", "--name", "   "], "name"),
        (["okay-slug", "--name", "X", "--owner-email", "nope"], "not a valid e-mail"),
    ],
)
def test_create_org_refuses_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_org", *args)
    assert not Organization.objects.exists()
