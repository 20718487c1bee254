"""Automated tests in the auditor portal (and its API): an auditor sees, read-only, the tests of
the controls in the scope of the audits granted to them, with the findings open during the
audit's period and the latest results up to its end; nothing of other audits or organizations,
nothing of a connection's credentials or settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring import services
from monitoring.models import Connection, Finding
from monitoring.services import CheckSpec, ResultSpec
from reports.services import auditor_access_grant
from tenants.activity import Actor
from tenants.models import Role
from tests.factories import ControlFactory, control_map
from tests.reports.conftest import make_audit  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SECRET = "ghp_SECRET-TOKEN-never-shown"


def _at(y, m, d):
    return dt.datetime(y, m, d, 12, tzinfo=UTC)


def ingest(org, connection, key, results, when, criteria=("CC6.1",), controls=()):
    spec = CheckSpec(
        key=key, title=f"Test {key}", severity="high", criteria=criteria, controls=controls
    )
    services.results_ingest(
        organization=org,
        connection=connection,
        batch=[(spec, [ResultSpec(resource=r, status=s, details={"seen": s}) for r, s in results])],
        source="push",
        actor=Actor.system("test"),
        now=when,
    )


class World:
    pass


@pytest.fixture
def world(org, owner, manager, make_member, make_audit, control, connection):  # noqa: F811
    """A Type 2 audit (window 2025) granted to an auditor, another audit not granted; a test of
    an in-scope control whose findings fall before, inside and after the window; a test of a
    control outside the scope."""
    w = World()
    w.org, w.control = org, control
    w.audit = make_audit(org, type2=True, name="FY25 Type 2")
    w.other_audit = make_audit(org, name="Not granted")
    w.auditor = make_member(org, Role.AUDITOR)
    auditor_access_grant(membership=owner, auditor=w.auditor, audit=w.audit)
    Connection.objects.for_org(org).filter(pk=connection.pk).update(
        credentials=SECRET, config={"api_url": "https://internal.example/api"}
    )
    ingest(org, connection, "s3", [("old", "fail")], _at(2024, 11, 1))
    ingest(org, connection, "s3", [("old", "pass"), ("a", "fail")], _at(2024, 12, 15))
    ingest(org, connection, "s3", [("a", "pass")], _at(2025, 4, 1))
    ingest(org, connection, "s3", [("a", "fail"), ("b", "pass")], _at(2025, 5, 1))  # regression
    ingest(org, connection, "s3", [("late", "fail"), ("a", "fail")], _at(2026, 2, 1))
    ControlFactory(organization=org, code="ZZ-99", title="Unmapped")
    ingest(org, connection, "hidden", [("x", "fail")], _at(2025, 3, 1), (), ("ZZ-99",))
    w.check = Finding.objects.for_org(org).get(resource_id="old").check_ref
    w.hidden = Finding.objects.for_org(org).get(resource_id="x").check_ref
    return w


def _url(name, w, **kwargs):
    return reverse(name, kwargs={"org_slug": w.org.slug, **kwargs})


def test_the_audit_lists_its_tests_with_the_findings_of_its_period(world, client_for):
    w = world
    client = client_for(w.auditor)
    page = client.get(_url("portal_audit", w, audit_pk=w.audit.pk)).content.decode()
    tests_url = _url("portal_tests", w, audit_pk=w.audit.pk)
    assert tests_url in page

    response = client.get(tests_url)
    assert response.status_code == 200
    rows = response.context["checks"]
    assert [c.key for c in rows] == ["s3"]  # "hidden" tests a control outside the scope
    (check,) = rows
    # "a" opened 15 Dec 2024 (open into the window), "a" again in May (a regression); "old"
    # closed before the window, "late" opened after it.
    assert (check.findings_in_period, check.regressions_in_period) == (2, 1)
    assert check.open_findings == 2  # now: "a" and "late"
    body = response.content.decode()
    assert "CI security tests" in body and "AC-01" in body
    assert SECRET not in body and "internal.example" not in body
    # The control's portal page links to its tests.
    page = client.get(_url("portal_control", w, audit_pk=w.audit.pk, pk=w.control.pk))
    assert _url("portal_test", w, audit_pk=w.audit.pk, pk=w.check.pk) in page.content.decode()


def test_a_test_shows_its_findings_in_the_period_and_results_up_to_its_end(world, client_for):
    w = world
    response = client_for(w.auditor).get(_url("portal_test", w, audit_pk=w.audit.pk, pk=w.check.pk))
    assert response.status_code == 200
    findings = response.context["findings"]
    assert sorted((f.resource_id, f.regression) for f in findings) == [("a", False), ("a", True)]
    results = response.context["results"]
    # The run of 1 May 2025: the latest on or before 31 Dec 2025 (not the one of 2026).
    assert sorted((r.resource_id, r.status) for r in results) == [("a", "fail"), ("b", "pass")]
    body = response.content.decode()
    assert "Regression" in body and "1 Jan 2025 – 31 Dec 2025" in body
    assert SECRET not in body and "internal.example" not in body


def test_other_audits_scopes_and_organizations_are_not_found(
    world, client_for, other_org, make_member, outsider
):
    w = world
    client = client_for(w.auditor)
    for url in (
        _url("portal_tests", w, audit_pk=w.other_audit.pk),
        _url("portal_test", w, audit_pk=w.other_audit.pk, pk=w.check.pk),
        _url("portal_test", w, audit_pk=w.audit.pk, pk=w.hidden.pk),  # outside the scope
        _url("portal_test", w, audit_pk=w.audit.pk, pk=99999999),
        _url("portal_test", w, audit_pk=w.audit.pk, pk=2**63),
    ):
        assert client.get(url).status_code == 404, url
    # Someone of another organization, even an owner there, sees nothing of this one.
    other_client = client_for(outsider)
    assert other_client.get(_url("portal_tests", w, audit_pk=w.audit.pk)).status_code == 404
    auditor_there = make_member(other_org, Role.AUDITOR)
    there = reverse(
        "portal_test",
        kwargs={"org_slug": other_org.slug, "audit_pk": w.audit.pk, "pk": w.check.pk},
    )
    assert client_for(auditor_there).get(there).status_code == 404


def test_the_pages_are_read_only(world, client_for):
    w = world
    client = client_for(w.auditor)
    for url in (
        _url("portal_tests", w, audit_pk=w.audit.pk),
        _url("portal_test", w, audit_pk=w.audit.pk, pk=w.check.pk),
    ):
        assert client.post(url).status_code in (403, 405)
    # The members' monitoring pages stay closed to an auditor (sent to the portal).
    response = client.get(_url("monitoring_check", w, pk=w.check.pk))
    assert response.status_code == 302 and "/portal/" in response["Location"]


def test_portal_test_pages_queries_do_not_grow_with_rows(world, client_for, connection):
    w = world
    client = client_for(w.auditor)
    urls = [
        _url("portal_tests", w, audit_pk=w.audit.pk),
        _url("portal_test", w, audit_pk=w.audit.pk, pk=w.check.pk),
    ]
    for url in urls:
        client.get(url)
    small = []
    for url in urls:
        with CaptureQueriesContext(db_connection) as ctx:
            assert client.get(url).status_code == 200
        small.append(len(ctx))
    for i in range(5):
        ingest(w.org, connection, f"more-{i}", [(f"r{i}", "fail")], _at(2025, 6, 1))
        control_map(ControlFactory(organization=w.org, code=f"QC-{i}"), "CC6.1")
    ingest(w.org, connection, "s3", [(f"n{i}", "fail") for i in range(8)], _at(2025, 7, 1))
    large = []
    for url in urls:
        with CaptureQueriesContext(db_connection) as ctx:
            assert client.get(url).status_code == 200
        large.append(len(ctx))
    assert large == small
    assert len(client.get(urls[0]).context["checks"]) == 6


# --- the API -----------------------------------------------------------------------------------


def _api(w, tail=""):
    return f"/api/v1/orgs/{w.org.slug}/audits/{w.audit.pk}/monitoring/checks/{tail}"


def test_the_api_gives_auditors_the_same_read_only_view(world, api_for):
    w = world
    client = api_for(w.auditor)
    response = client.get(_api(w))
    assert response.status_code == 200, response.content
    (row,) = response.json()["results"]
    assert row["key"] == "s3" and row["findings_in_period"] == 2
    assert row["connection"] == {"name": "CI security tests", "kind": "custom"}
    detail = client.get(_api(w, f"{w.check.pk}/")).json()
    assert sorted(f["resource_id"] for f in detail["findings"]) == ["a", "a"]
    assert sorted(r["resource_id"] for r in detail["results"]) == ["a", "b"]
    assert SECRET not in response.content.decode() + str(detail)
    assert client.get(_api(w, f"{w.hidden.pk}/")).status_code == 404
    other = f"/api/v1/orgs/{w.org.slug}/audits/{w.other_audit.pk}/monitoring/checks/"
    assert client.get(other).status_code == 404
    assert client.post(_api(w), {}).status_code == 405
    # The rest of the API stays closed to auditors.
    assert client.get(f"/api/v1/orgs/{w.org.slug}/monitoring/checks/").status_code == 403


def test_the_api_follows_the_members_roles(world, api_for, make_member, outsider):
    w = world
    manager = make_member(w.org, Role.COMPLIANCE_MANAGER)
    assert len(api_for(manager).get(_api(w)).json()["results"]) == 1
    stranger = make_member(w.org, Role.CONTRIBUTOR)  # owns no control: sees no test
    assert api_for(stranger).get(_api(w)).json()["results"] == []
    assert api_for(stranger).get(_api(w, f"{w.check.pk}/")).status_code == 404
    assert api_for(outsider).get(_api(w)).status_code == 404
