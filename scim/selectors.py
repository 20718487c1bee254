"""Reads of SCIM users: the organization's non-auditor memberships, each with its user and
SCIM link in the same query (``select_related``), and ``scim_active`` for filtering."""

from __future__ import annotations

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from scim.models import ProvisioningSettings
from scim.protocol import ScimError
from tenants.models import Membership, Organization, Role


def scim_users(org: Organization) -> QuerySet[Membership]:
    active = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    return (
        Membership.objects.for_org(org)
        .exclude(role=Role.AUDITOR)
        .select_related("user", "scim_link")
        .annotate(
            scim_active=Case(
                When(active, then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
        .order_by("pk")
    )


def is_id(text: str) -> bool:
    """A membership id as SCIM sends it: ASCII digits within the column's range."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def get_scim_user(org: Organization, scim_id: str) -> Membership:
    """The member with this SCIM id in ``org``; another organization's id is not found."""
    found = scim_users(org).filter(pk=int(scim_id)).first() if is_id(scim_id) else None
    if found is None:
        raise ScimError(404, f"User {scim_id} not found.")
    return found


def provisioning_settings(org: Organization) -> ProvisioningSettings:
    """The organization's settings, or the defaults (unsaved) when it never saved any."""
    found = ProvisioningSettings.objects.for_org(org).first()
    return found if found is not None else ProvisioningSettings(organization=org)
