"""Requests for private documents, from the public page to the download.

1. A visitor gives their name, e-mail and company and accepts the NDA the owner wrote
   (``request_create``): the request stores the NDA's text and SHA-256, the time, the
   client's address and browser. Logged twice: "requested" and "NDA accepted".
2. An owner or admin approves or denies it (``request_decide``); a visitor whose e-mail domain
   the owner allow-listed is approved at once. Approval makes a personal link (a random token;
   only its SHA-256 is stored) that expires after ``TRUST_LINK_DAYS`` and serves at most
   ``TRUST_LINK_MAX_DOWNLOADS`` downloads, e-mailed after the commit. A denial is e-mailed
   too (after the commit): politely, without a reason (none is recorded for the visitor) and
   without naming who decided.
3. Each download through the link (``link_claim``) is counted by one conditional UPDATE and
   logged; the view watermarks the PDF with the requester (``trust.watermark``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from soc2app.errors import Conflict, NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.validation import header_safe
from trust.models import RequestStatus, TrustCenter, TrustDocument, TrustRequest, Visibility
from trust.permissions import MANAGE

logger = logging.getLogger(__name__)


class LinkGone(ValidationFailed):
    status = 410
    code = "gone"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _visitor(request: TrustRequest) -> Actor:
    return Actor.system(f"visitor {request.email} (trust center)")


def _log(
    org: Organization, actor: Actor, action: str, request: TrustRequest, changes: dict
) -> None:
    activity_record(
        organization=org,
        actor=actor,
        action=action,
        target=request,
        object_repr=f"{request.email} ({request.company}): {request.document.title}"[:200],
        changes=changes,
    )


def _clean(value: str, field: str, label: str, limit: int = 200) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise ValidationFailed(f"Give your {label}.", field=field)
    if len(value) > limit:
        raise ValidationFailed(
            f"Your {label} is too long: at most {limit} characters.", field=field
        )
    return value


def request_create(
    *,
    center: TrustCenter,
    document: TrustDocument,
    name: str,
    email: str,
    company: str,
    nda_accepted: bool,
    shown_sha256: str,
    ip_address: str | None,
    user_agent: str,
) -> TrustRequest:
    """A visitor's request for a private document; approved at once for an allow-listed
    domain (the link is e-mailed after the commit)."""
    org = center.organization
    if document.organization_id != org.pk or document.visibility != Visibility.PRIVATE:
        raise NotFound("No such document.")
    name = _clean(name, "name", "name")
    company = _clean(company, "company", "company")
    email = (email or "").strip().lower()
    if len(email) > 254:
        raise ValidationFailed("That e-mail address is too long.", field="email")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailed(
            "Give a valid e-mail address, like ana@example.com.", field="email"
        ) from exc
    if not nda_accepted:
        raise ValidationFailed(
            "Tick the box to accept the NDA: documents are sent only under it.", field="nda"
        )
    if shown_sha256 != text_sha256(center.nda_text):
        raise ValidationFailed(
            "The NDA changed while you read it: read it again and accept.", field="nda"
        )
    now = timezone.now()
    with transaction.atomic():
        request = TrustRequest.objects.create(
            organization=org,
            document=document,
            name=name,
            email=email,
            company=company,
            nda_text=center.nda_text,
            nda_sha256=shown_sha256,
            nda_accepted_at=now,
            ip_address=ip_address or None,
            user_agent=(user_agent or "")[:500],
        )
        visitor = _visitor(request)
        _log(
            org,
            visitor,
            "request",
            request,
            {"document": [None, document.title], "company": [None, company]},
        )
        nda = {
            "nda_sha256": [None, shown_sha256],
            "ip_address": [None, ip_address],
            "user_agent": [None, request.user_agent],
        }
        _log(org, visitor, "nda_accept", request, nda)
        domain = email.rsplit("@", 1)[1]
        if domain in center.allowed_domains:
            _approve(org, request, None, Actor.system(f"allow-listed domain {domain}"), auto=True)
    return request


def _approve(
    org: Organization,
    request: TrustRequest,
    membership: Membership | None,
    actor: Actor,
    *,
    auto: bool,
) -> None:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    request.status = RequestStatus.APPROVED
    request.auto_approved = auto
    request.decided_by = membership
    request.decided_by_label = actor.label[:200]
    request.decided_at = now
    request.token_sha256 = token_hash(token)
    request.link_expires_at = now + dt.timedelta(days=settings.TRUST_LINK_DAYS)
    request.save()
    changes = {
        "status": ["pending", "approved"],
        "link_expires_at": [None, request.link_expires_at],
    }
    if auto:
        changes["auto_approved"] = [False, True]
    _log(org, actor, "approve", request, changes)
    message = _link_email(org, request, token)
    transaction.on_commit(lambda: _send(message, request))


def request_decide(*, membership: Membership, request: TrustRequest, approve: bool) -> TrustRequest:
    """Approve (the visitor is e-mailed a personal link) or deny (the visitor is told, by
    e-mail) a pending request."""
    permissions.require(membership, MANAGE)
    org = membership.organization
    with transaction.atomic():
        locked = (
            TrustRequest.objects.for_org(org)
            .select_for_update()
            .select_related("document")
            .filter(pk=request.pk)
            .first()
        )
        if locked is None or locked.organization_id != org.pk:
            raise NotFound("No such request.")
        if locked.status != RequestStatus.PENDING:
            raise Conflict(f"This request was {locked.get_status_display().lower()} already.")
        actor = Actor.for_principal(membership)
        if approve:
            _approve(org, locked, membership, actor, auto=False)
        else:
            locked.status = RequestStatus.DENIED
            locked.decided_by, locked.decided_by_label = membership, actor.label[:200]
            locked.decided_at = timezone.now()
            locked.save()
            _log(org, actor, "deny", locked, {"status": ["pending", "denied"]})
            message = _denial_email(org, locked)
            transaction.on_commit(lambda: _send(message, locked))
    return locked


def _link_email(org: Organization, request: TrustRequest, token: str) -> EmailMessage:
    center = TrustCenter.objects.for_org(org).only("slug").get()
    path = reverse("trust_download", kwargs={"slug": center.slug, "token": token})
    context = {
        "organization_name": org.name,
        "request": request,
        "document_title": request.document.title,
        "url": settings.SITE_URL + path,
        "expires_at": request.link_expires_at,
        "max_downloads": settings.TRUST_LINK_MAX_DOWNLOADS,
    }
    return EmailMessage(
        subject=header_safe(f"{org.name}: your download link for {request.document.title}"),
        body=render_to_string("emails/trust_link.txt", context),
        to=[request.email],
    )


def _denial_email(org: Organization, request: TrustRequest) -> EmailMessage:
    context = {
        "organization_name": org.name,
        "request": request,
        "document_title": request.document.title,
    }
    return EmailMessage(
        subject=header_safe(f"{org.name}: your request for {request.document.title}"),
        body=render_to_string("emails/trust_denied.txt", context),
        to=[request.email],
    )


def _send(message: EmailMessage, request: TrustRequest) -> None:
    """After the commit. A failed send (SMTP down) is logged, not a 500: the decision stands
    and the owner can see it on the Requests page."""
    try:
        message.send()
    except Exception:
        logger.exception("trust center e-mail for request %s could not be sent", request.pk)


def link_resolve(*, org: Organization, token: str) -> TrustRequest:
    """The approved request behind ``token`` in ``org``, its link still good: NotFound for an
    unknown token (or another organization's), LinkGone once expired, used up or withdrawn."""
    if not token or len(token) > 100:
        raise NotFound("This link is not valid.")
    rows = TrustRequest.objects.for_org(org).select_related("document__policy_version__policy")
    request = rows.filter(token_sha256=token_hash(token)).first()
    if request is None or request.status != RequestStatus.APPROVED:
        raise NotFound("This link is not valid.")
    if request.document.withdrawn_at is not None:
        raise LinkGone("This document is no longer offered.")
    if request.link_expires_at is None or request.link_expires_at <= timezone.now():
        raise LinkGone("This link has expired: request the document again.")
    if request.downloads >= settings.TRUST_LINK_MAX_DOWNLOADS:
        raise LinkGone(USED_UP)
    return request


USED_UP = "This link was used as many times as it allows: request the document again."


def link_count(*, org: Organization, request: TrustRequest, ip_address: str | None) -> int:
    """Count one download (one conditional UPDATE: concurrent downloads cannot exceed the
    limit) and log it; LinkGone when the link ran out meanwhile. The number of downloads."""
    now = timezone.now()
    with transaction.atomic():
        counted = (
            TrustRequest.objects.for_org(org)
            .filter(
                pk=request.pk,
                downloads__lt=settings.TRUST_LINK_MAX_DOWNLOADS,
                link_expires_at__gt=now,
            )
            .update(downloads=F("downloads") + 1)
        )
        if not counted:
            raise LinkGone(USED_UP)
        downloads = request.downloads + 1
        changes = {"downloads": [downloads - 1, downloads], "ip_address": [None, ip_address]}
        _log(org, _visitor(request), "download", request, changes)
    return downloads
