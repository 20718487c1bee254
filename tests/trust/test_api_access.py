"""Who may call the trust center API: owners and admins signed in do everything; an admin API
key reads (settings, controls, documents, requests) but changes nothing, since what the page
says speaks for the organization; every other role and key is a 403 with nothing written; a
key or member of another organization is a 404 under our slug, as elsewhere in the API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants.models import ActivityEntry, Membership, Role
from tenants.models_integrations import ApiKey, ApiKeyRole
from tenants.permissions import can
from tests.trust.conftest import base, build_center, make_request
from trust.models import TrustCenter
from trust.permissions import MANAGE, READ

pytestmark = pytest.mark.django_db

READS = ("settings/", "controls/", "documents/", "requests/")


def test_the_rule_reading_is_also_an_admin_keys_changing_is_people_only():
    for role in Role.values:
        person = Membership(role=role)
        expected = role in (Role.OWNER, Role.ADMIN)
        assert can(person, READ) is expected and can(person, MANAGE) is expected, role
    for role in ApiKeyRole.values:
        key = ApiKey(role=role)
        assert can(key, READ) is (role == ApiKeyRole.ADMIN), role
        assert not can(key, MANAGE), role


def _writes(org, made, request) -> list[tuple[str, str, dict]]:
    b = base(org)
    return [
        ("patch", f"{b}settings/", {"headline": "Hacked"}),
        ("post", f"{b}settings/check-domain/", {}),
        ("put", f"{b}controls/", {"controls": []}),
        ("post", f"{b}documents/", {"title": "X", "visibility": "public", "policy_version": 1}),
        ("delete", f"{b}documents/{made['private'].pk}/", {}),
        ("post", f"{b}requests/{request.pk}/approve/", {}),
        ("post", f"{b}requests/{request.pk}/deny/", {}),
    ]


def _every_call(org, made, request) -> list[tuple[str, str, dict]]:
    return [("get", f"{base(org)}{p}", {}) for p in READS] + _writes(org, made, request)


@pytest.fixture
def made(owner, make_audit):
    return build_center(owner, make_audit)


def _unchanged(org, made, request, entries: int) -> None:
    assert ActivityEntry.objects.for_org(org).count() == entries
    request.refresh_from_db()
    assert request.status == "pending"
    assert TrustCenter.objects.for_org(org).get().headline == made["center"].headline


def test_other_roles_and_keys_are_refused_everything(
    org, made, make_member, api_for, key_for, mailoutbox
):
    request = make_request(made)
    refused = {
        role: api_for(make_member(org, role))
        for role in (Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR, Role.AUDITOR)
    }
    refused |= {
        f"key:{role}": key_for(org, role) for role in ApiKeyRole.values if role != ApiKeyRole.ADMIN
    }
    before = ActivityEntry.objects.for_org(org).count()
    for who, client in refused.items():
        for method, url, body in _every_call(org, made, request):
            answer = getattr(client, method)(url, body)
            assert answer.status_code == 403, (who, method, url, answer.status_code)
            assert answer.json()["code"] == "permission_denied"
    _unchanged(org, made, request, before)
    assert mailoutbox == []


def test_an_admin_key_reads_but_changes_nothing(org, made, key_for, mailoutbox):
    request = make_request(made)
    key = key_for(org, ApiKeyRole.ADMIN)
    settings = key.get(f"{base(org)}settings/")
    assert settings.status_code == 200, settings.json()
    assert settings.json()["slug"] == made["center"].slug
    assert key.get(f"{base(org)}controls/").json()["controls"] == sorted(
        [made["green"].pk, made["amber"].pk]
    )
    titles = [d["title"] for d in key.get(f"{base(org)}documents/").json()["results"]]
    assert titles == ["SOC 2 Type 1 report", "Security policy"]
    listed = key.get(f"{base(org)}requests/", {"status": "pending"}).json()
    assert [r["email"] for r in listed["results"]] == ["ana@buyer.example.com"]
    before = ActivityEntry.objects.for_org(org).count()
    for method, url, body in _writes(org, made, request):
        answer = getattr(key, method)(url, body)
        assert answer.status_code == 403, (method, url, answer.status_code)
        assert answer.json()["code"] == "permission_denied"
    _unchanged(org, made, request, before)
    assert mailoutbox == []


def test_owners_and_admins_signed_in_do_everything(org, owner, made, make_member, api_for):
    request = make_request(made)
    for person in (owner, make_member(org, Role.ADMIN)):
        api = api_for(person)
        for path in READS:
            assert api.get(f"{base(org)}{path}").status_code == 200, (person.role, path)
    admin = api_for(make_member(org, Role.ADMIN))
    assert admin.patch(f"{base(org)}settings/", {"headline": "New"}).status_code == 200
    assert admin.post(f"{base(org)}requests/{request.pk}/deny/").status_code == 200
    # No custom domain yet: the check is a clear 400, not a refusal.
    check = admin.post(f"{base(org)}settings/check-domain/")
    assert check.status_code == 400 and "custom_domain" in check.json()["errors"]


def test_another_organizations_key_or_member_finds_nothing_here(
    org, owner, outsider, made, make_audit, api_for, key_for, mailoutbox
):
    theirs = build_center(outsider, make_audit, slug="globex-trust")
    request = make_request(made)
    their_request = make_request(theirs, "cy@buyer.example.com")
    strangers = {
        "their admin key": key_for(outsider.organization, ApiKeyRole.ADMIN),
        "their owner": api_for(outsider),
    }
    before = ActivityEntry.objects.for_org(org).count()
    for who, client in strangers.items():
        for method, url, body in _every_call(org, made, request):
            answer = getattr(client, method)(url, body)
            assert answer.status_code == 404, (who, method, url, answer.status_code)
            assert answer.json()["code"] == "not_found"
    _unchanged(org, made, request, before)
    # Our admin key under our slug, asking for their request: not found either.
    ours = key_for(org, ApiKeyRole.ADMIN)
    listed = ours.get(f"{base(org)}requests/").json()["results"]
    assert their_request.pk not in [r["id"] for r in listed]
    assert ours.get(f"{base(outsider.organization)}requests/").status_code == 404
    assert mailoutbox == []


def test_a_revoked_or_expired_admin_key_reads_nothing(org, made, key_for):
    key = key_for(org, ApiKeyRole.ADMIN)
    url = f"{base(org)}requests/"
    assert key.get(url).status_code == 200
    keys = ApiKey.objects.for_org(org)
    keys.update(expires_at=timezone.now())
    expired = key.get(url)
    assert expired.status_code == 401 and expired.json()["code"] == "api_key_expired"
    keys.update(expires_at=None, revoked_at=timezone.now())
    revoked = key.get(url)
    assert revoked.status_code == 401 and revoked.json()["code"] == "api_key_revoked"


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


def test_an_admin_keys_reads_take_constant_queries(org, made, key_for):
    key = key_for(org, ApiKeyRole.ADMIN)
    make_request(made)
    urls = [f"{base(org)}{path}" for path in READS]
    _queries(key, urls[0])  # the key's first use records it (last used): not a read's cost
    counts = [_queries(key, url) for url in urls]
    for i in range(5):
        make_request(made, f"v{i}@buyer.example.com")
    # The key with its organization, then the rows and a count: none per row.
    assert [_queries(key, url) for url in urls] == counts
    assert max(counts) <= 8, counts


def test_options_answers_on_every_path(org, owner, made, api_for, key_for):
    """(CI's schemathesis stage sends OPTIONS too: PUT trust/controls/ once answered a 500.)"""
    urls = sorted({url for _, url, _ in _every_call(org, made, make_request(made))})
    for client in (api_for(owner), key_for(org, ApiKeyRole.ADMIN)):
        for url in urls:
            answer = client.options(url)
            assert answer.status_code == 200, (url, answer.status_code)
