"""Demo policies for ``seed_demo``: two library policies written by the compliance manager and
approved by the owner (which records the approval as evidence of their controls), assigned to
everyone, accepted by about two thirds of the roster over the last weeks (the rest still
asked; the leaver left before), and the month-to-date acceptance rate recorded as evidence by
the manager. Through the services; no e-mail is sent. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from evidence.snapshots import NothingToRecord
from policies import services
from policies.acceptance import acceptance_store, assignment_add, covered_people
from policies.evidence import acceptance_snapshot_record
from policies.library import library_get
from policies.models import AcceptanceChannel, Policy, PolicyVersion
from tenants.activity import Actor
from tenants.models import Membership, Organization, Role

KEYS = ("information-security", "acceptable-use")


def supported_codes() -> set[str]:
    """The codes of the controls the demo's policies support (their approval is evidence)."""
    return {code for key in KEYS if (entry := library_get(key)) for code in entry.controls}


def _member(organization: Organization, role: str) -> Membership | None:
    return (
        Membership.objects.for_org(organization)
        .filter(role=role)
        .select_related("user", "organization")
        .order_by("pk")
        .first()
    )


def demo_seed_policies(organization: Organization) -> None:
    manager = _member(organization, Role.COMPLIANCE_MANAGER)
    owner = _member(organization, Role.OWNER)
    if manager is None or owner is None or Policy.objects.for_org(organization).exists():
        return
    now = timezone.now()
    for index, key in enumerate(KEYS):
        policy = services.policy_adopt(membership=manager, key=key)
        services.policy_settings(
            membership=manager,
            policy=policy,
            owner=manager,
            approver=owner,
            review_cadence_months=12,
        )
        version = PolicyVersion.objects.for_org(organization).get(policy=policy)
        version = services.version_submit(membership=manager, version=version)
        version = services.version_approve(membership=owner, version=version)
        # Assigned without e-mails (the demo's people have no mailboxes); the daily run asks
        # whoever has not accepted.
        policy.refresh_from_db()
        assignment_add(membership=manager, policy=policy, target="everyone", send=False)
        people = list(covered_people(policy).order_by("pk"))
        for n, person in enumerate(people):
            if (n + index) % 3 == 2:
                continue  # about a third still to accept
            acceptance_store(
                organization,
                person,
                version,
                now - dt.timedelta(days=2 + n),
                "203.0.113.7",
                "Mozilla/5.0 (demo)",
                AcceptanceChannel.LINK,
                Actor.system(f"person {person.pk} (acceptance link)"),
            )
        try:
            acceptance_snapshot_record(membership=manager, policy=policy)
        except NothingToRecord:
            pass  # a policy supporting none of the demo's controls
