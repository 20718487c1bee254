"""The daily re-check of a verified custom domain (``trust.recheck``): a removed TXT record
keeps the domain served for two failed days and stops it on the third; a passing day starts
the count again. Against a local DNS server, served through the real host routing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from soc2app.tasks import domains_recheck_all
from tenants.models import ActivityEntry
from tests.sso.test_domain_recheck import day, run_fixture  # noqa: F401 (fixture)
from tests.trust.test_domains import DOMAIN, claim, listed, prove  # noqa: F401 (fixture)
from trust import domains
from trust.models import TrustCenter

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(published, listed, dns_server):  # noqa: F811
    """The published trust center on its verified, listed custom domain."""
    owner = published["owner"]
    prove(dns_server, claim(owner))
    domains.domain_check(membership=owner)
    assert Client(HTTP_HOST=DOMAIN).get("/").status_code == 200
    return published


def center_of(org) -> TrustCenter:
    return TrustCenter.objects.for_org(org).get()


def test_a_removed_record_stops_the_domain_on_the_third_failed_day(
    served, dns_server, run, mailoutbox
):
    owner = served["owner"]
    org = owner.organization
    host = Client(HTTP_HOST=DOMAIN)
    record = domains.record_name(DOMAIN)
    del dns_server.records.txt[record]
    for n in (1, 2):
        assert run(day(n)) == {}
        center = center_of(org)
        assert center.domain_verified_at is not None and center.domain_check_failures == n
        assert "does not exist" in center.domain_check_error
        assert host.get("/").status_code == 200  # still served
    run(day(2, hour=20))  # the same day again: nothing counted twice
    assert center_of(org).domain_check_failures == 2

    assert run(day(3)) == {org.slug: [DOMAIN]}
    center = center_of(org)
    assert center.domain_verified_at is None and center.custom_domain == DOMAIN
    assert host.get("/").status_code == 404  # at once: the cached answer was forgotten
    entry = ActivityEntry.objects.for_org(org).get(action="domain_unverified")
    assert entry.actor_id is None and entry.actor_label == "daily domain re-check"
    assert entry.changes["domain_check_failures"] == [None, 3]
    assert entry.changes["custom_domain"] == [DOMAIN, DOMAIN]
    [mail] = mailoutbox
    assert mail.to == [owner.user.email] and DOMAIN in mail.subject
    assert "no longer served on" in mail.body and "/settings/trust/" in mail.body
    run(day(4))
    assert len(mailoutbox) == 1
    # The owner publishes the record again and checks: served again.
    prove(dns_server, center)
    domains.domain_check(membership=owner)
    assert host.get("/").status_code == 200
    assert center_of(org).domain_check_failures == 0


def test_a_passing_day_resets_the_count(served, dns_server, run):
    org = served["owner"].organization
    record = domains.record_name(DOMAIN)
    published = dns_server.records.txt.pop(record)
    run(day(1))
    run(day(2))
    dns_server.records.txt[record] = published
    run(day(3))
    center = center_of(org)
    assert center.domain_check_failures == 0 and center.domain_check_error == ""
    assert center.domain_checked_at == day(3)
    del dns_server.records.txt[record]
    run(day(4))
    run(day(5))
    assert center_of(org).domain_verified_at is not None


def test_a_check_now_of_a_failing_domain_resets_the_count(served, dns_server, run):
    owner = served["owner"]
    record = domains.record_name(DOMAIN)
    published = dns_server.records.txt.pop(record)
    run(day(1))
    dns_server.records.txt[record] = published
    domains.domain_check(membership=owner)
    assert center_of(owner.organization).domain_check_failures == 0
    entry = ActivityEntry.objects.for_org(owner.organization).get(action="domain_check_passed")
    assert entry.changes == {"domain_check_failures": [1, 0]}


def test_a_changed_domain_starts_the_count_afresh(served, dns_server, run, settings):
    owner = served["owner"]
    del dns_server.records.txt[domains.record_name(DOMAIN)]
    run(day(1))
    claim(owner, "security.acme.example")
    center = center_of(owner.organization)
    assert center.domain_check_failures == 0 and center.domain_checked_at is None
    assert center.domain_check_error == ""


def test_the_settings_page_shows_the_last_check_and_the_failures(
    served, dns_server, run, client_for
):
    owner = served["owner"]
    url = reverse("trust_settings", kwargs={"org_slug": owner.organization.slug})
    del dns_server.records.txt[domains.record_name(DOMAIN)]
    run(day(1))
    page = client_for(owner).get(url).content.decode()
    assert "Checked daily, last" in page
    assert "Proof missing on 1 daily check in a row" in page and "does not exist" in page
    run(day(2))
    run(day(3))
    page = client_for(owner).get(url).content.decode()
    assert "Not verified: not served" in page and "Unverified by the daily check" in page


def test_an_organization_is_checked_in_a_fixed_number_of_queries(served):
    with CaptureQueriesContext(connection) as captured:
        domains_recheck_all(now=day(1))
    # Organizations to visit (SSO, trust: 2), the organizations (1); in the organization:
    # its due e-mail domains (1, none), its trust center (1), recorded (1, in a savepoint:
    # 2 more).
    assert len(captured) == 8
