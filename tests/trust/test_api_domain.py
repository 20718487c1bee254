"""The custom domain through the API: the settings show the TXT record to publish and whether
it was found; ``POST trust/settings/check-domain/`` looks it up (a local DNS server) and
answers the settings once verified, or a 400 saying what is missing, each check in the
activity log like the settings page's "Check now"."""

from __future__ import annotations

import pytest

from tenants.models import ActivityEntry, Role
from tests.trust.conftest import base
from trust.models import TrustCenter

pytestmark = pytest.mark.django_db
DOMAIN = "trust.acme.example"


def domain_actions(org) -> list[str]:
    return list(
        ActivityEntry.objects.for_org(org)
        .filter(action__startswith="domain_")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_settings_show_the_record_to_publish(org, owner, api_for, settings):
    api = api_for(owner)
    fresh = api.get(f"{base(org)}settings/").json()
    assert fresh["custom_domain"] == "" and fresh["domain_verified_at"] is None
    assert fresh["domain_record_name"] == "" and fresh["domain_record_value"] == ""
    assert fresh["domain_listed"] is False
    settings.TRUST_HOSTS = [DOMAIN]
    saved = api.patch(f"{base(org)}settings/", {"custom_domain": "Trust.Acme.example."})
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    token = TrustCenter.objects.for_org(org).get().domain_token
    assert token and body["custom_domain"] == DOMAIN
    assert body["domain_record_name"] == f"_soc2app-trust.{DOMAIN}"
    assert body["domain_record_value"] == f"soc2app-trust={token}"
    assert body["domain_verified_at"] is None and body["domain_listed"] is True
    assert api.get(f"{base(org)}settings/").json() == body


def test_check_without_a_domain_is_a_400_naming_the_field(org, owner, api_for):
    api = api_for(owner)
    url = f"{base(org)}settings/check-domain/"
    for _ in range(2):  # before the first save, and after one without a domain
        refused = api.post(url)
        assert refused.status_code == 400, refused.json()
        assert refused.json()["errors"] == {"custom_domain": ["Set a custom domain first."]}
        assert refused.json()["code"] == "invalid"
        api.patch(f"{base(org)}settings/", {"headline": "Acme"})
    assert domain_actions(org) == []


def test_a_missing_or_wrong_record_is_a_logged_400(org, owner, api_for, dns_server):
    api = api_for(owner)
    api.patch(f"{base(org)}settings/", {"custom_domain": DOMAIN})
    url = f"{base(org)}settings/check-domain/"
    missing = api.post(url, HTTP_IDEMPOTENCY_KEY="check-domain-0001")
    assert missing.status_code == 400, missing.json()
    assert "does not exist" in missing.json()["detail"]
    assert "custom_domain" in missing.json()["errors"]
    dns_server.records.txt[f"_soc2app-trust.{DOMAIN}"] = ["soc2app-trust=someone-elses"]
    # The same Idempotency-Key again: a 4xx is not remembered, so this is a new check.
    wrong = api.post(url, HTTP_IDEMPOTENCY_KEY="check-domain-0001")
    assert wrong.status_code == 400 and "none is" in wrong.json()["detail"]
    # Both failed checks are kept, although the request answered an error.
    assert domain_actions(org) == ["domain_check_failed", "domain_check_failed"]
    assert TrustCenter.objects.for_org(org).get().domain_verified_at is None


def test_the_right_record_verifies_the_domain_once(org, owner, api_for, dns_server):
    api = api_for(owner)
    value = api.patch(f"{base(org)}settings/", {"custom_domain": DOMAIN}).json()
    dns_server.records.txt[value["domain_record_name"]] = [
        "unrelated",
        value["domain_record_value"],
    ]
    url = f"{base(org)}settings/check-domain/"
    verified = api.post(url)
    assert verified.status_code == 200, verified.json()
    body = verified.json()
    assert body["domain_verified_at"] is not None and body["custom_domain"] == DOMAIN
    assert (
        api.get(f"{base(org)}settings/").json()["domain_verified_at"] == body["domain_verified_at"]
    )
    again = api.post(url)
    assert again.status_code == 200
    assert again.json()["domain_verified_at"] == body["domain_verified_at"]
    assert domain_actions(org) == ["domain_verified"]
    # Another domain is unverified again, with its own record to publish.
    moved = api.patch(f"{base(org)}settings/", {"custom_domain": "status.acme.example"}).json()
    assert moved["domain_verified_at"] is None
    assert moved["domain_record_name"] == "_soc2app-trust.status.acme.example"


def test_the_check_acts_only_in_its_own_organization(org, owner, outsider, api_for, dns_server):
    ours = api_for(owner).patch(f"{base(org)}settings/", {"custom_domain": DOMAIN}).json()
    dns_server.records.txt[ours["domain_record_name"]] = [ours["domain_record_value"]]
    stranger = api_for(outsider)
    assert stranger.post(f"{base(org)}settings/check-domain/").status_code == 404
    # Under their own slug they check their own (absent) domain, never ours.
    theirs = stranger.post(f"{base(outsider.organization)}settings/check-domain/")
    assert theirs.status_code == 400 and "custom_domain" in theirs.json()["errors"]
    assert TrustCenter.objects.for_org(org).get().domain_verified_at is None
    assert domain_actions(org) == [] and domain_actions(outsider.organization) == []


def test_a_domain_another_organization_verified_is_a_400_saying_so(
    org, owner, other_org, make_member, api_for, dns_server
):
    """Both may claim it (no 409 on save); only the first to prove it verifies it."""
    theirs = api_for(make_member(other_org, role=Role.OWNER))
    ours = api_for(owner).patch(f"{base(org)}settings/", {"custom_domain": DOMAIN}).json()
    claimed = theirs.patch(f"{base(other_org)}settings/", {"custom_domain": DOMAIN})
    assert claimed.status_code == 200, claimed.json()
    dns_server.records.txt[ours["domain_record_name"]] = [
        ours["domain_record_value"],
        claimed.json()["domain_record_value"],
    ]
    assert api_for(owner).post(f"{base(org)}settings/check-domain/").status_code == 200
    taken = theirs.post(f"{base(other_org)}settings/check-domain/")
    assert taken.status_code == 400, taken.json()
    assert "already verified by another organization" in taken.json()["detail"]
    assert taken.json()["code"] == "taken" and "custom_domain" in taken.json()["errors"]
    assert TrustCenter.objects.for_org(other_org).get().domain_verified_at is None
