"""Vendor document freshness (SOC 2 reports with and without a bridge letter, DPAs,
questionnaires, certificates), review scheduling by criticality, the owner's to-do items, and
the list's status for every vendor in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.periods import add_months
from soc2app.errors import Conflict, NotPermitted, ValidationFailed
from soc2app.todo import todo_for
from tenants.activity import ActivityEntry
from tests.vendors.conftest import add_doc, make_vendor, months_ago
from vendors import selectors, services
from vendors.models import Vendor, VendorDocument, VendorReview
from vendors.rules import DEFAULT_RULES
from vendors.selectors import VendorFilter

pytestmark = pytest.mark.django_db


def status(org, vendor) -> str:
    return selectors.vendor_row(org, vendor, timezone.localdate()).status


def test_a_soc2_report_stale_13_months_after_its_period_unless_a_bridge_letter_covers(org, manager):
    vendor = make_vendor(manager, criticality="critical", owner=manager)
    assert status(org, vendor) == "missing_soc2"  # critical, nothing on file
    report = add_doc(manager, vendor, "soc2_report", period_end=months_ago(13))
    assert status(org, vendor) == "stale"
    today = timezone.localdate()
    (row,) = selectors.documents_of(org, vendor, today)
    assert row.document == report and row.status == "stale"
    assert row.valid_until == add_months(report.period_end, 12) < today
    # A bridge letter covering up to a month ago counts 3 months after its date.
    add_doc(manager, vendor, "bridge_letter", period_end=months_ago(1))
    assert status(org, vendor) == "current"
    rows = {r.document.kind: r for r in selectors.documents_of(org, vendor, today)}
    assert rows["soc2_report"].status == "current"
    assert rows["soc2_report"].valid_until == add_months(months_ago(1), 3)
    # A bridge letter older than the report's period covers nothing.
    other = make_vendor(manager, "Old bridge")
    add_doc(manager, other, "soc2_report", period_end=months_ago(13))
    add_doc(manager, other, "bridge_letter", period_end=months_ago(14))
    assert status(org, other) == "stale"
    # A newer report supersedes the old one (both kept: never replaced).
    fresh = make_vendor(manager, "Fresh")
    old = add_doc(manager, fresh, "soc2_report", period_end=months_ago(13))
    add_doc(manager, fresh, "soc2_report", period_end=months_ago(2))
    assert status(org, fresh) == "current"
    by_id = {r.document.pk: r.status for r in selectors.documents_of(org, fresh, today)}
    assert by_id[old.pk] == "superseded" and VendorDocument.objects.for_org(org).count() == 6


def test_dpa_questionnaire_and_certificate_rules(org, manager):
    today = timezone.localdate()
    ended = make_vendor(manager, "Ended", contract_end=today - dt.timedelta(days=1))
    add_doc(manager, ended, "dpa")
    assert status(org, ended) == "stale"
    open_ended = make_vendor(manager, "Open ended")
    add_doc(manager, open_ended, "dpa")
    assert status(org, open_ended) == "current"
    (row,) = selectors.documents_of(org, open_ended, today)
    assert row.valid_until is None
    soon = make_vendor(manager, "Soon")
    add_doc(manager, soon, "certificate", expires_on=today + dt.timedelta(days=10))
    assert status(org, soon) == "expiring"
    expired = make_vendor(manager, "Expired")
    add_doc(manager, expired, "certificate", expires_on=today - dt.timedelta(days=1))
    assert status(org, expired) == "stale"
    asked = make_vendor(manager, "Asked")
    doc = add_doc(manager, asked, "questionnaire")
    assert status(org, asked) == "current"
    VendorDocument.objects.for_org(org).filter(pk=doc.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(days=400)
    )
    assert status(org, asked) == "stale"
    assert status(org, make_vendor(manager, "Nothing")) == "none"


def test_a_review_schedules_the_next_by_criticality_and_is_logged(org, manager):
    today = timezone.localdate()
    expected = {}
    for criticality, months in DEFAULT_RULES.review_months.items():
        vendor = make_vendor(manager, f"V {criticality}", criticality=criticality)
        review = services.review_record(
            membership=manager,
            vendor=vendor,
            reviewed_on=today,
            residual_risk="low",
            decision="approve",
        )
        vendor.refresh_from_db()
        assert review.next_review_date == vendor.next_review_date == add_months(today, months)
        expected[criticality] = months
    assert expected["critical"] < expected["low"]
    vendor = Vendor.objects.for_org(org).get(name="V critical")
    with pytest.raises(ValidationFailed, match="conditions"):
        services.review_record(
            membership=manager,
            vendor=vendor,
            reviewed_on=today,
            residual_risk="medium",
            decision="approve_with_conditions",
        )
    with pytest.raises(ValidationFailed, match="today or earlier"):
        services.review_record(
            membership=manager,
            vendor=vendor,
            reviewed_on=today + dt.timedelta(days=1),
            residual_risk="low",
            decision="approve",
        )
    assert VendorReview.objects.for_org(org).filter(vendor=vendor).count() == 1
    actions = set(ActivityEntry.objects.for_org(org).values_list("action", flat=True))
    assert {"create", "review"} <= actions


def test_refusals_store_nothing_and_other_roles_cannot_write(org, manager, contributor, auditor):
    vendor = make_vendor(manager, "Keep")
    with pytest.raises(ValidationFailed, match="period end"):
        add_doc(manager, vendor, "soc2_report")
    with pytest.raises(ValidationFailed):
        add_doc(manager, vendor, "passport")
    with pytest.raises(Conflict):
        make_vendor(manager, "Keep")
    with pytest.raises(ValidationFailed, match="before it starts"):
        make_vendor(
            manager, "Dates", contract_start=dt.date(2025, 5, 1), contract_end=dt.date(2025, 1, 1)
        )
    for member in (contributor, auditor):
        with pytest.raises(NotPermitted):
            make_vendor(member, "Nope")
        with pytest.raises(NotPermitted):
            add_doc(member, vendor, "dpa")
    assert VendorDocument.objects.for_org(org).count() == 0
    assert Vendor.objects.for_org(org).count() == 1
    add_doc(manager, vendor, "dpa")
    upload = ActivityEntry.objects.for_org(org).filter(action="upload").get()
    assert upload.object_id == str(vendor.pk) and upload.changes["kind"] == [None, "dpa"]
    with pytest.raises(Conflict, match="cannot be deleted"):
        services.vendor_delete(membership=manager, vendor=vendor)
    empty = make_vendor(manager, "Empty")
    services.vendor_delete(membership=manager, vendor=empty)
    assert not Vendor.objects.for_org(org).filter(name="Empty").exists()
    assert ActivityEntry.objects.for_org(org).filter(action="delete").exists()


def test_stale_documents_and_overdue_reviews_on_the_owners_todo(org, manager, reviewer):
    today = timezone.localdate()
    stale = make_vendor(manager, "Stale Co", owner=manager, criticality="high")
    add_doc(manager, stale, "soc2_report", period_end=months_ago(13))
    make_vendor(manager, "Late Co", owner=manager, next_review_date=today - dt.timedelta(days=3))
    make_vendor(manager, "Fine Co", owner=manager, next_review_date=today + dt.timedelta(days=90))
    make_vendor(manager, "Missing Co", owner=reviewer, criticality="critical")
    mine = [i for i in todo_for(manager, today=today) if i.kind.startswith("vendor.")]
    assert {(i.kind, i.title) for i in mine} == {
        ("vendor.documents", "Collect current documents from Stale Co"),
        ("vendor.review", "Review the vendor Late Co"),
    }
    theirs = [i for i in todo_for(reviewer, today=today) if i.kind.startswith("vendor.")]
    assert [i.detail for i in theirs] == ["No SOC 2 report on file for a critical vendor"]
    from vendors.todo import vendor_todos

    with CaptureQueriesContext(connection) as queries:
        vendor_todos(manager, today)
    assert len(queries) == 2  # the organization's rules, the vendors with their documents


def test_filters(org, manager):
    today = timezone.localdate()
    a = make_vendor(manager, "A", criticality="critical", is_subprocessor=True)
    b = make_vendor(manager, "B", next_review_date=today - dt.timedelta(days=1))
    c = make_vendor(manager, "C")
    add_doc(manager, c, "soc2_report", period_end=months_ago(1))

    def names(**f):
        return [r.vendor.name for r in selectors.vendor_rows(org, today, VendorFilter(**f))]

    assert names() == ["A", "B", "C"]
    assert names(criticality="critical") == ["A"]
    assert names(subprocessor=True) == ["A"] and names(subprocessor=False) == ["B", "C"]
    assert names(attention="stale") == [a.name]
    assert names(attention="overdue") == [b.name]


def _bulk_vendors(org, manager, start: int, count: int) -> None:
    vendors = Vendor.objects.bulk_create(
        Vendor(organization=org, name=f"Vendor {i:03}", owner=manager)
        for i in range(start, start + count)
    )
    VendorDocument.objects.bulk_create(
        VendorDocument(
            organization=org,
            vendor=v,
            kind=kind,
            file=f"vendors/x/{v.pk}{kind}",
            file_name="r.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            period_end=months_ago(13) if kind in ("soc2_report", "bridge_letter") else None,
        )
        for v in vendors
        for kind in ("soc2_report", "bridge_letter", "dpa", "questionnaire")
    )


def test_the_list_and_the_todo_in_constant_queries_5_vs_50_vendors(org, manager, client_for):
    today = timezone.localdate()
    client = client_for(manager)
    client.get(f"/o/{org.slug}/vendors/")  # the session's first request reads more
    counts = {}
    for start, count in ((0, 5), (5, 45)):
        _bulk_vendors(org, manager, start, count)
        size = start + count
        with CaptureQueriesContext(connection) as queries:
            rows = selectors.vendor_rows(org, today)
        assert len(queries) == 2 and len(rows) == size  # the rules, the vendors
        assert {r.status for r in rows} == {"stale"}
        with CaptureQueriesContext(connection) as page_queries:
            page = client.get(f"/o/{org.slug}/vendors/?attention=stale")
        assert page.status_code == 200
        assert page.content.count(b'class="vendor-row"') == size
        with CaptureQueriesContext(connection) as home_queries:
            assert client.get(f"/o/{org.slug}/").status_code == 200
        counts[size] = (len(page_queries), len(home_queries))
    assert counts[5] == counts[50], counts


def test_a_contributor_owning_a_vendor_gets_no_vendor_items(org, manager, contributor):
    vendor = make_vendor(manager, "Theirs", owner=contributor, criticality="critical")
    assert vendor.owner == contributor
    items = todo_for(contributor, today=timezone.localdate())
    assert not [i for i in items if i.kind.startswith("vendor.")]
