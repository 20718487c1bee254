"""The controls pages: list with filters and bulk actions, create, adopt, edit, delete."""

from __future__ import annotations

import pytest
from django.urls import reverse

from controls.models import Control, ControlCriterion, ControlStatus
from tenants.models import ActivityEntry, Role
from tests.factories import ControlFactory, control_map, evidence_row
from tests.isolation import assert_foreign_object_404

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_empty_list_points_to_the_library(org, manager, client_for, catalog):
    response = client_for(manager).get(url("control_list", org))
    assert response.status_code == 200
    assert b"No controls yet" in response.content
    assert b"Browse the control library" in response.content


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(
    rows, org, manager, client_for, catalog, django_assert_num_queries
):
    for _ in range(rows):
        control_map(ControlFactory(organization=org, owner=manager), "CC6.1", "CC6.2")
    client = client_for(manager)
    client.get(url("control_list", org))  # the first request also saves the session
    # session, user, membership with its organization (middleware), the organization
    # switcher's memberships, owner choices, the page's count, the controls (with owner and
    # user), their mappings (with criteria)
    with django_assert_num_queries(8):
        response = client.get(url("control_list", org))
    assert response.status_code == 200
    assert response.content.count(b'name="controls"') == min(rows, 25)


def test_filters_status_owner_criterion_and_text(org, manager, make_member, client_for, catalog):
    other = make_member(org, Role.CONTRIBUTOR)
    a = control_map(
        ControlFactory(organization=org, code="AC-1", title="Access reviews", owner=other), "CC6.2"
    )
    b = ControlFactory(
        organization=org, code="BK-1", title="Backups", status=ControlStatus.IN_PROGRESS
    )
    client = client_for(manager)

    def codes(**params) -> set[str]:
        response = client.get(url("control_list", org), params)
        return {c.code for c in response.context["page"].object_list}

    assert codes(status="in_progress") == {b.code}
    assert codes(owner=str(other.pk)) == {a.code}
    assert codes(owner="none") == {b.code}
    assert codes(criterion="cc6.2") == {a.code}
    assert codes(q="backup") == {b.code}
    # An invalid filter lists nothing (and says why beside the field) rather than everything.
    response = client.get(url("control_list", org), {"status": "bogus"})
    assert list(response.context["page"].object_list) == []
    assert b"Select a valid choice" in response.content


def test_manager_creates_a_mapped_control(org, manager, client_for, catalog):
    response = client_for(manager).post(
        url("control_create", org),
        {
            "code": "hr-01",
            "title": "Background checks",
            "control_type": "procedural",
            "frequency": "on_event",
            "status": "not_started",
            "owner": str(manager.pk),
            "criteria": "CC1.4, cc1.1",
        },
    )
    control = Control.objects.for_org(org).get(code="HR-01")
    assert response.status_code == 302
    assert response["Location"] == url("control_detail", org, pk=control.pk)
    refs = set(
        ControlCriterion.objects.for_org(org)
        .filter(control=control)
        .values_list("criterion__ref", flat=True)
    )
    assert refs == {"CC1.1", "CC1.4"}
    assert (
        ActivityEntry.objects.for_org(org)
        .filter(action="create", object_id=str(control.pk))
        .exists()
    )


def test_create_shows_service_errors_beside_the_field(org, manager, client_for, catalog):
    ControlFactory(organization=org, code="HR-01")
    client = client_for(manager)
    data = {
        "code": "HR-01",
        "title": "x",
        "control_type": "policy",
        "frequency": "annual",
        "status": "not_started",
    }
    response = client.post(url("control_create", org), data)
    assert response.status_code == 400
    assert "Another control already uses the code HR-01." in response.content.decode()
    response = client.post(
        url("control_create", org), {**data, "code": "HR-02", "criteria": "CC99.9"}
    )
    assert response.status_code == 400
    assert "CC99.9 is not in the catalog" in response.content.decode()
    response = client.post(
        url("control_create", org), {**data, "code": "HR-02", "status": "not_applicable"}
    )
    assert "Explain why the control does not apply" in response.content.decode()
    assert not Control.objects.for_org(org).filter(code="HR-02").exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_only_managers_create_adopt_bulk_and_delete(role, org, make_member, client_for, catalog):
    member = make_member(org, role)
    control = ControlFactory(organization=org, owner=member)
    client = client_for(member)
    # Auditors are sent to the auditor portal from any other page (and refused any POST).
    expected = 302 if role == Role.AUDITOR else 403
    assert client.get(url("control_create", org)).status_code == expected
    assert client.post(url("control_create", org), {"code": "X-1"}).status_code == 403
    assert client.post(url("control_adopt", org), {"templates": ["AC-01"]}).status_code == 403
    assert (
        client.post(
            url("control_bulk", org), {"controls": [control.pk], "status": "implemented"}
        ).status_code
        == 403
    )
    assert client.post(url("control_delete", org, pk=control.pk)).status_code == 403
    assert Control.objects.for_org(org).count() == 1


def test_adopt_from_library_twice_creates_nothing_twice(org, manager, client_for, catalog):
    from controls.models import ControlTemplate

    codes = list(ControlTemplate.objects.order_by("position").values_list("code", flat=True)[:3])
    client = client_for(manager)
    response = client.post(
        url("control_adopt", org), {"templates": codes, "owner": str(manager.pk)}, follow=True
    )
    assert "3 controls adopted." in response.content.decode()
    response = client.post(url("control_adopt", org), {"templates": codes}, follow=True)
    assert "Already adopted, left as they are" in response.content.decode()
    assert Control.objects.for_org(org).count() == 3
    assert set(Control.objects.for_org(org).values_list("owner_id", flat=True)) == {manager.pk}


def test_adopt_with_nothing_selected_says_so(org, manager, client_for, catalog):
    response = client_for(manager).post(url("control_adopt", org), {}, follow=True)
    assert "Select at least one control to adopt." in response.content.decode()


def test_library_shows_adopted_templates(org, manager, client_for, catalog):
    from controls.models import ControlTemplate

    template = ControlTemplate.objects.order_by("position").first()
    ControlFactory(organization=org, code=template.code)
    response = client_for(manager).get(url("library", org))
    assert f'value="{template.code}"'.encode() not in response.content
    assert b'title="Adopted"' in response.content


def test_bulk_sets_owner_and_status_and_ignores_foreign_ids(
    org, other_org, manager, make_member, client_for, catalog
):
    owner = make_member(org, Role.CONTRIBUTOR)
    mine = [ControlFactory(organization=org, status="not_started") for _ in range(3)]
    foreign = ControlFactory(organization=other_org, status="not_started")
    response = client_for(manager).post(
        url("control_bulk", org),
        {
            "controls": [c.pk for c in mine[:2]] + [foreign.pk],
            "owner": str(owner.pk),
            "status": "in_progress",
            "next": "status=not_started",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?status=not_started")
    changed = Control.objects.for_org(org).filter(owner=owner, status="in_progress")
    assert set(changed.values_list("pk", flat=True)) == {mine[0].pk, mine[1].pk}
    foreign.refresh_from_db()
    assert foreign.status == "not_started" and foreign.owner_id is None


def test_bulk_refuses_not_applicable(org, manager, client_for, catalog):
    control = ControlFactory(organization=org)
    response = client_for(manager).post(
        url("control_bulk", org),
        {"controls": [control.pk], "status": "not_applicable"},
        follow=True,
    )
    assert b"Select a valid choice" in response.content
    control.refresh_from_db()
    assert control.status == "implemented"


def test_contributor_edits_status_of_own_control_only(org, make_member, client_for, catalog):
    contributor = make_member(org, Role.CONTRIBUTOR)
    own = ControlFactory(organization=org, owner=contributor, status="not_started")
    other = ControlFactory(organization=org, status="not_started")
    client = client_for(contributor)
    page = client.get(url("control_edit", org, pk=own.pk))
    assert page.status_code == 200 and b'name="code"' not in page.content
    response = client.post(
        url("control_edit", org, pk=own.pk), {"status": "implemented", "description": "Done"}
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.status == "implemented"
    assert (
        client.post(url("control_edit", org, pk=other.pk), {"status": "implemented"}).status_code
        == 403
    )


def test_manager_edit_changes_mapping(org, manager, client_for, catalog):
    control = control_map(ControlFactory(organization=org, owner=manager), "CC6.1")
    data = {
        "code": control.code,
        "title": control.title,
        "control_type": "technical",
        "frequency": "monthly",
        "status": "implemented",
        "owner": str(manager.pk),
        "criteria": "CC6.6 CC6.7",
    }
    response = client_for(manager).post(url("control_edit", org, pk=control.pk), data)
    assert response.status_code == 302
    refs = set(
        ControlCriterion.objects.for_org(org)
        .filter(control=control)
        .values_list("criterion__ref", flat=True)
    )
    assert refs == {"CC6.6", "CC6.7"}


def test_manager_sets_how_a_control_operates(org, manager, client_for, catalog):
    control = ControlFactory(organization=org, owner=manager, control_type="procedural")
    data = {
        "code": control.code,
        "title": control.title,
        "control_type": "procedural",
        "frequency": "daily",
        "status": "implemented",
        "owner": str(manager.pk),
    }
    client = client_for(manager)
    page = client.get(url("control_edit", org, pk=control.pk)).content.decode()
    assert "How it operates" in page
    client.post(url("control_edit", org, pk=control.pk), {**data, "operation": "automatic"})
    control.refresh_from_db()
    assert control.operation == "automatic"
    assert (
        "Automatic (a system does it and reports)"
        in client.get(url("control_detail", org, pk=control.pk)).content.decode()
    )
    # Blank: the default for its type again (technical: automatic, procedural: manual).
    client.post(url("control_edit", org, pk=control.pk), {**data, "operation": ""})
    control.refresh_from_db()
    assert control.operation == "manual"


def test_delete_refused_when_evidence_exists(org, manager, client_for, catalog):
    import datetime as dt

    kept = ControlFactory(organization=org)
    evidence_row(kept, dt.date(2026, 1, 5))
    gone = ControlFactory(organization=org)
    client = client_for(manager)
    response = client.post(url("control_delete", org, pk=kept.pk), follow=True)
    assert "has evidence and cannot be deleted" in response.content.decode()
    assert client.post(url("control_delete", org, pk=gone.pk)).status_code == 302
    assert set(Control.objects.for_org(org).values_list("pk", flat=True)) == {kept.pk}


def test_foreign_controls_are_404(org, other_org, manager, client_for, catalog):
    foreign = ControlFactory(organization=other_org)
    client = client_for(manager)
    for name in ("control_detail", "control_edit", "control_delete"):
        assert_foreign_object_404(
            client,
            url(name, org, pk=foreign.pk),
            methods=("post",) if name == "control_delete" else ("get", "post"),
        )


def test_huge_and_foreign_ids_are_plain_404s(org, manager, client_for, catalog):
    client = client_for(manager)
    for path in (
        f"/o/{org.slug}/controls/99999999999999999999999/",
        f"/o/{org.slug}/audits/9223372036854775808/",
        f"/o/{org.slug}/systems/99999999999999999999/",
    ):
        assert client.get(path).status_code == 404
