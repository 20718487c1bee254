"""Controls API: adopting library templates and bulk changes."""

from __future__ import annotations

import pytest

from controls.models import Control
from tenants.models import Role
from tests.api.conftest import org_url
from tests.factories import ControlFactory


def test_adopt_creates_mapped_controls_and_skips_adopted_ones(api, org, manager):
    url = org_url(org, "controls/adopt/")
    response = api.post(url, {"templates": ["GOV-01", "gov-01"], "owner": manager.pk})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert [c["code"] for c in data["adopted"]] == ["GOV-01"] and data["skipped"] == []
    adopted = data["adopted"][0]
    assert adopted["template"] == "GOV-01" and adopted["criteria"]
    assert adopted["owner_email"] == manager.user.email
    again = api.post(url, {"templates": ["GOV-01"]}).json()
    assert again == {"adopted": [], "skipped": ["GOV-01"]}
    assert Control.objects.for_org(org).count() == 1


def test_adopt_refuses_unknown_templates(api, org):
    response = api.post(org_url(org, "controls/adopt/"), {"templates": ["GOV-01", "NOPE-9"]})
    assert response.status_code == 400
    assert "NOPE-9" in response.json()["detail"]
    assert not Control.objects.for_org(org).exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"templates": []}, {"templates": "GOV-01"}, {"templates": ["GOV-01"], "owner": "me"}],
)
def test_adopt_bad_bodies(api, org, body):
    response = api.post(org_url(org, "controls/adopt/"), body)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_adopt_and_bulk_refused_below_manager(org, make_member, api_for, catalog, role):
    client = api_for(make_member(org, role))
    control = ControlFactory(organization=org, status="not_started")
    adopt = client.post(org_url(org, "controls/adopt/"), {"templates": ["GOV-01"]})
    bulk = client.post(
        org_url(org, "controls/bulk/"), {"controls": [control.pk], "status": "in_progress"}
    )
    assert adopt.status_code == bulk.status_code == 403
    assert Control.objects.for_org(org).get().status == "not_started"


def test_bulk_sets_owner_and_status(api, org, manager, contributor):
    a = ControlFactory(organization=org, status="not_started")
    b = ControlFactory(organization=org, status="in_progress", owner=contributor)
    url = org_url(org, "controls/bulk/")
    response = api.post(
        url, {"controls": [a.pk, b.pk], "owner": manager.pk, "status": "in_progress"}
    )
    assert response.status_code == 200 and response.json() == {"updated": 2}
    assert set(Control.objects.for_org(org).values_list("owner_id", "status")) == {
        (manager.pk, "in_progress")
    }
    cleared = api.post(url, {"controls": [a.pk], "owner": None})
    assert cleared.json() == {"updated": 1}
    a.refresh_from_db()
    assert a.owner_id is None


def test_bulk_refusals(api, org, other_org):
    mine = ControlFactory(organization=org, status="not_started")
    theirs = ControlFactory(organization=other_org, status="not_started")
    url = org_url(org, "controls/bulk/")
    foreign = api.post(url, {"controls": [mine.pk, theirs.pk], "status": "implemented"})
    assert foreign.status_code == 400 and "do not exist" in foreign.json()["detail"]
    nothing = api.post(url, {"controls": [mine.pk]})
    assert nothing.status_code == 400 and "owner or a status" in nothing.json()["detail"]
    na = api.post(url, {"controls": [mine.pk], "status": "not_applicable"})
    assert na.status_code == 400 and "one by one" in na.json()["detail"]
    huge = api.post(url, {"controls": [10**30], "status": "implemented"})
    assert huge.status_code == 400
    for control in (mine, theirs):
        control.refresh_from_db()
        assert control.status == "not_started"
