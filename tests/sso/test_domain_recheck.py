"""The daily re-check of verified e-mail domains (``sso.recheck``, ``soc2app.domain_recheck``):
a removed proof costs the domain its verification on the third failed day in a row, not
before; a passing day starts the count again. Against a local DNS server and web server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from soc2app.tasks import domains_recheck_all
from sso import lookups, services
from sso.domains import expected_value
from sso.models import ConnectionKind, SsoConnection, SsoDomain
from tenants.context import org_scope
from tenants.models import ActivityEntry, Organization, Role
from tests import rls_app_role
from tests.sso.test_domains import web_server  # noqa: F401 (fixture)
from tests.tenants.conftest import as_app_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
DOMAIN = "acme.test"


def day(n: int, hour: int = 3) -> dt.datetime:
    """The daily run ``n`` days from now (verification happened today)."""
    later = timezone.now() + dt.timedelta(days=n)
    return later.replace(hour=hour, minute=20, second=0, microsecond=0)


def verify(membership, dns_server, domain: str = DOMAIN) -> SsoDomain:
    row = services.domain_add(membership=membership, domain=domain)
    dns_server.records.txt[domain] = [expected_value(row.token)]
    return services.domain_verify(membership=membership, domain_id=row.pk, method="dns")


def fresh(row: SsoDomain) -> SsoDomain:
    return SsoDomain.objects.for_org(row.organization_id).get(pk=row.pk)


def actions(org) -> list[str]:
    return list(ActivityEntry.objects.for_org(org).values_list("action", flat=True))


@pytest.fixture(name="run")
def run_fixture(django_capture_on_commit_callbacks):
    """The daily job at ``when``, its after-commit work (e-mails) done as in production."""

    def go(when: dt.datetime) -> dict[str, list[str]]:
        with django_capture_on_commit_callbacks(execute=True):
            return domains_recheck_all(now=when)

    return go


@pytest.fixture
def enabled(org):
    """Single sign-on enabled (tested) and required for the organization."""
    Organization.objects.filter(pk=org.pk).update(sso_required=True)
    return SsoConnection.objects.for_org(org).create(
        organization=org,
        kind=ConnectionKind.OIDC,
        oidc_issuer="https://idp.acme.test",
        oidc_client_id="client",
        tested_at=timezone.now(),
        enabled=True,
        require_sso=True,
    )


def test_a_removed_record_unverifies_the_domain_on_the_third_failed_day(
    owner, dns_server, enabled, run, mailoutbox
):
    org = owner.organization
    row = verify(owner, dns_server)
    del dns_server.records.txt[DOMAIN]
    for n in (1, 2):
        assert run(day(n)) == {}
        checked = fresh(row)
        assert checked.verified and checked.check_failures == n
        assert "does not exist" in checked.last_check_error
        assert lookups.organization_id_for_domain(DOMAIN) == org.pk  # still routed
    run(day(2, hour=15))  # the same day again (a retry): nothing counted twice
    assert fresh(row).check_failures == 2
    assert mailoutbox == [] and "sso.domain_unverified" not in actions(org)

    assert run(day(3)) == {org.slug: [DOMAIN]}
    lost = fresh(row)
    assert not lost.verified and lost.verified_method == "" and lost.check_failures == 3
    assert lookups.organization_id_for_domain(DOMAIN) is None  # sign-in no longer routed
    entry = ActivityEntry.objects.for_org(org).get(action="sso.domain_unverified")
    assert entry.actor_id is None and entry.actor_label == "daily domain re-check"
    assert entry.object_repr == DOMAIN and entry.changes["check_failures"] == [None, 3]
    # It was the only verified domain: single sign-on is off (an owner must verify again).
    connection_row = SsoConnection.objects.for_org(org).get()
    assert not connection_row.enabled and not connection_row.require_sso
    assert not Organization.objects.get(pk=org.pk).sso_required  # the middleware's copy too
    assert actions(org).count("sso.disabled") == 1
    [mail] = mailoutbox
    assert mail.to == [owner.user.email] and DOMAIN in mail.subject
    assert "3 days in a row" in mail.body and "/settings/sso/" in mail.body
    assert "single sign-on has been DISABLED and is no longer required" in mail.body

    run(day(4))  # unverified: no longer checked, nothing logged or sent again
    assert len(mailoutbox) == 1 and actions(org).count("sso.domain_unverified") == 1


def test_a_passing_day_resets_the_count(owner, dns_server, run):
    row = verify(owner, dns_server)
    published = dns_server.records.txt.pop(DOMAIN)
    run(day(1))
    run(day(2))
    assert fresh(row).check_failures == 2
    dns_server.records.txt[DOMAIN] = published
    run(day(3))
    passed = fresh(row)
    assert passed.verified and passed.check_failures == 0 and passed.last_check_error == ""
    assert passed.last_checked_at == day(3)
    del dns_server.records.txt[DOMAIN]
    run(day(4))
    run(day(5))
    assert fresh(row).verified and fresh(row).check_failures == 2


def test_an_owner_check_of_a_failing_domain_resets_the_count(owner, dns_server, run):
    row = verify(owner, dns_server)
    published = dns_server.records.txt.pop(DOMAIN)
    run(day(1))
    dns_server.records.txt[DOMAIN] = published
    services.domain_verify(membership=owner, domain_id=row.pk, method="dns")
    assert fresh(row).check_failures == 0 and fresh(row).verified
    entry = ActivityEntry.objects.for_org(owner.organization).filter(action="sso.domain_verified")
    assert entry.latest("pk").changes["check_failures"] == [1, 0]


def test_either_proof_keeps_a_domain_verified(
    owner,
    dns_server,
    web_server,  # noqa: F811
    run,
    settings,
):
    settings.SSO_VERIFY_FILE_HOST = ""  # the file check resolves the domain on the DNS server
    dns_server.records.a[DOMAIN] = ["127.0.0.1"]
    row = services.domain_add(membership=owner, domain=DOMAIN)
    web_server.files[DOMAIN] = (200, expected_value(row.token))
    services.domain_verify(membership=owner, domain_id=row.pk, method="file")
    dns_server.records.txt[DOMAIN] = [expected_value(row.token)]
    del web_server.files[DOMAIN]  # the file is gone, the DNS record is there
    run(day(1))
    assert fresh(row).check_failures == 0
    del dns_server.records.txt[DOMAIN]
    run(day(2))
    failed = fresh(row)
    assert failed.check_failures == 1
    assert "did not answer with the file" in failed.last_check_error  # its own method's reason


def test_the_settings_page_shows_the_last_check_and_the_failures(
    owner, dns_server, run, client_for
):
    verify(owner, dns_server)
    url = reverse("sso_settings", kwargs={"org_slug": owner.organization.slug})
    page = client_for(owner).get(url).content.decode()
    assert "Checked daily, last" in page and "Proof missing" not in page
    del dns_server.records.txt[DOMAIN]
    run(day(1))
    page = client_for(owner).get(url).content.decode()
    assert "Proof missing on 1 daily check in a row" in page and "does not exist" in page
    assert "verification is lost at 3" in page
    assert "Check DNS" in page  # the owner can check it again at once


def test_an_organization_is_checked_in_a_fixed_number_of_queries(
    owner, other_org, make_member, dns_server
):
    org = owner.organization
    verify(owner, dns_server, "one.acme.test")

    def queries(when: dt.datetime) -> int:
        with CaptureQueriesContext(connection) as captured:
            domains_recheck_all(now=when)
        return len(captured)

    one = queries(day(1))
    for name in ("two.acme.test", "three.acme.test"):
        verify(owner, dns_server, name)
    three = queries(day(2))
    # Organizations to visit (SSO, trust: 2), the organizations (1); in the organization:
    # its due domains (1), the passed ones recorded (1, in a savepoint: 2 more), its trust
    # center (1).
    assert one == three == 8
    with org_scope(org):
        assert SsoDomain.objects.for_org(org).filter(last_checked_at=day(2)).count() == 3


def test_two_organizations_each_in_their_own_scope_under_row_level_security(
    owner, other_org, make_member, dns_server, run, mailoutbox, is_postgres, request
):
    """Run as the application's database role (no superuser, no BYPASSRLS): every statement
    of the job on an organization's rows must pass row-level security for that organization."""
    theirs = make_member(other_org, Role.OWNER)
    mine = verify(owner, dns_server, "acme.test")
    kept = verify(theirs, dns_server, "globex.test")
    if is_postgres and not rls_app_role.active():  # else the whole body runs as that role
        request.getfixturevalue("as_app_role")
    del dns_server.records.txt["acme.test"]
    for n in (1, 2, 3):
        run(day(n))
    assert not fresh(mine).verified
    other = fresh(kept)
    assert other.verified and other.check_failures == 0 and other.last_checked_at == day(3)
    assert "sso.domain_unverified" not in actions(other_org)
    assert [m.to for m in mailoutbox] == [[owner.user.email]]
