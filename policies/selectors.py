"""Reads of policies. Everyone in the organization but auditors (who have the portal) reads
policies and their approved versions; drafts are for managers and the named approver."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from controls.models import Control
from policies.library import LibraryPolicy, library_entries
from policies.models import OPEN_STATES, Policy, PolicyVersion, VersionState
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action


def _versions(org: object) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.for_org(org)


def policies_overview(org: object) -> QuerySet[Policy]:
    """Every policy with its current approved version (number, date) and its open version's
    state, in one query."""
    approved = _versions(org).filter(policy=OuterRef("pk"), state=VersionState.APPROVED)
    latest = approved.order_by("-number")
    opened = _versions(org).filter(policy=OuterRef("pk"), state__in=OPEN_STATES)
    return (
        Policy.objects.for_org(org)
        .select_related("owner__user", "approver__user")
        .annotate(
            current_number=Subquery(latest.values("number")[:1]),
            current_approved_at=Subquery(latest.values("approved_at")[:1]),
            open_state=Subquery(opened.values("state")[:1]),
            open_number=Subquery(opened.values("number")[:1]),
        )
    )


def get_policy(org: object, pk: int) -> Policy:
    return get_object_or_404(
        Policy.objects.for_org(org).select_related("owner__user", "approver__user"), pk=pk
    )


def sees_drafts(principal: Membership, policy: Policy) -> bool:
    return permissions.can(principal, Action.POLICY_MANAGE) or policy.approver_id == principal.pk


def versions_for(principal: Membership, policy: Policy) -> QuerySet[PolicyVersion]:
    versions = _versions(policy.organization).filter(policy=policy).order_by("-number")
    if not sees_drafts(principal, policy):
        versions = versions.filter(state=VersionState.APPROVED)
    return versions


def current_version(policy: Policy) -> PolicyVersion | None:
    return (
        _versions(policy.organization)
        .filter(policy=policy, state=VersionState.APPROVED)
        .order_by("-number")
        .first()
    )


def open_version(policy: Policy) -> PolicyVersion | None:
    return _versions(policy.organization).filter(policy=policy, state__in=OPEN_STATES).first()


def get_version_for(principal: Membership, policy: Policy, number: int) -> PolicyVersion:
    return get_object_or_404(versions_for(principal, policy), number=number)


def library_rows(org: object) -> list[tuple[LibraryPolicy, int | None]]:
    """The library, each entry with the organization's policy adopted from it (or None)."""
    adopted = dict(
        Policy.objects.for_org(org).exclude(library_key="").values_list("library_key", "pk")
    )
    return [(entry, adopted.get(entry.key)) for entry in library_entries()]


def members_by_id(org: object, ids: list[int | None]) -> QuerySet[Membership]:
    return (
        Membership.objects.for_org(org)
        .filter(pk__in=[i for i in ids if i])
        .select_related("user", "organization")
    )


def policy_controls(policy: Policy) -> QuerySet[Control]:
    return Control.objects.for_org(policy.organization).filter(policies=policy).order_by("code")
