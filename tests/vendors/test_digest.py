"""The "Vendors" section of the owners' daily digest (``vendors.digest``) and the vendor part of
the daily freshness pass: a SOC 2 report going expiring then stale, an overdue review and a
critical vendor without a SOC 2 report, each told once to the vendor's owner; another
organization's vendors never in this one's digest; a constant number of queries."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controls.periods import add_months
from evidence.freshness import freshness_check
from tenants.context import org_scope
from tenants.models import Role
from tests.vendors.conftest import add_doc, make_vendor
from vendors import digest as vendor_digest
from vendors.rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db

DAY0 = timezone.localdate()


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """The daily pass on ``today``: ({recipient: body}, the run's line for the organization)."""

    def go(today: dt.date, slug: str = "acme-test") -> tuple[dict[str, str], str]:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = freshness_check(today=today)
        line = result.organizations[slug].line() if slug in result.organizations else ""
        return {m.to[0]: m.body for m in mail.outbox}, line

    return go


@pytest.fixture
def vendor_owner(org, make_member):
    """An admin who owns vendors: not among the fallback recipients (compliance managers)."""
    return make_member(org, Role.ADMIN)


def test_a_report_going_expiring_then_stale_is_told_once_each(org, manager, vendor_owner, run):
    period_end = add_months(DAY0, -10)
    until = add_months(period_end, DEFAULT_RULES.soc2_months)
    expiring_from = until - dt.timedelta(days=DEFAULT_RULES.expiring_days - 1)
    vendor = make_vendor(manager, "Cloudy", owner=vendor_owner, criticality="high")
    add_doc(manager, vendor, "soc2_report", period_end=period_end)

    assert run(DAY0) == ({}, "")  # current: nothing to tell
    assert run(expiring_from - dt.timedelta(days=1))[0] == {}
    told, line = run(expiring_from)
    assert set(told) == {vendor_owner.user.email}
    assert "Vendor documents expiring" in told[vendor_owner.user.email]
    assert f"Cloudy: SOC 2 report current until {until:%d %b %Y}" in told[vendor_owner.user.email]
    assert "vendor documents expiring: 1" in line
    assert run(expiring_from) == ({}, "")  # the same day again
    assert run(until)[0] == {}  # still expiring: told already

    told, line = run(until + dt.timedelta(days=1))
    stale_since = until + dt.timedelta(days=1)
    assert "Vendor documents gone stale" in told[vendor_owner.user.email]
    assert (
        f"Cloudy: SOC 2 report stale since {stale_since:%d %b %Y}" in told[vendor_owner.user.email]
    )
    assert "vendor documents gone stale: 1" in line
    assert run(until + dt.timedelta(days=2)) == ({}, "")

    # A bridge letter covers the gap: current again, and stale again later is news again.
    add_doc(manager, vendor, "bridge_letter", period_end=DAY0)
    assert run(until + dt.timedelta(days=3))[0] == {}


def test_reviews_and_missing_reports_are_told_to_the_owner_once(org, manager, vendor_owner, run):
    make_vendor(manager, "Reviewed late", owner=vendor_owner, next_review_date=day(2))
    make_vendor(manager, "Critical, no report", owner=vendor_owner, criticality="critical")
    make_vendor(manager, "Nobody's", next_review_date=day(-4))

    told, _ = run(DAY0)
    owner_text = told[vendor_owner.user.email]
    assert "Critical vendors without a SOC 2 report" in owner_text
    assert "Critical, no report (critical): no SOC 2 report" in owner_text
    assert "Reviewed late" not in owner_text
    # Nobody owns the late one: the compliance managers are told.
    assert "Nobody's: review was due" in told[manager.user.email]
    assert run(day(1))[0] == {}
    told, _ = run(day(3))
    assert set(told) == {vendor_owner.user.email}
    assert "Vendor reviews overdue" in told[vendor_owner.user.email]
    assert "Reviewed late: review was due" in told[vendor_owner.user.email]
    assert "no SOC 2 report" not in told[vendor_owner.user.email]
    assert run(day(4))[0] == {}


def test_a_vendor_added_with_a_stale_report_is_told_the_next_digest(org, manager, run):
    run(DAY0)
    vendor = make_vendor(manager, "Late arrival", owner=manager)
    add_doc(manager, vendor, "soc2_report", period_end=add_months(DAY0, -13))
    told, line = run(day(1))
    assert "Late arrival: SOC 2 report stale since" in told[manager.user.email]
    assert "vendor documents gone stale: 1" in line
    assert run(day(2))[0] == {}


def test_another_organizations_vendors_are_never_in_this_digest(
    org, other_org, manager, make_member, run
):
    make_vendor(manager, "Ours", next_review_date=day(-1))
    other_manager = make_member(other_org, Role.COMPLIANCE_MANAGER)
    make_vendor(other_manager, "Theirs", next_review_date=day(-1))
    told, _ = run(DAY0)
    assert "Ours: review" in told[manager.user.email]
    assert "Theirs" not in told[manager.user.email]
    assert "Theirs: review" in told[other_manager.user.email]
    assert "Ours" not in told[other_manager.user.email]


@pytest.mark.parametrize("size", [2, 20])
def test_the_section_costs_a_constant_number_of_queries(org, manager, vendor_owner, size):
    for n in range(size):
        vendor = make_vendor(
            manager, f"Vendor {n}", owner=vendor_owner, next_review_date=day(-1 - n)
        )
        add_doc(manager, vendor, "soc2_report", period_end=add_months(DAY0, -13))
        add_doc(manager, vendor, "dpa")
    with org_scope(org), transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        entries = vendor_digest.claim(org, uuid.uuid4(), DAY0)
    assert len(entries) == 2 * size  # a stale report and an overdue review each
    # The window (the lock, then the first insert in its savepoint: 4), the organization's
    # vendor rules and the list's one aggregate query with the owners.
    assert len(ctx.captured_queries) == 6, [q["sql"] for q in ctx.captured_queries]
