"""Audits API: create and change audits with their scope; personas; bad dates; queries."""

from __future__ import annotations

import datetime as dt

import pytest

from controls.models import Audit
from tenants.models import ActivityEntry, Role
from tests.api.conftest import org_url
from tests.factories import SystemFactory

TYPE2_START, TYPE2_END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)

TYPE2 = {
    "name": "FY25",
    "audit_type": "type2",
    "window_start": "2025-01-01",
    "window_end": "2025-12-31",
}


def test_create_type2_with_scope(api, org):
    system = SystemFactory(organization=org, name="Platform")
    body = {**TYPE2, "categories": ["availability"], "systems": [system.pk], "cpa_firm": "CPA"}
    response = api.post(org_url(org, "audits/"), body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["categories"] == ["security", "availability"]
    assert data["systems"] == [{"id": system.pk, "name": "Platform"}]
    assert data["framework"] == "aicpa-tsc-2017" and data["status"] == "planning"
    assert data["as_of_date"] is None and data["window_end"] == "2025-12-31"
    assert ActivityEntry.objects.for_org(org).filter(action="create").count() == 1


def test_update_keeps_the_scope_unless_sent(api, org):
    system = SystemFactory(organization=org)
    created = api.post(
        org_url(org, "audits/"), {**TYPE2, "categories": ["privacy"], "systems": [system.pk]}
    ).json()
    url = org_url(org, f"audits/{created['id']}/")
    changed = api.patch(url, {"cpa_firm": "Big Four", "fieldwork_start": "2026-01-10"}).json()
    assert changed["categories"] == ["security", "privacy"] and changed["cpa_firm"] == "Big Four"
    assert changed["systems"] == created["systems"]
    narrowed = api.patch(url, {"categories": [], "systems": []}).json()
    assert narrowed["categories"] == ["security"] and narrowed["systems"] == []
    as_type1 = api.patch(url, {"audit_type": "type1", "as_of_date": "2025-06-30"}).json()
    assert as_type1["window_start"] is None and as_type1["as_of_date"] == "2025-06-30"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"window_end": "2024-12-31"}, "window_end", "end after it starts"),
        ({"window_end": "2026-06-30"}, "window_end", "at most 12 months"),
        ({"window_end": "2025-02-01"}, "window_end", "at least 3 months"),
        ({"audit_type": "type1"}, "as_of_date", "needs the date its design is assessed"),
        ({"categories": ["astrology"]}, "categories", "Unknown category"),
        (
            {"status": "completed", "window_start": "2099-01-01", "window_end": "2099-12-31"},
            "window_end",
            "ends in the future",
        ),
        ({"window_start": "2025-02-30"}, "window_start", "Date has wrong format"),
        ({"window_start": 20250101}, "window_start", "Date has wrong format"),
    ],
)
def test_bad_scopes_and_dates_are_refused(api, org, body, field, message):
    response = api.post(org_url(org, "audits/"), {**TYPE2, **body})
    assert response.status_code == 400
    data = response.json()
    assert message in data["detail"] and data["code"] == "invalid"
    assert list(data["errors"]) == [field]
    assert not Audit.objects.for_org(org).exists()


def test_foreign_system_and_foreign_audit(api, org, other_org, outsider, api_for):
    theirs = SystemFactory(organization=other_org)
    response = api.post(org_url(org, "audits/"), {**TYPE2, "systems": [theirs.pk]})
    assert response.status_code == 400 and response.json()["detail"] == (
        "Choose systems of this organization."
    )
    foreign = api_for(outsider).post(org_url(other_org, "audits/"), TYPE2).json()
    for path in ("", "readiness/", "self-assessment/"):
        assert api.get(org_url(org, f"audits/{foreign['id']}/{path}")).status_code == 404
    assert api.patch(org_url(org, f"audits/{foreign['id']}/"), {"name": "x"}).status_code == 404


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_only_managers_write_audits(org, make_member, api_for, make_audit, role):
    client = api_for(make_member(org, role))
    audit = make_audit(org, window=(TYPE2_START, TYPE2_END))
    # Auditors read in the auditor portal only: the API refuses them even reads.
    expected = 403 if role == Role.AUDITOR else 200
    assert client.get(org_url(org, f"audits/{audit.pk}/")).status_code == expected
    assert client.post(org_url(org, "audits/"), TYPE2).status_code == 403
    response = client.patch(org_url(org, f"audits/{audit.pk}/"), {"cpa_firm": "X"})
    assert response.status_code == 403
    assert Audit.objects.for_org(org).get().cpa_firm == ""


@pytest.mark.parametrize("rows", [3, 30])
def test_list_queries_do_not_grow_with_rows(api, org, make_audit, rows, django_assert_num_queries):
    system = SystemFactory(organization=org)
    for _ in range(rows):
        audit = make_audit(org, as_of=TYPE2_END, categories=("privacy",))
        api.patch(org_url(org, f"audits/{audit.pk}/"), {"systems": [system.pk]})
    # session, user, membership + organization, count, page (with framework),
    # scope categories (with category), scope systems (with system)
    with django_assert_num_queries(7):
        response = api.get(org_url(org, "audits/"), {"page_size": 50})
    results = response.json()["results"]
    assert len(results) == rows and results[0]["categories"] == ["security", "privacy"]


def test_retrieve_queries_do_not_grow_with_scope(api, org, make_audit, django_assert_num_queries):
    audit = make_audit(org, as_of=TYPE2_END, categories=("privacy", "availability"))
    systems = [SystemFactory(organization=org).pk for _ in range(5)]
    api.patch(org_url(org, f"audits/{audit.pk}/"), {"systems": systems})
    # session, user, membership + organization, audit (with framework),
    # scope categories (with category), scope systems (with system)
    with django_assert_num_queries(6):
        data = api.get(org_url(org, f"audits/{audit.pk}/")).json()
    assert len(data["systems"]) == 5 and len(data["categories"]) == 3
