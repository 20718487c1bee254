"""A criticality changed by the CSV import moves the next review date the way the form does
(``vendors.services_rules.vendors_follow_criticality``): a date the latest review derived
follows the new criticality, a date set by hand stays, a vendor whose criticality did not
change keeps its date; the activity entry names the vendors moved, the page says how many;
a constant number of queries whatever the number of vendors moved."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.periods import add_months
from tenants.models import ActivityEntry
from tests.vendors.conftest import make_vendor
from tests.vendors.test_import_pages import held, upload, url
from vendors import imports, services
from vendors.models import Vendor, VendorReview

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
REVIEWED = add_months(TODAY, -2)


def _reviewed(manager, name: str, criticality: str = "critical") -> Vendor:
    vendor = make_vendor(manager, name, criticality=criticality)
    services.review_record(
        membership=manager,
        vendor=vendor,
        reviewed_on=REVIEWED,
        residual_risk="low",
        decision="approve",
    )
    vendor.refresh_from_db()
    return vendor


def _csv(*rows: str) -> bytes:
    return ("\n".join(["name,criticality", *rows]) + "\n").encode()


def test_the_import_moves_derived_dates_and_leaves_hand_set_ones(org, manager):
    derived = _reviewed(manager, "Derived")
    assert derived.next_review_date == add_months(REVIEWED, 12)  # critical: 12 months
    by_hand = _reviewed(manager, "By hand")
    services.vendor_update(membership=manager, vendor=by_hand, next_review_date=TODAY)
    same = _reviewed(manager, "Same", criticality="high")
    by_form = _reviewed(manager, "By form")

    plan = imports.import_apply(
        membership=manager, data=_csv("derived,low", "By hand,low", "Same,high")
    )
    services.vendor_update(membership=manager, vendor=by_form, criticality="low")

    for vendor in (derived, by_hand, same, by_form):
        vendor.refresh_from_db()
    assert derived.criticality == "low"
    assert derived.next_review_date == add_months(REVIEWED, 36)  # low: 36 months
    assert derived.next_review_date == by_form.next_review_date  # the form agrees
    assert (by_hand.criticality, by_hand.next_review_date) == ("low", TODAY)
    assert same.next_review_date == add_months(REVIEWED, 12)
    assert plan.rescheduled == [derived.pk]
    entry = ActivityEntry.objects.for_org(org).get(action="vendors.import")
    assert entry.changes["rescheduled_ids"] == [None, [derived.pk]]
    # The review keeps what it proposed at the time.
    assert VendorReview.objects.for_org(org).get(vendor=derived).next_review_date == add_months(
        REVIEWED, 12
    )


def test_the_page_says_how_many_dates_moved(org, manager, client_for):
    _reviewed(manager, "Derived")
    client = client_for(manager)
    preview = upload(client, org, _csv("Derived,medium"))
    assert preview.status_code == 200
    done = client.post(url("vendor_import_confirm", org), held(preview), follow=True)
    assert "1 updated, 0 unchanged. 1 next review date moved with the new criticality." in (
        done.content.decode()
    )


def _queries(manager, n: int, prefix: str) -> int:
    vendors = Vendor.objects.bulk_create(
        Vendor(
            organization=manager.organization,
            name=f"{prefix} {i:03}",
            criticality="critical",
            next_review_date=add_months(REVIEWED, 12),
        )
        for i in range(n)
    )
    VendorReview.objects.bulk_create(
        VendorReview(
            organization=manager.organization,
            vendor=v,
            reviewed_on=REVIEWED,
            residual_risk="low",
            decision="approve",
            next_review_date=add_months(REVIEWED, 12),
        )
        for v in vendors
    )
    rows = [f"{v.name},high" if i % 2 else f"{v.name},low" for i, v in enumerate(vendors)]
    with CaptureQueriesContext(connection) as ctx:
        plan = imports.import_apply(membership=manager, data=_csv(*rows))
    assert len(plan.rescheduled) == n - n // 2  # high keeps 12 months: only the low ones move
    return len(ctx.captured_queries)


def test_the_rescheduling_costs_a_constant_number_of_queries(org, other_org, manager, make_member):
    other = make_member(other_org)
    assert _queries(manager, 4, "Small") == _queries(other, 40, "Large")
    assert Vendor.objects.for_org(other_org).filter(criticality="low").count() == 20
