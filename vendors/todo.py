"""Vendors' to-do items (``soc2app.todo``): for a vendor's owner (a manager), its stale
documents (or a critical vendor's missing SOC 2 report) and its overdue review, by the
organization's rules. Two queries (the rules, the vendors)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from soc2app.todo import TodoItem, Urgency
from tenants import permissions
from tenants.models import Membership
from vendors.selectors import VendorFilter, vendor_rows
from vendors.services import MANAGE


def vendor_todos(membership: Membership, today: dt.date) -> list[TodoItem]:
    # Keys have no home; the vendor pages are managers' (a contributor owning a vendor is
    # not sent to a page they cannot open).
    if getattr(membership, "is_api_key", False) or not permissions.can(membership, MANAGE):
        return []
    org = membership.organization
    email = membership.user.email
    items = []
    for row in vendor_rows(org, today, VendorFilter(owner_id=membership.pk)):
        vendor = row.vendor
        link = reverse("vendor_detail", kwargs={"org_slug": org.slug, "pk": vendor.pk})
        if row.status in ("stale", "missing_soc2"):
            detail = (
                "No SOC 2 report on file for a critical vendor"
                if row.status == "missing_soc2"
                else "Stale: " + ", ".join(row.stale_kinds)
            )
            items.append(
                TodoItem(
                    kind="vendor.documents",
                    title=f"Collect current documents from {vendor.name}",
                    url=link,
                    urgency=Urgency.OVERDUE,
                    owner=email,
                    detail=detail,
                )
            )
        if row.review_overdue:
            items.append(
                TodoItem(
                    kind="vendor.review",
                    title=f"Review the vendor {vendor.name}",
                    url=link,
                    urgency=Urgency.OVERDUE,
                    due=vendor.next_review_date,
                    owner=email,
                    detail=f"{vendor.get_criticality_display()} vendor",
                )
            )
    return items
