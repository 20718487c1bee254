"""The risks API: managers and their keys only (reading too), 404 across organizations,
create/read/patch/delete with clear 400s, adopting, the library and the matrix, and the list
in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from risks import services
from risks.models import Risk
from tenants.models import Role
from tests.factories import ControlFactory

pytestmark = pytest.mark.django_db


def base(org) -> str:
    return f"/api/v1/orgs/{org.slug}/risks/"


NEW = {
    "title": "Ransomware",
    "category": "security",
    "inherent_likelihood": 2,
    "inherent_impact": 5,
}


def test_managers_keys_manage_risks_and_others_are_refused(
    org, key_client, api_for, contributor, auditor
):
    for role in (Role.ADMIN, Role.COMPLIANCE_MANAGER):
        made = key_client(org, role).post(base(org), {**NEW, "title": f"Ransomware {role}"})
        assert made.status_code == 201, made.json()
        body = made.json()
        assert (body["inherent_score"], body["inherent_level"], body["residual_score"]) == (
            10,
            "high",
            10,
        )
    for client in (
        key_client(org, "read_only"),
        key_client(org, Role.CONTRIBUTOR),
        api_for(contributor),
        api_for(auditor),
    ):
        for path in (base(org), f"{base(org)}library/", f"{base(org)}matrix/"):
            assert client.get(path).status_code == 403, path
        assert client.post(base(org), NEW).status_code == 403
    assert Risk.objects.for_org(org).count() == 2


def test_another_organizations_risk_is_not_found(
    org, other_org, api_for, manager, outsider, key_client
):
    theirs = services.risk_create(
        membership=outsider,
        title="Theirs",
        category="fraud",
        inherent_likelihood=1,
        inherent_impact=1,
    )
    client = api_for(manager)
    path = f"{base(org)}{theirs.pk}/"
    assert client.get(path).status_code == 404
    assert client.patch(path, {"title": "x"}).status_code == 404
    assert client.delete(path).status_code == 404
    assert client.get(f"{base(org)}0.5/").status_code == 404
    assert client.get(base(other_org)).status_code == 404
    assert key_client(org, Role.ADMIN).get(f"{base(other_org)}{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"
    their_control = ControlFactory(organization=other_org)
    refused = client.post(
        base(org), {**NEW, "treatment": "mitigate", "controls": [their_control.pk]}
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"controls": ["No such control in this organization."]}


def test_create_patch_accept_and_delete(org, api_for, manager, control):
    client = api_for(manager)
    for extra, field in (
        ({"inherent_likelihood": 6}, "inherent_likelihood"),
        ({"treatment": "mitigate"}, "controls"),
        ({"treatment": "accept", "accepted_reason": "ok"}, "accepted_until"),
        ({"onwer": 1}, "onwer"),
    ):
        refused = client.post(base(org), {**NEW, **extra})
        assert refused.status_code == 400, extra
        assert field in refused.json()["errors"], refused.json()
    assert Risk.objects.for_org(org).count() == 0
    made = client.post(base(org), {**NEW, "treatment": "mitigate", "controls": [control.pk]})
    assert made.status_code == 201 and made.json()["controls"] == [control.pk]
    path = f"{base(org)}{made.json()['id']}/"
    until = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    patched = client.patch(
        path, {"treatment": "accept", "accepted_reason": "Insured", "accepted_until": until}
    )
    assert patched.status_code == 200, patched.json()
    body = patched.json()
    assert (body["accepted_by"], body["accepted_until"], body["acceptance_expired"]) == (
        manager.pk,
        until,
        False,
    )
    assert client.patch(path, {"residual_impact": 9}).status_code == 400
    assert client.get(path).json()["residual_impact"] == 5
    assert client.delete(path).status_code == 204
    assert Risk.objects.for_org(org).count() == 0


def test_adopt_library_and_matrix(org, api_for, manager):
    client = api_for(manager)
    library = client.get(f"{base(org)}library/").json()
    assert library["count"] == 42 and library["results"][0]["adopted_risk"] is None
    adopted = client.post(f"{base(org)}adopt/", {"library_key": "insider-fraud"})
    assert adopted.status_code == 201 and adopted.json()["category"] == "fraud"
    again = client.post(f"{base(org)}adopt/", {"library_key": "insider-fraud"})
    assert again.status_code == 409
    assert client.post(f"{base(org)}adopt/", {"library_key": "nope"}).status_code == 404
    matrix = client.get(f"{base(org)}matrix/").json()
    assert matrix["size"] == 5 and matrix["thresholds"] == {"medium": 5, "high": 10, "critical": 16}
    assert len(matrix["likelihood_labels"]) == 5


def test_list_filters_and_constant_queries(org, api_for, manager):
    client = api_for(manager)
    controls = [ControlFactory(organization=org) for _ in range(2)]
    counts = []
    for total in (5, 40):
        while Risk.objects.for_org(org).count() < total:
            n = Risk.objects.for_org(org).count()
            services.risk_create(
                membership=manager,
                title=f"R{n}",
                category="change",
                owner=manager.pk,
                inherent_likelihood=1 + n % 5,
                inherent_impact=5,
                treatment="mitigate",
                controls=[c.pk for c in controls],
            )
        client.get(base(org))
        with CaptureQueriesContext(connection) as queries:
            rows = client.get(base(org)).json()
        counts.append(len(queries))
        assert rows["count"] == total
    assert counts[0] == counts[1], counts
    critical = client.get(base(org), {"level": "critical"}).json()["results"]
    assert critical and all(r["residual_score"] >= 16 for r in critical)
    assert client.get(base(org), {"treatment": "bogus"}).status_code == 400
