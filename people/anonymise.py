"""Anonymising a leaver once the retention period is over (issue 17: "a person can be
anonymised after the retention period while their acceptance records keep their hashes").

Rules:
* managers only (``Action.PEOPLE_MANAGE``: owners, admins, compliance managers, their keys);
* only a leaver whose retention period is over: ``end_date + PERSON_RETENTION_DAYS < today``;
  anyone else is refused (409) with the day they can be anonymised from;
* replaced on the roster entry: the full name ("Former person #<id>"), the address
  (``anonymised-<id>@anonymised.invalid``: unique in the organization, and ``.invalid``
  never routes, RFC 2606), the title, the manager and the linked member. Kept: department,
  employment type, start and end dates (the joiners' and leavers' populations of a Type 2
  audit and every aggregate figure still count the person, under their new label);
* their live personal links (policy acceptance, training) are deleted: nothing can be
  accepted or completed in their name any more (the link pages already refuse an anonymised
  person; their token hashes are gone too);
* their acceptance and training-completion records lose the IP address and user agent
  (personal data) and keep everything else: the SHA-256 of the text shown, the consent,
  dates, channel or source, the certificate and its hash. Those records are immutable: the
  models' ``save`` refuses any change, and the PostgreSQL triggers (policies 0006,
  training 0003) refuse every update but exactly this one, on rows whose person is
  anonymised; ``_network_data_clear`` below is the one place that issues it;
* one activity entry (``person.anonymise``) in the same transaction, naming the person by id
  and new label only, with what was cleared (counts): never the old name or address;
* idempotent: anonymising an anonymised person changes nothing and writes nothing.

Never automatic. The daily view of who is due is the managers' to-do ("N people past
retention can be anonymised", ``people.todo``), computed when the home renders (one COUNT);
anonymising is a manager's explicit action, one person from their page or every due person
from the roster's "past retention" page, each behind a confirmation. Deleting personal data
on a timer would act without anyone noticing a legal hold, a dispute or a wrong end date.

What this does not rewrite (other records' own retention): the append-only activity log
keeps what it recorded before (names and addresses of roster changes); stored Type 2
populations built from the roster keep the name and address in their rows; a training
certificate (the file and its original name) and ``recorded_by_label`` of a completion the
member recorded in the app (their login address) stay, as the immutable record holds them.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from people.models import Person
from policies.models import Acceptance, AcceptanceLink
from soc2app.errors import Conflict, NotFound
from tenants import permissions
from tenants.activity import Actor, activity_record
from tenants.models import Membership, Organization
from tenants.permissions import Action
from training.models import TrainingCompletion, TrainingLink

# People anonymised by one click of "anonymise everyone past retention": one transaction
# each click, so a large backlog is cleared in a few clicks rather than one long request.
BULK_MAX = 200
# The roster fields replaced (their new values never derive from the old ones).
REPLACED = ("full_name", "email", "title", "manager", "membership")


def anonymised_name(person_id: int) -> str:
    return f"Former person #{person_id}"


def anonymised_email(person_id: int) -> str:
    return f"anonymised-{person_id}@anonymised.invalid"


def retention_days() -> int:
    return settings.PERSON_RETENTION_DAYS


def retention_ends_on(person: Person) -> dt.date | None:
    """The last day of the person's retention period (None while they have no end date)."""
    if person.end_date is None:
        return None
    return person.end_date + dt.timedelta(days=retention_days())


def can_anonymise(person: Person, today: dt.date) -> bool:
    ends = retention_ends_on(person)
    return person.anonymised_at is None and ends is not None and ends < today


def retention_due(org: Organization | int, today: dt.date) -> QuerySet[Person]:
    """Leavers past the retention period, not anonymised yet, longest gone first."""
    cutoff = today - dt.timedelta(days=retention_days())
    return (
        Person.objects.for_org(org)
        .filter(anonymised_at__isnull=True, end_date__lt=cutoff)
        .order_by("end_date", "id")
    )


def _refusal(person: Person, today: dt.date) -> Conflict | None:
    days = retention_days()
    ends = retention_ends_on(person)
    if ends is None:
        return Conflict(
            f"{person.full_name} has not left: only a leaver can be anonymised, {days} days "
            "after their last day (the retention period). Record their last day first.",
            code="not_a_leaver",
        )
    if ends >= today:
        first = ends + dt.timedelta(days=1)
        return Conflict(
            f"Too early: {person.full_name}'s data is kept for {days} days after their last "
            f"day ({person.end_date:%-d %b %Y}). They can be anonymised from {first:%-d %b %Y}.",
            code="retention_not_over",
        )
    return None


def _network_data_clear(org: Organization, person: Person) -> dict[str, int]:
    """Clear the IP address and user agent of the person's immutable records: the one update
    their triggers admit (the person is anonymised already, in this transaction)."""
    cleared = {}
    for key, model in (("acceptances", Acceptance), ("training_completions", TrainingCompletion)):
        cleared[key] = (
            model.objects.for_org(org)
            .filter(person=person)
            .exclude(ip_address__isnull=True, user_agent="")
            .update(ip_address=None, user_agent="")
        )
    return cleared


def _links_delete(org: Organization, person: Person) -> int:
    deleted = 0
    for model in (AcceptanceLink, TrainingLink):
        count, _by_model = model.objects.for_org(org).filter(person=person).delete()
        deleted += count
    return deleted


def _anonymise(membership: Membership, pk: int, today: dt.date) -> tuple[Person, bool]:
    """In the caller's transaction: (the person, whether this call anonymised them)."""
    org = membership.organization
    person = Person.objects.for_org(org).select_for_update().filter(pk=pk).first()
    if person is None:
        raise NotFound("No such person.")
    if person.anonymised_at is not None:
        return person, False
    if (problem := _refusal(person, today)) is not None:
        raise problem
    person.full_name = anonymised_name(person.pk)
    person.email = anonymised_email(person.pk)
    person.title = ""
    person.manager = None
    person.membership = None
    person.anonymised_at = timezone.now()
    person.save(update_fields=[*REPLACED, "anonymised_at"])
    links = _links_delete(org, person)
    cleared = _network_data_clear(org, person)
    activity_record(
        organization=org,
        actor=Actor.for_principal(membership),
        action="person.anonymise",
        target=person,  # its label is the new one: the entry never repeats the old name
        changes={
            "anonymised_at": [None, person.anonymised_at],
            "replaced": [None, ", ".join(REPLACED)],
            "links_deleted": [None, links],
            **{f"{key}_ip_and_user_agent_cleared": [None, n] for key, n in cleared.items()},
        },
    )
    return person, True


def person_anonymise(
    *, membership: Membership, person: Person, today: dt.date | None = None
) -> Person:
    """Anonymise ``person`` (a leaver past retention); the anonymised entry."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    with transaction.atomic():
        anonymised, _changed = _anonymise(membership, person.pk, today or timezone.localdate())
    return anonymised


def people_anonymise_due(
    *, membership: Membership, today: dt.date | None = None, limit: int = BULK_MAX
) -> tuple[int, int]:
    """Anonymise up to ``limit`` people past retention, all or none: (anonymised, still due)."""
    permissions.require(membership, Action.PEOPLE_MANAGE)
    today = today or timezone.localdate()
    org = membership.organization
    with transaction.atomic():
        ids = list(retention_due(org, today).values_list("pk", flat=True)[:limit])
        done = sum(_anonymise(membership, pk, today)[1] for pk in ids)
    return done, retention_due(org, today).count()
