"""Personal training links: e-mailed to each person a requirement covers when their due date
is not met yet (joiners: at once) or the next cycle comes due within ``TRAINING_LEAD_DAYS``, one per person,
requirement and cycle (the due date it answers); reminders after ``POLICY_REMINDER_DAYS``
(three at most, each with a new token). Only the SHA-256 of a token is stored; a link expires
after ``TRAINING_LINK_DAYS`` and works once. Batches of ``BATCH`` on one SMTP connection.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from people.models import Person
from policies.acceptance import LinkGone, token_hash
from policies.markdown import text_sha256
from soc2app.errors import NotFound, ValidationFailed
from tenants.activity import Actor
from tenants.models import Organization
from tenants.validation import header_safe
from training import selectors, services
from training.models import (
    CompletionSource,
    RequirementKind,
    TrainingCompletion,
    TrainingLink,
    TrainingRequirement,
)

logger = logging.getLogger(__name__)

BATCH = 200
MAX_REMINDERS = 3


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0


def link_url(organization: Organization, token: str) -> str:
    path = reverse("training_link", kwargs={"organization": organization.slug, "token": token})
    return settings.SITE_URL + path


def _message(org, req, person_name, email, token, expires, due_on, reminder) -> EmailMessage:
    context = {
        "reminder": reminder,
        "organization_name": org.name,
        "requirement": req,
        "person_name": person_name,
        "url": link_url(org, token),
        "expires_at": expires,
        "due_on": due_on,
    }
    return EmailMessage(
        subject=header_safe(
            f"{'Reminder: ' if reminder else ''}{org.name}: please complete your training "
            f"\u201c{req.title}\u201d"
        ),
        body=render_to_string("emails/training_link.txt", context),
        to=[email],
    )


def _work(req: TrainingRequirement, today: dt.date, now: dt.datetime) -> list[tuple]:
    """(status, existing link or None, reminder?) for whoever should get an e-mail now."""
    org = req.organization
    horizon = today + dt.timedelta(days=settings.TRAINING_LEAD_DAYS)
    rows = [
        s
        for s in selectors.statuses(org, today, [req])[req.pk]
        # Joiners at once (first cycle); later cycles once due within the lead time.
        if s.due_on is not None and (s.last_completed is None or s.due_on <= horizon)
    ]
    if not rows:
        return []
    links = {
        (link.person_id, link.due_on): link
        for link in TrainingLink.objects.for_org(org).filter(
            requirement=req, person_id__in=[s.person_id for s in rows]
        )
    }
    remind_before = now - dt.timedelta(days=settings.POLICY_REMINDER_DAYS)
    work = []
    for s in rows:
        link = links.get((s.person_id, s.due_on))
        if link is None or link.sent_at is None or link.expires_at <= now:
            work.append((s, link, False))
        elif (
            link.used_at is None
            and link.sent_at <= remind_before
            and link.reminders < MAX_REMINDERS
        ):
            work.append((s, link, True))
    return work


def links_send(req: TrainingRequirement) -> SendResult:
    """E-mail the links due now for one requirement (new, expired and reminders)."""
    org = req.organization
    now, today = timezone.now(), timezone.localdate()
    result = SendResult()
    work = _work(req, today, now)
    for start in range(0, len(work), BATCH):
        batch = work[start : start + BATCH]
        connection = get_connection()
        try:
            connection.open()
            for status, link, reminder in batch:
                if not _send_one(org, req, status, link, reminder, now, connection):
                    result.failed += 1
                    return result  # the mail server refuses: the next run tries the rest
                result.sent += 1
        finally:
            connection.close()
    return result


def _send_one(org, req, status, link, reminder, now, connection) -> bool:
    token = secrets.token_urlsafe(32)
    expires = link.expires_at if reminder else now + dt.timedelta(days=settings.TRAINING_LINK_DAYS)
    message = _message(
        org, req, status.full_name, status.email, token, expires, status.due_on, reminder
    )
    message.connection = connection
    try:
        # The token is stored with its e-mail sent, or neither.
        with transaction.atomic():
            if link is None:
                TrainingLink.objects.create(
                    organization=org,
                    person_id=status.person_id,
                    requirement=req,
                    due_on=status.due_on,
                    token_sha256=token_hash(token),
                    expires_at=expires,
                    sent_at=timezone.now(),
                )
            else:
                TrainingLink.objects.for_org(org).filter(pk=link.pk).update(
                    token_sha256=token_hash(token),
                    expires_at=expires,
                    sent_at=timezone.now(),
                    used_at=None,
                    reminders=link.reminders + 1 if reminder else 0,
                )
            message.send()
    except Exception:
        logger.exception("training link for person %s could not be sent", status.person_id)
        return False
    return True


@dataclass(frozen=True)
class LinkView:
    organization: Organization
    link: TrainingLink
    requirement: TrainingRequirement
    person: Person


def link_resolve(org_slug: str, token: str) -> LinkView:
    """The link behind ``token`` in ``org_slug``, or NotFound (unknown, tampered, another
    organization's) or LinkGone (expired, used, a person who left, completed since)."""
    org = Organization.objects.filter(slug=org_slug).first()
    if org is None or not token or len(token) > 100:
        raise NotFound("This link is not valid.")
    link = (
        TrainingLink.objects.for_org(org)
        .select_related("person", "requirement")
        .filter(token_sha256=token_hash(token))
        .first()
    )
    if link is None:
        raise NotFound("This link is not valid.")
    person, today = link.person, timezone.localdate()
    if link.used_at is not None:
        raise LinkGone("This link was used already: your training is recorded.")
    if link.expires_at <= timezone.now():
        raise LinkGone("This link has expired: ask your compliance team for a new one.")
    if person.anonymised_at or not person.is_active_on(today):
        raise LinkGone("This link is no longer valid.")
    rows = selectors.statuses(org, today, [link.requirement], person_id=person.pk)
    mine = rows[link.requirement_id]
    if not mine:
        raise LinkGone("This training is no longer assigned to you.")
    if mine[0].due_on != link.due_on:
        raise LinkGone("This training is recorded already for this cycle.")
    return LinkView(organization=org, link=link, requirement=link.requirement, person=person)


def completion_by_link(
    *,
    view: LinkView,
    shown_sha256: str = "",
    completed_on: dt.date | None = None,
    provider: str = "",
    certificate=None,
    ip_address: str = "",
    user_agent: str = "",
) -> TrainingCompletion:
    org, req, person = view.organization, view.requirement, view.person
    today = timezone.localdate()
    if req.kind == RequirementKind.MODULE:
        if shown_sha256 != text_sha256(services.module_text(req, org)):
            raise ValidationFailed("The module changed since the page was opened: read it again.")
        completed_on = today
    else:
        completed_on = services.check_completed_on(completed_on, person, today)
        shown_sha256 = ""
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            TrainingLink.objects.for_org(org)
            .filter(pk=view.link.pk, used_at__isnull=True, expires_at__gt=now)
            .update(used_at=now)
        )
        if not claimed:
            raise LinkGone("This link was used already: your training is recorded.")
        return services.completion_record(
            organization=org,
            person=person,
            requirement=req,
            completed_on=completed_on,
            source=CompletionSource.LINK,
            actor=Actor.system(f"person {person.pk} (training link)"),
            provider=provider,
            certificate=certificate,
            module_sha256=shown_sha256,
            ip_address=ip_address,
            user_agent=user_agent,
        )
