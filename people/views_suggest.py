"""Suggestions for the fields naming one person by e-mail (htmx: a ``<datalist>``'s options):
the assign forms' "Person's e-mail" and the person form's "Manager's e-mail", so that naming
one person never lists the whole roster."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from people import selectors
from tenants import permissions
from tenants.permissions import Action


@require_GET
def people_suggest(request: HttpRequest, org_slug: str) -> HttpResponse:
    # Whoever assigns policies and training or keeps the roster (who may name one person there).
    if not permissions.can(request.membership, Action.POLICY_MANAGE):
        permissions.require(request.membership, Action.PEOPLE_MANAGE)
    text = (
        request.GET.get("person_email")
        or request.GET.get("manager_email")
        or request.GET.get("q")
        or ""
    )
    people = selectors.people_suggestions(request.organization, text)
    return render(request, "people/_suggestions.html", {"people": people})
