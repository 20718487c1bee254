"""A trust center's custom domain: served only when listed in TRUST_HOSTS and verified by a
DNS TXT record (a local DNS server); never one of the app's own hosts; one organization per
domain; a changed domain is unverified again; on it only the trust center's pages exist."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from soc2app.errors import ValidationFailed
from tenants.models import ActivityEntry, Role
from tests.trust.conftest import build_center
from trust import domains, services
from trust.models import TrustCenter

pytestmark = pytest.mark.django_db
DOMAIN = "trust.acme.example"


@pytest.fixture
def listed(settings):
    """The operator listed DOMAIN in TRUST_HOSTS (settings add it to ALLOWED_HOSTS)."""
    settings.TRUST_HOSTS = [DOMAIN]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, DOMAIN]


def claim(owner, domain: str = DOMAIN) -> TrustCenter:
    return services.center_save(membership=owner, custom_domain=domain)


def prove(dns_server, center: TrustCenter) -> None:
    dns_server.records.txt[domains.record_name(center.custom_domain)] = [
        "unrelated",
        domains.record_value(center.domain_token),
    ]


def actions(org) -> list[str]:
    return list(ActivityEntry.objects.for_org(org).values_list("action", flat=True))


def test_an_unverified_domain_is_not_routed(published, listed, dns_server):
    owner = published["owner"]
    center = claim(owner, "Trust.Acme.example.")
    assert center.custom_domain == DOMAIN and center.domain_token
    assert center.domain_verified_at is None
    host = Client(HTTP_HOST=DOMAIN)
    assert host.get("/").status_code == 404  # not the trust center, and not the app either
    assert host.get("/accounts/login/").status_code == 404
    with pytest.raises(ValidationFailed, match="does not exist"):
        domains.domain_check(membership=owner)
    dns_server.records.txt[domains.record_name(DOMAIN)] = ["soc2app-trust=someone-elses"]
    with pytest.raises(ValidationFailed, match="none is"):
        domains.domain_check(membership=owner)
    assert host.get("/").status_code == 404
    assert actions(owner.organization).count("domain_check_failed") == 2


def test_a_verified_listed_domain_serves_only_the_trust_center(published, listed, dns_server):
    owner, center = published["owner"], published["center"]
    center = claim(owner)
    host = Client(HTTP_HOST=DOMAIN)
    assert host.get("/").status_code == 404  # cached miss: forgotten once verified
    prove(dns_server, center)
    verified = domains.domain_check(membership=owner)
    assert verified.domain_verified_at is not None
    assert "domain_verified" in actions(owner.organization)
    home = host.get("/")
    assert home.status_code == 200 and b"Acme security" in home.content
    assert host.get(f"/documents/{published['public'].pk}/").status_code == 200
    assert host.get(f"/trust/{center.slug}/").status_code == 200
    for path in ("/accounts/login/", "/api/v1/", "/scim/v2/Users", "/o/acme/", "/admin/"):
        assert host.get(path).status_code == 404, path
    # The app's own host is the app as usual.
    assert Client().get("/accounts/login/").status_code == 200
    services.center_save(membership=owner, published=False)
    assert host.get("/").status_code == 404


def test_a_verified_domain_not_in_trust_hosts_is_not_routed(published, settings, dns_server):
    owner = published["owner"]
    prove(dns_server, claim(owner, "other.example"))
    domains.domain_check(membership=owner)
    # Allowed, but not listed for trust centers: the app itself, never the trust center.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example"]
    host = Client(HTTP_HOST="other.example")
    assert host.get("/accounts/login/").status_code == 200
    assert b"Acme security" not in host.get("/").content


@pytest.mark.parametrize("domain", ["app.soc2.example", "eu.soc2.example", "localhost"])
def test_the_apps_own_hosts_cannot_be_claimed(owner, settings, domain, client_for):
    settings.SITE_URL = "https://app.soc2.example"
    settings.ALLOWED_HOSTS = ["testserver", "app.soc2.example", ".soc2.example", DOMAIN]
    settings.TRUST_HOSTS = [DOMAIN]
    with pytest.raises(ValidationFailed, match="application's own") as raised:
        claim(owner, domain)
    assert raised.value.field == "custom_domain"
    assert not TrustCenter.objects.for_org(owner.organization).exists()
    page = client_for(owner).post(
        reverse("trust_settings", kwargs={"org_slug": owner.organization.slug}),
        {"slug": "acme-sec", "nda_text": "x", "custom_domain": domain},
    )
    assert page.status_code == 400 and b"own addresses" in page.content
    assert claim(owner, DOMAIN).custom_domain == DOMAIN  # a TRUST_HOSTS name is fine


def test_even_a_listed_app_host_is_never_routed(published, settings, dns_server):
    """A TRUST_HOSTS entry that is also the SITE_URL host stays the app."""
    owner = published["owner"]
    center = claim(owner)
    prove(dns_server, center)
    domains.domain_check(membership=owner)
    settings.SITE_URL = f"https://{DOMAIN}"
    settings.TRUST_HOSTS = [DOMAIN]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, DOMAIN]
    assert Client(HTTP_HOST=DOMAIN).get("/accounts/login/").status_code == 200


def test_two_organizations_may_claim_a_domain_but_only_one_verifies_it(
    published, listed, dns_server, other_org, make_member, make_audit
):
    """Claiming does not block: the organization that controls the domain proves it even when
    another one named it first; the one that cannot prove it stays unverified, unserved."""
    squatter = make_member(other_org, role=Role.OWNER)
    build_center(squatter, make_audit, slug="other-trust")
    squatted = claim(squatter)  # first, and without the record
    owner = published["owner"]
    center = claim(owner)
    assert squatted.custom_domain == center.custom_domain == DOMAIN
    prove(dns_server, center)
    domains.domain_check(membership=owner)
    home = Client(HTTP_HOST=DOMAIN).get("/")
    assert home.status_code == 200 and b"Acme security" in home.content
    # The other organization publishes its own record too: still refused, clearly.
    dns_server.records.txt[domains.record_name(DOMAIN)].append(
        domains.record_value(squatted.domain_token)
    )
    with pytest.raises(ValidationFailed, match="already verified by another organization") as no:
        domains.domain_check(membership=squatter)
    assert no.value.field == "custom_domain"
    assert TrustCenter.objects.for_org(other_org).get().domain_verified_at is None
    assert Client(HTTP_HOST=DOMAIN).get("/").status_code == 200  # still the verified one's
    # Once the owner lets go of the domain, the other organization can prove it.
    claim(owner, "")
    domains.domain_check(membership=squatter)
    assert TrustCenter.objects.for_org(other_org).get().domain_verified_at is not None


def test_a_changed_domain_is_unverified_again(published, listed, dns_server, settings):
    owner = published["owner"]
    center = claim(owner)
    prove(dns_server, center)
    domains.domain_check(membership=owner)
    assert Client(HTTP_HOST=DOMAIN).get("/").status_code == 200
    settings.TRUST_HOSTS = [DOMAIN, "security.acme.example"]
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "security.acme.example"]
    changed = claim(owner, "security.acme.example")
    assert changed.domain_verified_at is None and changed.domain_token == center.domain_token
    entry = (
        ActivityEntry.objects.for_org(owner.organization)
        .filter(action="update", changes__custom_domain=[DOMAIN, "security.acme.example"])
        .get()
    )
    assert entry.changes["domain_verified_at"][1] is None
    assert Client(HTTP_HOST="security.acme.example").get("/").status_code == 404
    assert Client(HTTP_HOST=DOMAIN).get("/").status_code == 404  # the old one at once
    # Back to the first domain: verified again only by a new check.
    claim(owner, DOMAIN)
    assert Client(HTTP_HOST=DOMAIN).get("/").status_code == 404
    domains.domain_check(membership=owner)
    assert Client(HTTP_HOST=DOMAIN).get("/").status_code == 200


def test_check_now_on_the_settings_page(published, listed, dns_server, client_for, make_member):
    owner = published["owner"]
    org = owner.organization
    center = claim(owner)
    client = client_for(owner)
    page_url = reverse("trust_settings", kwargs={"org_slug": org.slug})
    check_url = reverse("trust_domain_check", kwargs={"org_slug": org.slug})
    page = client.get(page_url)
    assert b"_soc2app-trust.trust.acme.example" in page.content
    assert domains.record_value(center.domain_token).encode() in page.content
    assert b"Not verified" in page.content
    failed = client.post(check_url, follow=True)
    assert b"does not exist" in failed.content and b"Not verified" in failed.content
    prove(dns_server, center)
    done = client.post(check_url, follow=True)
    assert b"Custom domain verified" in done.content and b"Served" in done.content
    auditor = client_for(make_member(org, role=Role.AUDITOR))
    assert auditor.post(check_url).status_code in (403, 404)


def test_check_now_without_a_domain(owner, client_for):
    client = client_for(owner)
    slug = owner.organization.slug
    done = client.post(reverse("trust_domain_check", kwargs={"org_slug": slug}), follow=True)
    assert done.status_code == 200 and b"Set a custom domain first" in done.content
