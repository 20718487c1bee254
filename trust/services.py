"""Write services of the trust center's settings: the page (publishing, its address, texts,
the audit shown, the NDA, allow-listed domains), the controls chosen, and the documents
offered (an uploaded file through the evidence upload rules and scanner, or an approved policy
version; public or private). Owners and admins only (``trust.permissions``); every change in
the activity log and bumps the page's version, so the cached public page shows it at once.

A private document must be a PDF (an uploaded PDF or a policy, rendered as one): each of its
downloads is watermarked with the requester on every page, which other formats cannot carry.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from controls.models import Audit, Control
from evidence.side_files import store_side_file
from policies.models import PolicyVersion, VersionState
from soc2app.errors import Conflict, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from trust.domains import new_token
from trust.hosts import forget_host, is_app_host
from trust.models import (
    TrustCenter,
    TrustControl,
    TrustDocument,
    Visibility,
    document_upload_to,
)
from trust.permissions import MANAGE

SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,48}[a-z0-9])")
DOMAIN_RE = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
MAX_DOMAINS = 50
MAX_CONTROLS = 200
MAX_DOCUMENTS = 100
DEFAULT_NDA = (
    "I agree to keep the documents I receive from {organization} confidential, to use them "
    "only to evaluate {organization}'s security, and not to share them outside my company."
)
PRIVATE_NEEDS_PDF = (
    "A private document must be a PDF: every download is watermarked with who asked for it. "
    "Upload a PDF, or make this document public."
)
CENTER_FIELDS = (
    "published",
    "slug",
    "custom_domain",
    "headline",
    "intro",
    "audit",
    "show_categories",
    "show_subprocessors",
    "nda_text",
    "allowed_domains",
)


def _log(membership: Membership, action: str, target: Any, changes: dict) -> None:
    activity_record(
        organization=membership.organization,
        actor=Actor.for_principal(membership),
        action=action,
        target=target,
        changes=changes,
    )


def bump(org: Organization) -> None:
    """A new version of the page: the cached one is never served again."""
    TrustCenter.objects.for_org(org).update(version=F("version") + 1, updated_at=timezone.now())


def center_of(org: Organization) -> TrustCenter:
    """The organization's trust center, or an unsaved, unpublished one with defaults."""
    center = TrustCenter.objects.for_org(org).select_related("audit").first()
    if center is None:
        center = TrustCenter(
            organization=org,
            slug=org.slug,
            headline=f"{org.name} trust center",
            nda_text=DEFAULT_NDA.format(organization=org.name),
        )
    return center


def _domain(value: str, field: str) -> str:
    value = (value or "").strip().lower().rstrip(".")
    if value and not DOMAIN_RE.fullmatch(value):
        raise ValidationFailed(
            f"{value[:80]} is not a domain name (like example.com).", field=field
        )
    return value


def _checked(org: Organization, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(CENTER_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    out = dict(values)
    if "slug" in out:
        out["slug"] = (out["slug"] or "").strip().lower()
        if not SLUG_RE.fullmatch(out["slug"]):
            raise ValidationFailed(
                "The address needs 3 to 50 lower-case letters, digits or hyphens "
                "(not starting or ending with a hyphen).",
                field="slug",
            )
    if "custom_domain" in out:
        claimed = (out["custom_domain"] or "").strip().lower().rstrip(".")
        if claimed and is_app_host(claimed):
            raise ValidationFailed(
                "That is one of the application's own addresses: use a domain of yours.",
                field="custom_domain",
            )
        out["custom_domain"] = _domain(claimed, "custom_domain")
    for name, limit in (("headline", 200), ("intro", 2000), ("nda_text", 20000)):
        if name in out:
            out[name] = (out[name] or "").strip()
            if len(out[name]) > limit:
                raise ValidationFailed(f"At most {limit} characters.", field=name)
    if "nda_text" in out and not out["nda_text"]:
        raise ValidationFailed(
            "Write the NDA visitors accept before they request a private document.",
            field="nda_text",
        )
    if "allowed_domains" in out:
        raw = out["allowed_domains"]
        if isinstance(raw, str):
            raw = re.split(r"[\s,;]+", raw)
        domains = [d for d in (_domain(v, "allowed_domains") for v in raw or []) if d]
        domains = list(dict.fromkeys(domains))
        if len(domains) > MAX_DOMAINS:
            raise ValidationFailed(f"At most {MAX_DOMAINS} domains.", field="allowed_domains")
        out["allowed_domains"] = domains
    audit = out.get("audit")
    if audit is not None and (not isinstance(audit, Audit) or audit.organization_id != org.pk):
        raise ValidationFailed("No such audit in this organization.", field="audit")
    return out


def _plain(value: Any) -> Any:
    return value.pk if isinstance(value, Audit) else value


def center_save(*, membership: Membership, **values: Any) -> TrustCenter:
    """Create or change the trust center (publishing included); a new version of the page."""
    permissions.require(membership, MANAGE)
    org = membership.organization
    values = _checked(org, values)
    center = center_of(org)
    creating = center.pk is None
    changes = {}
    for name, value in values.items():
        before = getattr(center, name)
        if creating or before != value:
            changes[name] = [None if creating else _plain(before), _plain(value)]
            setattr(center, name, value)
    if not changes:
        return center
    _domain_changed(center, changes)
    center.updated_at = timezone.now()
    if not creating:
        center.version += 1
    try:
        with transaction.atomic():
            center.save()
            action = (
                "create"
                if creating
                else ("publish" if changes.get("published") == [False, True] else "update")
            )
            _log(membership, action, center, changes)
    except IntegrityError as exc:
        if any(k in str(exc) for k in ("trust_center_domain_verified_once", ".custom_domain")):
            raise Conflict(
                "Another trust center claimed that domain.", field="custom_domain"
            ) from exc
        raise Conflict(
            "Another trust center uses that address or domain: choose another.", field="slug"
        ) from exc
    if "custom_domain" in changes:
        for host in changes["custom_domain"]:
            forget_host(host or "")
    return center


def _domain_changed(center: TrustCenter, changes: dict) -> None:
    """A new (or first) custom domain is unverified until its TXT record is checked."""
    if center.custom_domain and not center.domain_token:
        center.domain_token = new_token()
    if "custom_domain" in changes:  # the daily re-check starts afresh too
        center.domain_checked_at, center.domain_check_failures = None, 0
        center.domain_check_error = ""
    if "custom_domain" in changes and center.domain_verified_at is not None:
        changes["domain_verified_at"] = [center.domain_verified_at, None]
        center.domain_verified_at = None


def controls_publish(*, membership: Membership, control_ids: list[int]) -> list[int]:
    """The controls the page shows, replacing the previous choice; the ids chosen."""
    permissions.require(membership, MANAGE)
    org = membership.organization
    wanted = sorted({int(i) for i in control_ids})
    if len(wanted) > MAX_CONTROLS:
        raise ValidationFailed(f"Choose at most {MAX_CONTROLS} controls.", field="controls")
    found = set(Control.objects.for_org(org).filter(pk__in=wanted).values_list("pk", flat=True))
    if found != set(wanted):
        raise ValidationFailed("No such control in this organization.", field="controls")
    rows = TrustControl.objects.for_org(org)
    before = sorted(rows.values_list("control_id", flat=True))
    if before == wanted:
        return wanted
    with transaction.atomic():
        rows.exclude(control_id__in=wanted).delete()
        TrustControl.objects.bulk_create(
            [TrustControl(organization=org, control_id=pk) for pk in wanted if pk not in before]
        )
        bump(org)
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="publish_controls",
            object_type="trust.trustcontrol",
            object_repr="Trust center controls",
            changes={"controls": [before, wanted]},
        )
    return wanted


def _document_checks(title: str, visibility: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed(
            "Give the document a title of at most 200 characters.", field="title"
        )
    if visibility not in Visibility.values:
        raise ValidationFailed("Choose public or private.", field="visibility")
    return title


def document_add(
    *,
    membership: Membership,
    title: str,
    visibility: str,
    description: str = "",
    upload: Any = None,
    policy_version: PolicyVersion | None = None,
) -> TrustDocument:
    """A document offered on the page: an uploaded file (checked and scanned like evidence)
    or an approved policy version. A refusal stores nothing."""
    permissions.require(membership, MANAGE)
    org = membership.organization
    title = _document_checks(title, visibility)
    description = (description or "").strip()[:500]
    if (upload is None) == (policy_version is None):
        raise ValidationFailed("Choose a file or a policy.", field="file")
    if (
        TrustDocument.objects.for_org(org).filter(withdrawn_at__isnull=True).count()
        >= MAX_DOCUMENTS
    ):
        raise ValidationFailed(f"A trust center offers at most {MAX_DOCUMENTS} documents.")
    doc = TrustDocument(
        organization=org, title=title, description=description, visibility=visibility
    )
    if policy_version is not None:
        if (
            policy_version.organization_id != org.pk
            or policy_version.state != VersionState.APPROVED
        ):
            raise ValidationFailed("Choose an approved policy version.", field="policy_version")
        doc.policy_version = policy_version
        with transaction.atomic():
            doc.save()
            bump(org)
            _log(
                membership,
                "create",
                doc,
                {
                    "title": [None, title],
                    "visibility": [None, visibility],
                    "policy_version": [None, policy_version.pk],
                },
            )
        return doc
    stored = store_side_file(
        upload,
        key=lambda name: document_upload_to(doc, name),
        field="file",
        what="The document",
        without="add it later",
        max_bytes=settings.TRUST_DOCUMENT_MAX_BYTES,
    )
    try:
        if visibility == Visibility.PRIVATE and stored.content_type != "application/pdf":
            raise ValidationFailed(PRIVATE_NEEDS_PDF, field="visibility")
        doc.file = stored.key
        doc.file_name, doc.content_type = stored.name, stored.content_type
        doc.size, doc.sha256 = stored.size, stored.sha256
        with transaction.atomic():
            doc.save()
            bump(org)
            changes = {
                "title": [None, title],
                "visibility": [None, visibility],
                "file": [None, stored.name],
                "sha256": [None, stored.sha256],
            }
            _log(membership, "create", doc, changes)
    except BaseException:
        default_storage.delete(stored.key)
        raise
    return doc


def document_update(
    *,
    membership: Membership,
    document: TrustDocument,
    title: str,
    visibility: str,
    description: str = "",
) -> TrustDocument:
    permissions.require(membership, MANAGE)
    title = _document_checks(title, visibility)
    if visibility == Visibility.PRIVATE and not document.is_pdf:
        raise ValidationFailed(PRIVATE_NEEDS_PDF, field="visibility")
    new = {
        "title": title,
        "visibility": visibility,
        "description": (description or "").strip()[:500],
    }
    changes = {k: [getattr(document, k), v] for k, v in new.items() if getattr(document, k) != v}
    if not changes:
        return document
    for name, value in new.items():
        setattr(document, name, value)
    with transaction.atomic():
        document.save()
        bump(membership.organization)
        _log(membership, "update", document, changes)
    return document


def document_withdraw(*, membership: Membership, document: TrustDocument) -> None:
    """Off the page, its links dead; kept for the requests that name it."""
    permissions.require(membership, MANAGE)
    if document.withdrawn_at is not None:
        return
    document.withdrawn_at = timezone.now()
    with transaction.atomic():
        document.save(update_fields=["withdrawn_at"])
        bump(membership.organization)
        _log(membership, "withdraw", document, {"withdrawn_at": [None, document.withdrawn_at]})
