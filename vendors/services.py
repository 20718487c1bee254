"""Write services of vendors: the inventory (create, change, delete), documents collected from a
vendor (checked and stored like evidence files; a new document is always a new row), and
reviews (the next review date follows the vendor's criticality and the organization's rules,
``vendors.rules``; a change of criticality moves a date its latest review derived). Managers only
(``VENDOR_MANAGE``); every change in the activity log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from evidence.side_files import store_side_file
from soc2app.errors import Conflict, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership
from tenants.permissions import Action
from vendors.evidence import documents_evidence_record, review_evidence_record
from vendors.models import (
    Criticality,
    DataKind,
    Decision,
    DocumentKind,
    ResidualRisk,
    Vendor,
    VendorDocument,
    VendorReview,
    document_upload_to,
)
from vendors.rules import rules_for
from vendors.services_rules import vendors_follow_criticality

MANAGE = Action.VENDOR_MANAGE
MAX_VENDORS = 5000
FIELDS = (
    "name",
    "service",
    "owner",
    "criticality",
    "data_kinds",
    "access",
    "contract_start",
    "contract_end",
    "is_subprocessor",
    "website",
    "next_review_date",
    "notes",
)
NOTES_MAX = 5000


def _log(membership: Membership, action: str, target: Any, changes: dict) -> None:
    activity_record(
        organization=membership.organization,
        actor=Actor.for_principal(membership),
        action=action,
        target=target,
        changes=changes,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Membership):
        return value.pk
    return value


def vendor_values_check(membership: Membership, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    out = dict(values)
    if "name" in out:
        out["name"] = (out["name"] or "").strip()
        if not out["name"] or len(out["name"]) > 200:
            raise ValidationFailed(
                "Give the vendor a name of at most 200 characters.", field="name"
            )
    if "criticality" in out and out["criticality"] not in Criticality.values:
        raise ValidationFailed("Choose low, medium, high or critical.", field="criticality")
    if "data_kinds" in out:
        kinds = list(dict.fromkeys(out["data_kinds"] or []))
        bad = [k for k in kinds if k not in DataKind.values]
        if bad:
            raise ValidationFailed(f"Unknown kind of data: {', '.join(bad)}.", field="data_kinds")
        out["data_kinds"] = kinds
    owner = out.get("owner")
    if owner is not None and owner.organization_id != membership.organization_id:
        raise ValidationFailed("No such member in this organization.", field="owner")
    for name in ("service", "access", "website"):
        if name in out:
            out[name] = (out[name] or "").strip()[:300]
    if "notes" in out:
        out["notes"] = (out["notes"] or "").strip()
        if len(out["notes"]) > NOTES_MAX:
            raise ValidationFailed(f"Keep the notes under {NOTES_MAX} characters.", field="notes")
    return out


def vendor_dates_check(start: dt.date | None, end: dt.date | None) -> None:
    if start and end and end < start:
        raise ValidationFailed("The contract cannot end before it starts.", field="contract_end")


def _dates_agree(vendor: Vendor) -> None:
    vendor_dates_check(vendor.contract_start, vendor.contract_end)


def vendor_create(*, membership: Membership, **values: Any) -> Vendor:
    permissions.require(membership, MANAGE)
    org = membership.organization
    values = vendor_values_check(membership, values)
    if "name" not in values:
        raise ValidationFailed("Give the vendor a name.", field="name")
    if Vendor.objects.for_org(org).count() >= MAX_VENDORS:
        raise ValidationFailed(f"An organization has at most {MAX_VENDORS} vendors.")
    vendor = Vendor(organization=org, **values)
    _dates_agree(vendor)
    try:
        with transaction.atomic():
            vendor.save()
            _log(membership, "create", vendor, {k: [None, _plain(v)] for k, v in values.items()})
    except IntegrityError as exc:
        raise Conflict("A vendor has that name already.", field="name") from exc
    return vendor


def vendor_update(*, membership: Membership, vendor: Vendor, **values: Any) -> Vendor:
    permissions.require(membership, MANAGE)
    values = vendor_values_check(membership, values)
    changes = {}
    for name, value in values.items():
        before = getattr(vendor, name)
        if before != value:
            changes[name] = [_plain(before), _plain(value)]
            setattr(vendor, name, value)
    if not changes:
        return vendor
    _dates_agree(vendor)
    vendor.updated_at = timezone.now()
    if "criticality" in changes:
        vendor.criticality_changed_at = vendor.updated_at
    org = membership.organization
    try:
        with transaction.atomic():
            vendor.save()
            if "criticality" in changes and "next_review_date" not in changes:
                # The next review follows the new criticality (when it is still the date
                # the latest review derived).
                before = vendor.next_review_date
                if vendors_follow_criticality(org, {vendor.pk: changes["criticality"][0]}):
                    vendor.refresh_from_db(fields=["next_review_date", "updated_at"])
                    changes["next_review_date"] = [_plain(before), _plain(vendor.next_review_date)]
            _log(membership, "update", vendor, changes)
    except IntegrityError as exc:
        raise Conflict("A vendor has that name already.", field="name") from exc
    return vendor


def vendor_delete(*, membership: Membership, vendor: Vendor) -> None:
    """Only a vendor with no document and no review: those are records an auditor may ask for."""
    permissions.require(membership, MANAGE)
    org = membership.organization
    held = VendorDocument.objects.for_org(org).filter(vendor=vendor).exists()
    if held or VendorReview.objects.for_org(org).filter(vendor=vendor).exists():
        raise Conflict(
            f"{vendor.name} has documents or reviews on record: it cannot be deleted. "
            "Set its contract end date instead."
        )
    with transaction.atomic():
        _log(membership, "delete", vendor, {"name": [vendor.name, None]})
        vendor.delete()


def document_add(
    *,
    membership: Membership,
    vendor: Vendor,
    kind: str,
    upload: Any,
    period_end: dt.date | None = None,
    expires_on: dt.date | None = None,
) -> VendorDocument:
    """A new document (never replacing one): checked and stored like an evidence file; a
    refusal stores nothing."""
    permissions.require(membership, MANAGE)
    if kind not in DocumentKind.values:
        raise ValidationFailed("Choose the kind of document.", field="kind")
    if kind in (DocumentKind.SOC2_REPORT, DocumentKind.BRIDGE_LETTER) and period_end is None:
        what = "the period end" if kind == DocumentKind.SOC2_REPORT else "the date it covers up to"
        raise ValidationFailed(f"Give {what} (YYYY-MM-DD).", field="period_end")
    if period_end and period_end > timezone.localdate() + dt.timedelta(days=366):
        raise ValidationFailed("The period end is more than a year away.", field="period_end")
    if upload is None:
        raise ValidationFailed("Choose a file.", field="file")
    org = membership.organization
    holder = VendorDocument(organization=org)
    stored = store_side_file(
        upload,
        key=lambda name: document_upload_to(holder, name),
        field="file",
        what="The document",
        without="add it later",
    )
    try:
        with transaction.atomic():
            doc = VendorDocument.objects.create(
                organization=org,
                vendor=vendor,
                kind=kind,
                file=stored.key,
                file_name=stored.name,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                period_end=period_end,
                expires_on=expires_on,
                uploaded_by=None if getattr(membership, "is_api_key", False) else membership,
                uploaded_by_label=Actor.for_principal(membership).label[:200],
            )
            _log(
                membership,
                "upload",
                vendor,
                {
                    "kind": [None, kind],
                    "file": [None, stored.name],
                    "sha256": [None, stored.sha256],
                },
            )
            documents_evidence_record(vendor=vendor, day=timezone.localdate())
    except BaseException:
        from django.core.files.storage import default_storage

        default_storage.delete(stored.key)
        raise
    return doc


def review_record(
    *,
    membership: Membership,
    vendor: Vendor,
    reviewed_on: dt.date,
    residual_risk: str,
    decision: str,
    notes: str = "",
) -> VendorReview:
    """A review; the vendor's next review date follows its criticality (``vendors.rules``).
    In the same transaction, the review is recorded as evidence on the organization's CC9.2
    controls (``vendors.evidence``)."""
    permissions.require(membership, MANAGE)
    today = timezone.localdate()
    if not isinstance(reviewed_on, dt.date) or reviewed_on > today:
        raise ValidationFailed("Give the review date, today or earlier.", field="reviewed_on")
    if residual_risk not in ResidualRisk.values:
        raise ValidationFailed(
            "Choose the residual risk: low, medium or high.", field="residual_risk"
        )
    if decision not in Decision.values:
        raise ValidationFailed("Choose a decision.", field="decision")
    notes = (notes or "").strip()
    if decision != Decision.APPROVE and not notes:
        raise ValidationFailed("Write the conditions or the reasons in the notes.", field="notes")
    next_date = rules_for(membership.organization).next_review(vendor.criticality, reviewed_on)
    with transaction.atomic():
        review = VendorReview.objects.create(
            organization=membership.organization,
            vendor=vendor,
            reviewed_by=None if getattr(membership, "is_api_key", False) else membership,
            reviewed_by_label=Actor.for_principal(membership).label[:200],
            reviewed_on=reviewed_on,
            notes=notes[:5000],
            residual_risk=residual_risk,
            decision=decision,
            next_review_date=next_date,
        )
        before = vendor.next_review_date
        vendor.next_review_date = next_date
        vendor.updated_at = timezone.now()
        vendor.save(update_fields=["next_review_date", "updated_at"])
        _log(
            membership,
            "review",
            vendor,
            {
                "decision": [None, decision],
                "residual_risk": [None, residual_risk],
                "next_review_date": [_plain(before), next_date.isoformat()],
            },
        )
        review_evidence_record(vendor=vendor, review=review)
    return review
