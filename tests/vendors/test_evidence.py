"""Vendor reviews as evidence by themselves (issue 18): a review recorded writes, in its
transaction, one accepted system-generated version on each of the organization's controls
mapped to CC9.2 (and none elsewhere), with the review and the documents in force; nothing
when no control maps to CC9.2; constant queries whatever the number of documents; the
evidence page says what it is."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.periods import add_months
from evidence.models import EvidenceKind, EvidenceVersion, ReviewState
from tenants.models import ActivityEntry
from tests.factories import ControlFactory, control_map
from tests.vendors.conftest import add_doc, make_vendor, months_ago
from vendors import services
from vendors.evidence import REVIEW_REVIEWER
from vendors.models import VendorReview

pytestmark = pytest.mark.django_db


@pytest.fixture
def cc92(org, other_org):
    first = control_map(ControlFactory(organization=org, code="VM-01"), "CC9.2")
    second = control_map(ControlFactory(organization=org, code="VM-02"), "CC9.2", "CC9.1")
    control_map(ControlFactory(organization=org, code="AC-01"), "CC6.1")
    control_map(ControlFactory(organization=other_org, code="VM-01"), "CC9.2")
    return [first, second]


def review(manager, vendor, **values):
    values = {"reviewed_on": timezone.localdate(), "residual_risk": "low", "decision": "approve"}
    return services.review_record(membership=manager, vendor=vendor, **values)


def test_a_review_writes_one_accepted_version_on_each_cc92_control(org, manager, cc92, client_for):
    vendor = make_vendor(manager, "Cloudy Hosting", criticality="high")
    add_doc(manager, vendor, "soc2_report", period_end=months_ago(20))  # superseded
    report = add_doc(manager, vendor, "soc2_report", period_end=months_ago(2))
    dpa = add_doc(manager, vendor, "dpa")
    day = timezone.localdate() - dt.timedelta(days=3)
    done = services.review_record(
        membership=manager,
        vendor=vendor,
        reviewed_on=day,
        residual_risk="medium",
        decision="approve_with_conditions",
        notes="Encrypt the backups.",
    )
    versions = list(
        EvidenceVersion.objects.for_org(org)
        .select_related("item__control")
        .order_by("item__control__code")
    )
    assert [v.item.control for v in versions] == cc92  # not AC-01, not the other organization's
    for version in versions:
        assert version.item.title == "Vendor review: Cloudy Hosting"
        assert version.item.system_key == f"vendor-review:{vendor.pk}"
        assert (version.kind, version.review_state) == (EvidenceKind.SYSTEM, ReviewState.ACCEPTED)
        assert version.reviewed_by_label == REVIEW_REVIEWER
        assert version.effective_start == version.effective_end == day
        # Current until the next review (12 months for a high vendor), then "expiring".
        assert version.valid_until == done.next_review_date + dt.timedelta(
            days=settings.EVIDENCE_EXPIRING_DAYS
        )
    first = versions[0]
    assert first.data == {
        "source": "vendor-review",
        "vendor": {"id": vendor.pk, "name": "Cloudy Hosting"},
        "criticality": "high",
        "reviewed_on": day.isoformat(),
        "reviewed_by": done.reviewed_by_label,
        "decision": "approve_with_conditions",
        "decision_label": "Approve with conditions",
        "residual_risk": "medium",
        "next_review_date": done.next_review_date.isoformat(),
        "documents": [  # the documents in force (newest first), not the superseded report
            {
                "kind": "dpa",
                "kind_label": "Data processing agreement",
                "status": "current",
                "valid_until": None,
                "sha256": dpa.sha256,
            },
            {
                "kind": "soc2_report",
                "kind_label": "SOC 2 report",
                "status": "current",
                "valid_until": add_months(report.period_end, 12).isoformat(),
                "sha256": report.sha256,
            },
        ],
    }
    assert (
        ActivityEntry.objects.for_org(org)
        .filter(
            object_repr=f"Cloudy Hosting: review of {day.isoformat()}",
            object_type="evidence.evidenceversion",
        )
        .exists()
    )
    # The evidence page says what it is, readably.
    page = client_for(manager).get(reverse("evidence_item", args=[org.slug, first.item_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert (
        "Cloudy Hosting (High): <strong>Approve with conditions</strong>, residual risk medium"
        in html
    )
    assert "SOC 2 report: current" in html and report.sha256 in html
    # The next review adds a version to the same items.
    review(manager, vendor)
    numbers = EvidenceVersion.objects.for_org(org).values_list("item_id", "number")
    assert sorted(numbers) == sorted(
        [(v.item_id, 1) for v in versions] + [(v.item_id, 2) for v in versions]
    )


def test_no_control_mapped_to_cc92_records_nothing(org, manager, other_org):
    control_map(ControlFactory(organization=org, code="AC-01"), "CC6.1")
    control_map(ControlFactory(organization=other_org, code="VM-01"), "CC9.2")
    vendor = make_vendor(manager)
    review(manager, vendor)
    assert VendorReview.objects.for_org(org).count() == 1
    assert not EvidenceVersion.objects.for_org(org).exists()
    assert not EvidenceVersion.objects.for_org(other_org).exists()


def test_the_evidence_is_written_in_the_review_s_transaction(org, manager, cc92, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("evidence down")

    monkeypatch.setattr(services, "review_evidence_record", broken)
    vendor = make_vendor(manager)
    with pytest.raises(RuntimeError):
        review(manager, vendor)
    vendor.refresh_from_db()
    assert not VendorReview.objects.for_org(org).exists() and vendor.next_review_date is None


def test_the_queries_do_not_grow_with_the_number_of_documents(org, manager, cc92):
    def counted(vendor) -> int:
        with CaptureQueriesContext(connection) as ctx:
            review(manager, vendor)
        return len(ctx.captured_queries)

    few = make_vendor(manager, "Few")
    add_doc(manager, few, "dpa")
    many = make_vendor(manager, "Many")
    for months in range(2, 14):
        add_doc(manager, many, "soc2_report", period_end=months_ago(months))
        add_doc(manager, many, "questionnaire")
    add_doc(manager, many, "bridge_letter", period_end=months_ago(1))
    assert counted(many) == counted(few)
    assert EvidenceVersion.objects.for_org(org).count() == 4


def test_a_document_added_after_the_review_adds_a_version_with_the_current_documents(
    org, manager, cc92
):
    vendor = make_vendor(manager, "Cloudy Hosting", criticality="high")
    add_doc(manager, vendor, "soc2_report", period_end=months_ago(14))  # stale at the review
    assert not EvidenceVersion.objects.for_org(org).exists()  # never reviewed: nothing yet
    reviewed = services.review_record(
        membership=manager,
        vendor=vendor,
        reviewed_on=timezone.localdate() - dt.timedelta(days=10),
        residual_risk="medium",
        decision="approve_with_conditions",
        notes="Collect the new report.",
    )
    report = add_doc(manager, vendor, "soc2_report", period_end=months_ago(1))
    today = timezone.localdate()
    latest = list(
        EvidenceVersion.objects.for_org(org)
        .filter(is_latest=True)
        .select_related("item__control")
        .order_by("item__control__code")
    )
    assert [v.item.control for v in latest] == cc92 and {v.number for v in latest} == {2}
    for version in latest:
        assert version.review_state == ReviewState.ACCEPTED
        assert version.effective_end == today
        assert version.valid_until == reviewed.next_review_date + dt.timedelta(
            days=settings.EVIDENCE_EXPIRING_DAYS
        )
        assert version.data["documents_as_of"] == today.isoformat()
        assert version.data["decision"] == "approve_with_conditions"
        assert [(d["sha256"], d["status"]) for d in version.data["documents"]] == [
            (report.sha256, "current")
        ]
