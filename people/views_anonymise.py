"""Anonymising leavers past the retention period (``people.anonymise``): one person from
their page, or everyone due from the roster's "past retention" page, each behind a ticked
confirmation. Managers only; another organization's person is "not found"."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from people import anonymise, selectors
from people.forms import NOT_CONFIRMED, AnonymiseForm
from soc2app.errors import DomainError
from tenants import permissions
from tenants.permissions import Action


@require_POST
def person_anonymise(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    permissions.require(request.membership, Action.PEOPLE_MANAGE)
    person = selectors.person_get(request.organization, pk)
    if not AnonymiseForm(request.POST).is_valid():
        messages.error(request, NOT_CONFIRMED)
    else:
        try:
            person = anonymise.person_anonymise(membership=request.membership, person=person)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Anonymised: this entry is now {person.full_name}.")
    return redirect("person_detail", org_slug=org_slug, pk=person.pk)


@require_http_methods(["GET", "POST"])
def anonymise_due(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The leavers past retention (the first ``BULK_MAX``), and anonymising them."""
    permissions.require(request.membership, Action.PEOPLE_MANAGE)
    form = AnonymiseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        done, left = anonymise.people_anonymise_due(membership=request.membership)
        said = f"{done} {'person' if done == 1 else 'people'} anonymised."
        if left:
            messages.success(request, f"{said} {left} more past retention: anonymise them next.")
            return redirect("people_anonymise_due", org_slug=org_slug)
        messages.success(request, said)
        return redirect("people", org_slug=org_slug)
    today = timezone.localdate()
    due = anonymise.retention_due(request.organization, today)
    context = {
        "form": form,
        "due": list(due[: anonymise.BULK_MAX]),
        "count": due.count(),
        "batch": anonymise.BULK_MAX,
        "retention_days": anonymise.retention_days(),
        "today": today,
    }
    return render(request, "people/anonymise_due.html", context, status=400 if form.errors else 200)
