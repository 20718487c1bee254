"""The monitoring pages: overview, a test's page, connections, the control's Tests section
and the owner's to-do items."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Check, Connection, Finding
from tenants.models import Role
from tests.factories import ControlFactory, SystemFactory
from tests.monitoring.conftest import push

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_overview_lists_failing_tests_first_by_severity(
    org, manager, connection, control, client_for
):
    push(manager, connection, ("a", "pass"), key="passing-high", title="Passing high")
    push(manager, connection, ("a", "fail"), key="failing-low", title="Failing low", severity="low")
    push(
        manager,
        connection,
        ("a", "fail"),
        key="failing-crit",
        title="Failing crit",
        severity="critical",
    )
    page = client_for(manager).get(url("monitoring", org)).content.decode()
    positions = [page.index(t) for t in ("Failing crit", "Failing low", "Passing high")]
    assert positions == sorted(positions)
    assert "Failing: 1 open" in page


def test_filters_by_severity_and_owner(
    org, manager, connection, control, contributor, client_for, make_member
):
    other = make_member(org, Role.CONTRIBUTOR)
    ControlFactory(organization=org, owner=other, code="CM-01")
    push(manager, connection, ("a", "fail"), key="mine", title="Mine test", severity="high")
    push(
        manager,
        connection,
        ("a", "fail"),
        key="theirs",
        title="Their test",
        severity="low",
        controls=["CM-01"],
        criteria=(),
    )
    client = client_for(manager)
    page = client.get(url("monitoring", org), {"severity": "low"}).content.decode()
    assert "Their test" in page and "Mine test" not in page
    page = client.get(url("monitoring", org), {"owner": contributor.pk}).content.decode()
    assert "Mine test" in page and "Their test" not in page
    page = client.get(url("monitoring", org)).content.decode()
    assert "Any severity" in page and "Any owner" in page
    assert client.get(url("monitoring", org), {"owner": "x"}).status_code == 200


def test_a_contributor_sees_only_their_controls_tests(
    org, manager, connection, control, contributor, client_for, make_member
):
    push(manager, connection, ("a", "fail"), key="mine", title="Mine test")
    push(manager, connection, ("a", "fail"), key="nobody", title="Unmapped test", criteria=())
    page = client_for(contributor).get(url("monitoring", org)).content.decode()
    assert "Mine test" in page and "Unmapped test" not in page
    unmapped = Check.objects.for_org(org).get(key="nobody")
    assert (
        client_for(contributor).get(url("monitoring_check", org, pk=unmapped.pk)).status_code == 404
    )


def test_overview_takes_constant_queries(org, manager, connection, control, client_for):
    client = client_for(manager)
    client.get(url("monitoring", org))

    def count() -> int:
        with CaptureQueriesContext(db_connection) as ctx:
            assert client.get(url("monitoring", org)).status_code == 200
        return len(ctx)

    push(manager, connection, ("a", "fail"))
    small = count()
    for i in range(30):
        push(manager, connection, (f"r{i}", "fail"), (f"s{i}", "pass"), key=f"k{i}", title=f"T{i}")
    assert count() == small


def test_check_page_shows_results_and_findings_with_regression(
    org, manager, connection, control, contributor, client_for
):
    push(manager, connection, ("bucket-a", "fail"))
    push(manager, connection, ("bucket-a", "pass"))
    push(manager, connection, ("bucket-a", "fail"))
    check = Check.objects.for_org(org).get()
    page = client_for(manager).get(url("monitoring_check", org, pk=check.pk)).content.decode()
    assert page.count('class="finding-row"') == 2
    assert "Regression" in page and contributor.user.email in page and "AC-01" in page


def test_control_page_shows_its_tests(
    org, manager, connection, control, contributor, client_for, make_member
):
    push(manager, connection, ("a", "fail"))
    page = client_for(contributor).get(url("control_detail", org, pk=control.pk)).content.decode()
    assert 'id="tests"' in page and "S3 buckets are encrypted" in page and "Failing: 1 open" in page
    other = make_member(org, Role.CONTRIBUTOR)
    page = client_for(other).get(url("control_detail", org, pk=control.pk)).content.decode()
    assert "S3 buckets are encrypted" not in page


def test_admin_connects_custom_tests(org, admin, client_for, manager):
    client = client_for(admin)
    system = SystemFactory(organization=org, name="Payments platform")
    assert "Payments platform" in client.get(url("monitoring_connection_add", org)).content.decode()
    response = client.post(
        url("monitoring_connection_add", org),
        {"kind": "custom", "name": "CI", "schedule": "daily", "systems": [system.pk]},
    )
    assert response.status_code == 302
    conn = Connection.objects.for_org(org).get()
    page = client.get(url("monitoring_connections", org)).content.decode()
    assert f"/monitoring/connections/{conn.pk}/results/" in page
    assert "Payments platform" in page
    assert "Payments platform" in page
    # An unknown kind and a duplicate name are a 400.
    assert (
        client.post(
            url("monitoring_connection_add", org),
            {"kind": "nope", "name": "A", "schedule": "daily"},
        ).status_code
        == 400
    )
    assert (
        client.post(
            url("monitoring_connection_add", org),
            {"kind": "custom", "name": "CI", "schedule": "daily"},
        ).status_code
        == 400
    )
    # Compliance managers see the integrations (to run them), not how to change them.
    listed = client_for(manager).get(url("monitoring_connections", org)).content.decode()
    assert "CI" in listed and "Add an integration" not in listed and "Remove" not in listed
    assert (
        client_for(manager)
        .post(
            url("monitoring_connection_add", org),
            {"kind": "custom", "name": "X", "schedule": "daily"},
        )
        .status_code
        == 403
    )


def test_owner_gets_a_todo_item_overdue_after_the_due_date(
    org, manager, connection, control, contributor, client_for
):
    push(manager, connection, ("a", "fail"))
    home = client_for(contributor).get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Fix the failing test S3 buckets are encrypted" in home
    Finding.objects.for_org(org).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    from monitoring.todo import monitoring_todos

    [item] = monitoring_todos(contributor, timezone.localdate())
    assert item.is_overdue and item.detail == "1 open finding"
    assert monitoring_todos(manager, timezone.localdate()) == []


@pytest.mark.parametrize(
    "name", ["monitoring", "monitoring_connections", "monitoring_connection_add"]
)
def test_outsiders_get_404(org, outsider, client_for, name):
    assert client_for(outsider).get(url(name, org)).status_code == 404


def test_another_organizations_check_is_not_found(
    org, manager, connection, control, outsider, client_for
):
    push(manager, connection, ("a", "fail"))
    check = Check.objects.for_org(org).get()
    own = url("monitoring_check", outsider.organization, pk=check.pk)
    assert client_for(outsider).get(own).status_code == 404
    page = client_for(outsider).get(url("monitoring", outsider.organization)).content.decode()
    assert "S3 buckets" not in page


def test_check_page_and_connections_take_constant_queries(
    org, manager, admin, connection, control, client_for
):
    push(manager, connection, ("a", "fail"))
    check = Check.objects.for_org(org).get()
    manager_client, admin_client = client_for(manager), client_for(admin)
    pages = [
        (manager_client, url("monitoring_check", org, pk=check.pk)),
        (admin_client, url("monitoring_connections", org)),
        (manager_client, url("control_detail", org, pk=control.pk)),
    ]

    def counts() -> list[int]:
        found = []
        for client, path in pages:
            client.get(path)  # the session's first request caches what it can
            with CaptureQueriesContext(db_connection) as ctx:
                assert client.get(path).status_code == 200
            found.append(len(ctx))
        return found

    small = counts()
    for i in range(20):
        push(manager, connection, (f"r{i}", "fail"), (f"s{i}", "pass"), ("a", "fail"))
    assert counts() == small


def test_admin_pauses_resumes_and_removes_a_connection(
    org, admin, manager, connection, control, client_for, outsider
):
    push(manager, connection, ("a", "fail"))
    client = client_for(admin)
    toggle = url("monitoring_connection_toggle", org, pk=connection.pk)
    assert client.post(toggle).status_code == 302
    connection.refresh_from_db()
    assert not connection.enabled
    assert "Resume" in client.get(url("monitoring_connections", org)).content.decode()
    client.post(toggle)
    connection.refresh_from_db()
    assert connection.enabled
    # Neither a compliance manager nor another organization's owner may touch it.
    delete = url("monitoring_connection_delete", org, pk=connection.pk)
    assert client_for(manager).post(delete).status_code == 403
    assert client_for(outsider).post(delete).status_code == 404
    foreign = url("monitoring_connection_delete", outsider.organization, pk=connection.pk)
    assert client_for(outsider).post(foreign).status_code == 404
    assert Finding.objects.for_org(org).count() == 1
    assert client.post(delete).status_code == 302
    assert not Connection.objects.for_org(org).exists()
    assert not Finding.objects.for_org(org).exists()
