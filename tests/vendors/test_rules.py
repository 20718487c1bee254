"""Per-organization vendor freshness rules: SOC 2 reports stale 12 months after their period by
default and 15 with a changed rule, a bridge letter covering or not the gap, questionnaires,
review scheduling by criticality with the default and custom intervals (and the rescheduling of
dates derived from the latest review, on the owner's to-do list when overdue), the CC9.2
evidence reading the organization's rules; the page and the API with their refusals (nothing
stored), managers only, another organization's rules untouched and out of reach; the list in
constant queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.periods import add_months
from soc2app.errors import NotPermitted, ValidationFailed
from soc2app.todo import todo_for
from tenants.activity import ActivityEntry
from tenants.models import Role
from tests.vendors.conftest import add_doc, make_vendor, months_ago
from vendors import selectors, services, services_rules
from vendors.evidence import review_data
from vendors.models import Vendor, VendorDocument, VendorReview, VendorRules
from vendors.rules import DEFAULT_RULES, as_fields, rules_for

pytestmark = pytest.mark.django_db


def status(org, vendor) -> str:
    return selectors.vendor_row(org, vendor, timezone.localdate()).status


def api(org) -> str:
    return f"/api/v1/orgs/{org.slug}/vendors/rules/"


def page(org) -> str:
    return reverse("vendor_rules", kwargs={"org_slug": org.slug})


def _entries(org):
    return ActivityEntry.objects.for_org(org).filter(object_type="vendors.vendorrules")


def test_defaults_until_changed_and_reading_writes_nothing(org, other_org):
    assert rules_for(org) == DEFAULT_RULES
    assert not VendorRules.objects.for_org(org).exists()


def test_soc2_stale_after_12_months_by_default_and_after_15_with_a_changed_rule(org, manager):
    vendor = make_vendor(manager, "Cloudy", criticality="critical", owner=manager)
    add_doc(manager, vendor, "soc2_report", period_end=months_ago(13))
    assert status(org, vendor) == "stale"
    mine = [i.title for i in todo_for(manager, today=timezone.localdate())]
    assert "Collect current documents from Cloudy" in mine
    services_rules.rules_update(membership=manager, soc2_months=15)
    assert status(org, vendor) == "current"  # at once: computed when read
    (row,) = selectors.documents_of(org, vendor, timezone.localdate())
    assert row.valid_until == add_months(months_ago(13), 15)
    mine = [i.title for i in todo_for(manager, today=timezone.localdate())]
    assert "Collect current documents from Cloudy" not in mine
    add_doc(manager, make_vendor(manager, "Older"), "soc2_report", period_end=months_ago(16))
    rows = {r.vendor.name: r.status for r in selectors.vendor_rows(org, timezone.localdate())}
    assert rows == {"Cloudy": "current", "Older": "stale"}
    entry = _entries(org).get()
    assert entry.changes == {"soc2_months": [12, 15]}


def test_a_bridge_letter_covering_and_not_covering_the_gap_with_custom_months(org, manager):
    services_rules.rules_update(membership=manager, bridge_months=6)
    covered = make_vendor(manager, "Covered")
    add_doc(manager, covered, "soc2_report", period_end=months_ago(14))
    add_doc(manager, covered, "bridge_letter", period_end=months_ago(4))  # counts 6 months
    assert status(org, covered) == "current"
    rows = {r.document.kind: r for r in selectors.documents_of(org, covered, timezone.localdate())}
    assert rows["soc2_report"].valid_until == add_months(months_ago(4), 6)
    services_rules.rules_update(membership=manager, bridge_months=3)
    assert status(org, covered) == "stale"  # the letter no longer covers up to today
    gap = make_vendor(manager, "Gap")
    add_doc(manager, gap, "soc2_report", period_end=months_ago(14))
    add_doc(manager, gap, "bridge_letter", period_end=months_ago(15))  # before the period end
    assert status(org, gap) == "stale"


def test_questionnaire_validity_follows_the_rule(org, manager):
    vendor = make_vendor(manager, "Asked")
    doc = add_doc(manager, vendor, "questionnaire")
    VendorDocument.objects.for_org(org).filter(pk=doc.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(days=200)
    )
    assert status(org, vendor) == "current"
    services_rules.rules_update(membership=manager, questionnaire_months=6)
    assert status(org, vendor) == "stale"
    services_rules.rules_update(membership=manager, expiring_days=30, questionnaire_months=7)
    assert status(org, vendor) == "expiring"


def _review(manager, vendor, on: dt.date) -> VendorReview:
    return services.review_record(
        membership=manager, vendor=vendor, reviewed_on=on, residual_risk="low", decision="approve"
    )


def test_review_scheduling_by_criticality_default_and_custom(org, manager, client_for):
    today = timezone.localdate()
    custom = {"critical": 6, "high": 9, "medium": 12, "low": 18}
    services_rules.rules_update(
        membership=manager, **{f"review_months_{c}": m for c, m in custom.items()}
    )
    for criticality, months in custom.items():
        vendor = make_vendor(manager, f"V {criticality}", criticality=criticality)
        review = _review(manager, vendor, today)
        vendor.refresh_from_db()
        assert review.next_review_date == vendor.next_review_date == add_months(today, months)
        assert DEFAULT_RULES.review_months[criticality] != months
    # The vendor page proposes the interval of the vendor's criticality (low: 18 here).
    detail = reverse("vendor_detail", kwargs={"org_slug": org.slug, "pk": vendor.pk})
    html = client_for(manager).get(detail).content.decode()
    assert "due 18 months after the review date" in html


def test_an_overdue_review_is_on_the_owners_todo_and_a_rule_change_reschedules(org, manager):
    today = timezone.localdate()
    vendor = make_vendor(manager, "Late Co", criticality="critical", owner=manager)
    _review(manager, vendor, add_months(today, -13))
    vendor.refresh_from_db()
    assert vendor.next_review_date == add_months(today, -1)  # 12 months by default: overdue
    items = [i for i in todo_for(manager, today=today) if i.kind == "vendor.review"]
    assert [i.title for i in items] == ["Review the vendor Late Co"]
    # A hand-set date is left alone; a derived one moves with the interval.
    manual = make_vendor(manager, "Manual", criticality="critical", owner=manager)
    _review(manager, manual, add_months(today, -13))
    services.vendor_update(membership=manager, vendor=manual, next_review_date=today)
    services_rules.rules_update(
        membership=manager, review_months_critical=18, review_months_high=18
    )
    vendor.refresh_from_db()
    manual.refresh_from_db()
    assert vendor.next_review_date == add_months(add_months(today, -13), 18)
    assert manual.next_review_date == today
    items = [i for i in todo_for(manager, today=today) if i.kind == "vendor.review"]
    assert not [i for i in items if i.title.endswith("Late Co")]
    assert _entries(org).get().changes["vendors_rescheduled"] == [None, 1]
    # The review keeps what was proposed at the time.
    assert VendorReview.objects.for_org(org).get(vendor=vendor).next_review_date == add_months(
        today, -1
    )
    # A change of criticality moves a derived date too (low: 36 months by default).
    services.vendor_update(membership=manager, vendor=vendor, criticality="low")
    vendor.refresh_from_db()
    assert vendor.next_review_date == add_months(add_months(today, -13), 36)


def test_the_cc92_evidence_reads_the_organizations_rules(org, manager):
    vendor = make_vendor(manager, "Evident")
    add_doc(manager, vendor, "soc2_report", period_end=months_ago(13))
    review = _review(manager, vendor, timezone.localdate())
    assert review_data(vendor, review)["documents"][0]["status"] == "stale"
    services_rules.rules_update(membership=manager, soc2_months=24)
    assert review_data(vendor, review)["documents"][0]["status"] == "current"


REFUSALS = [
    ({"soc2_months": 0}, "soc2_months"),
    ({"soc2_months": 37}, "soc2_months"),
    ({"bridge_months": 13}, "bridge_months"),
    ({"questionnaire_months": "12"}, "questionnaire_months"),
    ({"expiring_days": 181}, "expiring_days"),
    ({"review_months_low": 61}, "review_months_low"),
    ({"review_months_critical": 24}, "review_months_critical"),  # above high's 12
    ({"review_months_medium": 40}, "review_months_medium"),  # above low's 36
    ({"colour": 1}, None),
]


@pytest.mark.parametrize("values, field", REFUSALS)
def test_refusals_name_the_field_and_store_nothing(org, manager, values, field):
    with pytest.raises(ValidationFailed) as refused:
        services_rules.rules_update(membership=manager, **values)
    assert refused.value.field == field
    assert rules_for(org) == DEFAULT_RULES and not _entries(org).exists()


def test_the_page_saves_and_refuses(org, manager, client_for):
    client = client_for(manager)
    shown = client.get(page(org))
    assert shown.status_code == 200 and "Vendor rules" in shown.content.decode()
    form = {name: str(value) for name, value in as_fields(DEFAULT_RULES).items()}
    bad = client.post(page(org), {**form, "review_months_critical": "30"})
    assert bad.status_code == 400
    assert "at least as often as a high one" in bad.content.decode()
    bad = client.post(page(org), {**form, "soc2_months": "x"})
    assert bad.status_code == 400 and rules_for(org) == DEFAULT_RULES
    saved = client.post(page(org), {**form, "soc2_months": "15"})
    assert saved.status_code == 302 and rules_for(org).soc2_months == 15
    listed = client.get(reverse("vendors", kwargs={"org_slug": org.slug})).content.decode()
    assert f'href="{page(org)}"' in listed


def test_the_api_reads_and_changes_the_rules(org, manager, api_for):
    client = api_for(manager)
    got = client.get(api(org))
    assert got.status_code == 200 and got.json()["soc2_months"] == 12
    changed = client.patch(api(org), {"soc2_months": 15, "review_months_low": 24})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["soc2_months"], changed.json()["review_months_low"]) == (15, 24)
    for payload, field in (
        ({"soc2_months": 0}, "soc2_months"),
        ({"soc2_months": "many"}, "soc2_months"),
        ({"review_months_high": 30}, "review_months_high"),
        ({"soc2": 3}, "soc2"),
    ):
        refused = client.patch(api(org), payload)
        assert refused.status_code == 400, payload
        assert field in refused.json()["errors"], refused.json()
    assert rules_for(org).soc2_months == 15


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.AUDITOR])
def test_only_managers_change_the_rules(
    org, manager, make_member, role, client_for, api_for, key_client
):
    member = make_member(org, role)
    with pytest.raises(NotPermitted):
        services_rules.rules_update(membership=member, soc2_months=15)
    assert client_for(member).get(page(org)).status_code in (302, 403)
    assert client_for(member).post(page(org), {"soc2_months": "15"}).status_code in (302, 403)
    assert api_for(member).patch(api(org), {"soc2_months": 15}).status_code == 403
    for key_role in ("read_only", Role.CONTRIBUTOR):
        assert key_client(org, key_role).patch(api(org), {"soc2_months": 15}).status_code == 403
        assert key_client(org, key_role).get(api(org)).status_code == 403
    assert rules_for(org) == DEFAULT_RULES
    assert key_client(org, Role.ADMIN).patch(api(org), {"soc2_months": 15}).status_code == 200


def test_another_organizations_rules_are_untouched_and_out_of_reach(
    org, other_org, manager, outsider, api_for, client_for
):
    services_rules.rules_update(membership=outsider, soc2_months=20)
    services_rules.rules_update(membership=manager, soc2_months=15)
    assert (rules_for(org).soc2_months, rules_for(other_org).soc2_months) == (15, 20)
    client = api_for(manager)
    assert client.get(api(other_org)).status_code == 404
    assert client.patch(api(other_org), {"soc2_months": 1}).status_code == 404
    theirs = reverse("vendor_rules", kwargs={"org_slug": other_org.slug})
    assert client_for(manager).post(theirs, {"soc2_months": "1"}).status_code in (302, 403, 404)
    assert rules_for(other_org).soc2_months == 20
    # Their vendor's status follows their rules, not ours.
    vendor = make_vendor(outsider, "Theirs")
    add_doc(outsider, vendor, "soc2_report", period_end=months_ago(17))
    assert status(other_org, vendor) == "current"
    mine = make_vendor(manager, "Mine")
    add_doc(manager, mine, "soc2_report", period_end=months_ago(17))
    assert status(org, mine) == "stale"


def _bulk(org, manager, start: int, count: int) -> None:
    vendors = Vendor.objects.bulk_create(
        Vendor(organization=org, name=f"Vendor {i:03}", owner=manager, criticality="critical")
        for i in range(start, start + count)
    )
    VendorDocument.objects.bulk_create(
        VendorDocument(
            organization=org,
            vendor=v,
            kind="soc2_report",
            file=f"vendors/x/{v.pk}",
            file_name="r.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            period_end=months_ago(14),
        )
        for v in vendors
    )


def test_the_list_and_home_stay_in_constant_queries_with_custom_rules(org, manager, client_for):
    services_rules.rules_update(membership=manager, soc2_months=15)
    client = client_for(manager)
    list_url = reverse("vendors", kwargs={"org_slug": org.slug})
    home = reverse("org_home", kwargs={"org_slug": org.slug})
    client.get(list_url)
    counts = []
    for start, count in ((0, 3), (3, 27)):
        _bulk(org, manager, start, count)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(list_url)
        assert response.status_code == 200
        assert response.content.count(b'class="vendor-row"') == start + count
        assert b"Stale documents" not in response.content  # 14 months: current under 15
        with CaptureQueriesContext(connection) as home_queries:
            assert client.get(home).status_code == 200
        counts.append((len(queries), len(home_queries)))
    assert counts[0] == counts[1], counts
