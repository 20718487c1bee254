"""Assigning policies and asking people to accept them.

* ``assignment_add``/``assignment_remove``: a policy is assigned to everyone, a department or
  a person (managers). Assigning a policy that has an approved version asks the people it
  covers at once; approving a new version of an assigned policy asks again
  (``policy_links_send``, a Celery task, is queued on commit either way).
* ``links_send``: for one approved version, each person covered (active today, not
  anonymised) who has neither accepted it nor been sent a live link gets a personal link by
  e-mail: a random token of which only the SHA-256 is stored, expiring after
  ``POLICY_LINK_DAYS``, working once. Batches of ``BATCH`` people on one SMTP connection; a
  link is marked sent once the server took its message, so a run that dies mid-way resends
  only what was not sent (with a new token: the old one was never delivered).
* ``acceptance_record``: the immutable acceptance (text hash, consent, time, IP, user agent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
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
from tenants.validation import header_safe

logger = logging.getLogger(__name__)

BATCH = 200


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


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def _pending(version: PolicyVersion, now: dt.datetime) -> QuerySet[Person]:
    org = version.organization
    accepted = Acceptance.objects.for_org(org).filter(version=version, person=OuterRef("pk"))
    live = AcceptanceLink.objects.for_org(org).filter(
        version=version, person=OuterRef("pk"), sent_at__isnull=False, expires_at__gt=now
    )
    return covered_people(version.policy).filter(~Exists(accepted), ~Exists(live)).order_by("pk")


def accept_url(organization: Organization, token: str) -> str:
    path = reverse("policy_accept", kwargs={"organization": organization.slug, "token": token})
    return settings.SITE_URL + path


def _message(org, version, person, token, expires, *, reminder: bool = False) -> EmailMessage:
    context = {
        "reminder": reminder,
        "organization_name": org.name,
        "policy": version.policy,
        "version": version,
        "person": person,
        "url": accept_url(org, token),
        "expires_at": expires,
    }
    return EmailMessage(
        subject=header_safe(
            f"{'Reminder: ' if reminder else ''}{org.name}: please read and accept the "
            f"{version.policy.title}"
        ),
        body=render_to_string("emails/policy_acceptance.txt", context),
        to=[person.email],
    )


def links_send(version: PolicyVersion) -> SendResult:
    """Ask everyone the version's policy covers who has not accepted it (batches)."""
    org = version.organization
    result = SendResult()
    while True:
        now = timezone.now()
        people = list(_pending(version, now)[:BATCH])
        if not people:
            return result
        expires = now + dt.timedelta(days=settings.POLICY_LINK_DAYS)
        tokens = {p.pk: secrets.token_urlsafe(32) for p in people}
        with transaction.atomic():
            AcceptanceLink.objects.for_org(org).filter(
                version=version, person_id__in=tokens
            ).delete()
            AcceptanceLink.objects.bulk_create(
                AcceptanceLink(
                    organization=org,
                    person_id=pk,
                    version=version,
                    token_sha256=token_hash(token),
                    expires_at=expires,
                )
                for pk, token in tokens.items()
            )
        sent_ids = []
        connection = get_connection()
        try:
            connection.open()
            for person in people:
                message = _message(org, version, person, tokens[person.pk], expires)
                message.connection = connection
                try:
                    message.send()
                except Exception:
                    logger.exception("policy link for person %s could not be sent", person.pk)
                    result.failed += 1
                    continue
                sent_ids.append(person.pk)
        finally:
            connection.close()
        AcceptanceLink.objects.for_org(org).filter(version=version, person_id__in=sent_ids).update(
            sent_at=timezone.now()
        )
        result.sent += len(sent_ids)
        if len(sent_ids) < len(people):
            return result  # the mail server refuses: the next run tries the rest


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


MAX_REMINDERS = 3


def links_remind(version: PolicyVersion) -> SendResult:
    """Remind whoever was sent a link ``POLICY_REMINDER_DAYS`` ago and has not accepted (at
    most ``MAX_REMINDERS`` times): a new token, the same expiry, a new e-mail."""
    org = version.organization
    now = timezone.now()
    due = now - dt.timedelta(days=settings.POLICY_REMINDER_DAYS)
    accepted = Acceptance.objects.for_org(org).filter(version=version, person=OuterRef("person"))
    links = list(
        AcceptanceLink.objects.for_org(org)
        .filter(
            version=version,
            used_at__isnull=True,
            sent_at__lte=due,
            expires_at__gt=now,
            reminders__lt=MAX_REMINDERS,
            person__in=covered_people(version.policy),
        )
        .filter(~Exists(accepted))
        .select_related("person")[:BATCH]
    )
    result = SendResult()
    connection = get_connection()
    try:
        connection.open()
        for link in links:
            token = secrets.token_urlsafe(32)
            message = _message(org, version, link.person, token, link.expires_at, reminder=True)
            message.connection = connection
            try:
                # The new token is stored with its e-mail sent, or neither (the old one, which
                # the person may still hold, keeps working).
                with transaction.atomic():
                    AcceptanceLink.objects.for_org(org).filter(pk=link.pk).update(
                        token_sha256=token_hash(token),
                        sent_at=timezone.now(),
                        reminders=link.reminders + 1,
                    )
                    message.send()
            except Exception:
                logger.exception("policy reminder for person %s failed", link.person_id)
                result.failed += 1
                break
            result.sent += 1
    finally:
        connection.close()
    return result
