"""seed_demo fills the demo organization with controls, evidence and two audits, once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from controls.models import Audit, Control, Deviation, System
from controls.readiness import audit_readiness
from evidence.models import EvidenceVersion
from monitoring.models import Check, CheckRun, Finding, FindingState
from people.models import Person
from policies.acceptance import covered_people
from policies.models import Acceptance, PolicyVersion
from tenants.models import Organization

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # seed_demo in each test


def _counts(org):
    return (
        System.objects.for_org(org).count(),
        Control.objects.for_org(org).count(),
        EvidenceVersion.objects.for_org(org).count(),
        Audit.objects.for_org(org).count(),
    )


def test_seed_demo_is_realistic_and_idempotent(catalog, capsys):
    call_command("seed_demo", "--org", "demo-co")
    org = Organization.objects.get(slug="demo-co")
    first = _counts(org)
    systems, controls, versions, audits = first
    assert systems == 1 and controls > 40 and versions > 100 and audits == 2
    call_command("seed_demo", "--org", "demo-co")
    assert _counts(org) == first
    for audit in Audit.objects.for_org(org):
        readiness = audit_readiness(audit)
        # A demo with something to do: mostly ready, with partial criteria left.
        assert readiness.counts["met"] > 0 and readiness.counts["partial"] > 0
    assert "manager@demo-co.example.com" in capsys.readouterr().out
    # One exception of the Type 2 audit carries a recorded deviation (the management response).
    type2 = Audit.objects.for_org(org).get(audit_type="type2")
    responded = [e for e in audit_readiness(type2).exceptions if e.deviation is not None]
    assert len(responded) == 1 and responded[0].deviation.remediation
    assert Deviation.objects.for_org(org).count() == 1
    # Five vendors, one of them (a critical vendor's SOC 2 report) stale; once, however often.
    from vendors.selectors import vendor_rows

    rows = vendor_rows(org, timezone.localdate())
    assert len(rows) == 5 and [r.status for r in rows].count("stale") == 1
    # Its two reviews are evidence on the CC9.2 controls (seeded before the audits' answers).
    reviews = EvidenceVersion.objects.for_org(org).filter(
        item__system_key__startswith="vendor-review:"
    )
    assert reviews.values("item__system_key").distinct().count() == 2


@pytest.mark.django_db(transaction=True)
def test_seed_demo_writes_the_self_assessment_under_row_level_security(catalog):
    """Each statement its own transaction, as in production: seeding outside the
    organization's scope read the audits' scope as nothing under the application role (RLS),
    and the demo audits came without a self-assessment."""
    from controls.models import SelfAssessmentAnswer
    from tenants.context import org_scope

    call_command("seed_demo", "--org", "demo-rls")
    org = Organization.objects.get(slug="demo-rls")
    with org_scope(org):
        assert SelfAssessmentAnswer.objects.for_org(org).count() > 40  # every criterion in scope


def test_the_demo_tells_one_consistent_story(catalog):
    """Controls that operate were adopted before the window, the self-assessment agrees with
    the engine, a few controls (not most) have gone stale, each control keeps one evidence item
    with a version per period, and the Type 1 index lists only what was valid on its date."""
    from controls.models import ControlStatus, SelfAssessmentAnswer
    from evidence.models import EvidenceItem
    from evidence.todo import late_evidence_by_owner
    from reports.content import report_content

    call_command("seed_demo", "--org", "story")
    org = Organization.objects.get(slug="story")
    type2 = Audit.objects.for_org(org).get(audit_type="type2")
    type1 = Audit.objects.for_org(org).get(audit_type="type1")
    implemented = Control.objects.for_org(org).filter(status=ControlStatus.IMPLEMENTED)
    assert implemented.exists()
    assert all(c.created_at.date() < type2.window_start for c in implemented)

    expected = {"met": "in_place", "partial": "partly", "gap": "not_in_place"}
    for audit in (type1, type2):
        answers = {
            a.criterion_id: a.answer
            for a in SelfAssessmentAnswer.objects.for_org(org).filter(audit=audit)
        }
        rows = audit_readiness(audit).criteria
        assert len(answers) == len(rows)
        for row in rows:
            assert answers[row.criterion.pk] == expected[row.status], row.criterion.ref

    late = sum(late_evidence_by_owner(org.pk, timezone.localdate()).values())
    assert 0 < late <= implemented.count() // 4
    # One item per control with evidence, beside the automated tests' (monitoring's runs) and
    # the files attached to the demo's checklist items ("Offboarding: Accounts revoked") and the
    # system-generated ones (a control may have only the risk assessment's: RISK-04).
    items = (
        EvidenceItem.objects.for_org(org)
        .filter(system_key="")
        .exclude(title__startswith="Onboarding: ")
        .exclude(title__startswith="Offboarding: ")
    )
    assert items.count() == implemented.filter(evidence_items__system_key="").distinct().count()
    assert EvidenceVersion.objects.for_org(org).count() > 3 * items.count()

    # Today's snapshot exists: the audits list shows each audit's score from the start.
    from controls.models import ReadinessSnapshot

    assert ReadinessSnapshot.objects.for_org(org).filter(taken_on=timezone.localdate()).count() == 2

    index = report_content(type1).evidence
    assert index
    for row in index:
        assert row.effective_start <= type1.as_of_date <= row.valid_until


def test_seed_demo_has_two_weeks_of_automated_tests_with_one_failing(catalog):
    call_command("seed_demo", "--org", "demo-co")
    org = Organization.objects.get(slug="demo-co")
    runs = CheckRun.objects.for_org(org)
    assert runs.count() == 15 and {r.source for r in runs} == {"push"}
    failing = Check.objects.for_org(org).filter(failing=True)
    assert [c.key for c in failing] == ["s3-bucket-encryption"]
    finding = Finding.objects.for_org(org).get(state=FindingState.OPEN)
    assert finding.resource_id == "arn:aws:s3:::acme-exports" and finding.owner_id is not None
    call_command("seed_demo", "--org", "demo-co")
    assert CheckRun.objects.for_org(org).count() == 15


def test_seed_demo_has_two_approved_policies_partly_accepted(catalog):
    call_command("seed_demo", "--org", "demo-co")
    org = Organization.objects.get(slug="demo-co")
    approved = PolicyVersion.objects.for_org(org).filter(state="approved")
    assert approved.count() == 2
    for version in approved:
        covered = covered_people(version.policy).count()
        accepted = Acceptance.objects.for_org(org).filter(version=version).count()
        assert 0 < accepted < covered
        # Both are evidence of the policy's controls: the approval and the acceptance rate.
        policy = version.policy
        for key in (f"policy:{policy.pk}", f"policy-acceptance:{policy.pk}"):
            recorded = EvidenceVersion.objects.for_org(org).filter(item__system_key=key)
            assert recorded.exists() and recorded.filter(review_state="accepted").count() == (
                recorded.count()
            )
        snapshot = EvidenceVersion.objects.for_org(org).filter(
            item__system_key=f"policy-acceptance:{policy.pk}"
        )[0]
        assert (snapshot.data["accepted"], snapshot.data["people_covered"]) == (accepted, covered)
    assert Person.objects.for_org(org).filter(end_date__isnull=False).count() == 1
