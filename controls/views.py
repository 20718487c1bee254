"""Browser views of the control library (and, later, of an organization's controls)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from controls import selectors
from controls.filters import TemplateFilter
from controls.models import Control
from tenants import permissions
from tenants.permissions import Action

LIBRARY_PAGE_SIZE = 25


@require_GET
def library(request: HttpRequest, org_slug: str) -> HttpResponse:
    templates = selectors.templates_list()
    filterset = TemplateFilter(request.GET or None, queryset=templates)
    if not filterset.is_bound:
        queryset = templates
    else:
        # An invalid filter lists nothing (its error shows beside the field) rather than
        # silently ignoring it and listing everything.
        queryset = filterset.qs if filterset.is_valid() else templates.none()
    page = Paginator(queryset, LIBRARY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode()}
    if permissions.can(request.membership, Action.CONTROL_MANAGE):
        org = request.organization
        context["owners"] = selectors.owner_choices(org)
        codes = [t.code for t in page.object_list]
        context["adopted"] = set(
            Control.objects.for_org(org).filter(code__in=codes).values_list("code", flat=True)
        )
    return render(request, "controls/library.html", context)


@require_GET
def template_detail(request: HttpRequest, org_slug: str, code: str) -> HttpResponse:
    return render(
        request, "controls/template_detail.html", {"template": selectors.template_get(code)}
    )
