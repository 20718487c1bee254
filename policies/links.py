"""Sending the personal links that ask people to accept a policy version.

* ``links_send``: for one approved version, each person covered (active today, not
  anonymised) who has neither accepted it nor been sent a live link gets a personal link by
  e-mail: a random token of which only the SHA-256 is stored, expiring after
  ``POLICY_LINK_DAYS``, working once. Batches of ``BATCH`` people on one SMTP connection; a
  link is marked sent once the server took its message, so a run that dies mid-way resends
  only what was not sent (with a new token: the old one was never delivered).
* ``links_remind``: a new token and e-mail for whoever has not accepted
  ``POLICY_REMINDER_DAYS`` after the last one, at most ``MAX_REMINDERS`` times.

Assignments, resolving a link and recording the acceptance: ``policies.acceptance``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from people.models import Person
from policies.acceptance import covered_people, token_hash
from policies.models import Acceptance, AcceptanceLink, PolicyVersion
from tenants.models import Organization
from tenants.validation import header_safe

logger = logging.getLogger(__name__)

BATCH = 200


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
