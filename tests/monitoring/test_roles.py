"""Who sees and does what in monitoring, end to end (pages, API, home): compliance managers see
every result; a contributor sees only the tests and findings of the controls they own; auditors
only through the portal; only owners and admins manage connections (compliance managers see
and run them)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import Check, Finding
from tenants.models import Role
from tests.api.conftest import org_url
from tests.monitoring.conftest import push

pytestmark = pytest.mark.django_db

# role -> (check of their control, check of nobody's, connections page, monitoring overview)
PAGES = {
    "owner": (200, 200, 200, 200),
    "admin": (200, 200, 200, 200),
    "compliance_manager": (200, 200, 200, 200),  # integrations: to run them, not change them
    "contributor": (200, 404, 403, 200),  # the fixture's contributor owns the control
    "other_contributor": (404, 404, 403, 200),
    "auditor": (302, 302, 302, 302),  # sent to the portal
}


@pytest.fixture
def people(org, contributor, make_member):
    found = {"contributor": contributor, "other_contributor": make_member(org, Role.CONTRIBUTOR)}
    for role in ("owner", "admin", "compliance_manager", "auditor"):
        found[role] = make_member(org, role)
    return found


@pytest.fixture
def checks(org, manager, connection, control):
    push(manager, connection, ("a", "fail"), key="mapped")
    push(manager, connection, ("b", "fail"), key="nobody", criteria=())
    return Check.objects.for_org(org).get(key="mapped"), Check.objects.for_org(org).get(
        key="nobody"
    )


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.mark.parametrize("who", list(PAGES))
def test_pages_by_role(who, org, people, checks, connection, client_for):
    mapped, nobody = checks
    client = client_for(people[who])
    got = (
        client.get(_url("monitoring_check", org, pk=mapped.pk)).status_code,
        client.get(_url("monitoring_check", org, pk=nobody.pk)).status_code,
        client.get(_url("monitoring_connections", org)).status_code,
        client.get(_url("monitoring", org)).status_code,
    )
    assert got == PAGES[who]
    toggle = client.post(_url("monitoring_connection_toggle", org, pk=connection.pk))
    assert toggle.status_code == (302 if who in ("owner", "admin") else 403)
    connection.refresh_from_db()
    assert connection.enabled is (who not in ("owner", "admin"))


@pytest.mark.parametrize(
    ("who", "keys"),
    [
        ("owner", {"mapped", "nobody"}),
        ("compliance_manager", {"mapped", "nobody"}),
        ("contributor", {"mapped"}),
        ("other_contributor", set()),
    ],
)
def test_api_by_role(who, keys, org, people, checks, api_for):
    client = api_for(people[who])
    listed = client.get(org_url(org, "monitoring/checks/")).json()["results"]
    assert {c["key"] for c in listed} == keys
    findings = client.get(org_url(org, "monitoring/findings/")).json()["results"]
    assert {f["check_key"] for f in findings} == keys
    hidden = Finding.objects.for_org(org).get(resource_id="b")
    expected = 200 if "nobody" in keys else 404
    assert client.get(org_url(org, f"monitoring/findings/{hidden.pk}/")).status_code == expected
    connections = client.get(org_url(org, "monitoring/connections/")).status_code
    assert connections == (200 if who == "owner" else 403)


def test_auditors_are_kept_out_of_the_api(org, people, checks, api_for):
    client = api_for(people["auditor"])
    for path in ("monitoring/checks/", "monitoring/findings/", "monitoring/connections/"):
        assert client.get(org_url(org, path)).status_code == 403


def test_home_lists_only_the_members_own_findings(org, people, checks, client_for):
    mine = client_for(people["contributor"]).get(_url("org_home", org)).content.decode()
    assert "Fix the failing test" in mine
    theirs = client_for(people["other_contributor"]).get(_url("org_home", org)).content.decode()
    assert "Fix the failing test" not in theirs
