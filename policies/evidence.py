"""Policies as evidence by themselves: what the app records on the controls a policy supports
(``PolicyControl``), as system-generated versions accepted when written (the app's own
immutable records; ``evidence.system``), so readiness counts them without an upload.

* **Approval** (``approval_evidence_record``, called by ``version_approve`` in its
  transaction): one version on each mapped control (item "Policy: <title>", source
  ``policy:<id>``), effective the approval day and current until the policy's next review
  date: the version's number, the SHA-256 of its text, the approver, when, the next review.
  A policy mapped to no control writes nothing.
* **Acceptance rate** (source ``policy-acceptance:<id>``, item "Policy acceptance: <title>"):
  the version current at the end of the day it is taken, the people the policy covers that
  day, how many had accepted that version by then, the rate and how many had not (no names:
  the acceptance page and its export have them). Monthly for the previous month and on demand
  for the month to date (``evidence.snapshots``); a policy with no approved version, nobody
  covered or no mapped control has none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from evidence.models import EvidenceVersion
from evidence.snapshots import NothingToRecord, Snapshot, SnapshotKind, rate_percent
from evidence.system import SystemRecord, SystemSource, system_evidence_record
from policies.models import Policy, PolicyControl, PolicyVersion, VersionState
from policies.selectors_acceptance import acceptance_counts, day_end
from tenants.activity import Actor
from tenants.models import Membership
from tenants.permissions import Action

APPROVAL_REVIEWER = "Policies: approval recorded by the app"
ACCEPTANCE_REVIEWER = "Policies: acceptance rate recorded by the app"


def approval_evidence_record(*, policy: Policy, version: PolicyVersion) -> list[EvidenceVersion]:
    """One version on each control the policy supports, recording ``version``'s approval."""
    controls = ACCEPTANCE.controls_of(policy)
    if not controls:
        return []
    day = timezone.localdate(version.approved_at)
    review = policy.next_review_date
    source = SystemSource(
        key=f"policy:{policy.pk}",
        item_title=f"Policy: {policy.title}",
        reviewer_label=APPROVAL_REVIEWER,
        current_days=max((review - day).days, 0) if review else 365,
        own_records=True,
        description=(
            "Written by the app when a version of the policy is approved: its number, the "
            "SHA-256 of its text, the approver and the next review date. Current until that "
            "review."
        ),
    )
    data: dict[str, Any] = {
        "source": "policy-approval",
        "policy": {"id": policy.pk, "title": policy.title},
        "version": version.number,
        "sha256": version.sha256,
        "approved_by": version.approved_by_label,
        "approved_at": version.approved_at.isoformat(),
        "next_review_date": review.isoformat() if review else None,
    }
    return system_evidence_record(
        organization=policy.organization,
        source=source,
        records=[SystemRecord(control=c, data=data) for c in controls],
        day=day,
        actor=Actor.system(APPROVAL_REVIEWER),
        object_repr=f"{policy.title} v{version.number}: approval",
    )


def acceptance_key(policy: Policy) -> str:
    return f"policy-acceptance:{policy.pk}"


def _version_as_of(policy: Policy, day: dt.date) -> PolicyVersion | None:
    """The version current at the end of ``day`` (the latest approved by then)."""
    return (
        PolicyVersion.objects.for_org(policy.organization)
        .filter(policy=policy, state=VersionState.APPROVED, approved_at__lt=day_end(day))
        .order_by("-number")
        .first()
    )


def acceptance_snapshot(policy: Policy, day: dt.date) -> Snapshot:
    """The policy's acceptance figures as of the end of ``day`` (five queries, whatever the
    number of people: controls, version, assignments, two counts)."""
    controls = ACCEPTANCE.controls_of(policy)
    if not controls:
        raise NothingToRecord(
            "This policy supports no control: its acceptance is evidence of none."
        )
    version = _version_as_of(policy, day)
    if version is None:
        raise NothingToRecord("No version of this policy is approved yet: nothing to record.")
    covered, accepted = acceptance_counts(policy, version, day)
    if not covered:
        raise NothingToRecord("The policy covers nobody yet: assign it first.")
    data = {
        "source": "policy-acceptance",
        "policy": {"id": policy.pk, "title": policy.title},
        "version": version.number,
        "sha256": version.sha256,
        "as_of": day.isoformat(),
        "people_covered": covered,
        "accepted": accepted,
        "rate_percent": rate_percent(accepted, covered),
        "not_accepted": covered - accepted,
    }
    source = SystemSource(
        key=acceptance_key(policy),
        item_title=f"Policy acceptance: {policy.title}",
        reviewer_label=ACCEPTANCE_REVIEWER,
        # A month's snapshot stays current through the next month, when the next is taken.
        current_days=31,
        own_records=True,
        description=(
            "Written by the app every month for the month before, and when a manager records "
            "it: how many of the people the policy covers had accepted its current version."
        ),
    )
    return Snapshot(
        source=source,
        controls=controls,
        data=data,
        object_repr=f"{policy.title} v{version.number}: {accepted} of {covered} accepted",
        since=timezone.localdate(version.approved_at),
    )


ACCEPTANCE = SnapshotKind(
    model=Policy,
    mapping=PolicyControl,
    mapping_field="policy",
    key=acceptance_key,
    build=acceptance_snapshot,
    system_label=ACCEPTANCE_REVIEWER,
    permission=Action.POLICY_MANAGE,
)


def acceptance_snapshot_record(
    *, membership: Membership, policy: Policy, today: dt.date | None = None
) -> list[EvidenceVersion]:
    """A manager records the month-to-date acceptance figures as evidence now."""
    return ACCEPTANCE.record_now(membership=membership, subject=policy, today=today)


def acceptance_snapshots_monthly(today: dt.date | None = None) -> int:
    """Every organization's policies: the previous month's snapshot where it is missing."""
    return ACCEPTANCE.monthly(today)
