"""The vendor list as a table (CSV or XLSX through ``reports.tabular``): every vendor matching
the list's filters with its document status (the list's one aggregate query,
``selectors.vendor_rows``), what each tracked document counts until, the last review and the
next one. Two queries whatever the number of vendors, documents and reviews."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from reports.tabular import Table
from tenants.models import Organization
from vendors.models import DataKind, Decision, DocumentKind, ResidualRisk, Vendor, VendorReview
from vendors.selectors import TRACKED, VendorFilter, VendorRow, vendor_rows


@dataclass(frozen=True)
class LastReview:
    reviewed_on: dt.date
    decision: str
    residual_risk: str

    @property
    def decision_label(self) -> str:
        return dict(Decision.choices).get(self.decision, self.decision)

    @property
    def residual_risk_label(self) -> str:
        return dict(ResidualRisk.choices).get(self.residual_risk, self.residual_risk)


def last_reviews(org: Organization | int) -> dict[int, LastReview]:
    """Each reviewed vendor's latest review (date, decision, residual risk): one query."""
    latest = (
        VendorReview.objects.for_org(org)
        .filter(vendor=OuterRef("pk"))
        .order_by("-reviewed_on", "-id")
    )
    rows = (
        Vendor.objects.for_org(org)
        .annotate(
            on=Subquery(latest.values("reviewed_on")[:1]),
            decision=Subquery(latest.values("decision")[:1]),
            risk=Subquery(latest.values("residual_risk")[:1]),
        )
        .filter(on__isnull=False)
        .values_list("pk", "on", "decision", "risk")
        .order_by()
    )
    return {pk: LastReview(on, decision, risk) for pk, on, decision, risk in rows}


_KIND_LABELS = dict(DocumentKind.choices)
_DATA_LABELS = dict(DataKind.choices)

HEADER = [
    "ID",
    "Vendor",
    "Service",
    "Owner",
    "Criticality",
    "Subprocessor",
    "Data it touches",
    "Access",
    "Contract start",
    "Contract end",
    "Document status",
    "Stale documents",
    *(f"{_KIND_LABELS[kind]} {what}" for kind in TRACKED for what in ("counts until", "status")),
    "Last review",
    "Last review decision",
    "Last review residual risk",
    "Next review",
    "Review overdue",
    "Website",
]


def _row(row: VendorRow, review: LastReview | None) -> list[object]:
    v = row.vendor
    documents: list[object] = []
    for kind in TRACKED:
        until, status = row.documents.get(kind, (None, "missing"))
        documents += [until, status if kind in row.documents else "none held"]
    return [
        v.pk,
        v.name,
        v.service,
        v.owner.user.email if v.owner else "",
        v.get_criticality_display(),
        v.is_subprocessor,
        ", ".join(_DATA_LABELS.get(k, k) for k in v.data_kinds),
        v.access,
        v.contract_start,
        v.contract_end,
        row.status_label,
        ", ".join(row.stale_kinds),
        *documents,
        review.reviewed_on if review else None,
        review.decision_label if review else "",
        review.residual_risk_label if review else "",
        v.next_review_date,
        row.review_overdue,
        v.website,
    ]


def vendor_table(org: Organization, filters: VendorFilter | None, today: dt.date) -> Table:
    rows = vendor_rows(org, today, filters)
    reviews = last_reviews(org)
    return Table("Vendors", HEADER, [_row(r, reviews.get(r.vendor.pk)) for r in rows])


def filename(org: Organization, today: dt.date) -> str:
    return f"vendors-{org.slug}-{today:%Y%m%d}"
