"""A roster with a leaver past retention (Ada), one whose retention ends today (Tom), and an
active person (Cy); each with an acceptance of an approved policy, a training completion and
live personal links (policy and training) whose tokens are known."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from people.models import Person
from policies.acceptance import current_version, token_hash
from policies.models import Acceptance, AcceptanceLink, PolicyVersion
from tests.people.conftest import START
from tests.policies.conftest import approve
from training.models import TrainingCompletion, TrainingLink, TrainingRequirement

RETENTION = 730  # PERSON_RETENTION_DAYS' default
CERT_SHA = "c" * 64
MODULE_SHA = "d" * 64


@dataclass
class World:
    ada: Person  # left RETENTION + 1 days ago: due
    tom: Person  # left RETENTION days ago: due tomorrow
    cy: Person  # active
    boss: Person
    version: PolicyVersion
    module: TrainingRequirement

    def acceptance(self, person: Person) -> Acceptance:
        return Acceptance.objects.for_org(person.organization_id).get(person=person)

    def completion(self, person: Person) -> TrainingCompletion:
        return TrainingCompletion.objects.for_org(person.organization_id).get(person=person)


def records_for(org, person: Person, version: PolicyVersion, module, n: int = 1) -> None:
    """``n`` acceptances (of ``version``: one, the rest need other versions, so completions
    on ``n`` days) and links with the tokens ``<pk>-policy`` and ``<pk>-training``."""
    later = timezone.now() + dt.timedelta(days=5)
    Acceptance.objects.create(
        organization=org,
        person=person,
        version=version,
        text_sha256="a" * 64,
        consent="I have read this policy and I will follow it.",
        accepted_at=dt.datetime(2020, 3, 2, 9, 30, tzinfo=dt.UTC),
        ip_address="203.0.113.7",
        user_agent="Firefox/120",
        channel="link",
    )
    for day in range(n):
        TrainingCompletion.objects.create(
            organization=org,
            person=person,
            requirement=module,
            completed_on=dt.date(2020, 3, 1) + dt.timedelta(days=day),
            source="link",
            module_sha256=MODULE_SHA,
            certificate_sha256=CERT_SHA,
            ip_address="2001:db8::1",
            user_agent="Safari/17",
        )
    AcceptanceLink.objects.create(
        organization=org,
        person=person,
        version=version,
        token_sha256=token_hash(f"{person.pk}-policy"),
        expires_at=later,
    )
    TrainingLink.objects.create(
        organization=org,
        person=person,
        requirement=module,
        due_on=timezone.localdate(),
        token_sha256=token_hash(f"{person.pk}-training"),
        expires_at=later,
    )


@pytest.fixture
def world(org, manager, approver, adopted, module, add, contributor) -> World:
    approve(manager, approver, adopted)
    version = current_version(adopted)
    today = timezone.localdate()
    boss = add("Bea Boss")
    ada = add(
        "Ada Lovelace",
        title="Analyst",
        department="Engineering",
        manager=boss,
        member=contributor,
        start_date=dt.date(2019, 1, 7),
        end_date=today - dt.timedelta(days=RETENTION + 1),
    )
    tom = add(
        "Tom Later",
        start_date=dt.date(2019, 1, 7),
        end_date=today - dt.timedelta(days=RETENTION),
    )
    cy = add("Cy Current", start_date=START)
    for person in (ada, tom, cy):
        records_for(org, person, version, module)
    return World(ada=ada, tom=tom, cy=cy, boss=boss, version=version, module=module)
