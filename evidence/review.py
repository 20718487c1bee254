"""The review of an evidence version: accept or reject, with the rules that keep a review
meaningful (re-exported by ``evidence.services``, the module views and the API call).

- A file held for its malware scan or quarantined is not reviewed: nobody can open it.
- Segregation of duties: while the organization requires independent review
  (``Organization.require_independent_review``, on by default), the person who uploaded a
  version (or whose API key did) cannot review it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from evidence.models import EvidenceVersion, ReviewState, ScanState
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership
from tenants.permissions import Action


def _uploaded_by(principal: Any, version: EvidenceVersion) -> bool:
    """Did ``principal`` (or, for an API key, the person who created it) upload ``version``?"""
    if getattr(principal, "is_api_key", False):
        if version.uploaded_by_label == Actor.for_principal(principal).label[:200]:
            return True
        person = principal.created_by_id
    else:
        person = principal.user_id
    return person is not None and person == version.uploaded_by_id


def _require_reviewable(membership: Membership, version: EvidenceVersion) -> None:
    if version.item.is_removed:
        raise ValidationFailed("This evidence was removed; it can no longer be reviewed.")
    # Nobody can judge a file they cannot open: held or quarantined files are not reviewed.
    if version.scan_state == ScanState.PENDING:
        raise ValidationFailed(
            "This file is waiting for its malware scan; review it once the scan has passed.",
            code="scan_pending",
        )
    if version.scan_state == ScanState.INFECTED:
        raise ValidationFailed(
            "This file was quarantined: the malware scan found a threat. It cannot be "
            "accepted; upload a clean version instead.",
            code="quarantined",
        )
    if membership.organization.require_independent_review and _uploaded_by(membership, version):
        raise NotPermitted(
            "You uploaded this version: another compliance manager must review it "
            "(the organization requires independent review).",
            code="self_review",
        )


def evidence_review(
    *, membership: Membership, version: EvidenceVersion, decision: str, comment: str = ""
) -> EvidenceVersion:
    """Accept or reject a version, with a comment (required to reject).

    Refused for a file held for its malware scan or quarantined, and, while the organization
    requires independent review (segregation of duties), for the version's own uploader."""
    if version.organization_id != membership.organization_id:
        raise NotFound("No such evidence.")
    permissions.require(membership, Action.EVIDENCE_REVIEW)
    if decision not in (ReviewState.ACCEPTED, ReviewState.REJECTED):
        raise ValidationFailed("Choose accept or reject.", field="decision")
    comment = comment.strip()
    if decision == ReviewState.REJECTED and not comment:
        raise ValidationFailed(
            "Say why the evidence is rejected, so its owner can fix it.", field="comment"
        )
    with transaction.atomic():
        # The row as it is now, locked: a scan verdict or another review that landed since the
        # page was read is what the checks see, and concurrent reviews take turns.
        current = (
            EvidenceVersion.objects.for_org(membership.organization_id)
            .select_for_update(of=("self",))
            .select_related("item")
            .get(pk=version.pk)
        )
        version.scan_state = current.scan_state
        version.item = current.item
        _require_reviewable(membership, version)
        before = current.review_state
        version.review_state = decision
        version.review_comment = comment
        version.reviewed_by = getattr(membership, "user", None)
        version.reviewed_by_label = ""  # a person reviewed it now, not the system
        version.reviewed_at = timezone.now()
        version.save(
            update_fields=[
                "review_state",
                "review_comment",
                "reviewed_by",
                "reviewed_by_label",
                "reviewed_at",
            ]
        )
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="review",
            target=version,
            changes={"review_state": [before, decision], "comment": [None, comment or None]},
        )
    return version
