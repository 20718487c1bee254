"""Assigning policies and asking people to accept them.

* ``assignment_add``/``assignment_remove``: a policy is assigned to everyone, a department or
  a person (managers). Assigning a policy that has an approved version asks the people it
  covers at once; approving a new version of an assigned policy asks again
  (``policy_links_send``, a Celery task that queues one task per batch of people, is queued
  on commit either way).
* sending the personal links and reminders: ``policies.links``; what policies and training
  share (assignments, tokens, batches, resolving and claiming a link): ``people.assignments``
  and ``people.personal_links``;
* ``link_resolve``: the link behind a token, or a clear refusal;
* ``acceptance_record``: the immutable acceptance (text hash, consent, time, IP, user agent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from people import assignments, personal_links
from people.assignments import assignment_label
from people.models import Person
from people.personal_links import LinkGone, token_hash
from policies.markdown import substitute, text_sha256
from policies.models import (
    Acceptance,
    AcceptanceChannel,
    AcceptanceLink,
    Policy,
    PolicyAssignment,
    PolicyVersion,
    VersionState,
)
from soc2app.errors import Conflict, ValidationFailed
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action

__all__ = ["LinkGone", "assignment_label", "token_hash"]  # shared, imported from here too

ASSIGNING = assignments.Assigning(PolicyAssignment, "policy", "policy", Action.POLICY_MANAGE)
USED = "This link was used already: the policy is accepted."


def consent_sentence(version: PolicyVersion, organization_name: str) -> str:
    return (
        f"I have read the {version.policy.title} (version {version.number}) of "
        f"{organization_name}, I understand it and I will follow it."
    )


def current_version(policy: Policy) -> PolicyVersion | None:
    return (
        PolicyVersion.objects.for_org(policy.organization)
        .filter(policy=policy, state=VersionState.APPROVED)
        .order_by("-number")
        .first()
    )


def covered_people(policy: Policy, day: dt.date | None = None) -> QuerySet[Person]:
    """People the policy's assignments cover who are in the organization on ``day``."""
    org = policy.organization
    return assignments.covered_people(
        org, PolicyAssignment.objects.for_org(org).filter(policy=policy), day
    )


def links_queue(policy: Policy) -> None:
    from policies.tasks import policy_links_send

    org_id, policy_id = policy.organization_id, policy.pk
    transaction.on_commit(lambda: policy_links_send.delay(org_id, policy_id))


def assignment_add(
    *,
    membership: Membership,
    policy: Policy,
    target: str,
    department: str = "",
    person: Person | None = None,
    send: bool = True,
) -> PolicyAssignment:
    """``send``: ask the people covered now (False: the daily run asks them)."""
    after = (lambda: links_queue(policy)) if send else None
    return ASSIGNING.add(membership, policy, target, department, person, after)


def assignment_remove(*, membership: Membership, assignment: PolicyAssignment) -> None:
    """Stops asking; links already sent keep working and acceptances stay."""
    ASSIGNING.remove(membership, assignment)


@dataclass(frozen=True)
class LinkView:
    organization: Organization
    link: AcceptanceLink
    version: PolicyVersion
    person: Person


def link_resolve(org_slug: str, token: str) -> LinkView:
    """The link behind ``token`` in ``org_slug``, or NotFound (unknown, tampered, another
    organization's) or LinkGone (expired, used, a person who left)."""
    org, link = personal_links.link_find(AcceptanceLink, org_slug, token, ["version__policy"])
    person = personal_links.link_check(link, USED, timezone.localdate())
    latest = current_version(link.version.policy)
    if latest is None or latest.pk != link.version_id:
        raise LinkGone("A newer version of this policy replaced this one: use its link.")
    return LinkView(organization=org, link=link, version=link.version, person=person)


def acceptance_record(
    *, view: LinkView, shown_sha256: str, ip_address: str, user_agent: str
) -> Acceptance:
    """Accept through a personal link. ``shown_sha256`` is the hash of the text the page
    showed (sent back by the form): a version or name changed since refuses."""
    org, version, person = view.organization, view.version, view.person
    _check_shown(org, version, shown_sha256)
    now = timezone.now()
    with transaction.atomic():
        personal_links.link_claim(AcceptanceLink, org, view.link.pk, USED, now)
        return acceptance_store(
            org,
            person,
            version,
            now,
            ip_address,
            user_agent,
            AcceptanceChannel.LINK,
            Actor.system(f"person {person.pk} (acceptance link)"),
        )


def acceptance_in_app(
    *,
    membership: Membership,
    version: PolicyVersion,
    shown_sha256: str,
    ip_address: str,
    user_agent: str,
) -> Acceptance:
    """A member of the app accepts for the roster person linked to them."""
    org = membership.organization
    person = member_person(membership)
    if person is None or not covered_people(version.policy).filter(pk=person.pk).exists():
        raise ValidationFailed("This policy is not assigned to you.")
    latest = current_version(version.policy)
    if latest is None or latest.pk != version.pk:
        raise ValidationFailed("A newer version replaced this one: reload the page.")
    _check_shown(org, version, shown_sha256)
    with transaction.atomic():
        now = timezone.now()
        AcceptanceLink.objects.for_org(org).filter(
            version=version, person=person, used_at__isnull=True
        ).update(used_at=now)
        try:
            with transaction.atomic():
                return acceptance_store(
                    org,
                    person,
                    version,
                    now,
                    ip_address,
                    user_agent,
                    AcceptanceChannel.APP,
                    Actor.for_principal(membership),
                )
        except LinkGone as exc:
            raise Conflict("You accepted this version already.") from exc


def member_person(membership: Membership) -> Person | None:
    if getattr(membership, "is_api_key", False):
        return None
    return (
        Person.objects.for_org(membership.organization)
        .filter(membership=membership, anonymised_at__isnull=True)
        .first()
    )


def _check_shown(org: Organization, version: PolicyVersion, shown_sha256: str) -> None:
    if shown_sha256 != text_sha256(substitute(version.body, org.name)):
        raise ValidationFailed("The policy changed since the page was opened: read it again.")


def acceptance_store(
    org, person, version, now, ip_address, user_agent, channel, actor
) -> Acceptance:
    """Store one acceptance (the callers check the link, the person and the text shown)."""
    text = substitute(version.body, org.name)
    try:
        with transaction.atomic():
            acceptance = Acceptance.objects.create(
                organization=org,
                person=person,
                version=version,
                text_sha256=text_sha256(text),
                consent=consent_sentence(version, org.name),
                accepted_at=now,
                ip_address=ip_address or None,
                user_agent=(user_agent or "")[:400],
                channel=channel,
            )
    except IntegrityError as exc:
        raise LinkGone("This policy version is accepted already.") from exc
    activity_record(
        organization=org,
        actor=actor,
        action="accept",
        target=version,
        object_repr=f"{version.policy.title} v{version.number}",
        changes={"person": [None, person.pk], "text_sha256": [None, acceptance.text_sha256]},
    )
    return acceptance
