"""The risk assessment as an event (issue 18): running it freezes the register (rows, summary,
CSV whose stored bytes hash to the recorded SHA-256), leaves the snapshot unchanged when the
register is edited afterwards, writes one accepted system-generated version on exactly the
controls mapped to CC3.1-CC3.4, effective on its day and current until the next is due (so
readiness counts CC3.2 met), puts an overdue assessment on the managers' to-do, refuses a
future date, a date before the latest, and every role but the managers', and takes the same
number of queries for 5 risks as for 50."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.models import Audit, AuditCategory, AuditType
from controls.readiness import audit_readiness
from criteria.models import Category
from evidence.models import EvidenceKind, EvidenceVersion, ReviewState
from risks import services
from risks.assessment import REVIEWER, SOURCE_KEY, assessment_run
from risks.models import RiskAssessment
from risks.todo import risk_todos
from soc2app.errors import NotPermitted, ValidationFailed
from tenants.models import ActivityEntry
from tests.factories import ControlFactory, control_map

pytestmark = pytest.mark.django_db


@pytest.fixture
def cc3(org, other_org):
    """Three controls on CC3.x (one on two of them), one elsewhere, one in another org."""
    mapped = [
        control_map(ControlFactory(organization=org, code="RISK-01"), "CC3.1", "CC3.2"),
        control_map(ControlFactory(organization=org, code="RISK-04"), "CC3.3"),
        control_map(ControlFactory(organization=org, code="RISK-05"), "CC3.4"),
    ]
    control_map(ControlFactory(organization=org, code="AC-01"), "CC6.1")
    control_map(ControlFactory(organization=other_org, code="RISK-01"), "CC3.2")
    return mapped


@pytest.fixture
def register(org, manager, add, control):
    today = timezone.localdate()
    first = add(
        "Ransomware on the file servers",
        inherent_likelihood=4,
        inherent_impact=5,
        residual_likelihood=2,
        residual_impact=4,
        treatment="mitigate",
        controls=[control.pk],
        owner=manager.pk,
        today=today,
    )
    second = add(
        "Office break-in",
        inherent_likelihood=2,
        inherent_impact=2,
        treatment="accept",
        accepted_reason="Small office, nothing stored there.",
        accepted_until=today + dt.timedelta(days=90),
        today=today,
    )
    return [first, second]


def test_the_run_freezes_the_register_and_the_snapshot_stays(org, manager, register, control):
    done = assessment_run(membership=manager, notes="With the leadership team.")
    assert done.performed_on == timezone.localdate()
    assert done.next_due == done.performed_on + dt.timedelta(days=365)
    assert done.risk_count == 2 and done.status == "rendering"
    top = done.rows[0]
    assert top["title"] == "Ransomware on the file servers"
    assert (top["inherent_score"], top["inherent_level"]) == (20, "critical")
    assert (top["residual_score"], top["residual_level"]) == (8, "medium")
    assert top["controls"] == ["IAM-03"] and top["owner"] == manager.user.email
    accepted = done.rows[1]
    assert accepted["treatment"] == "accept" and accepted["accepted_by"] == manager.user.email
    assert accepted["accepted_reason"] == "Small office, nothing stored there."
    assert done.summary["residual"] == {"low": 1, "medium": 1, "high": 0, "critical": 0}
    assert done.summary["inherent"]["critical"] == 1
    assert done.summary["treatment"]["accept"] == 1 and done.summary["treatment"]["mitigate"] == 1
    assert done.summary["acceptances_expired"] == 0 and done.summary["reviews_overdue"] == 0
    frozen = list(done.rows)

    # The register changes afterwards: the assessment does not.
    services.risk_update(
        membership=manager, risk=register[0], title="Renamed", residual_likelihood=1
    )
    services.risk_delete(membership=manager, risk=register[1])
    again = RiskAssessment.objects.for_org(org).get(pk=done.pk)
    assert again.rows == frozen and again.risk_count == 2
    entry = ActivityEntry.objects.for_org(org).filter(object_type="risks.riskassessment").get()
    assert entry.action == "create" and entry.changes["risks"] == [None, 2]


def test_the_csv_stored_hashes_to_the_recorded_sha(org, manager, register):
    done = assessment_run(membership=manager)
    with default_storage.open(done.csv_file, "rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == done.csv_sha256
    assert len(content) == done.csv_size
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Risk,Category,Owner,Systems,Inherent likelihood")
    assert "Ransomware on the file servers" in text and "IAM-03" in text
    assert done.csv_file.startswith(f"risks/{org.pk}/assessments/")


def test_evidence_on_exactly_the_cc3_controls_accepted_effective_on_the_day(
    org, other_org, manager, register, cc3
):
    day = timezone.localdate() - dt.timedelta(days=3)
    done = assessment_run(membership=manager, performed_on=day)
    versions = list(
        EvidenceVersion.objects.for_org(org).select_related("item__control").order_by("pk")
    )
    assert sorted(v.item.control.code for v in versions) == ["RISK-01", "RISK-04", "RISK-05"]
    for version in versions:
        assert version.kind == EvidenceKind.SYSTEM
        assert version.review_state == ReviewState.ACCEPTED
        assert version.reviewed_by_label == REVIEWER
        assert version.item.system_key == SOURCE_KEY
        assert (version.effective_start, version.effective_end) == (day, day)
        assert version.valid_until >= done.next_due
        assert version.sha256 == done.csv_sha256 and version.size == done.csv_size
        assert version.file.name == done.csv_file
        assert version.data["assessment"] == done.pk and version.data["risk_count"] == 2
    assert not EvidenceVersion.objects.for_org(other_org).exists()
    # The next assessment adds a version to the same items.
    assessment_run(membership=manager)
    assert EvidenceVersion.objects.for_org(org).count() == 6
    assert EvidenceVersion.objects.for_org(org).filter(is_latest=True).count() == 3


def test_no_cc3_control_writes_no_evidence(org, manager, register):
    assessment_run(membership=manager)
    assert not EvidenceVersion.objects.for_org(org).exists()


def _type1(org, catalog, as_of: dt.date) -> Audit:
    audit = Audit(
        organization=org,
        framework=catalog,
        name="Type 1",
        audit_type=AuditType.TYPE1,
        as_of_date=as_of,
        status="readiness",
    )
    audit.save()
    for category in Category.objects.filter(framework=catalog, always_in_scope=True):
        AuditCategory(organization=org, audit=audit, category=category).save()
    return audit


def _status(audit: Audit, ref: str, today: dt.date) -> str:
    readiness = audit_readiness(audit, today=today)
    return next(c.status for c in readiness.criteria if c.criterion.ref == ref)


def test_readiness_counts_cc32_met_once_assessed(org, manager, register, catalog):
    control = control_map(ControlFactory(organization=org, code="RISK-02"), "CC3.2")
    assert control.status == "implemented"
    today = timezone.localdate()
    audit = _type1(org, catalog, today)
    assert _status(audit, "CC3.2", today) != "met"
    assessment_run(membership=manager)
    assert _status(audit, "CC3.2", today) == "met"
    # Long after the next due date (and the expiring window) it no longer counts.
    later = today + dt.timedelta(days=500)
    Audit.objects.for_org(org).filter(pk=audit.pk).update(as_of_date=later)
    audit.refresh_from_db()
    assert _status(audit, "CC3.2", later) != "met"


def test_overdue_assessment_is_on_the_managers_todo(org, manager, register, contributor):
    today = timezone.localdate()
    never = [i for i in risk_todos(manager, today) if i.kind == "risk.assessment_overdue"]
    assert len(never) == 1 and "never been run" in never[0].detail
    done = assessment_run(membership=manager)
    assert not [i for i in risk_todos(manager, today) if i.kind == "risk.assessment_overdue"]
    after = done.next_due + dt.timedelta(days=1)
    items = [i for i in risk_todos(manager, after) if i.kind == "risk.assessment_overdue"]
    assert len(items) == 1 and items[0].due == done.next_due and items[0].is_overdue
    assert risk_todos(contributor, after) == []


def test_refusals_store_nothing(org, manager, register, contributor, auditor, owner):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed, match="future"):
        assessment_run(membership=manager, performed_on=today + dt.timedelta(days=1))
    assessment_run(membership=manager, performed_on=today - dt.timedelta(days=10))
    with pytest.raises(ValidationFailed, match="on or after it"):
        assessment_run(membership=manager, performed_on=today - dt.timedelta(days=11))
    with pytest.raises(ValidationFailed, match="notes"):
        assessment_run(membership=manager, notes="x" * 5001)
    for who in (contributor, auditor):
        with pytest.raises(NotPermitted):
            assessment_run(membership=who)
    assert RiskAssessment.objects.for_org(org).count() == 1
    # The same day as the latest is fine; so is an owner.
    assessment_run(membership=owner, performed_on=today - dt.timedelta(days=10))
    assert RiskAssessment.objects.for_org(org).count() == 2
    stored = default_storage.listdir(f"risks/{org.pk}/assessments")[1]
    assert len(stored) == 2  # the refused runs left no CSV behind


def _queries(manager, add, control, system, first: int, n: int) -> int:
    for i in range(first, n):
        add(
            f"Risk {i}",
            treatment="mitigate",
            controls=[control.pk],
            systems=[system.pk],
            today=timezone.localdate(),
        )
    with CaptureQueriesContext(connection) as captured:
        assessment_run(membership=manager)
    return len(captured)


def test_the_run_takes_the_same_queries_for_5_and_50_risks(org, manager, add, control, cc3):
    from tests.factories import SystemFactory

    system = SystemFactory(organization=org)
    assessment_run(membership=manager)  # the first creates the matrix and evidence items
    small = _queries(manager, add, control, system, 0, 5)
    large = _queries(manager, add, control, system, 5, 50)
    assert small == large, (small, large)
    assert large <= 27
