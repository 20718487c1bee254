"""The tenancy base of the organization API: who may act in which organization."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tenants.context import current_org_id
from tenants.models import Role
from tests.api.conftest import org_url
from tests.factories import ControlFactory


def test_anonymous_gets_a_json_error(client, org):
    response = client.get(org_url(org, "controls/"))
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_member_lists_only_their_organization(api, org, other_org):
    ControlFactory(organization=org, code="MINE-1")
    ControlFactory(organization=other_org, code="THEIRS-1")
    codes = [c["code"] for c in api.get(org_url(org, "controls/")).json()["results"]]
    assert codes == ["MINE-1"]


@pytest.mark.parametrize("path", ["controls/", "systems/", "audits/"])
def test_outsider_and_unknown_organization_look_the_same(org, outsider, api_for, catalog, path):
    client = api_for(outsider)
    foreign = client.get(org_url(org, path))
    assert foreign.status_code == 404
    assert foreign.json() == {"detail": "No such organization.", "code": "not_found"}
    missing = client.get(f"/api/v1/orgs/no-such-org/{path}")
    assert missing.status_code == 404 and missing.json() == foreign.json()
    # Their own organization works.
    assert client.get(org_url(outsider.organization, path)).status_code == 200


def test_expired_membership_is_a_404(org, make_member, api_for, catalog):
    expired = make_member(org, Role.AUDITOR, expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert api_for(expired).get(org_url(org, "controls/")).status_code == 404


def test_api_key_acts_only_in_its_own_organization(org, other_org, key_client, catalog):
    ControlFactory(organization=org, code="MINE-1")
    own = key_client(org, "read_only")
    assert [c["code"] for c in own.get(org_url(org, "controls/")).json()["results"]] == ["MINE-1"]
    assert own.get(org_url(other_org, "controls/")).status_code == 404
    revoked = key_client(org, "read_only", is_active=False)
    assert revoked.get(org_url(org, "controls/")).status_code == 404


def test_principal_without_view_right_is_refused(org, key_client, catalog):
    response = key_client(org, "no_such_role").get(org_url(org, "controls/"))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_tenant_context_is_reset_after_each_request(api, org):
    control = ControlFactory(organization=org)
    assert api.get(org_url(org, f"controls/{control.pk}/")).status_code == 200
    assert current_org_id() is None
    # ... after an error too.
    assert api.post(org_url(org, "controls/"), {"code": ""}).status_code == 400
    assert current_org_id() is None
    assert api.get(org_url(org, "controls/0/")).status_code == 404
    assert current_org_id() is None


def test_session_writes_are_recorded_as_the_user(api, org, manager):
    from tenants.models import ActivityEntry

    body = {"code": "AC-1", "title": "Access", "control_type": "technical", "frequency": "annual"}
    assert api.post(org_url(org, "controls/"), body).status_code == 201
    entry = ActivityEntry.objects.for_org(org).get(action="create")
    assert entry.actor_id == manager.user_id and entry.actor_label == manager.user.email


def test_key_writes_are_recorded_with_the_key_label(org, key_client, catalog):
    from tenants.models import ActivityEntry

    body = {"code": "AC-1", "title": "Access", "control_type": "technical", "frequency": "annual"}
    response = key_client(org, Role.COMPLIANCE_MANAGER).post(org_url(org, "controls/"), body)
    assert response.status_code == 201
    entry = ActivityEntry.objects.for_org(org).get(action="create")
    assert entry.actor_id is None and entry.actor_label == "API key test (sk_test…)"


def test_reads_carry_an_etag_and_answer_304_when_unchanged(api, org):
    control = ControlFactory(organization=org, title="Before")
    url = org_url(org, f"controls/{control.pk}/")
    first = api.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and api.get(url)["ETag"] == etag
    unchanged = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    api.patch(url, {"title": "After"})
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["title"] == "After"
    assert changed["ETag"] != etag


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/orgs/acme-test/controls", "/api/v1/orgs/acme-test/x/"]
)
def test_unknown_api_paths_are_json_404s(api, org, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found" and "/api/docs/" in response.json()["detail"]
