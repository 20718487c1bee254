"""Personal training links: e-mailed to each person a requirement covers when their due date
is not met yet (joiners: at once) or the next cycle comes due within ``TRAINING_LEAD_DAYS``, one
per person, requirement and cycle (the due date it answers); reminders after
``POLICY_REMINDER_DAYS`` (three at most, each with a new token). Only the SHA-256 of a token is
stored; a link expires after ``TRAINING_LINK_DAYS`` and works once. The machinery (batches,
set-based writes, one SMTP connection a batch) is ``people.personal_links``, shared with
policies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from people import personal_links
from people.models import Person
from people.personal_links import BATCH, MAX_REMINDERS, Invite, LinkGone, SendResult
from policies.markdown import text_sha256
from soc2app.errors import ValidationFailed
from tenants.activity import Actor
from tenants.models import Organization
from training import selectors, services
from training.models import (
    CompletionSource,
    RequirementKind,
    TrainingCompletion,
    TrainingLink,
    TrainingRequirement,
)

__all__ = ["BATCH", "MAX_REMINDERS", "LinkGone", "SendResult", "links_send"]

USED = "This link was used already: your training is recorded."


class TrainingLinks(personal_links.LinkKind):
    model = TrainingLink
    template = "emails/training_link.txt"
    url_name = "training_link"

    def __init__(self, req: TrainingRequirement) -> None:
        super().__init__(req.organization, req)
        self.requirement = req
        self.link_days = settings.TRAINING_LINK_DAYS

    @property
    def scope(self) -> dict:
        return {"requirement": self.requirement}

    def _work(self, person_ids: Sequence[int] | None) -> list[tuple[Invite, TrainingLink, bool]]:
        """(invite, existing link or None, reminder?) for whoever should get an e-mail now."""
        req, org = self.requirement, self.organization
        now, today = timezone.now(), timezone.localdate()
        horizon = today + dt.timedelta(days=settings.TRAINING_LEAD_DAYS)
        ids = list(person_ids) if person_ids is not None else None
        rows = [
            s
            for s in selectors.statuses(org, today, [req], person_ids=ids)[req.pk]
            # Joiners at once (first cycle); later cycles once due within the lead time.
            if s.due_on is not None and (s.last_completed is None or s.due_on <= horizon)
        ]
        if not rows:
            return []
        links = {
            (link.person_id, link.due_on): link
            for link in self.links().filter(
                requirement=req, person_id__in=[s.person_id for s in rows]
            )
        }
        remind_before = now - dt.timedelta(days=settings.POLICY_REMINDER_DAYS)
        in_flight = personal_links.in_flight_since(now)
        work = []
        for s in rows:
            link = links.get((s.person_id, s.due_on))
            invite = Invite(
                s.person_id,
                s.email,
                {"person_name": s.full_name, "due_on": s.due_on},
                {"due_on": s.due_on},
                replaces=link.pk if link is not None else None,
            )
            if link is not None and link.sent_at is None and link.created_at > in_flight:
                continue  # another batch is sending it
            if link is None or link.sent_at is None or link.expires_at <= now:
                work.append((invite, link, False))
            elif (
                link.used_at is None
                and link.sent_at <= remind_before
                and link.reminders < MAX_REMINDERS
            ):
                work.append((invite, link, True))
        return work

    def invites(self, person_ids: Sequence[int] | None = None) -> list[Invite]:
        return [invite for invite, _link, reminder in self._work(person_ids) if not reminder]

    def reminders(self) -> list[tuple[TrainingLink, Invite]]:
        return [(link, invite) for invite, link, reminder in self._work(None) if reminder]

    def subject(self) -> str:
        return (
            f"{self.organization.name}: please complete your training "
            f"\u201c{self.requirement.title}\u201d"
        )

    def context(self) -> dict:
        return {"requirement": self.requirement}


def links_send(req: TrainingRequirement) -> SendResult:
    """E-mail the links due now for one requirement (new, expired, then reminders)."""
    kind = TrainingLinks(req)
    result = personal_links.batches_send(kind)
    if result.failed:
        return result  # the mail server refuses: the next run tries the rest
    return result.add(personal_links.reminders_send(kind))


@dataclass(frozen=True)
class LinkView:
    organization: Organization
    link: TrainingLink
    requirement: TrainingRequirement
    person: Person


def link_resolve(org_slug: str, token: str) -> LinkView:
    """The link behind ``token`` in ``org_slug``, or NotFound (unknown, tampered, another
    organization's) or LinkGone (expired, used, a person who left, completed since)."""
    today = timezone.localdate()
    org, link = personal_links.link_find(TrainingLink, org_slug, token, ["requirement"])
    person = personal_links.link_check(link, USED, today)
    if not person.is_active_on(today):
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
        personal_links.link_claim(TrainingLink, org, view.link.pk, USED, now)
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
