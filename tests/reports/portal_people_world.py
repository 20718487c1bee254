"""People and policies for the auditor portal's test world: a policy with a version approved
before the Type 1 audit's as-of date and one after it (plus a draft), acceptance records (one
of an anonymised person), a training requirement with completions before and after the date
(one with a certificate), and, on demand, a roster sample of leavers with checklists."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from people.models import Checklist, ChecklistItem, Person
from people.populations import LEAVERS
from policies.markdown import text_sha256
from policies.models import Acceptance, Policy, PolicyVersion
from reports.models import Population, PopulationItem, Sample, SampleItem
from training.models import TrainingCompletion, TrainingRequirement

BODY = "# Access Control Policy\n\n{{ organization_name }} grants least privilege.\n\n<script>x</script>"
CERTIFICATE = b"%PDF-1.4 certificate"


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def person(org, name: str, **values) -> Person:
    values.setdefault("start_date", dt.date(2024, 1, 1))
    return Person.objects.create(
        organization_id=org.pk,
        full_name=name,
        email=f"{name.split()[0].lower()}@example.com",
        department="Engineering",
        **values,
    )


def approved_version(policy, number: int, day: dt.date, body: str = BODY) -> PolicyVersion:
    return PolicyVersion.objects.create(
        organization_id=policy.organization_id,
        policy=policy,
        number=number,
        state="approved",
        body=body,
        sha256=text_sha256(body),
        approved_by_label="approver@example.com",
        approved_at=_at(day),
        edited_by_label="writer@example.com",
    )


def accept(version, who: Person, day: dt.date, ip: str = "203.0.113.7") -> Acceptance:
    return Acceptance.objects.create(
        organization_id=version.organization_id,
        person=who,
        version=version,
        text_sha256=hashlib.sha256(f"{version.pk}:{who.pk}".encode()).hexdigest(),
        consent=f"I have read and accept v{version.number}.",
        accepted_at=_at(day),
        ip_address=ip,
        user_agent="Mozilla/5.0 (Portal test)",
        channel="link",
    )


def complete(requirement, who: Person, day: dt.date, *, certificate: bytes = b""):
    completion = TrainingCompletion(
        organization_id=requirement.organization_id,
        person=who,
        requirement=requirement,
        completed_on=day,
        source="import",
        provider="KnowBe4",
        module_sha256="" if certificate else "a" * 64,
        recorded_by_label="test",
    )
    if certificate:
        completion.certificate_name = "certificate.pdf"
        completion.certificate_type = "application/pdf"
        completion.certificate_size = len(certificate)
        completion.certificate_sha256 = hashlib.sha256(certificate).hexdigest()
        completion.certificate.save("ignored", ContentFile(certificate), save=False)
    completion.save()
    return completion


def add_people(w) -> None:
    org = w.org
    w.ada = person(org, "Ada Lovelace")
    w.gone = person(org, "Former Person", anonymised_at=timezone.now())
    w.policy = Policy.objects.create(organization=org, title="Access Control Policy")
    w.policy_v1 = approved_version(w.policy, 1, dt.date(2025, 1, 10))
    w.policy_v2 = approved_version(w.policy, 2, dt.date(2025, 8, 1), BODY + "\n\nv2")
    w.policy_draft = PolicyVersion.objects.create(
        organization=org, policy=w.policy, number=3, body="draft secret"
    )
    w.acceptance = accept(w.policy_v1, w.ada, dt.date(2025, 2, 1))
    w.anonymised_acceptance = accept(w.policy_v1, w.gone, dt.date(2025, 2, 2))
    w.late_acceptance = accept(w.policy_v2, w.ada, dt.date(2025, 8, 2), ip="198.51.100.9")
    w.requirement = TrainingRequirement.objects.create(
        organization=org, title="Security awareness", kind="external"
    )
    w.completion = complete(w.requirement, w.ada, dt.date(2025, 2, 3), certificate=CERTIFICATE)
    w.later_completion = complete(w.requirement, w.ada, dt.date(2025, 9, 1))


def people_urls(w, audit) -> list[str]:
    """Every people-and-policies portal URL inside ``audit``."""

    def url(name: str, **kwargs) -> str:
        return reverse(name, kwargs={"org_slug": w.org.slug, "audit_pk": audit.pk, **kwargs})

    return [
        url("portal_people"),
        url("portal_policy_version", pk=w.policy_v1.pk),
        url("portal_policy_version_pdf", pk=w.policy_v1.pk),
        url("portal_acceptances"),
        url("portal_training", pk=w.requirement.pk),
        url("portal_certificate", pk=w.completion.pk),
        url("portal_checklists"),
    ]


def leaver_sample(audit, control, leavers: list[Person]) -> Sample:
    """A population built from the roster's leavers (as ``population_from_source`` stores it)
    with every one of ``leavers`` sampled, written directly."""
    return roster_sample(audit, control, leavers, LEAVERS.label)


def roster_sample(audit, control, sampled: list[Person], label: str) -> Sample:
    org = audit.organization_id
    number = Population.objects.for_org(org).filter(audit=audit, control=control).count() + 1
    population = Population.objects.create(
        organization_id=org,
        audit=audit,
        control=control,
        version=number,
        source="built",
        source_name=label,
        sha256="1" * 64,
        row_count=len(sampled),
        supplied_by_label="test",
    )
    sample = Sample.objects.create(
        organization_id=org,
        population=population,
        audit=audit,
        control=control,
        number=1,
        size=len(sampled),
        suggested_size=len(sampled),
        method="manual",
        drawn_by_label="test",
    )
    for rank, who in enumerate(sampled, start=1):
        row = PopulationItem.objects.create(
            organization_id=org,
            population=population,
            item_id=f"PER-{who.pk}",
            date=who.end_date or who.start_date,
            description=f"{who.full_name} <{who.email}>",
        )
        SampleItem.objects.create(
            organization_id=org, sample=sample, population_item=row, rank=rank
        )
    return sample


def offboarding(leaver: Person, steps: list[tuple[str, int, int | None]]) -> Checklist:
    """An offboarding checklist: each step (title, due days after the end date, done days
    after it or None for open)."""
    return checklist(leaver, "offboarding", leaver.end_date, steps)


def checklist(who: Person, kind: str, anchor: dt.date, steps) -> Checklist:
    opened = Checklist.objects.create(
        organization_id=who.organization_id, person=who, kind=kind, anchor_date=anchor
    )
    for position, (title, due, done) in enumerate(steps):
        done_on = None if done is None else anchor + dt.timedelta(days=done)
        ChecklistItem.objects.create(
            organization_id=who.organization_id,
            checklist=opened,
            position=position,
            title=title,
            due_days=due,
            due_date=anchor + dt.timedelta(days=due),
            done_on=done_on,
            done_at=None if done_on is None else _at(done_on),
            done_by_label="" if done_on is None else "it@example.com",
            note="" if done_on is None else f"{title} noted",
        )
    return opened
