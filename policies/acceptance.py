"""Assigning policies and asking people to accept them.

* ``assignment_add``/``assignment_remove``: a policy is assigned to everyone, a department or
  a person (managers). Assigning a policy that has an approved version asks the people it
  covers at once; approving a new version of an assigned policy asks again
  (``policy_links_send``, a Celery task, is queued on commit either way).
* sending the personal links and reminders: ``policies.links``;
* ``link_resolve``: the link behind a token, or a clear refusal;
* ``acceptance_record``: the immutable acceptance (text hash, consent, time, IP, user agent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from people.models import Person
from policies.markdown import substitute, text_sha256
from policies.models import (
    Acceptance,
    AcceptanceChannel,
    AcceptanceLink,
    AssignmentTarget,
    Policy,
    PolicyAssignment,
    PolicyVersion,
    VersionState,
)
from soc2app.errors import Conflict, NotFound, ValidationFailed
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action


def consent_sentence(version: PolicyVersion, organization_name: str) -> str:
    return (
        f"I have read the {version.policy.title} (version {version.number}) of "
        f"{organization_name}, I understand it and I will follow it."
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    day = day or timezone.localdate()
    rows = list(
        PolicyAssignment.objects.for_org(org)
        .filter(policy=policy)
        .values_list("target", "department", "person_id")
    )
    if not rows:
        return Person.objects.for_org(org).none()
    if any(target == AssignmentTarget.EVERYONE for target, _d, _p in rows):
        match = Q()
    else:
        match = Q(department__in=[d for t, d, _p in rows if t == AssignmentTarget.DEPARTMENT])
        match |= Q(pk__in=[p for t, _d, p in rows if t == AssignmentTarget.PERSON])
    return (
        Person.objects.for_org(org)
        .filter(match, start_date__lte=day, anonymised_at__isnull=True)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
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
    permissions.require(membership, Action.POLICY_MANAGE)
    org = membership.organization
    department = (department or "").strip()
    if target not in AssignmentTarget.values:
        raise ValidationFailed("Assign the policy to everyone, a department or a person.")
    if target == AssignmentTarget.DEPARTMENT:
        if not department or len(department) > 120:
            raise ValidationFailed("Choose a department.", field="department")
        if not Person.objects.for_org(org).filter(department=department).exists():
            raise ValidationFailed(
                "Nobody in the roster works in that department.", field="department"
            )
    else:
        department = ""
    if target == AssignmentTarget.PERSON:
        if person is None or person.organization_id != org.pk:
            raise ValidationFailed("Choose a person from the roster.", field="person")
    else:
        person = None
    try:
        with transaction.atomic():
            assignment = PolicyAssignment.objects.create(
                organization=org,
                policy=policy,
                target=target,
                department=department,
                person=person,
                created_by_label=Actor.for_principal(membership).label[:200],
            )
            activity_record(
                organization=org,
                actor=Actor.for_principal(membership),
                action="assign",
                target=policy,
                changes={"assigned_to": [None, assignment_label(assignment)]},
            )
            if send:
                links_queue(policy)
    except IntegrityError as exc:
        raise Conflict("The policy is assigned so already.") from exc
    return assignment


def assignment_label(assignment: PolicyAssignment) -> str:
    if assignment.target == AssignmentTarget.EVERYONE:
        return "everyone"
    if assignment.target == AssignmentTarget.DEPARTMENT:
        return f"department {assignment.department}"
    return f"person {assignment.person_id}"


def assignment_remove(*, membership: Membership, assignment: PolicyAssignment) -> None:
    """Stops asking; links already sent keep working and acceptances stay."""
    permissions.require(membership, Action.POLICY_MANAGE)
    org = membership.organization
    with transaction.atomic():
        activity_record(
            organization=org,
            actor=Actor.for_principal(membership),
            action="unassign",
            object_type="policies.policy",
            object_id=assignment.policy_id,
            object_repr=str(assignment.policy),
            changes={"assigned_to": [assignment_label(assignment), None]},
        )
        assignment.delete()


@dataclass(frozen=True)
class LinkView:
    organization: Organization
    link: AcceptanceLink
    version: PolicyVersion
    person: Person


class LinkGone(ValidationFailed):
    status = 410
    code = "gone"


def link_resolve(org_slug: str, token: str) -> LinkView:
    """The link behind ``token`` in ``org_slug``, or NotFound (unknown, tampered, another
    organization's) or LinkGone (expired, used, a person who left)."""
    org = Organization.objects.filter(slug=org_slug).first()
    if org is None or not token or len(token) > 100:
        raise NotFound("This link is not valid.")
    link = (
        AcceptanceLink.objects.for_org(org)
        .select_related("person", "version__policy")
        .filter(token_sha256=token_hash(token))
        .first()
    )
    if link is None:
        raise NotFound("This link is not valid.")
    person, today = link.person, timezone.localdate()
    if link.used_at is not None:
        raise LinkGone("This link was used already: the policy is accepted.")
    if link.expires_at <= timezone.now():
        raise LinkGone("This link has expired: ask your compliance team for a new one.")
    if person.anonymised_at or (person.end_date is not None and person.end_date < today):
        raise LinkGone("This link is no longer valid.")
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
        claimed = (
            AcceptanceLink.objects.for_org(org)
            .filter(pk=view.link.pk, used_at__isnull=True, expires_at__gt=now)
            .update(used_at=now)
        )
        if not claimed:
            raise LinkGone("This link was used already: the policy is accepted.")
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
