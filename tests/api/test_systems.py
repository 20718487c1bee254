"""Systems API: list, detail, create and change through ``system_save``."""

from __future__ import annotations

import pytest

from controls.models import System
from tenants.models import Role
from tests.api.conftest import org_url
from tests.factories import SystemFactory


def test_create_and_change_a_system(api, org, manager):
    body = {"name": "Platform", "components": ["api", "db"], "owner": manager.pk}
    response = api.post(org_url(org, "systems/"), body)
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["components"] == ["api", "db"] and created["owner_email"] == manager.user.email
    url = org_url(org, f"systems/{created['id']}/")
    changed = api.patch(url, {"description": "Our SaaS"}).json()
    # Fields not sent keep their value.
    assert changed["name"] == "Platform" and changed["components"] == ["api", "db"]
    assert changed["description"] == "Our SaaS" and changed["owner"] == manager.pk
    assert api.get(url).json() == changed


def test_system_refusals(api, org):
    SystemFactory(organization=org, name="Platform")
    url = org_url(org, "systems/")
    clash = api.post(url, {"name": "Platform"})
    assert clash.status_code == 400 and "already exists" in clash.json()["detail"]
    blank = api.post(url, {"name": "  "})
    assert blank.status_code == 400
    too_many = api.post(url, {"name": "Big", "components": ["c"] * 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == "invalid"
    long_name = api.post(url, {"name": "x" * 121})
    assert long_name.status_code == 400


def test_foreign_system_is_404(api, org, other_org):
    theirs = SystemFactory(organization=other_org, name="Theirs")
    url = org_url(org, f"systems/{theirs.pk}/")
    assert api.get(url).status_code == 404
    assert api.patch(url, {"name": "Mine"}).status_code == 404
    assert System.objects.for_org(other_org).get().name == "Theirs"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_only_managers_write_systems(org, make_member, api_for, catalog, role):
    client = api_for(make_member(org, role))
    system = SystemFactory(organization=org, name="Platform")
    # Auditors read in the auditor portal only: the API refuses them even reads.
    expected = 403 if role == Role.AUDITOR else 200
    assert client.get(org_url(org, "systems/")).status_code == expected
    assert client.post(org_url(org, "systems/"), {"name": "New"}).status_code == 403
    assert client.patch(org_url(org, f"systems/{system.pk}/"), {"name": "X"}).status_code == 403
    assert list(System.objects.for_org(org).values_list("name", flat=True)) == ["Platform"]


def test_systems_cannot_be_deleted_through_the_api(api, org):
    system = SystemFactory(organization=org)
    assert api.delete(org_url(org, f"systems/{system.pk}/")).status_code == 405


@pytest.mark.parametrize("rows", [3, 30])
def test_list_queries_do_not_grow_with_rows(api, org, manager, rows, django_assert_num_queries):
    for n in range(rows):
        SystemFactory(organization=org, owner=manager, name=f"S{n:02d}")
    # session, user, membership + organization, count, page (with owner and user)
    with django_assert_num_queries(5):
        response = api.get(org_url(org, "systems/"), {"page_size": 50})
    assert len(response.json()["results"]) == rows
