"""The sweep that revokes credentials whose creator no longer stands behind them.

Authentication already refuses an API key or SCIM token whose creator's access ended
(``tenants.standing``); this makes it final and visible. Every 15 minutes (Celery beat,
``tenants.tasks.revoke_lapsed_credentials``) each organization is swept in its own scope (its
row-level security applies; nothing is read across organizations): the lapsed API keys and
registered credentials (``tenants.selectors.CREATED_CREDENTIALS``: SCIM tokens) are revoked,
each with an activity entry by the system, and the organization's active owners get one e-mail
listing what this run revoked. A row is claimed by a conditional update that checks again that
it is unrevoked and its creator still lapsed, so a second (or concurrent) run, or a creator
given access back meanwhile, revokes and mails nothing more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tenants.activity import Actor, activity_record
from tenants.context import org_scope
from tenants.models import ApiKey, Membership, Organization, Role
from tenants.permissions import Action
from tenants.selectors import CREATED_CREDENTIALS
from tenants.standing import LAPSED, REASON, creator_lapsed
from tenants.validation import header_safe

logger = logging.getLogger(__name__)
ACTOR = "system (credential sweep)"


@dataclass(frozen=True)
class SweepResult:
    organization: Organization
    revoked: list[Any]


def _kinds() -> list[tuple[type[models.Model], Action, bool]]:
    """Each credential model, the action its creator must keep, and whether it has a system
    path (a row with no creator is then a system credential, not a lapsed one)."""
    registered = [(model, action, False) for model, action in CREATED_CREDENTIALS.items()]
    return [(ApiKey, Action.APIKEY_MANAGE, True), *registered]


def _lapsed(model: type[models.Model], action: Action, system: bool, org: Organization) -> Any:
    members = Membership.objects.for_org(org)
    return (
        model.objects.for_org(org)
        .annotate(**{LAPSED: creator_lapsed(action, members, system_issued=system)})
        .filter(**{LAPSED: True, "revoked_at__isnull": True})
    )


def lapsed_credentials(organization: Organization) -> list[Any]:
    """The organization's unrevoked credentials whose creator no longer stands behind them,
    with their creator (one query per credential kind)."""
    return [
        row
        for model, action, system in _kinds()
        for row in _lapsed(model, action, system, organization)
        .select_related("created_by")
        .order_by("name", "id")
    ]


def _creator(row: Any) -> str:
    return row.created_by.email if row.created_by is not None else "a deleted account"


def lapsed_credentials_revoke(*, organization: Organization) -> list[Any]:
    """Revoke the organization's lapsed credentials (a system job); returns the revoked rows.
    The owners' e-mail is sent after the commit."""
    actor = Actor.system(ACTOR)
    revoked: list[Any] = []
    with transaction.atomic():
        now = timezone.now()
        for model, action, system in _kinds():
            rows = _lapsed(model, action, system, organization).select_related("created_by")
            for row in rows.order_by("name", "id"):
                # The conditions again, on this row alone: claimed only if still lapsed.
                claimed = _lapsed(model, action, system, organization).filter(pk=row.pk)
                if not claimed.update(revoked_at=now):
                    continue
                row.revoked_at = now
                activity_record(
                    organization=organization,
                    actor=actor,
                    action="revoke",
                    target=row,
                    changes={
                        "revoked_at": [None, now.isoformat()],
                        "reason": [None, f"{REASON}: {_creator(row)}"],
                    },
                )
                revoked.append(row)
        message = _owners_email(organization, revoked) if revoked else None
        if message is not None:
            transaction.on_commit(lambda: _send(message, organization))
    return revoked


def lapsed_credentials_sweep() -> list[SweepResult]:
    """Every organization, each in its own scope and transaction (the beat job)."""
    results = []
    for organization in Organization.objects.order_by("pk"):
        with org_scope(organization):
            revoked = lapsed_credentials_revoke(organization=organization)
        if revoked:
            results.append(SweepResult(organization=organization, revoked=revoked))
    return results


def _owners_email(organization: Organization, revoked: list[Any]) -> EmailMessage | None:
    now = timezone.now()
    owners = (
        Membership.objects.for_org(organization)
        .filter(role=Role.OWNER)
        .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))
        .select_related("user")
        .order_by("user__email")
    )
    emails = [m.user.email for m in owners if m.user.email]
    if not emails:
        logger.warning("no active owner of %s to tell about revoked credentials", organization)
        return None
    slug = organization.slug
    context = {
        "organization_name": header_safe(organization.name),
        "rows": [
            {
                "kind": getattr(row, "kind_label", row._meta.verbose_name),
                "name": row.name,
                "prefix": row.prefix,
                "creator": _creator(row),
            }
            for row in revoked
        ],
        "keys_url": settings.SITE_URL + reverse("api_keys", kwargs={"org_slug": slug}),
        "activity_url": settings.SITE_URL + reverse("activity", kwargs={"org_slug": slug}),
    }
    count = len(revoked)
    return EmailMessage(
        subject=f"{header_safe(organization.name)}: {count} credential"
        f"{'s' if count != 1 else ''} revoked, their creator's access ended",
        body=render_to_string("emails/credentials_revoked.txt", context),
        to=emails,
    )


def _send(message: EmailMessage, organization: Organization) -> None:
    """After the commit. A failed send is logged: the revocations stand, and the activity log
    lists them."""
    try:
        message.send()
    except Exception:
        logger.exception("credentials of %s revoked; the owners' e-mail failed", organization.slug)
