"""Sending the personal links that ask people to accept a policy version (the machinery,
shared with training, is ``people.personal_links``).

* ``links_send``: for one approved version, each person covered (active today, not
  anonymised) who has neither accepted it nor been sent a live link gets a personal link by
  e-mail, expiring after ``POLICY_LINK_DAYS``, working once; batch after batch.
* the request that assigns a policy or approves a version only queues ``policy_links_send``,
  which queues one ``policy_links_batch`` task per ``BATCH`` people (``people.link_tasks``):
  5,000 people are asked by 25 tasks, in parallel, and no request waits for them.
* ``links_remind``: a new token and e-mail for whoever has not accepted
  ``POLICY_REMINDER_DAYS`` after the last one, at most ``MAX_REMINDERS`` times.

Assignments, resolving a link and recording the acceptance: ``policies.acceptance``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from people import personal_links
from people.personal_links import BATCH, MAX_REMINDERS, Invite, SendResult
from policies.acceptance import covered_people
from policies.models import Acceptance, AcceptanceLink, PolicyVersion

__all__ = ["BATCH", "MAX_REMINDERS", "SendResult", "links_remind", "links_send"]


class PolicyLinks(personal_links.LinkKind):
    model = AcceptanceLink
    template = "emails/policy_acceptance.txt"
    url_name = "policy_accept"

    def __init__(self, version: PolicyVersion) -> None:
        super().__init__(version.organization, version)
        self.version = version
        self.link_days = settings.POLICY_LINK_DAYS

    @property
    def scope(self) -> dict:
        return {"version": self.version}

    def invites(self, person_ids: Sequence[int] | None = None) -> list[Invite]:
        now = timezone.now()
        accepted = Acceptance.objects.for_org(self.organization).filter(
            version=self.version, person=OuterRef("pk")
        )
        mine = self.links().filter(version=self.version, person=OuterRef("pk"))
        # Sent and not expired, or being sent by another batch.
        live = mine.filter(
            Q(sent_at__isnull=False, expires_at__gt=now)
            | Q(sent_at__isnull=True, created_at__gt=personal_links.in_flight_since(now))
        )
        people = covered_people(self.version.policy).filter(~Exists(accepted), ~Exists(live))
        if person_ids is not None:
            people = people.filter(pk__in=list(person_ids))
        people = people.annotate(old_link=Subquery(mine.values("pk")[:1])).order_by("pk")
        return [
            Invite(person.pk, person.email, {"person": person}, replaces=person.old_link)
            for person in people.only("pk", "full_name", "email")
        ]

    def reminders(self) -> list[tuple[AcceptanceLink, Invite]]:
        now = timezone.now()
        due = now - dt.timedelta(days=settings.POLICY_REMINDER_DAYS)
        accepted = Acceptance.objects.for_org(self.organization).filter(
            version=self.version, person=OuterRef("person")
        )
        links = (
            self.links()
            .filter(
                version=self.version,
                used_at__isnull=True,
                sent_at__lte=due,
                expires_at__gt=now,
                reminders__lt=MAX_REMINDERS,
                person__in=covered_people(self.version.policy),
            )
            .filter(~Exists(accepted))
            .select_related("person")
            .order_by("pk")[:BATCH]
        )
        return [
            (link, Invite(link.person_id, link.person.email, {"person": link.person}))
            for link in links
        ]

    def subject(self) -> str:
        return f"{self.organization.name}: please read and accept the {self.version.policy.title}"

    def context(self) -> dict:
        return {"policy": self.version.policy, "version": self.version}


def links_send(version: PolicyVersion) -> SendResult:
    """Ask everyone the version's policy covers who has not accepted it (batches)."""
    return personal_links.batches_send(PolicyLinks(version))


def links_remind(version: PolicyVersion) -> SendResult:
    """Remind whoever was sent a link ``POLICY_REMINDER_DAYS`` ago and has not accepted (at
    most ``MAX_REMINDERS`` times): a new token, the same expiry, a new e-mail."""
    return personal_links.reminders_send(PolicyLinks(version))
