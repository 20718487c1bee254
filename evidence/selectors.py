"""Reads for evidence: a control's items with their versions, one item, one version, and
what needs attention (stale, expiring, awaiting review) across an organization.

``*_get_for(org, pk)`` looks up inside the organization and raises ``Http404`` for a missing id
and another organization's alike, so a URL never tells which one it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404

from controls.models import Control
from evidence.models import (
    DELIVERABLE_SCAN_STATES,
    EvidenceItem,
    EvidenceVersion,
    Freshness,
    ReviewState,
)
from tenants.models import Membership, Organization, Role

OrgRef = Organization | int


def _pk(value: object, what: str) -> int:
    try:
        pk = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None
    if not 0 < pk < 2**63:  # a huge id is "not found", not a database overflow error
        raise Http404(f"No such {what}.")
    return pk


def latest_versions(versions: QuerySet[EvidenceVersion]) -> QuerySet[EvidenceVersion]:
    """Only the newest version of each item: the ``is_latest`` flag, kept by the insert of
    each version (``EvidenceVersion.save``) and served by partial indexes."""
    return versions.filter(is_latest=True)


def deliverable_versions(versions: QuerySet[EvidenceVersion]) -> QuerySet[EvidenceVersion]:
    """Versions whose content may leave the app and count as evidence: clean files, and what
    was stored with scanning off (links, data records, files without a scanner).

    A file held for its malware scan (``pending``) or quarantined (``infected``) is in no
    output: readiness, reports and their exports, the evidence package (whose manifest lists
    it as withheld), OSCAL, the auditor portal, the API's content and PBC answers.
    """
    return versions.filter(scan_state__in=DELIVERABLE_SCAN_STATES)


def withheld_versions(versions: QuerySet[EvidenceVersion]) -> QuerySet[EvidenceVersion]:
    """The complement of ``deliverable_versions``: pending and quarantined files."""
    return versions.exclude(scan_state__in=DELIVERABLE_SCAN_STATES)


def live_versions(versions: QuerySet[EvidenceVersion]) -> QuerySet[EvidenceVersion]:
    """Latest versions of items that were not removed (the ones freshness is about).

    EXISTS instead of a join keeps UPDATEs on this queryset single-table, so their WHERE
    clause is re-checked on the row itself under concurrent updates (see evidence.freshness).
    """
    live_item = EvidenceItem._base_manager.filter(
        pk=OuterRef("item_id"),
        organization_id=OuterRef("organization_id"),
        removed_at__isnull=True,
    )
    return latest_versions(versions).filter(Exists(live_item))


def _versions_prefetch(
    org: OrgRef, *, deliverable_only: bool = False, latest_only: bool = False
) -> Prefetch:
    versions = EvidenceVersion.objects.for_org(org)
    if deliverable_only:
        versions = deliverable_versions(versions)
    if latest_only:
        versions = versions.filter(is_latest=True)
    return Prefetch(
        "versions",
        queryset=versions.select_related("uploaded_by", "reviewed_by").order_by("-number"),
        to_attr="version_list",
    )


def _with_latest(items: list[EvidenceItem]) -> list[EvidenceItem]:
    for item in items:
        item.latest = item.version_list[0] if item.version_list else None
    return items


def evidence_for_control(
    org: OrgRef,
    control: Control,
    *,
    include_removed: bool = False,
    deliverable_only: bool = False,
    latest_only: bool = False,
) -> list[EvidenceItem]:
    """A control's evidence items, newest first, each with ``version_list`` (newest first) and
    ``latest`` (its newest version or None). Two queries for any number of items/versions.

    ``deliverable_only`` (the auditor portal) leaves out held and quarantined versions.
    ``latest_only`` (the control's page): ``version_list`` holds the latest version alone and
    ``version_count`` counts them all, so an item an automated source adds to every day does
    not load its hundreds of versions."""
    items = EvidenceItem.objects.for_org(org).filter(control_id=control.pk)
    if not include_removed:
        items = items.filter(removed_at__isnull=True)
    prefetch = _versions_prefetch(org, deliverable_only=deliverable_only, latest_only=latest_only)
    if latest_only:
        items = items.annotate(version_count=Count("versions"))
    items = items.prefetch_related(prefetch).order_by("-created_at", "-pk")
    return _with_latest(list(items))


def control_get_for(org: OrgRef, pk: object) -> Control:
    control = (
        Control.objects.for_org(org)
        .select_related("owner__user")
        .filter(pk=_pk(pk, "control"))
        .first()
    )
    if control is None:
        raise Http404("No such control.")
    return control


def item_get_for(
    org: OrgRef, pk: object, *, deliverable_only: bool = False, versions: bool = True
) -> EvidenceItem:
    """One item with its control (and owner), ``version_list`` and ``latest``; removed too.
    ``versions=False``: without them (the item's page reads them a page at a time)."""
    items = (
        EvidenceItem.objects.for_org(org)
        .select_related("control__owner__user", "created_by", "removed_by")
        .filter(pk=_pk(pk, "evidence item"))
    )
    if versions:
        items = items.prefetch_related(_versions_prefetch(org, deliverable_only=deliverable_only))
    item = items.first()
    if item is None:
        raise Http404("No such evidence item.")
    return _with_latest([item])[0] if versions else item


def item_versions(org: OrgRef, item: EvidenceItem) -> QuerySet[EvidenceVersion]:
    """An item's versions, newest first (an automated source adds one a run: paginate)."""
    return (
        EvidenceVersion.objects.for_org(org)
        .filter(item_id=item.pk)
        .select_related("uploaded_by", "reviewed_by")
        .order_by("-number")
    )


def version_get_for(org: OrgRef, pk: object) -> EvidenceVersion:
    version = (
        EvidenceVersion.objects.for_org(org)
        .select_related("item__control__owner__user")
        .filter(pk=_pk(pk, "evidence"))
        .first()
    )
    if version is None:
        raise Http404("No such evidence.")
    return version


@dataclass(frozen=True)
class FreshnessSummary:
    fresh: int
    expiring: int
    stale: int
    awaiting_review: int

    @property
    def total(self) -> int:
        return self.fresh + self.expiring + self.stale


def freshness_summary(org: OrgRef) -> FreshnessSummary:
    """Counts over the latest version of each live item, in one aggregate query."""
    counts = live_versions(EvidenceVersion.objects.for_org(org)).aggregate(
        fresh=Count("pk", filter=Q(freshness=Freshness.FRESH)),
        expiring=Count("pk", filter=Q(freshness=Freshness.EXPIRING)),
        stale=Count("pk", filter=Q(freshness=Freshness.STALE)),
        awaiting_review=Count("pk", filter=Q(review_state=ReviewState.PENDING)),
    )
    return FreshnessSummary(**counts)


ATTENTION_STATES = {
    "stale": Q(freshness=Freshness.STALE),
    "expiring": Q(freshness=Freshness.EXPIRING),
    "pending": Q(review_state=ReviewState.PENDING),
    "rejected": Q(review_state=ReviewState.REJECTED),
}
NO_OWNER = "none"


def attention_list(
    org: OrgRef, *, state: str = "", owner: int | str | None = None
) -> QuerySet[EvidenceVersion]:
    """Latest versions of live items that need someone: stale, expiring, awaiting review or
    rejected. Most urgent first (stale, expiring, then by how soon they run out).

    ``state`` narrows to one of ``ATTENTION_STATES``; ``owner`` to the controls of one owner
    (a membership id) or ``NO_OWNER`` for controls nobody owns.
    """
    needs = Q()
    for condition in ATTENTION_STATES.values():
        needs |= condition
    versions = live_versions(EvidenceVersion.objects.for_org(org)).filter(needs)
    if state:
        versions = versions.filter(ATTENTION_STATES[state])
    if owner == NO_OWNER:
        versions = versions.filter(item__control__owner__isnull=True)
    elif owner:
        versions = versions.filter(item__control__owner_id=int(owner))
    urgency = Case(
        When(freshness=Freshness.STALE, then=Value(0)),
        When(freshness=Freshness.EXPIRING, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        versions.select_related("item__control__owner__user")
        .annotate(urgency=urgency)
        .order_by("urgency", "valid_until", "pk")
    )


def owner_choices(org: OrgRef) -> list[tuple[int, str]]:
    """Members who can own controls (everyone but auditors), for the owner filter."""
    members = (
        Membership.objects.for_org(org)
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__email")
    )
    return [(m.pk, m.user.email) for m in members]
