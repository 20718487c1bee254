"""Reads of the control library (global) and, later, of tenant controls."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from controls.models import ControlTemplate
from criteria.models import Criterion


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
