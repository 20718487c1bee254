"""Reads of the control library (global) and of an organization's controls, systems and audits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404

from controls.models import (
    Audit,
    AuditCategory,
    AuditSystem,
    Control,
    ControlCriterion,
    ControlTemplate,
    ReadinessSnapshot,
    SelfAssessmentAnswer,
    System,
)
from criteria.models import Criterion
from tenants.models import Membership, Organization, Role


def templates_list() -> QuerySet[ControlTemplate]:
    return (
        ControlTemplate.objects.select_related("library")
        .prefetch_related(
            Prefetch(
                "criteria",
                queryset=Criterion.objects.only("id", "ref", "title", "position").order_by(
                    "position"
                ),
            )
        )
        .order_by("library_id", "position")
    )


def template_get(code: str) -> ControlTemplate:
    template = templates_list().filter(code__iexact=code).first()
    if template is None:
        raise Http404("No such control template.")
    return template


# --- An organization's controls, systems and audits -----------------------------------------

MAX_PK = 2**63 - 1  # bigint; larger ids would be a database error, not a 404


def _pk(value: object, message: str) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404(message) from None
    if not 0 < pk <= MAX_PK:
        raise Http404(message)
    return pk


pk_or_404 = _pk  # for views that pass an id on without fetching its row first


def controls_list(org: Organization | int) -> QuerySet[Control]:
    """Controls with their owner and mapped criteria (two queries for any number of rows)."""
    return (
        Control.objects.for_org(org)
        .select_related("owner__user")
        .prefetch_related(
            Prefetch(
                "mappings",
                queryset=ControlCriterion.objects.for_org(org)
                .select_related("criterion")
                .order_by("criterion__position"),
            )
        )
        .order_by("code")
    )


def control_get_for(org: Organization | int, pk: int | str) -> Control:
    """One control of ``org``; 404 for a missing id and another organization's alike."""
    pk = _pk(pk, "No such control.")
    control = controls_list(org).select_related("template").filter(pk=pk).first()
    if control is None:
        raise Http404("No such control.")
    return control


def control_criteria_refs(control: Control) -> list[str]:
    return [m.criterion.ref for m in control.mappings.all()]


# The columns of a control as the API lists it (``control_rows``): the owner's email and the
# template's code come along by join, so a page is one query for any number of rows.
CONTROL_ROW_FIELDS = (
    "id",
    "code",
    "title",
    "description",
    "control_type",
    "frequency",
    "operation",
    "status",
    "na_justification",
    "due_date",
    "owner_id",
    "owner__user__email",
    "template__code",
    "evidence_guidance",
    "created_at",
    "updated_at",
)


def control_rows(org: Organization | int, queryset: QuerySet[Control]) -> QuerySet[dict]:
    """``queryset`` (scoped, filtered, ordered) as plain rows: no model instances are built,
    which is most of the cost of a list page. Complete them with ``with_criteria_refs``.

    On PostgreSQL each row brings its criteria references (an array sub-select, so the page
    is one query); elsewhere ``with_criteria_refs`` reads them in a second query.
    """
    rows = queryset.select_related(None).prefetch_related(None)
    fields = CONTROL_ROW_FIELDS
    if connections[rows.db].vendor == "postgresql":
        refs = (
            ControlCriterion.objects.for_org(org)
            .filter(control_id=OuterRef("pk"))
            .order_by("criterion__position")
            .values("criterion__ref")
        )
        rows = rows.annotate(criteria=ArraySubquery(refs))
        fields = (*fields, "criteria")
    return rows.values(*fields)


def with_criteria_refs(org: Organization | int, rows: list[dict]) -> list[dict]:
    """Give each row its ``criteria`` references in catalog order (one query for the page),
    unless ``control_rows`` brought them already."""
    if not rows or "criteria" in rows[0]:
        return rows
    refs: defaultdict[int, list[str]] = defaultdict(list)
    mapped = (
        ControlCriterion.objects.for_org(org)
        .filter(control_id__in=[row["id"] for row in rows])
        .order_by("criterion__position")
        .values_list("control_id", "criterion__ref")
    )
    for control_id, ref in mapped:
        refs[control_id].append(ref)
    for row in rows:
        row["criteria"] = refs.get(row["id"], [])
    return rows


def owner_choices(org: Organization | int) -> list[tuple[int, str]]:
    """Members who can own a control (everyone but auditors), as form choices."""
    rows = (
        Membership.objects.for_org(org)
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__email")
    )
    return [(m.pk, m.user.email) for m in rows if m.is_active]


def systems_list(org: Organization | int) -> QuerySet[System]:
    return System.objects.for_org(org).select_related("owner__user").order_by("name")


def system_get_for(org: Organization | int, pk: int | str) -> System:
    pk = _pk(pk, "No such system.")
    system = systems_list(org).filter(pk=pk).first()
    if system is None:
        raise Http404("No such system.")
    return system


def audits_list(org: Organization | int) -> QuerySet[Audit]:
    return Audit.objects.for_org(org).order_by("-created_at")


def audits_with_readiness(org: Organization | int) -> QuerySet[Audit]:
    """The audits list with each audit's latest readiness snapshot (``score``, ``measured_on``;
    None before the first daily snapshot): one query whatever the number of audits, like the
    home's program (``controls.home``), not the engine per audit."""
    latest = (
        ReadinessSnapshot.objects.for_org(org).filter(audit_id=OuterRef("pk")).order_by("-taken_on")
    )
    return audits_list(org).annotate(
        score=Subquery(
            latest.values("score")[:1], output_field=ReadinessSnapshot._meta.get_field("score")
        ),
        measured_on=Subquery(latest.values("taken_on")[:1]),
    )


def audit_get_for(org: Organization | int, pk: int | str) -> Audit:
    pk = _pk(pk, "No such audit.")
    audit = audits_list(org).select_related("framework").filter(pk=pk).first()
    if audit is None:
        raise Http404("No such audit.")
    return audit


def audit_scope(audit: Audit) -> tuple[list[str], list[System]]:
    """The category keys and the systems in ``audit``'s scope."""
    org = audit.organization_id
    keys = list(
        AuditCategory.objects.for_org(org)
        .filter(audit=audit)
        .order_by("category__position")
        .values_list("category__key", flat=True)
    )
    systems = [
        link.system
        for link in AuditSystem.objects.for_org(org)
        .filter(audit=audit)
        .select_related("system")
        .order_by("system__name")
    ]
    return keys, systems


def self_assessment_rows(audit: Audit) -> list[tuple[Criterion, SelfAssessmentAnswer | None]]:
    from controls.audits import scope_criteria

    answers = {
        a.criterion_id: a
        for a in SelfAssessmentAnswer.objects.for_org(audit.organization_id).filter(audit=audit)
    }
    return [(c, answers.get(c.pk)) for c in scope_criteria(audit)]


def suggested_templates(audit: Audit, criterion_ids: list[int]) -> QuerySet[ControlTemplate]:
    """Library templates mapped to the given criteria whose code the organization has not
    adopted yet: what to adopt to close the gaps."""
    adopted = Control.objects.for_org(audit.organization_id).values("code")
    return (
        templates_list()
        .filter(criteria__in=criterion_ids, library__framework_id=audit.framework_id)
        .exclude(code__in=adopted)
        .distinct()
    )


def controls_mapped_to(organization: Organization | int, refs: Iterable[str]) -> list[Control]:
    """The organization's controls mapped to any of the criteria ``refs`` ("CC9.2"), by code:
    where system-generated evidence about a criterion goes (vendor reviews on CC9.2, the risk
    assessment on CC3.1-CC3.4). One query."""
    return list(
        Control.objects.for_org(organization)
        .filter(mappings__criterion__ref__in=list(refs))
        .distinct()
        .order_by("code")
    )
