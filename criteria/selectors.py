"""Reads of the framework catalog. Each returns everything its page needs in a fixed number
of queries, whatever the size of the catalog."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from criteria.models import Category, Criterion, CrosswalkMapping, Framework, Series


def framework_find(key: str | None = None) -> Framework | None:
    """The framework with ``key``, or the default one (settings.CATALOG_FRAMEWORK)."""
    return Framework.objects.filter(key=key or settings.CATALOG_FRAMEWORK).first()


def framework_get(key: str | None = None) -> Framework:
    framework = framework_find(key)
    if framework is None:
        raise Http404("The catalog is not loaded. Run: manage.py load_catalog")
    return framework


def catalog_tree(framework: Framework) -> QuerySet[Category]:
    """Categories, their series and criteria (with how many templates map to each)."""
    criteria = Criterion.objects.annotate(template_count=Count("templates")).order_by("position")
    return (
        Category.objects.filter(framework=framework)
        .order_by("position")
        .prefetch_related(
            Prefetch(
                "series",
                queryset=Series.objects.order_by("position").prefetch_related(
                    Prefetch("criteria", queryset=criteria)
                ),
            )
        )
    )


def criteria_list(framework: Framework) -> QuerySet[Criterion]:
    return (
        Criterion.objects.filter(framework=framework)
        .select_related("category", "series", "framework")
        .prefetch_related(
            "points_of_focus",
            Prefetch(
                "crosswalks",
                queryset=CrosswalkMapping.objects.select_related("reference__framework").order_by(
                    "reference__framework__name", "reference__ref_id"
                ),
            ),
            Prefetch("templates", queryset=_templates_for_display()),
        )
        .order_by("position")
    )


def _templates_for_display() -> QuerySet:
    from controls.models import ControlTemplate

    return ControlTemplate.objects.only(
        "id", "code", "title", "control_type", "frequency"
    ).order_by("position")


def criterion_get(framework: Framework, ref: str) -> Criterion:
    criterion = criteria_list(framework).filter(ref__iexact=ref).first()
    if criterion is None:
        raise Http404("No such criterion.")
    return criterion


def crosswalk_by_framework(criterion: Criterion) -> dict[str, list]:
    """{external framework name: [references]} from a criterion fetched by ``criteria_list``."""
    grouped: dict[str, list] = {}
    for mapping in criterion.crosswalks.all():
        grouped.setdefault(mapping.reference.framework.name, []).append(mapping.reference)
    return grouped
