"""Read-only catalog pages (the same for every organization)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from criteria import selectors
from criteria.oscal import catalog_to_oscal


@require_GET
def catalog(request: HttpRequest, org_slug: str) -> HttpResponse:
    framework = selectors.framework_find(request.GET.get("framework"))
    categories = selectors.catalog_tree(framework) if framework else []
    context = {"framework": framework, "categories": categories}
    return render(request, "criteria/catalog.html", context)


@require_GET
def criterion_detail(request: HttpRequest, org_slug: str, ref: str) -> HttpResponse:
    framework = selectors.framework_get(request.GET.get("framework"))
    criterion = selectors.criterion_get(framework, ref)
    context = {
        "framework": framework,
        "criterion": criterion,
        "crosswalk": selectors.crosswalk_by_framework(criterion),
    }
    return render(request, "criteria/criterion_detail.html", context)


@require_GET
def oscal_download(request: HttpRequest, org_slug: str) -> HttpResponse:
    framework = selectors.framework_get(request.GET.get("framework"))
    body = json.dumps(catalog_to_oscal(framework), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{framework.key}-oscal-catalog.json"'
    return response
