"""Organization policies other than two-factor authentication (``tenants.mfa``).

Segregation of duties: with ``Organization.require_independent_review`` on (the default),
nobody reviews the evidence they uploaded themselves (enforced by ``evidence.review``).
Only owners change it, and every change is in the activity log.
"""

from __future__ import annotations

from django.db import transaction

from soc2app.errors import NotPermitted
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action


def review_policy_set(*, membership: Membership, require_independent_review: bool) -> Organization:
    """Turn independent review of evidence on or off (owners only), logged."""
    if not permissions.can(membership, Action.REVIEW_POLICY_MANAGE):
        raise NotPermitted("Only an owner of the organization can change who may review evidence.")
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=membership.organization_id)
        before = org.require_independent_review
        if before == require_independent_review:
            return org
        org.require_independent_review = require_independent_review
        org.save(update_fields=["require_independent_review"])
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="update",
            target=org,
            changes={"require_independent_review": [before, require_independent_review]},
        )
    membership.organization = org
    return org
