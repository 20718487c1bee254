"""The readiness dashboard as a triage page (issue 15): next actions derived from the engine,
criteria grouped by status and filtered, short facts with the full reasons behind "Why", the
Type 2 coverage detail loaded on demand (its own URL: tenant-scoped, auditors kept out), the
audits list with each audit's readiness; query counts constant and the page size bounded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.charts import exception_rows
from controls.models import ReadinessSnapshot
from controls.readiness import audit_readiness
from controls.readiness_actions import next_actions
from reports.access import auditor_access_grant
from soc2app.todo import Urgency
from tenants.models import Role
from tests.factories import ControlFactory, bulk_evidence, control_map, evidence_row
from tests.isolation import assert_foreign_object_404

pytestmark = pytest.mark.django_db
D = dt.date
LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
WINDOW = (D(2025, 1, 1), D(2025, 12, 31))  # ended: every period has ended


def url(name: str, org, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def contributor(org, make_member):
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def type1(org, make_audit):
    return make_audit(org, as_of=timezone.localdate() + dt.timedelta(days=60))


@pytest.fixture
def type2(org, make_audit):
    return make_audit(org, window=WINDOW, categories=("availability",))


def _triage_data(org, manager, contributor):
    """One control of each kind of next action, and one that needs nothing."""
    today = timezone.localdate()
    late = control_map(
        ControlFactory(
            organization=org,
            code="LATE-1",
            owner=manager,
            status="not_started",
            due_date=today - dt.timedelta(days=3),
        ),
        "CC6.1",
    )
    bare = control_map(ControlFactory(organization=org, code="BARE-1", owner=contributor), "CC6.2")
    done = control_map(ControlFactory(organization=org, code="DONE-1", owner=manager), "CC6.3")
    evidence_row(done, today - dt.timedelta(days=10), valid_until=today + dt.timedelta(days=365))
    return late, bare, done


# --- next actions ------------------------------------------------------------------------------


def test_next_actions_say_what_where_who_and_when(org, manager, contributor, type1, client_for):
    late, bare, done = _triage_data(org, manager, contributor)
    today = timezone.localdate()
    actions = next_actions(audit_readiness(type1), slug=org.slug, today=today)
    first = actions[0]
    # Past its due date: overdue, first, linked to the control, with its owner and date.
    assert first.title == f"Implement LATE-1 {late.title}"
    assert first.urgency == Urgency.OVERDUE and first.due == late.due_date
    assert first.url == url("control_detail", org, pk=late.pk)
    assert first.owner == manager.user.email and first.criteria == ("CC6.1",)
    evidence = next(a for a in actions if a.kind == "evidence.add")
    assert evidence.title == f"Add evidence for BARE-1 {bare.title}"
    assert evidence.url == url("evidence_add", org, control_pk=bare.pk)
    assert evidence.owner == contributor.user.email
    assert evidence.due == type1.as_of_date  # the evidence must be valid on the as-of date
    assert evidence.detail.startswith("No evidence valid on")
    # A criterion without a control: choose one in the library, nobody owns it yet.
    unmapped = next(a for a in actions if a.criteria == ("CC1.1",))
    assert unmapped.url == url("library", org) + "?criterion=CC1.1" and unmapped.owner == ""
    assert not any("DONE-1" in a.title for a in actions)

    body = client_for(manager).get(url("audit_detail", org, pk=type1.pk)).content.decode()
    lead = body[body.index('id="next-actions"') : body.index('id="criteria"')]
    assert f'href="{first.url}"' in lead and f"Implement LATE-1 {late.title}" in lead
    assert contributor.user.email in lead and "Overdue" in lead
    assert f"due {late.due_date:%-d %b %Y}" in lead


def test_next_actions_are_capped_with_a_link_to_everything_missing(org, manager, type1, client_for):
    for i in range(14):
        control_map(ControlFactory(organization=org, code=f"TODO-{i:02d}", owner=manager), "CC6.1")
    response = client_for(manager).get(url("audit_detail", org, pk=type1.pk))
    body = response.content.decode()
    lead = body[body.index('id="next-actions"') : body.index('id="criteria"')]
    assert lead.count('class="todo-item"') == 10
    total = len(next_actions(audit_readiness(type1), slug=org.slug, today=timezone.localdate()))
    assert f"And {total - 10} more: everything that is missing" in lead
    assert 'href="?show=open#criteria"' in lead


def test_a_failed_sample_item_without_a_response_asks_for_one(org, manager, make_audit):
    from tests.factories import failed_sample_rows

    audit = make_audit(org, window=WINDOW)
    control = control_map(
        ControlFactory(
            organization=org,
            code="OK-1",
            owner=manager,
            created_at=LONG_AGO,
            operation="automatic",  # one year-long report covers every quarter
        ),
        "CC6.1",
    )
    evidence_row(control, D(2025, 1, 1), D(2025, 12, 31))
    failed_sample_rows(audit, [control], D(2025, 5, 10), per_control=1)
    actions = next_actions(audit_readiness(audit), slug=org.slug, today=timezone.localdate())
    respond = next(a for a in actions if a.kind == "exception.respond")
    assert respond.url.startswith(url("deviation_create", org, pk=control.pk) + "?period_start=")
    assert "1 failed in sample testing" in respond.detail


# --- criteria: groups, facts, filters ----------------------------------------------------------


def test_criteria_are_grouped_by_status_with_met_collapsed(
    org, manager, contributor, type1, client_for
):
    _triage_data(org, manager, contributor)
    response = client_for(manager).get(url("audit_detail", org, pk=type1.pk))
    groups = {g.status: [r.criterion.ref for r in g.rows] for g in response.context["groups"]}
    assert list(groups) == ["gap", "partial", "met"]
    assert "CC6.1" in groups["gap"] and groups["partial"] == ["CC6.2"] and "CC6.3" in groups["met"]
    body = response.content.decode()
    assert '<details class="criteria-group" id="group-met">' in body
    assert '<div class="criteria-group" id="group-gap">' in body
    # Short labelled facts; the engine's sentences stay behind "Why".
    row = body[body.index('id="criterion-CC6.3"') :]
    row = row[: row.index("</li>")]
    assert "Controls 1 · implemented 1 · evidence current 1 of 1" in row
    assert "<summary>Why</summary>" in row and "Met by DONE-1 (implemented" in row


def test_filters_by_category_owner_and_what_is_missing(
    org, manager, contributor, make_audit, client_for
):
    audit = make_audit(
        org, as_of=timezone.localdate() + dt.timedelta(days=60), categories=("availability",)
    )
    _triage_data(org, manager, contributor)
    control_map(ControlFactory(organization=org, code="AV-1", owner=contributor), "A1.1")
    client = client_for(manager)
    page = url("audit_detail", org, pk=audit.pk)

    def shown(**params) -> set[str]:
        response = client.get(page, params)
        assert response.status_code == 200
        return {r.criterion.ref for g in response.context["groups"] for r in g.rows}

    everything = shown()
    assert {"CC6.1", "CC6.3", "A1.1"} <= everything
    availability = shown(category="availability")
    assert "A1.1" in availability and not any(ref.startswith("CC") for ref in availability)
    assert shown(owner=contributor.user.email) == {"CC6.2", "A1.1"}
    assert "CC6.3" not in shown(show="open") and "CC6.1" in shown(show="open")
    assert "CC1.1" in shown(owner="-")  # "No owner": nothing mapped, nobody owns it
    # Values nobody can choose are ignored, never an error page.
    assert shown(category="nope", owner="someone@else.example", show="x") == everything
    # The actions follow the filter.
    response = client.get(page, {"owner": contributor.user.email})
    assert {a.owner for a in response.context["actions"]} == {contributor.user.email}
    body = response.content.decode()
    assert ">Any category</option>" in body and ">Any owner</option>" in body


# --- Type 2 coverage on demand -----------------------------------------------------------------


@pytest.fixture
def weekly(org, manager, type2):
    control = control_map(
        ControlFactory(
            organization=org, code="WK-1", frequency="weekly", owner=manager, created_at=LONG_AGO
        ),
        "CC7.2",
    )
    evidence_row(control, D(2025, 1, 3))
    return control


def test_coverage_rows_are_compact_and_the_periods_load_from_their_own_url(
    org, manager, type2, weekly, client_for
):
    client = client_for(manager)
    body = client.get(url("audit_detail", org, pk=type2.pk)).content.decode()
    coverage = body[body.index('id="coverage"') : body.index('id="exceptions"')]
    assert 'class="period ' not in coverage  # no grid on the page itself
    assert f'data-control="{weekly.pk}"' in coverage and "1 / 53 covered" in coverage
    assert "52 exceptions" in coverage  # weeks of the window without evidence
    fragment = url("audit_coverage", org, pk=type2.pk, control_pk=weekly.pk)
    template = url("audit_coverage", org, pk=type2.pk, control_pk=0)  # app.js puts the pk in
    assert f'data-coverage-url="{template}"' in coverage
    response = client.get(fragment)
    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text  # a fragment, not a page
    assert text.count('class="period ') == 53
    assert "Record a deviation" in text
    assert "1 of 53 covered" in text


def test_coverage_detail_is_scoped_like_the_dashboard(
    org, other_org, manager, outsider, make_member, type2, weekly, client_for, make_audit
):
    from controls.audits import audit_save

    client = client_for(manager)
    # Another organization's audit or control under our slug: 404, like a missing one.
    foreign_audit = audit_save(
        membership=outsider,
        name="Theirs",
        audit_type="type2",
        window_start=D(2025, 1, 1),
        window_end=D(2025, 12, 31),
    )
    foreign_control = control_map(ControlFactory(organization=other_org, code="X-1"), "CC7.2")
    assert_foreign_object_404(
        client,
        url("audit_coverage", org, pk=foreign_audit.pk, control_pk=weekly.pk),
        methods=("get",),
    )
    assert_foreign_object_404(
        client,
        url("audit_coverage", org, pk=type2.pk, control_pk=foreign_control.pk),
        methods=("get",),
    )
    # An outsider under our slug is not a member: no page at all.
    assert (
        client_for(outsider)
        .get(url("audit_coverage", org, pk=type2.pk, control_pk=weekly.pk))
        .status_code
        == 404
    )
    # Not in scope, not applicable, or a Type 1 audit: nothing to show.
    unmapped = ControlFactory(organization=org, code="UNMAPPED")
    na = control_map(
        ControlFactory(
            organization=org, code="NA-1", status="not_applicable", na_justification="No."
        ),
        "CC7.2",
    )
    type1 = make_audit(org, as_of=D(2025, 6, 30))
    for audit, control in ((type2, unmapped), (type2, na), (type1, weekly)):
        page = url("audit_coverage", org, pk=audit.pk, control_pk=control.pk)
        assert client.get(page).status_code == 404
    huge = url("audit_coverage", org, pk=type2.pk, control_pk=10**20)  # past any id column
    assert client.get(huge).status_code == 404
    # Contributors read the dashboard, so its detail too, without the managers' links.
    contributor = client_for(make_member(org, Role.CONTRIBUTOR))
    page = url("audit_coverage", org, pk=type2.pk, control_pk=weekly.pk)
    response = contributor.get(page)
    assert response.status_code == 200 and "Record a deviation" not in response.content.decode()
    # Auditors read in the portal only, even for an audit they were invited to.
    auditor = make_member(org, Role.AUDITOR)
    auditor_access_grant(membership=manager, auditor=auditor, audit=type2)
    auditor_client = client_for(auditor)
    assert auditor_client.get(url("audit_detail", org, pk=type2.pk)).status_code == 302
    response = auditor_client.get(page)
    assert response.status_code == 302 and "/portal/" in response["Location"]


# --- audits list -------------------------------------------------------------------------------


def test_audits_list_shows_each_audits_latest_readiness_in_one_query(
    org, manager, make_audit, client_for
):
    client = client_for(manager)
    page = url("audit_list", org)
    client.get(page)
    counts = []
    for n in (1, 6):
        while _audits(org) < n:
            audit = make_audit(org, as_of=D(2026, 6, 30))
            for day, score in ((2, "40.0"), (1, "55.5")):
                ReadinessSnapshot.objects.create(
                    organization=org,
                    audit=audit,
                    taken_on=timezone.localdate() - dt.timedelta(days=day),
                    score=score,
                    met=1,
                    partial=1,
                    gap=1,
                )
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(page)
        counts.append(len(ctx))
    assert counts[0] == counts[1], [q["sql"][:80] for q in ctx.captured_queries]
    body = response.content.decode()
    assert body.count("<strong>55.5%</strong>") == 6 and "40.0%" not in body
    fresh = make_audit(org, as_of=D(2026, 6, 30))
    body = client.get(page).content.decode()
    assert f'href="{url("audit_detail", org, pk=fresh.pk)}">Not measured yet</a>' in body


def _audits(org) -> int:
    from controls.models import Audit

    return Audit.objects.for_org(org).count()


# --- performance: constant queries, bounded size -----------------------------------------------


def _grow(org, owner, n: int, start: int) -> list:
    """``n`` weekly and daily controls (three criteria each) with evidence in every other
    week of the window: dozens of missing periods each, the exceptions a dashboard used to
    list one by one."""
    refs = ["CC6.1", "CC6.2", "CC6.3", "CC7.1", "CC7.2", "CC8.1", "A1.1", "A1.2"]
    controls = []
    for i in range(start, start + n):
        control = ControlFactory(
            organization=org,
            code=f"G-{i:03d}",
            frequency="weekly" if i % 2 else "daily",
            operation="manual",
            owner=owner,
            created_at=LONG_AGO,
            status="implemented" if i % 4 else "in_progress",
        )
        control_map(control, *(refs[(i + k) % len(refs)] for k in range(3)))
        controls.append(control)
    # Every other week: 26 versions over the window, each fifth awaiting review.
    bulk_evidence(org, controls, 26, WINDOW[0] + dt.timedelta(days=2), every_days=14)
    return controls


# Queries of the dashboard: session, user, membership, org switcher memberships, the audit;
# the engine's eight (scope categories, criteria, mappings with controls and owners,
# frequency rules, evidence, deviations, failed sample items, self-assessment answers);
# scope keys and systems; snapshots for "what changed"; open requests; auditor access and
# its memberships.
DASHBOARD_TYPE2_QUERIES = 19


def test_type2_dashboard_queries_are_constant_and_its_size_bounded(org, manager, type2, client_for):
    client = client_for(manager)
    page = url("audit_detail", org, pk=type2.pk)
    client.get(page)
    sizes, counts = {}, []
    grown = 0
    for n in (10, 60):
        _grow(org, manager, n - grown, grown)
        grown = n
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(page)
        assert response.status_code == 200
        counts.append(len(ctx))
        sizes[n] = len(response.content)
    assert counts == [DASHBOARD_TYPE2_QUERIES] * 2, [q["sql"][:80] for q in ctx.captured_queries]
    readiness = response.context["readiness"]
    assert len(readiness.exceptions) > 60 * 26  # every missing week and day is an exception
    rows = exception_rows(readiness)  # runs of missing days are one row each
    body = response.content.decode()
    listed = body[body.index('id="exceptions"') :]
    assert listed.count("Record a deviation</a>") == 50
    assert f"And {len(rows) - 50} more: open a control" in listed
    # One compact row per control, the rest on demand: a weekly control's 52 squares and its
    # 26 exception rows alone were more than 10 KB per control on the old page.
    per_control = (sizes[60] - sizes[10]) / 50
    assert per_control < 1500, per_control
    assert sizes[60] < 150_000, sizes[60]


def test_coverage_detail_queries_do_not_grow_with_the_periods(org, manager, type2, client_for):
    client = client_for(manager)
    small, large = _grow(org, manager, 2, 0)  # a daily and a weekly control
    counts = []
    for control in (small, large):
        page = url("audit_coverage", org, pk=type2.pk, control_pk=control.pk)
        client.get(page)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
