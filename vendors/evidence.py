"""Vendor reviews as evidence by themselves (CC9.2): what the app records on the organization's
controls mapped to criterion CC9.2 when a vendor review is recorded, as system-generated
versions accepted when written (the app's own immutable records; ``evidence.system``), so
readiness counts them without an upload.

``review_evidence_record`` (called by ``vendors.services.review_record`` in its transaction):
one version on each CC9.2 control (item "Vendor review: <name>", source
``vendor-review:<id>``), effective the review date and current until the next review date:
the vendor and its criticality, the decision, the residual risk, and the documents in force
(kind, status as of the review date, valid until, SHA-256). No CC9.2 control: nothing written.
``documents_evidence_record`` (called by ``vendors.services.document_add`` in its transaction):
a document collected after the latest review adds one more version on the same items, effective
on the day it was added and current until the review's next date: the latest review again,
with the documents in force *that day* (so the CC9.2 evidence shows the current documents, not
only those of the review's date). A vendor never reviewed: nothing (the review is the record
CC9.2 asks for; its documents are listed when it is recorded).
Constant queries whatever the number of documents or controls.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from controls.models import Control
from controls.selectors import controls_mapped_to
from evidence.models import EvidenceVersion
from evidence.system import SystemRecord, SystemSource, system_evidence_record
from tenants.activity import Actor
from vendors.models import Vendor, VendorReview
from vendors.selectors import documents_of

CRITERION = "CC9.2"
REVIEW_REVIEWER = "Vendors: review recorded by the app"


def review_key(vendor: Vendor) -> str:
    return f"vendor-review:{vendor.pk}"


def criterion_controls(organization, ref: str = CRITERION) -> list[Control]:
    """The organization's controls mapped to the criterion ``ref`` (one query)."""
    return controls_mapped_to(organization, [ref])


def review_data(
    vendor: Vendor, review: VendorReview, as_of: dt.date | None = None
) -> dict[str, Any]:
    """What the evidence says: the review and the documents in force on its date, or on
    ``as_of`` when a document was added later (one query)."""
    rows = documents_of(vendor.organization, vendor, as_of or review.reviewed_on)
    extra = {"documents_as_of": as_of.isoformat()} if as_of else {}
    return {
        "source": "vendor-review",
        "vendor": {"id": vendor.pk, "name": vendor.name},
        "criticality": vendor.criticality,
        "reviewed_on": review.reviewed_on.isoformat(),
        "reviewed_by": review.reviewed_by_label,
        "decision": review.decision,
        "decision_label": review.get_decision_display(),
        "residual_risk": review.residual_risk,
        "next_review_date": review.next_review_date.isoformat(),
        "documents": [
            {
                "kind": row.document.kind,
                "kind_label": row.document.get_kind_display(),
                "status": row.status,
                "valid_until": row.valid_until.isoformat() if row.valid_until else None,
                "sha256": row.document.sha256,
            }
            for row in rows
            if row.status != "superseded"
        ],
        **extra,
    }


def _source(vendor: Vendor, review: VendorReview, day: dt.date) -> SystemSource:
    return SystemSource(
        key=review_key(vendor),
        item_title=f"Vendor review: {vendor.name}",
        reviewer_label=REVIEW_REVIEWER,
        current_days=max((review.next_review_date - day).days, 0),
        own_records=True,
        description=(
            "Written by the app when a review of the vendor is recorded: the decision, the "
            "residual risk, the next review date and the status of the vendor's documents in "
            "force (with their SHA-256), again when a document is added. Current until the "
            "next review."
        ),
    )


def review_evidence_record(*, vendor: Vendor, review: VendorReview) -> list[EvidenceVersion]:
    """One version on each of the organization's CC9.2 controls, recording ``review``."""
    controls = criterion_controls(vendor.organization)
    if not controls:
        return []
    day = review.reviewed_on
    data = review_data(vendor, review)
    return system_evidence_record(
        organization=vendor.organization,
        source=_source(vendor, review, day),
        records=[SystemRecord(control=c, data=data) for c in controls],
        day=day,
        actor=Actor.system(REVIEW_REVIEWER),
        object_repr=f"{vendor.name}: review of {day.isoformat()}",
    )


def documents_evidence_record(*, vendor: Vendor, day: dt.date) -> list[EvidenceVersion]:
    """After a document was added on ``day``: the latest review again with the documents in
    force that day, on each CC9.2 control. Nothing when the vendor was never reviewed or the
    organization has no CC9.2 control."""
    review = (
        VendorReview.objects.for_org(vendor.organization)
        .filter(vendor=vendor)
        .order_by("-reviewed_on", "-id")
        .first()
    )
    if review is None:
        return []
    controls = criterion_controls(vendor.organization)
    if not controls:
        return []
    data = review_data(vendor, review, as_of=day)
    return system_evidence_record(
        organization=vendor.organization,
        source=_source(vendor, review, day),
        records=[SystemRecord(control=c, data=data) for c in controls],
        day=day,
        actor=Actor.system(REVIEW_REVIEWER),
        object_repr=f"{vendor.name}: documents of {day.isoformat()}",
    )
