"""The sampling API: a key pushes or uploads populations and exports them; an auditor (signed
in) draws and records results on a granted audit only; read-only keys, contributors, other
audits and other organizations are refused; list endpoints in a fixed number of queries."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from reports import populations
from reports.models import Population, Sample
from tenants.activity import Actor
from tenants.apikeys import api_key_create_system
from tenants.models import Role
from tests.reports.conftest import hires_csv

pytestmark = pytest.mark.django_db


def _key(org, role: str) -> APIClient:
    _, plaintext = api_key_create_system(
        organization=org, name=f"key-{role}", role=role, expires_days=None, actor=Actor.system("t")
    )
    client = APIClient(enforce_csrf_checks=True)
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def _person(membership) -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.force_login(membership.user)
    return client


def _url(w, path: str, audit=None) -> str:
    return f"/api/v1/orgs/{w.org.slug}/audits/{(audit or w.audit).pk}/{path}"


ITEMS = [
    {"id": f"CHG-{i}", "date": f"2025-03-{i:02d}", "description": "Deploy"} for i in range(1, 21)
]


def test_key_pushes_uploads_and_exports(sampling_world):
    w = sampling_world
    key = _key(w.org, "compliance_manager")
    pushed = key.post(_url(w, "populations/"), {"control": w.control.pk, "items": ITEMS})
    assert pushed.status_code == 201, pushed.json()
    assert (pushed.json()["version"], pushed.json()["row_count"]) == (1, 20)
    upload = SimpleUploadedFile("hires.csv", hires_csv(60), content_type="text/csv")
    uploaded = key.post(
        _url(w, "populations/"), {"control": w.control.pk, "file": upload}, format="multipart"
    )
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["version"] == 2
    export = key.get(_url(w, f"populations/{uploaded.json()['id']}/export/"))
    body = b"".join(export.streaming_content)
    assert hashlib.sha256(body).hexdigest() == uploaded.json()["sha256"]
    items = key.get(_url(w, f"populations/{pushed.json()['id']}/items/?page_size=5"))
    assert items.json()["count"] == 20 and items.json()["results"][0]["item_id"] == "CHG-1"


def test_bad_rows_are_a_400_naming_them(sampling_world):
    w = sampling_world
    key = _key(w.org, "compliance_manager")
    bad = [*ITEMS, {"id": "CHG-1", "date": "2026-09-01"}]
    response = key.post(_url(w, "populations/"), {"control": w.control.pk, "items": bad})
    assert response.status_code == 400
    assert "Row 22: the id CHG-1 repeats row 2." in response.json()["detail"]
    assert not Population.objects.for_org(w.org).exists()


def test_read_only_key_and_contributor_cannot_push(sampling_world, make_member):
    w = sampling_world
    body = {"control": w.control.pk, "items": ITEMS}
    assert _key(w.org, "read_only").post(_url(w, "populations/"), body).status_code == 403
    contributor = _person(make_member(w.org, Role.CONTRIBUTOR))
    assert contributor.post(_url(w, "populations/"), body).status_code == 403
    assert _person(w.auditor).post(_url(w, "populations/"), body).status_code == 403
    assert not Population.objects.for_org(w.org).exists()


def test_auditor_draws_and_marks_on_the_granted_audit_only(sampling_world):
    w = sampling_world
    population = populations.population_upload_csv(
        membership=w.manager, audit=w.audit, control=w.control, data=hires_csv(60)
    )
    auditor = _person(w.auditor)
    listed = auditor.get(_url(w, "populations/"))
    assert listed.status_code == 200 and listed.json()["results"][0]["id"] == population.pk
    drawn = auditor.post(
        _url(w, "samples/"),
        {"population": population.pk, "size": 5, "size_reason": "Low risk", "seed": "abcdefgh"},
    )
    assert drawn.status_code == 201, drawn.json()
    sample = drawn.json()
    items = auditor.get(_url(w, f"samples/{sample['id']}/items/")).json()["results"]
    assert [i["request_reference"] for i in items] == [f"PBC-{n}" for n in range(1, 6)]
    marked = auditor.post(
        _url(w, f"sample-items/{items[0]['id']}/result/"),
        {"result": "exception", "note": "Approval missing."},
    )
    assert marked.status_code == 200 and marked.json()["result"] == "exception"
    # Again without a reason: refused, the population is frozen.
    again = auditor.post(_url(w, "samples/"), {"population": population.pk})
    assert again.status_code == 400 and "sampled already" in again.json()["detail"]
    # The other audit was not granted: 404, as for a missing one.
    assert auditor.get(_url(w, "populations/", w.other_audit)).status_code == 404
    # Managers draw but do not record results.
    manager = _key(w.org, "compliance_manager")
    refused = manager.post(
        _url(w, f"sample-items/{items[1]['id']}/result/"), {"result": "exception"}
    )
    assert refused.status_code == 403
    # The rest of the API stays closed to auditors.
    assert auditor.get(f"/api/v1/orgs/{w.org.slug}/controls/").status_code == 403


def test_another_organization_sees_nothing(sampling_world, outsider):
    w = sampling_world
    population = populations.population_upload_csv(
        membership=w.manager, audit=w.audit, control=w.control, data=hires_csv(10)
    )
    other_key = _key(outsider.organization, "compliance_manager")
    url = f"/api/v1/orgs/{outsider.organization.slug}/audits/{w.audit.pk}/samples/"
    response = other_key.post(url, {"population": population.pk})
    assert response.status_code == 404
    wrong_org = other_key.get(_url(w, "populations/"))
    assert wrong_org.status_code == 404
    assert not Sample.objects.for_org(w.org).exists()


def test_population_list_queries_do_not_grow(sampling_world):
    w = sampling_world
    key = _key(w.org, "compliance_manager")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert key.get(_url(w, "populations/")).status_code == 200
        return len(ctx.captured_queries)

    populations.population_push(membership=w.manager, audit=w.audit, control=w.control, items=ITEMS)
    count()  # the key's first use records its "last used" time
    one = count()
    for _ in range(3):
        populations.population_push(
            membership=w.manager, audit=w.audit, control=w.control, items=ITEMS
        )
    assert count() == one


def test_bad_input_is_a_400_never_a_500(sampling_world):
    w = sampling_world
    population = populations.population_upload_csv(
        membership=w.manager, audit=w.audit, control=w.control, data=hires_csv(10)
    )
    key = _key(w.org, "compliance_manager")
    for body in (
        [1, 2],
        {"control": "x", "items": ITEMS},
        {"control": w.control.pk, "items": [1, "a", None]},
        {"control": w.control.pk, "items": "not a list"},
        {"control": w.control.pk},
        {"control": w.control.pk, "unknown": 1},
    ):
        response = key.post(_url(w, "populations/"), body)
        assert response.status_code == 400, (body, response.json())
    assert key.post(_url(w, "populations/"), {"control": 2**62, "items": ITEMS}).status_code == 404
    for body in (
        [1],
        {"population": "x"},
        {"population": population.pk, "size": 0},
        {"population": population.pk, "seed": "no spaces allowed"},
        {"population": population.pk, "method": "dice"},
        {"population": population.pk, "due_date": "2000-01-01"},
        {"population": population.pk, "method": "manual", "item_ids": ["E00001", "E00001"]},
    ):
        response = key.post(_url(w, "samples/"), body)
        assert response.status_code == 400, (body, response.json())
    assert key.post(_url(w, "samples/"), {"population": 2**62}).status_code == 404
    assert key.get(_url(w, "samples/99999999999999999999999/")).status_code == 404
    assert not Sample.objects.for_org(w.org).exists()
