from __future__ import annotations

from rest_framework import viewsets

from controls import selectors
from controls.api.serializers import ControlTemplateSerializer
from controls.filters import TemplateFilter
from controls.models import ControlTemplate


class ControlTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """The control library: templates an organization can adopt, with their criteria."""

    serializer_class = ControlTemplateSerializer
    filterset_class = TemplateFilter
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9._-]+"
    ordering_fields = ["code", "title", "frequency"]
    ordering = ["position"]

    def get_queryset(self):
        return selectors.templates_list()

    def get_object(self) -> ControlTemplate:
        return selectors.template_get(self.kwargs["code"])
