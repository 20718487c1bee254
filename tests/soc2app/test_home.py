"""The home page is a to-do list per role (soc2app.home, soc2app.todo and the providers the
apps register): each role sees the items the demo data gives it, another organization's
items never, and the page costs the same number of queries at two data sizes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from controls.history import readiness_snapshots_take_all
from controls.home import sparkline
from controls.models import Audit, Control, ReadinessSnapshot
from evidence.models import EvidenceVersion, Freshness, ReviewState
from reports.models import InfoRequest, RequestStatus
from soc2app.todo import providers, todo_for
from tenants.models import Membership, Organization, Role
from tests.factories import ControlFactory, MembershipFactory, evidence_row

pytestmark = pytest.mark.django_db


def _member(org: Organization, role: str) -> Membership:
    return (
        Membership.objects.for_org(org)
        .filter(role=role)
        .select_related("user", "organization")
        .get()
    )


@pytest.fixture
def demo(catalog) -> Organization:
    call_command("seed_demo", "--org", "acme")
    readiness_snapshots_take_all()
    return Organization.objects.get(slug="acme")


def _home(client_for, membership):
    response = client_for(membership).get(reverse("org_home", args=[membership.organization.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_apps_register_their_providers():
    assert {"controls", "evidence", "reports", "monitoring"} <= set(providers())


def test_contributor_sees_their_controls_and_evidence(demo, client_for):
    contributor = _member(demo, Role.CONTRIBUTOR)
    html = _home(client_for, contributor)
    today = timezone.localdate()
    mine = Control.objects.for_org(demo).filter(owner=contributor).exclude(status="not_applicable")
    assert mine.exists()
    # "My controls": every control they own, no one else's.
    for control in mine:
        assert reverse("control_detail", args=[demo.slug, control.pk]) in html
    others = Control.objects.for_org(demo).exclude(owner=contributor)
    for control in others:
        assert f'/controls/{control.pk}/"' not in html
    # Controls with no evidence at all need evidence (one click: the add page).
    bare = [
        c
        for c in mine.exclude(status="not_started")
        if not EvidenceVersion.objects.for_org(demo).filter(item__control=c)
    ]
    assert bare
    for control in bare:
        assert f"Add evidence for {control.code} {control.title}" in html
        assert reverse("evidence_add", args=[demo.slug, control.pk]) in html
    # Controls whose evidence no longer counts today: stale, listed before the "to do" items.
    stale = [
        c
        for c in mine
        if EvidenceVersion.objects.for_org(demo).filter(item__control=c).exists()
        and not EvidenceVersion.objects.for_org(demo)
        .filter(item__control=c, is_latest=True, valid_until__gte=today)
        .exclude(review_state=ReviewState.REJECTED)
        .exists()
    ]
    for control in stale:
        assert f"Upload current evidence for {control.code} {control.title}" in html
    # Unfinished controls past their due date come first.
    late = mine.filter(due_date__lt=today, status__in=["not_started", "in_progress"])
    assert late
    for control in late:
        assert f"Implement {control.code} {control.title}" in html
    assert html.index("Implement ") < html.index("Add evidence for")
    # A contributor neither reviews evidence nor runs the program.
    assert "pieces of evidence" not in html
    assert "Overdue work by owner" not in html


def test_manager_sees_reviews_requests_and_the_program(demo, client_for):
    manager = _member(demo, Role.COMPLIANCE_MANAGER)
    html = _home(client_for, manager)
    # Evidence the contributor uploaded awaits the manager's review.
    waiting = (
        EvidenceVersion.objects.for_org(demo)
        .filter(is_latest=True, review_state=ReviewState.PENDING)
        .exclude(uploaded_by=manager.user)
        .count()
    )
    assert waiting
    assert re.search(rf"Review {waiting} pieces? of evidence", html)
    # Every open request for information, linked to where it is answered.
    open_requests = InfoRequest.objects.for_org(demo).filter(status=RequestStatus.OPEN)
    assert open_requests.exists()
    for req in open_requests:
        assert f"Answer PBC-{req.number}: {req.title}" in html
        assert reverse("request_detail", args=[demo.slug, req.audit_id, req.pk]) in html
    # The program: each audit, its readiness from today's snapshot, its journey.
    for audit in Audit.objects.for_org(demo):
        snap = ReadinessSnapshot.objects.for_org(demo).get(audit=audit)
        assert audit.name in html
        assert f"{snap.score:.0f}%" in html
        assert reverse("audit_step", args=[demo.slug, audit.pk, "firm"]) in html
        # The journey checklist: the demo did steps 1-4 (its self-assessment too, also when
        # seeded as the row-level-security role), step 5 (the CPA firm) is next.
        for done in ("basics", "scope", "assessment", "controls"):
            link = reverse("audit_step", args=[demo.slug, audit.pk, done])
            assert f'<li class="done"><a href="{link}">' in html, done
        link = reverse("audit_step", args=[demo.slug, audit.pk, "firm"])
        assert f'<li class="next"><a href="{link}">' in html
    assert 'class="sparkline"' in html
    assert "Overdue work by owner" in html
    assert "My controls" not in html


def test_owner_reviews_the_managers_own_uploads(demo, client_for):
    owner = _member(demo, Role.OWNER)
    manager = _member(demo, Role.COMPLIANCE_MANAGER)
    html = _home(client_for, owner)
    managers_pending = (
        EvidenceVersion.objects.for_org(demo)
        .filter(is_latest=True, review_state=ReviewState.PENDING, uploaded_by=manager.user)
        .count()
    )
    everyone_pending = (
        EvidenceVersion.objects.for_org(demo)
        .filter(is_latest=True, review_state=ReviewState.PENDING)
        .count()
    )
    assert managers_pending
    assert re.search(rf"Review {everyone_pending} pieces? of evidence", html)


def test_auditor_is_sent_to_the_portal(demo, client_for):
    auditor = _member(demo, Role.AUDITOR)
    response = client_for(auditor).get(reverse("org_home", args=[demo.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_home", args=[demo.slug])


def test_another_organizations_items_never_appear(org, other_org, make_member, client_for):
    """The same person belongs to both organizations and has work in the other one."""
    here = make_member(org, Role.CONTRIBUTOR)
    there = MembershipFactory(organization=other_org, user=here.user, role=Role.COMPLIANCE_MANAGER)
    today = timezone.localdate()
    foreign = ControlFactory(
        organization=other_org,
        owner=there,
        code="FOREIGN-1",
        due_date=today - dt.timedelta(days=3),
        status="in_progress",
    )
    evidence_row(foreign, today - dt.timedelta(days=200), valid_until=today - dt.timedelta(days=1))
    EvidenceVersion.objects.for_org(other_org).update(freshness=Freshness.STALE)
    html = _home(client_for, here)
    assert "FOREIGN-1" not in html
    assert todo_for(here) == []
    assert any("FOREIGN-1" in item.title for item in todo_for(there))
    assert "Nothing waits for you" in html


def _grow(org: Organization, owner: Membership, n: int, framework) -> None:
    """``n`` controls of ``owner`` (past due, due soon, some with evidence awaiting review)
    and, per 10 controls, an audit with a week of readiness snapshots."""
    today = timezone.localdate()
    for i in range(n):
        control = ControlFactory(
            organization=org,
            owner=owner,
            status="in_progress" if i % 2 else "implemented",
            due_date=today - dt.timedelta(days=i % 5),
        )
        if i % 3:
            evidence_row(control, today - dt.timedelta(days=30), state="pending")
    for i in range(max(n // 10, 1)):
        audit = Audit.objects.create(
            organization=org,
            name=f"Audit {owner.pk}-{n}-{i}",
            audit_type="type1",
            framework=framework,
            as_of_date=today + dt.timedelta(days=30),
        )
        for day in range(8):
            ReadinessSnapshot.objects.create(
                organization=org,
                audit=audit,
                taken_on=today - dt.timedelta(days=day),
                score=50 + day,
                met=1,
                partial=1,
                gap=1,
            )


# Queries of one home page, by role: session, user, membership (with organization), the
# context processor's org switcher (memberships) and the user of ``membership.user`` = 5;
# then the providers: controls due (1), controls' evidence state (1), rejected evidence (1),
# requests for information (1), open findings of failing tests (1); a contributor adds "my controls" (1); a manager adds evidence awaiting review (1), the open audits
# with their journey flags (1), their snapshots (1), overdue controls and late evidence by
# owner (2), the member count (1) and recent activity (1). Policies add the member's roster
# person (1), versions awaiting their approval (1) and their policies due for review (1);
# a member linked to a person adds their assigned policies, versions and acceptances (3).
# Training adds the member's roster person (1) and, for managers, the requirements (1; their
# assignments, people and completions once there are some: constant too). The roster adds,
# for managers, the count of leavers past retention (1). Checklists add the member's open
# items due soon (1, every role: contributors own items as managers do). Vendors add, for
# managers, their vendors' to-do items and the organization's vendor rules (2); risks, for managers, the risks they own with an
# expired acceptance or an overdue review (1), the latest risk assessment (1) and, never run,
# whether the register holds a risk (1).
HOME_QUERIES = {Role.COMPLIANCE_MANAGER: 29, Role.CONTRIBUTOR: 16}


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR])
def test_query_count_does_not_grow_with_data(role, org, make_member, client_for, catalog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = make_member(org, role)
    other = make_member(org, Role.CONTRIBUTOR)
    client = client_for(member)
    url = reverse("org_home", args=[org.slug])
    client.get(url)  # the first request of a session also loads what it caches
    counts = []
    for size in (3, 30):
        _grow(org, member, size, catalog)
        _grow(org, other, size, catalog)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(ctx))
    assert counts == [HOME_QUERIES[role]] * 2, [q["sql"][:90] for q in ctx.captured_queries]


@pytest.mark.parametrize("role", [Role.COMPLIANCE_MANAGER, Role.CONTRIBUTOR])
def test_page_size_does_not_grow_with_the_members_controls(
    role, org, make_member, client_for, catalog
):
    """Every list on the home is capped (to-do items, "my controls", activity): owning 60
    or 120 controls makes the same page, and the rest is one click away."""
    member = make_member(org, role)
    client = client_for(member)
    today = timezone.localdate()
    sizes = []
    for batch in range(2):
        for i in range(60):
            control = ControlFactory(
                organization=org,
                owner=member,
                # Codes of the first batch sort first (lists are by code, then capped): not the
                # factory's sequence, which depends on the tests run before in this process.
                code=f"H-{batch}-{i:03d}",
                status="in_progress" if i % 2 else "implemented",
                due_date=today - dt.timedelta(days=1 + i % 5),
            )
            if i % 3:
                evidence_row(control, today - dt.timedelta(days=30), state="pending")
        body = _home(client_for, member)
        # Counts, dates and the CSRF token aside, the same page.
        sizes.append(re.sub(r"\d+", "0", re.sub(r'value="[^"]{40,}"', "", body)))
    assert sizes[0] == sizes[1]
    if role == Role.CONTRIBUTOR:
        mine = reverse("control_list", args=[org.slug]) + f"?owner={member.pk}"
        assert f'href="{mine}">And 70 more: all your controls</a>' in body
    assert client.get(reverse("org_home", args=[org.slug])).status_code == 200


def test_sparkline_scales_scores_into_the_box():
    from decimal import Decimal

    assert sparkline([]) == ""
    assert sparkline([Decimal(100), Decimal(0)]) == "0.0,2.0 120.0,30.0"
    assert sparkline([Decimal(50)]) == "0.0,16.0 120.0,16.0"
    # A small change still shows: the height spans at least ten points around the series.
    assert sparkline([Decimal(80), Decimal(82)]) == "0.0,18.8 120.0,13.2"


def test_outsider_gets_404(org, manager, outsider, client_for):
    response = client_for(outsider).get(reverse("org_home", args=[org.slug]))
    assert response.status_code == 404


def test_empty_states_say_what_to_do_next(org, make_member, client_for, catalog):
    manager = make_member(org, Role.COMPLIANCE_MANAGER)
    html = _home(client_for, manager)
    assert "Nothing waits for you yet. Start with step 1 below: plan your first audit." in html
    assert reverse("audit_create", args=[org.slug]) in html
    contributor = make_member(org, Role.CONTRIBUTOR)
    html = _home(client_for, contributor)
    assert "When a compliance manager makes you the owner of a control" in html
    assert "You own no controls yet." in html


def test_contributor_sees_requests_about_their_controls_only(org, make_member, client_for, catalog):
    contributor = make_member(org, Role.CONTRIBUTOR)
    manager = make_member(org, Role.COMPLIANCE_MANAGER)
    today = timezone.localdate()
    audit = Audit.objects.create(
        organization=org, name="Y1", audit_type="type1", framework=catalog, as_of_date=today
    )
    theirs = ControlFactory(organization=org, owner=contributor, code="MINE-1")
    other = ControlFactory(organization=org, owner=manager, code="OTHER-1")
    for number, control, due in ((1, theirs, -2), (2, other, 3), (3, None, 30)):
        InfoRequest.objects.create(
            organization=org,
            audit=audit,
            number=number,
            control=control,
            title=f"Population {number}",
            due_date=today + dt.timedelta(days=due),
            raised_by_label="auditor",
        )
    mine = [i for i in todo_for(contributor) if i.kind.startswith("request.")]
    assert [(i.title, i.kind) for i in mine] == [
        ("Answer PBC-1: Population 1 (MINE-1)", "request.overdue")
    ]
    managers = [i.title for i in todo_for(manager) if i.kind.startswith("request.")]
    assert managers == [
        "Answer PBC-1: Population 1 (MINE-1)",
        "Answer PBC-2: Population 2 (OTHER-1)",
        "Answer PBC-3: Population 3",
    ]
