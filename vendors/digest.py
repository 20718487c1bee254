"""Vendors' part of the owners' daily digest (``evidence.notifications``): a "Vendors" section
of dated news, told once each (``section_window``: the days not told yet), to each vendor's
owner (nobody owns it, or their access ended: the digest's fallback recipients).

- a review whose date passed;
- a document that went stale, or started expiring (the latest document of each kind, with the
  list's own status logic: ``vendors.selectors.vendor_rows`` and ``vendors.rules``);
- a critical vendor without a SOC 2 report.

This is the vendor part of the daily freshness pass: the statuses come from the list's one
aggregate query as of the pass's day, and a document's status changes on a known day (stale
the day after its ``valid_until``, expiring ``expiring_days`` before), so a change is news when
that day is in the window. A vendor added since the last digest tells its stale documents and
overdue review even though their day has passed; a critical vendor missing its SOC 2 report
is news when the vendor was added or its criticality changed since (once: editing anything
else does not tell it again; a report added ends it, documents are never removed). Three queries per organization (the
window's two and the list's aggregate), whatever the number of vendors and documents.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.urls import reverse

from evidence.notifications import (
    DigestEntry,
    DigestSection,
    Window,
    organizations_with,
    section_window,
)
from tenants.models import Organization
from vendors.models import DocumentKind, Vendor
from vendors.rules import rules_for
from vendors.selectors import VendorRow, vendor_rows

NAME = "vendors"
REVIEWS = "Vendor reviews overdue"
STALE = "Vendor documents gone stale"
EXPIRING = "Vendor documents expiring"
MISSING = "Critical vendors without a SOC 2 report"
ONE_DAY = dt.timedelta(days=1)


def pending() -> set[int]:
    """Organizations with vendors (the window tells each day once)."""
    return organizations_with(Vendor, NAME)


def document_changes(
    row: VendorRow, window: Window, expiring_days: int
) -> list[tuple[str, str, dt.date]]:
    """(kind, new status, its last valid day) of the row's documents whose status changed on
    a day of ``window`` (or of a vendor added since)."""
    changes = []
    new_vendor = window.new(row.vendor.created_at)
    for kind, (until, status) in row.documents.items():
        if until is None:
            continue
        if status == "stale":
            day = until + ONE_DAY
        elif status == "expiring":
            day = until - dt.timedelta(days=expiring_days) + ONE_DAY
        else:
            continue
        if window.holds(day) or new_vendor:
            changes.append((kind, status, until))
    return changes


def _entries(org: Organization, row: VendorRow, window: Window, expiring_days: int):  # noqa: ANN202
    vendor = row.vendor
    url = settings.SITE_URL + reverse(
        "vendor_detail", kwargs={"org_slug": org.slug, "pk": vendor.pk}
    )
    owners = (vendor.owner,) if vendor.owner_id else ()
    labels = dict(DocumentKind.choices)
    for kind, status, until in document_changes(row, window, expiring_days):
        if status == "stale":
            text = f"{vendor.name}: {labels[kind]} stale since {until + ONE_DAY:%d %b %Y}"
        else:
            text = f"{vendor.name}: {labels[kind]} current until {until:%d %b %Y}"
        yield DigestEntry(STALE if status == "stale" else EXPIRING, text, url, owners)
    # Since the vendor became critical (added so, or its criticality changed): told once,
    # however often it is edited meanwhile; told again only if it stops and becomes critical.
    if row.status == "missing_soc2" and window.new(
        vendor.criticality_changed_at or vendor.created_at
    ):
        text = f"{vendor.name} ({vendor.get_criticality_display().lower()}): no SOC 2 report"
        yield DigestEntry(MISSING, text, url, owners)
    review = vendor.next_review_date
    if row.review_overdue and (window.holds(review + ONE_DAY) or window.new(vendor.created_at)):
        text = f"{vendor.name}: review was due {review:%d %b %Y}"
        yield DigestEntry(REVIEWS, text, url, owners)


def claim(org: Organization, token: uuid.UUID, today: dt.date) -> list[DigestEntry]:
    window = section_window(org, NAME, today)
    if window is None:
        return []
    rules = rules_for(org)
    expiring_days = rules.expiring_days
    entries = [
        entry
        for row in vendor_rows(org, today, rules=rules)
        for entry in _entries(org, row, window, expiring_days)
    ]
    order = {REVIEWS: 0, STALE: 1, MISSING: 2, EXPIRING: 3}
    return sorted(entries, key=lambda e: order[e.heading])  # stable: by vendor name within


def _undated(org: Organization, token: uuid.UUID) -> list[DigestEntry]:
    from django.utils import timezone

    return claim(org, token, timezone.localdate())


SECTION = DigestSection(name=NAME, pending=pending, claim=_undated, claim_dated=claim)
