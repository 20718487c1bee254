"""Filters of the control library, shared by the browser page and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from controls.models import ControlTemplate, ControlType, Frequency
from criteria.models import Category


def _category_choices() -> list[tuple[str, str]]:
    # A callable, evaluated whenever the form field needs it: the catalog may change at run time.
    pairs = Category.objects.order_by("position").values_list("key", "name")
    return list(dict(pairs).items())


class TemplateFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    # The empty choices say what they do ("Any type"), not django-filter's "---------".
    category = django_filters.ChoiceFilter(
        method="by_category",
        label="Category",
        choices=_category_choices,
        empty_label="Any category",
    )
    criterion = django_filters.CharFilter(method="by_criterion", label="Criterion", max_length=12)
    type = django_filters.ChoiceFilter(
        field_name="control_type",
        choices=ControlType.choices,
        label="Type",
        empty_label="Any type",
    )
    frequency = django_filters.ChoiceFilter(choices=Frequency.choices, empty_label="Any frequency")

    class Meta:
        model = ControlTemplate
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )

    def by_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(criteria__category__key=value).distinct()

    def by_criterion(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(criteria__ref__iexact=value.strip()).distinct()
