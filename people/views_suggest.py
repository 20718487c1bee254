"""Suggestions for the assign forms' "Person's e-mail" field (htmx: a ``<datalist>``'s
options), so that naming one person never lists the whole roster."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from people import selectors
from tenants import permissions
from tenants.permissions import Action


@require_GET
def people_suggest(request: HttpRequest, org_slug: str) -> HttpResponse:
    # Whoever assigns policies and training (the people who may name one person there).
    permissions.require(request.membership, Action.POLICY_MANAGE)
    text = request.GET.get("person_email") or request.GET.get("q") or ""
    people = selectors.people_suggestions(request.organization, text)
    return render(request, "people/_suggestions.html", {"people": people})
