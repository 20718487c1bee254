"""People and policies as an auditor sees them in the portal (its pages and its API), for one
granted audit (``reports.selectors.portal_audit_get`` found it):

* the organization's approved policy versions effective in or before the audit's period (an
  approval on or before its last day), each readable and downloadable as a PDF;
* the acceptance records of those versions (personal data: auditors with a grant see it);
* the training requirements and their completion records;
* the onboarding/offboarding checklists of the people *sampled* from the roster's joiner and
  leaver populations of this audit (``people.populations``: an item ``PER-<id>`` is a person),
  and nobody else's.

Every read is one query (or a fixed few), whatever the number of rows; another audit's or
organization's row is "not found" (``Http404``) like a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from controls.models import Audit
from people.models import Checklist, ChecklistItem, ChecklistKind
from people.populations import JOINERS, LEAVERS
from policies.models import Acceptance, PolicyVersion, VersionState
from reports.models import PopulationSource, Sample, SampleItem
from training.models import TrainingCompletion, TrainingRequirement

#: The roster's ready-made populations (stored with their label as ``source_name``) and the
#: checklist that evidences a sampled person of each.
CHECKLIST_OF_SOURCE = {
    JOINERS.label: ChecklistKind.ONBOARDING,
    LEAVERS.label: ChecklistKind.OFFBOARDING,
}
PERSON_KEY_PREFIX = "PER-"


def _pk(value: object, what: str) -> int:
    text = str(value)
    pk = int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0
    if pk <= 0:
        raise Http404(f"No such {what}.")
    return pk


def audit_period_end(audit: Audit) -> dt.date:
    """The last day the audit looks at: a Type 2's window end, a Type 1's as-of date."""
    return audit.window_end if audit.is_type2 else audit.as_of_date


# --- Policies -------------------------------------------------------------------------------


def policy_versions(audit: Audit) -> QuerySet[PolicyVersion]:
    """Approved versions of the organization's policies approved on or before the audit's
    period end, by policy then newest first, each with its number of acceptance records."""
    return (
        PolicyVersion.objects.for_org(audit.organization_id)
        .filter(state=VersionState.APPROVED, approved_at__date__lte=audit_period_end(audit))
        .select_related("policy")
        .annotate(acceptance_count=Count("acceptances"))
        .order_by("policy__title", "policy_id", "-number")
    )


def policy_version_get(audit: Audit, pk: object) -> PolicyVersion:
    version = policy_versions(audit).filter(pk=_pk(pk, "policy version")).first()
    if version is None:
        raise Http404("No such policy version.")
    return version


def acceptances(audit: Audit, version: PolicyVersion | None = None) -> QuerySet[Acceptance]:
    """Acceptance records of the versions the audit sees (or of ``version``), newest first,
    with the person and the version's policy (one query)."""
    rows = Acceptance.objects.for_org(audit.organization_id).select_related(
        "person", "version__policy"
    )
    if version is not None:
        rows = rows.filter(version=version)
    else:
        rows = rows.filter(version__in=policy_versions(audit).values("pk"))
    return rows.order_by("-accepted_at", "-pk")


# --- Training -------------------------------------------------------------------------------


def training_requirements(audit: Audit) -> QuerySet[TrainingRequirement]:
    """The organization's requirements, each with its number of completions on or before the
    audit's period end."""
    end = audit_period_end(audit)
    return (
        TrainingRequirement.objects.for_org(audit.organization_id)
        .annotate(
            completion_count=Count("completions", filter=Q(completions__completed_on__lte=end))
        )
        .order_by("title", "pk")  # Meta.ordering does not apply to an aggregation
    )


def training_requirement_get(audit: Audit, pk: object) -> TrainingRequirement:
    found = training_requirements(audit).filter(pk=_pk(pk, "training requirement")).first()
    if found is None:
        raise Http404("No such training requirement.")
    return found


def training_completions(
    audit: Audit, requirement: TrainingRequirement | None = None
) -> QuerySet[TrainingCompletion]:
    """Completions on or before the audit's period end (of ``requirement``), newest first."""
    rows = (
        TrainingCompletion.objects.for_org(audit.organization_id)
        .filter(completed_on__lte=audit_period_end(audit))
        .select_related("person", "requirement")
    )
    if requirement is not None:
        rows = rows.filter(requirement=requirement)
    return rows.order_by("-completed_on", "-pk")


def training_certificate_get(audit: Audit, pk: object) -> TrainingCompletion:
    found = (
        training_completions(audit).exclude(certificate="").filter(pk=_pk(pk, "certificate"))
    ).first()
    if found is None:
        raise Http404("No such certificate.")
    return found


# --- Checklists of sampled people -----------------------------------------------------------


@dataclass
class SampledChecklists:
    """One sample drawn from a roster population, with its people's checklists (the sample's
    order; ``None`` where a sampled person has no checklist of that kind)."""

    sample: Sample
    kind: str
    rows: list[tuple[SampleItem, Checklist | None]] = field(default_factory=list)


def _person_id(item_id: str) -> int | None:
    raw = item_id.removeprefix(PERSON_KEY_PREFIX)
    if item_id.startswith(PERSON_KEY_PREFIX) and raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


def roster_samples(audit: Audit) -> QuerySet[Sample]:
    return (
        Sample.objects.for_org(audit.organization_id)
        .filter(
            audit=audit,
            population__source=PopulationSource.BUILT,
            population__source_name__in=list(CHECKLIST_OF_SOURCE),
        )
        .select_related("population", "control")
        .order_by("population__source_name", "-number", "pk")
    )


def sampled_checklists(audit: Audit, today: dt.date) -> list[SampledChecklists]:
    """Every sample of the audit drawn from the roster's joiners or leavers, with the sampled
    people's onboarding or offboarding checklists and their items (four queries), each item
    marked ``late`` (done after its due date, or open past it on ``today``)."""
    org = audit.organization_id
    samples = list(roster_samples(audit))
    if not samples:
        return []
    items = (
        SampleItem.objects.for_org(org)
        .filter(sample__in=[s.pk for s in samples])
        .select_related("population_item")
        .order_by("sample_id", "rank")
    )
    groups = {
        s.pk: SampledChecklists(s, CHECKLIST_OF_SOURCE[s.population.source_name]) for s in samples
    }
    wanted: list[tuple[SampleItem, int | None, str]] = []
    for item in items:
        group = groups[item.sample_id]
        wanted.append((item, _person_id(item.population_item.item_id), group.kind))
    people = {person for _item, person, _kind in wanted if person is not None}
    checklist_items = ChecklistItem.objects.for_org(org).select_related("evidence__item")
    found = {
        (c.person_id, c.kind): c
        for c in Checklist.objects.for_org(org)
        .filter(person_id__in=people)
        .select_related("person")
        .prefetch_related(Prefetch("items", queryset=checklist_items.order_by("position", "pk")))
    }
    for checklist in found.values():
        for step in checklist.items.all():
            step.late = step.done_late or step.is_overdue(today)
    for item, person, kind in wanted:
        groups[item.sample_id].rows.append((item, found.get((person, kind))))
    return list(groups.values())
