"""The audit wizard, the readiness dashboard and the systems pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from controls.models import Audit, AuditCategory, AuditSystem, SelfAssessmentAnswer, System
from tenants.models import Role
from tests.factories import ControlFactory, SystemFactory, control_map, evidence_row
from tests.isolation import assert_foreign_object_404

pytestmark = pytest.mark.django_db


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def step(org, audit, name: str) -> str:
    return url("audit_step", org, pk=audit.pk, step=name)


@pytest.fixture
def type1(org, manager, catalog) -> Audit:
    from controls.audits import audit_save

    return audit_save(
        membership=manager,
        name="Type 1 2026",
        audit_type="type1",
        as_of_date=dt.date(2026, 6, 30),
    )


def test_empty_audit_list_invites_to_plan_one(org, manager, client_for, catalog):
    response = client_for(manager).get(url("audit_list", org))
    assert b"Plan your first audit" in response.content


def test_wizard_walks_the_readiness_journey(org, manager, client_for, catalog):
    system = SystemFactory(organization=org, name="Payments API")
    client = client_for(manager)
    # 1. type and dates
    response = client.post(
        url("audit_create", org),
        {
            "name": "FY27 Type 2",
            "audit_type": "type2",
            "window_start": "2026-01-01",
            "window_end": "2026-12-31",
        },
    )
    audit = Audit.objects.for_org(org).get(name="FY27 Type 2")
    assert response["Location"] == step(org, audit, "scope")
    # 2. categories and systems (Security always in)
    response = client.post(
        step(org, audit, "scope"), {"categories": ["availability"], "systems": [system.pk]}
    )
    assert response["Location"] == step(org, audit, "assessment")
    keys = set(
        AuditCategory.objects.for_org(org)
        .filter(audit=audit)
        .values_list("category__key", flat=True)
    )
    assert keys == {"security", "availability"}
    assert AuditSystem.objects.for_org(org).filter(audit=audit, system=system).exists()
    # 3. self-assessment: 33 common criteria + 3 availability
    page = client.get(step(org, audit, "assessment"))
    assert len(page.context["rows"]) == 36
    response = client.post(
        step(org, audit, "assessment"),
        {
            "answer-CC1.1": "in_place",
            "answer-A1.2": "not_in_place",
            "notes-A1.2": "No backups tested",
            "continue": "1",
        },
    )
    assert response["Location"] == step(org, audit, "controls")
    assert SelfAssessmentAnswer.objects.for_org(org).filter(audit=audit).count() == 2
    # 4. controls: suggestions from the library for the open criteria
    page = client.get(step(org, audit, "controls"))
    assert page.status_code == 200 and page.context["suggested"]
    code = page.context["suggested"][0].code
    response = client.post(url("control_adopt", org), {"templates": [code], "audit": audit.pk})
    assert response["Location"] == step(org, audit, "controls")
    # 5. the CPA firm
    response = client.post(
        step(org, audit, "firm"),
        {
            "cpa_firm": "Example & Partners LLP",
            "fieldwork_start": "2027-01-15",
            "fieldwork_end": "2027-02-15",
            "status": "readiness",
        },
    )
    assert response["Location"] == url("audit_detail", org, pk=audit.pk)
    audit.refresh_from_db()
    assert audit.cpa_firm == "Example & Partners LLP"
    # The scope survives the later steps.
    assert AuditCategory.objects.for_org(org).filter(audit=audit).count() == 2
    dashboard = client.get(url("audit_detail", org, pk=audit.pk))
    assert dashboard.status_code == 200
    assert b"Payments API" in dashboard.content and b"<svg" in dashboard.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"audit_type": "type1"}, "A Type 1 audit needs the date its design is assessed at."),
        (
            {"audit_type": "type2", "window_start": "2026-01-01", "window_end": "2026-02-01"},
            "auditors expect at least 3 months",
        ),
        (
            {"audit_type": "type2", "window_start": "2026-01-01", "window_end": "2027-01-05"},
            "at most 12 months",
        ),
        (
            {"audit_type": "type2", "window_start": "2026-05-01", "window_end": "2026-01-01"},
            "The window must end after it starts.",
        ),
        ({"audit_type": "type1", "as_of_date": "2026-02-30"}, "Enter a valid date."),
    ],
)
def test_bad_dates_get_a_clear_message(data, message, org, manager, client_for, catalog):
    response = client_for(manager).post(url("audit_create", org), {"name": "X", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Audit.objects.for_org(org).exists()


def test_assessment_refuses_na_without_notes_and_keeps_input(org, type1, manager, client_for):
    response = client_for(manager).post(
        step(org, type1, "assessment"),
        {"answer-CC1.1": "not_applicable", "answer-CC1.2": "in_place", "notes-CC1.2": "kept"},
    )
    assert response.status_code == 400
    assert "Explain why CC1.1 does not apply." in response.content.decode()
    assert "kept</textarea>" in response.content.decode()
    assert not SelfAssessmentAnswer.objects.for_org(org).filter(audit=type1).exists()


def test_unknown_step_is_404(org, type1, manager, client_for):
    assert client_for(manager).get(step(org, type1, "nope")).status_code == 404


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.CONTRIBUTOR])
def test_read_only_roles_see_but_cannot_change_audits(role, org, type1, make_member, client_for):
    client = client_for(make_member(org, role))
    # Auditors read in the auditor portal only: other pages send them there (GET) or 403.
    auditor = role == Role.AUDITOR
    assert client.get(url("audit_detail", org, pk=type1.pk)).status_code == (
        302 if auditor else 200
    )
    assert client.get(url("audit_create", org)).status_code == (302 if auditor else 403)
    for name in ("basics", "scope", "assessment", "firm"):
        page = client.get(step(org, type1, name))
        assert page.status_code == (302 if auditor else 200)
        assert b"Save" not in page.content
        assert client.post(step(org, type1, name), {"name": "Hacked"}).status_code == 403
    type1.refresh_from_db()
    assert type1.name == "Type 1 2026"


def test_dashboard_traces_each_status_to_controls(org, type1, manager, client_for):
    met = control_map(ControlFactory(organization=org, code="AC-01", owner=manager), "CC6.1")
    evidence_row(met, dt.date(2026, 5, 1), valid_until=dt.date(2026, 12, 31))
    control_map(ControlFactory(organization=org, code="AC-02", status="in_progress"), "CC6.2")
    response = client_for(manager).get(url("audit_detail", org, pk=type1.pk))
    rows = {r.criterion.ref: r for r in response.context["readiness"].criteria}
    assert rows["CC6.1"].status == "met"
    assert rows["CC6.2"].status == "gap"  # in progress with no evidence: not progress yet
    assert rows["CC1.1"].status == "gap"
    body = response.content.decode()
    assert "Met by AC-01" in body and "AC-02 is in progress" in body
    only_open = client_for(manager).get(url("audit_detail", org, pk=type1.pk), {"show": "open"})
    shown = {r.criterion.ref for g in only_open.context["groups"] for r in g.rows}
    assert "CC6.2" in shown and "CC6.1" not in shown


@pytest.mark.parametrize("controls", [2, 20])
def test_dashboard_query_count_is_constant(
    controls, org, type1, manager, client_for, django_assert_num_queries
):
    for i in range(controls):
        control = control_map(ControlFactory(organization=org, owner=manager), "CC6.1", "CC7.2")
        evidence_row(control, dt.date(2026, 5, 1 + i % 20))
    client = client_for(manager)
    client.get(url("audit_detail", org, pk=type1.pk))
    # session, user, membership, switcher memberships, the audit, scope categories, criteria,
    # mappings with controls and owners, evidence, frequency rules, answers, scope keys,
    # scope systems, snapshots for "what changed", auditor access and auditor memberships,
    # open requests for information
    with django_assert_num_queries(17):
        assert client.get(url("audit_detail", org, pk=type1.pk)).status_code == 200


def test_systems_create_edit_and_refusals(org, manager, make_member, client_for, catalog):
    client = client_for(manager)
    response = client.post(
        url("system_create", org),
        {"name": "Core platform", "components": "api\npostgres\n\nstripe", "owner": manager.pk},
    )
    assert response.status_code == 302
    system = System.objects.for_org(org).get(name="Core platform")
    assert system.components == ["api", "postgres", "stripe"]
    response = client.post(url("system_create", org), {"name": "Core platform"})
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    auditor = client_for(make_member(org, Role.AUDITOR))
    # Auditors are kept in the auditor portal: sent there on GET, refused on POST.
    assert auditor.get(url("system_list", org)).status_code == 302
    assert auditor.post(url("system_edit", org, pk=system.pk), {"name": "X"}).status_code == 403


def test_foreign_audits_and_systems_are_404(org, other_org, manager, outsider, client_for, catalog):
    from controls.audits import audit_save

    foreign = audit_save(
        membership=outsider, name="Theirs", audit_type="type1", as_of_date=dt.date(2026, 1, 1)
    )
    foreign_system = SystemFactory(organization=other_org)
    client = client_for(manager)
    assert_foreign_object_404(client, url("audit_detail", org, pk=foreign.pk), methods=("get",))
    for name in ("basics", "scope", "assessment", "controls", "firm"):
        assert_foreign_object_404(client, step(org, foreign, name))
    assert_foreign_object_404(client, url("system_edit", org, pk=foreign_system.pk))
    assert b"Theirs" not in client.get(url("audit_list", org)).content


def test_a_daily_controls_periods_show_as_runs_of_days(org, manager, client_for, make_audit):
    """Ninety days are a few bars (runs of days in one state), not ninety squares; weekly and
    longer periods stay squares."""
    from controls.charts import period_runs

    audit = make_audit(org, window=(dt.date(2024, 1, 1), dt.date(2024, 3, 31)))
    daily = control_map(
        ControlFactory(
            organization=org,
            code="LOG-1",
            frequency="daily",
            operation="automatic",  # monthly log reports cover each day of their month
            created_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        ),
        "CC7.2",
    )
    evidence_row(daily, dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    evidence_row(daily, dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    monthly = control_map(
        ControlFactory(organization=org, code="AC-1", frequency="monthly"), "CC6.1"
    )
    client = client_for(manager)
    assert monthly.code in client.get(url("audit_detail", org, pk=audit.pk)).content.decode()
    # The periods are the coverage detail each control's row loads when opened.
    coverage = url("audit_coverage", org, pk=audit.pk, control_pk=daily.pk)
    body = client.get(coverage).content.decode()
    assert body.count('class="run ') == 3  # January covered, February missing, March covered
    assert "01 Jan 2024 – 31 Jan 2024: 31 periods covered" in body
    assert "01 Feb 2024 – 29 Feb 2024: 29 periods missing" in body
    body = client.get(url("audit_coverage", org, pk=audit.pk, control_pk=monthly.pk)).content
    assert body.decode().count('class="period ') == 3  # the monthly control: one a month
    one = period_runs([{"label": "05 Mar 2024", "state": "missing"}])
    assert one == [{"state": "missing", "count": 1, "label": "05 Mar 2024"}]
