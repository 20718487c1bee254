"""Reads of vendors: the list with each vendor's document status (the organization's rules, then
one aggregate query for all of its vendors, whatever their number), a vendor with its documents and
reviews, and the filters of the list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q, QuerySet

from soc2app.errors import NotFound
from vendors.models import Criticality, DocumentKind, Vendor, VendorDocument, VendorReview
from vendors.rules import FreshnessRules, rules_for, status_of, valid_until

# Worst first: the vendor's status is the worst of its documents'.
STATUS_ORDER = ("missing_soc2", "stale", "expiring", "current", "none")
STATUS_LABELS = {
    "missing_soc2": "SOC 2 report missing",
    "stale": "Stale documents",
    "expiring": "Documents expiring",
    "current": "Documents current",
    "none": "No documents",
}
# The kinds whose freshness a vendor's status follows (a bridge letter extends a SOC 2 report).
TRACKED = (
    DocumentKind.SOC2_REPORT,
    DocumentKind.DPA,
    DocumentKind.QUESTIONNAIRE,
    DocumentKind.CERTIFICATE,
)


@dataclass(frozen=True)
class VendorFilter:
    criticality: str = ""
    subprocessor: bool | None = None
    attention: str = ""  # "stale": stale or missing documents; "overdue": review overdue
    owner_id: int | None = None


@dataclass
class VendorRow:
    vendor: Vendor
    documents: dict[str, tuple[dt.date | None, str]] = field(default_factory=dict)
    status: str = "none"
    review_overdue: bool = False

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def stale_kinds(self) -> list[str]:
        labels = dict(DocumentKind.choices)
        return [labels[k] for k, (_, s) in self.documents.items() if s == "stale"]

    @property
    def needs_attention(self) -> bool:
        return self.status in ("missing_soc2", "stale") or self.review_overdue


def _with_latest_dates(qs: QuerySet[Vendor]) -> QuerySet[Vendor]:
    def latest(column: str, kind: str) -> Max:
        return Max(f"documents__{column}", filter=Q(documents__kind=kind))

    return qs.annotate(
        soc2_end=latest("period_end", DocumentKind.SOC2_REPORT),
        bridge_end=latest("period_end", DocumentKind.BRIDGE_LETTER),
        questionnaire_at=latest("uploaded_at", DocumentKind.QUESTIONNAIRE),
        certificate_expiry=latest("expires_on", DocumentKind.CERTIFICATE),
        kinds_held=Count("documents__kind", distinct=True),
        dpa_count=Count("documents", filter=Q(documents__kind=DocumentKind.DPA)),
        certificate_count=Count("documents", filter=Q(documents__kind=DocumentKind.CERTIFICATE)),
    )


def _row(vendor: Vendor, rules: FreshnessRules, today: dt.date) -> VendorRow:
    row = VendorRow(vendor=vendor)
    held = {
        DocumentKind.SOC2_REPORT: vendor.soc2_end is not None,
        DocumentKind.DPA: vendor.dpa_count > 0,
        DocumentKind.QUESTIONNAIRE: vendor.questionnaire_at is not None,
        DocumentKind.CERTIFICATE: vendor.certificate_count > 0,
    }
    for kind in TRACKED:
        if not held[kind]:
            continue
        until = valid_until(
            rules,
            kind,
            period_end=vendor.soc2_end,
            expires_on=vendor.certificate_expiry,
            uploaded_on=vendor.questionnaire_at.date() if vendor.questionnaire_at else today,
            contract_end=vendor.contract_end,
            bridge_end=vendor.bridge_end,
        )
        row.documents[kind] = (until, status_of(rules, until, today))
    statuses = {s for _, s in row.documents.values()}
    if vendor.criticality == Criticality.CRITICAL and not held[DocumentKind.SOC2_REPORT]:
        statuses.add("missing_soc2")
    if vendor.kinds_held and not statuses:
        statuses.add("current")  # only documents that never expire ("other", bridge letters)
    row.status = next((s for s in STATUS_ORDER if s in statuses), "none")
    row.review_overdue = bool(vendor.next_review_date and vendor.next_review_date < today)
    return row


def vendor_rows(
    organization,
    today: dt.date,
    filters: VendorFilter | None = None,
    rules: FreshnessRules | None = None,
) -> list[VendorRow]:
    """Every vendor matching ``filters`` with its status: two queries (the organization's
    rules, then the vendors with their documents' dates), any number of vendors."""
    filters = filters or VendorFilter()
    qs = Vendor.objects.for_org(organization).select_related("owner__user")
    if filters.criticality:
        qs = qs.filter(criticality=filters.criticality)
    if filters.subprocessor is not None:
        qs = qs.filter(is_subprocessor=filters.subprocessor)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.attention == "overdue":
        qs = qs.filter(next_review_date__lt=today)
    rules = rules or rules_for(organization)
    rows = [_row(v, rules, today) for v in _with_latest_dates(qs).order_by("name", "id")]
    if filters.attention == "stale":
        rows = [r for r in rows if r.status in ("missing_soc2", "stale")]
    return rows


def vendor_get(organization, pk: int) -> Vendor:
    found = Vendor.objects.for_org(organization).select_related("owner__user").filter(pk=pk)
    vendor = found.first()
    if vendor is None:
        raise NotFound("No such vendor.")
    return vendor


def vendor_row(
    organization, vendor: Vendor, today: dt.date, rules: FreshnessRules | None = None
) -> VendorRow:
    one = _with_latest_dates(Vendor.objects.for_org(organization).filter(pk=vendor.pk)).get()
    return _row(one, rules or rules_for(organization), today)


@dataclass(frozen=True)
class DocumentRow:
    document: VendorDocument
    valid_until: dt.date | None
    status: str  # current, expiring, stale, or superseded (a newer one of its kind is held)


def documents_of(
    organization, vendor: Vendor, today: dt.date, rules: FreshnessRules | None = None
) -> list[DocumentRow]:
    """The vendor's documents, newest first; the latest of each kind counts, the older ones
    are superseded (kept: a document is never replaced)."""
    docs = list(
        VendorDocument.objects.for_org(organization)
        .filter(vendor=vendor)
        .select_related("uploaded_by__user")
        .order_by("-uploaded_at", "-id")
    )
    rules = rules or rules_for(organization)
    bridge = max((d.period_end for d in docs if d.kind == DocumentKind.BRIDGE_LETTER), default=None)
    in_force: dict[str, VendorDocument] = {}
    for doc in docs:  # newest first: on a tie of dates the newest upload counts
        best = in_force.get(doc.kind)
        if best is None or _counts_from(doc) > _counts_from(best):
            in_force[doc.kind] = doc
    rows = []
    for doc in docs:
        until = valid_until(
            rules,
            doc.kind,
            period_end=doc.period_end,
            expires_on=doc.expires_on,
            uploaded_on=doc.uploaded_at.date(),
            contract_end=vendor.contract_end,
            bridge_end=bridge,
        )
        current = in_force[doc.kind] is doc
        status = status_of(rules, until, today) if current else "superseded"
        rows.append(DocumentRow(doc, until, status))
    return rows


def _counts_from(doc: VendorDocument) -> dt.date:
    """The date that makes a document the one in force for its kind, as the list's aggregate
    (the latest period end, the latest expiry, the latest upload)."""
    if doc.kind in (DocumentKind.SOC2_REPORT, DocumentKind.BRIDGE_LETTER):
        return doc.period_end or dt.date.min
    if doc.kind == DocumentKind.CERTIFICATE:
        return doc.expires_on or dt.date.min
    return doc.uploaded_at.date()


def reviews_of(organization, vendor: Vendor) -> QuerySet[VendorReview]:
    return (
        VendorReview.objects.for_org(organization)
        .filter(vendor=vendor)
        .select_related("reviewed_by__user")
        .order_by("-reviewed_on", "-id")
    )


def document_get(organization, vendor: Vendor, pk: int) -> VendorDocument:
    found = VendorDocument.objects.for_org(organization).filter(vendor=vendor, pk=pk).first()
    if found is None:
        raise NotFound("No such document.")
    return found
