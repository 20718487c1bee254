"""Write services for evidence: files, links and pushed data as new versions; review;
recorded removal. Nothing is ever overwritten: each submission is a new version."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from controls.models import Control, FrequencyRule
from evidence.models import (
    EvidenceItem,
    EvidenceKind,
    EvidenceVersion,
    Freshness,
    evidence_upload_to,
)
from evidence.review import evidence_review
from evidence.scanning import upload_scan
from evidence.validation import UploadRejected, check_upload, sanitize_filename
from soc2app.errors import NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action

logger = logging.getLogger(__name__)


def valid_until_for(effective_end: dt.date, frequency: str) -> dt.date:
    """Until when evidence for a period ending ``effective_end`` counts as current."""
    rule = FrequencyRule.objects.filter(frequency=frequency).first()
    days = rule.validity_days if rule else 365
    return effective_end + dt.timedelta(days=days + settings.EVIDENCE_GRACE_DAYS)


def freshness_of(valid_until: dt.date, today: dt.date) -> str:
    if valid_until < today:
        return Freshness.STALE
    if valid_until < today + dt.timedelta(days=settings.EVIDENCE_EXPIRING_DAYS):
        return Freshness.EXPIRING
    return Freshness.FRESH


def _require_submit(membership: Membership, control: Control) -> None:
    # Another organization's control is "not found", whatever the member's role there.
    if control.organization_id != membership.organization_id:
        raise NotFound("No such control.")
    permissions.require_evidence_submit(membership, control)


def _check_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    if start is None:
        raise ValidationFailed(
            "Give the date (or first day) the evidence demonstrates.", field="effective_start"
        )
    end = end or start
    if end < start:
        raise ValidationFailed(
            "The period must end on or after its first day.", field="effective_end"
        )
    today = timezone.localdate()
    if start > today:
        raise ValidationFailed(
            "Evidence cannot demonstrate a day in the future.", field="effective_start"
        )
    if end > today:
        raise ValidationFailed("The period cannot end in the future.", field="effective_end")
    if (end - start).days > 366 * 2:
        raise ValidationFailed(
            "A period of evidence can span at most two years.", field="effective_end"
        )
    return start, end


def _item_for(
    membership: Membership, control: Control, item: EvidenceItem | None, title: str
) -> EvidenceItem:
    if item is not None:
        if item.control_id != control.pk or item.organization_id != membership.organization_id:
            raise NotFound("No such evidence item.")
        if item.is_removed:
            raise ValidationFailed("This evidence was removed; add a new item instead.")
        return item
    title = title.strip()
    if not title:
        raise ValidationFailed("Give the evidence a title.", field="title")
    if len(title) > 200:
        raise ValidationFailed("Keep the title under 200 characters.", field="title")
    new = EvidenceItem(
        organization_id=membership.organization_id,
        control=control,
        title=title,
        created_by=getattr(membership, "user", None),
    )
    new.save()
    return new


def _accountable_person(principal: Any) -> Any:
    """The person a version is uploaded by: the member, or the creator of the API key. Kept
    for keys too, so that independent review (``evidence.review``) refuses the creator and
    their other keys, not only the key itself."""
    if getattr(principal, "is_api_key", False):
        return principal.created_by
    return getattr(principal, "user", None)


def _add_version(
    *,
    membership: Membership,
    control: Control,
    item: EvidenceItem | None,
    title: str,
    description: str,
    effective: tuple[dt.date, dt.date],
    **content: Any,
) -> EvidenceVersion:
    org = membership.organization
    actor = Actor.for_principal(membership)
    with transaction.atomic():
        item = _item_for(membership, control, item, title)
        if description and not item.description:
            item.description = description.strip()
            item.save(update_fields=["description"])
        # Lock the item so concurrent uploads get consecutive numbers.
        EvidenceItem.objects.for_org(org).select_for_update().filter(pk=item.pk).first()
        last = (
            EvidenceVersion.objects.for_org(org).filter(item=item).aggregate(n=Max("number"))["n"]
            or 0
        )
        same = _same_file(org, item, content)
        valid_until = valid_until_for(effective[1], control.frequency)
        freshness = freshness_of(valid_until, timezone.localdate())
        version = EvidenceVersion(
            organization=org,
            item=item,
            number=last + 1,
            effective_start=effective[0],
            effective_end=effective[1],
            valid_until=valid_until,
            uploaded_by=_accountable_person(membership),
            uploaded_by_label=actor.label[:200],
            freshness=freshness,
            notified_freshness=freshness,
            **content,
        )
        if same is not None and (same.effective_start, same.effective_end) == effective:
            raise ValidationFailed(
                f"This file is identical (same SHA-256) to version {same.number}, uploaded "
                f"{timezone.localtime(same.uploaded_at):%d %b %Y} by {same.uploaded_by_label} "
                "for the same period: nothing was added. To show it still holds for another "
                "period, change the effective dates; to replace it, upload the new file.",
                field="file",
                code="duplicate_file",
            )
        # The insert makes it the item's latest and clears the previous one (is_latest, see
        # EvidenceVersion.save), in this transaction and under the item lock taken above.
        version.save()
        version.same_as = same  # read by the views to say so; None for a new file
        activity_record(
            organization=org,
            actor=actor,
            action="upload" if content["kind"] == EvidenceKind.FILE else "add",
            target=version,
            object_repr=f"{control.code}: {item.title} v{version.number}",
            changes={
                "kind": [None, version.kind],
                "sha256": [None, version.sha256],
                "effective": [None, f"{effective[0]}..{effective[1]}"],
                **({"same_file_as": [None, f"v{same.number}"]} if same is not None else {}),
            },
        )
    return version


def _same_file(org: Organization, item: EvidenceItem, content: dict) -> EvidenceVersion | None:
    """The newest earlier version of ``item`` with the same file (SHA-256), if any.

    Versions are append-only and never silently replaced (DESIGN.md), and the same bytes
    are not always a mistake: an unchanged policy re-uploaded for a new period is evidence
    for that period. So the same file for the *same* period is refused (it adds nothing: a
    double submit), and for another period it is stored as a new version with a notice.
    Files only: links and data records are pushed again by integrations on purpose.
    """
    if content.get("kind") != EvidenceKind.FILE:
        return None
    return (
        EvidenceVersion.objects.for_org(org)
        .filter(item=item, sha256=content["sha256"])
        .order_by("-number")
        .first()
    )


def evidence_submit_file(
    *,
    membership: Membership,
    control: Control,
    upload: Any,
    effective_start: dt.date | None,
    effective_end: dt.date | None = None,
    item: EvidenceItem | None = None,
    title: str = "",
    description: str = "",
) -> EvidenceVersion:
    """Store an uploaded file as a new version (of ``item``, or of a new item)."""
    _require_submit(membership, control)
    effective = _check_period(effective_start, effective_end)
    name = getattr(upload, "name", "") or "file"
    try:
        checked = check_upload(upload, name=name)
    except UploadRejected as exc:
        raise ValidationFailed(exc.message, field="file", code=exc.code) from exc
    # Before storing: infected files are refused (and logged); clamd down holds as pending.
    scan_state = upload_scan(membership=membership, control=control, upload=upload, checked=checked)
    key = default_storage.save(
        evidence_upload_to(_OrgRef(membership.organization_id), checked.safe_name), upload
    )
    try:
        return _add_version(
            membership=membership,
            control=control,
            item=item,
            title=title or checked.safe_name,
            description=description,
            effective=effective,
            kind=EvidenceKind.FILE,
            file=key,
            original_name=checked.safe_name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            scan_state=scan_state,
        )
    except BaseException:
        # Nothing half-written: a version that did not commit leaves no file behind.
        default_storage.delete(key)
        raise


class _OrgRef:
    def __init__(self, organization_id: int):
        self.organization_id = organization_id


def evidence_add_link(
    *,
    membership: Membership,
    control: Control,
    url: str,
    effective_start: dt.date | None,
    effective_end: dt.date | None = None,
    item: EvidenceItem | None = None,
    title: str = "",
    description: str = "",
) -> EvidenceVersion:
    _require_submit(membership, control)
    url = (url or "").strip()
    # Length first: URLValidator refuses very long addresses with a less helpful message.
    if len(url) > 2000:
        raise ValidationFailed("Keep the address under 2,000 characters.", field="url")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationFailed("Enter a full http:// or https:// address.", field="url") from exc
    effective = _check_period(effective_start, effective_end)
    return _add_version(
        membership=membership,
        control=control,
        item=item,
        title=title or url[:200],
        description=description,
        effective=effective,
        kind=EvidenceKind.LINK,
        url=url,
        sha256=hashlib.sha256(url.encode()).hexdigest(),
    )


def canonical_json(data: Any) -> bytes:
    # allow_nan=False: NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def evidence_push_data(
    *,
    membership: Membership,
    control: Control,
    data: Any,
    effective_start: dt.date | None,
    effective_end: dt.date | None = None,
    item: EvidenceItem | None = None,
    title: str = "",
    description: str = "",
) -> EvidenceVersion:
    """A JSON record pushed by an integration (a check result, an export)."""
    _require_submit(membership, control)
    if not isinstance(data, dict | list) or not data:
        raise ValidationFailed("Send the record as a non-empty JSON object or array.", field="data")
    try:
        raw = canonical_json(data)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValidationFailed(
            "The record must be plain JSON (no NaN or Infinity) nested at most a few hundred "
            "levels deep.",
            field="data",
        ) from exc
    if len(raw) > settings.EVIDENCE_MAX_DATA_BYTES:
        raise ValidationFailed(
            f"The record is {len(raw):,} bytes; the limit is {settings.EVIDENCE_MAX_DATA_BYTES:,}. "
            "Upload it as a file instead.",
            field="data",
        )
    effective = _check_period(effective_start, effective_end)
    return _add_version(
        membership=membership,
        control=control,
        item=item,
        title=title or f"Data record for {control.code}",
        description=description,
        effective=effective,
        kind=EvidenceKind.DATA,
        data=data,
        size=len(raw),
        content_type="application/json",
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def evidence_item_remove(
    *, membership: Membership, item: EvidenceItem, reason: str
) -> EvidenceItem:
    """Take an item out of use. Its versions and files are kept, and the removal is logged."""
    if item.organization_id != membership.organization_id:
        raise NotFound("No such evidence.")
    permissions.require_evidence_submit(membership, item.control)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why the evidence is removed.", field="reason")
    if item.is_removed:
        raise ValidationFailed("This evidence was already removed.")
    with transaction.atomic():
        item.removed_at = timezone.now()
        item.removed_by = getattr(membership, "user", None)
        item.removal_reason = reason
        item.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="remove",
            target=item,
            changes={"removed": [None, reason]},
        )
    return item


def evidence_download_record(
    *, membership: Membership, version: EvidenceVersion, client_ip: str | None = None
) -> None:
    """Log that a member fetched a version's content (auditors included: reading is allowed,
    and who saw which evidence is part of the audit trail), and from which address."""
    if version.organization_id != membership.organization_id:
        raise NotFound("No such evidence.")
    permissions.require(membership, Action.VIEW)
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="download",
            target=version,
            object_repr=f"{version.item.title} v{version.number}",
            changes={"sha256": [None, version.sha256], "client_ip": [None, client_ip]},
        )


__all__ = [
    "canonical_json",
    "evidence_add_link",
    "evidence_download_record",
    "evidence_item_remove",
    "evidence_push_data",
    "evidence_review",
    "evidence_submit_file",
    "freshness_of",
    "sanitize_filename",
    "valid_until_for",
]
