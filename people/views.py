"""Roster pages under /o/<org_slug>/people/: the list (search, filters, 50 a page), a person,
adding and editing, ending (a leaver) and deleting an entry added by mistake (the CSV import is
``people.views_import``). Managers only: the roster is personal data. Views validate, call a
selector or service and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from controls.selectors import owner_choices
from people import anonymise, selectors, services
from people.checklist_rules import OPEN_LOOKBACK_DAYS
from people.forms import AnonymiseForm, EndForm, PersonForm, RosterFilterForm
from people.models import Person
from people.selectors_checklists import checklists_of
from soc2app.errors import DomainError, NotFound, ValidationFailed
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action

PAGE_SIZE = 50


def _require(request: HttpRequest) -> None:
    permissions.require(request.membership, Action.PEOPLE_MANAGE)


def roster(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    org = request.organization
    form = RosterFilterForm(request.GET or None, departments=selectors.departments(org))
    rows = selectors.people_list(org, form.filters(), today=timezone.localdate())
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "past_retention": anonymise.retention_due(org, timezone.localdate()).count(),
    }
    return render(request, "people/roster.html", context)


def person_detail(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    person = selectors.person_get(request.organization, pk)
    context = {
        "person": person,
        "reports": selectors.direct_reports(person),
        "checklists": checklists_of(request.organization, person),
        "lookback_days": OPEN_LOOKBACK_DAYS,
        "end_form": EndForm(initial={"end_date": person.end_date or timezone.localdate()}),
        "today": timezone.localdate(),
        "retention_ends": anonymise.retention_ends_on(person),
        "can_anonymise": anonymise.can_anonymise(person, timezone.localdate()),
        "anonymise_form": AnonymiseForm(),
    }
    return render(request, "people/person.html", context)


def _member(request: HttpRequest, data: dict) -> Membership | None:
    """The linked member, of this organization (or a field error); the form resolved the
    manager."""
    member_id = data.pop("member", None)
    if not member_id:
        return None
    member = (
        Membership.objects.for_org(request.organization)
        .select_related("user")
        .filter(pk=member_id)
        .first()
    )
    if member is None:
        raise ValidationFailed("Link a member of this organization.", field="member")
    return member


def _person_form(request: HttpRequest, person: Person | None) -> PersonForm:
    org = request.organization
    initial = None
    if person is not None:
        initial = {
            "full_name": person.full_name,
            "email": person.email,
            "title": person.title,
            "department": person.department,
            "manager_email": person.manager.email if person.manager_id else "",
            "employment_type": person.employment_type,
            "start_date": person.start_date,
            "end_date": person.end_date,
            "member": person.membership_id,
        }
    return PersonForm(
        request.POST or None,
        initial=initial,
        organization=org,
        person=person,
        members=owner_choices(org),
    )


@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest, org_slug: str) -> HttpResponse:
    return _edit(request, org_slug, None)


@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    return _edit(request, org_slug, selectors.person_get(request.organization, pk))


def _edit(request: HttpRequest, org_slug: str, person: Person | None) -> HttpResponse:
    _require(request)
    form = _person_form(request, person)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            data["member"] = _member(request, data)
            if person is None:
                person = services.person_create(membership=request.membership, **data)
                messages.success(request, f"{person.full_name} is on the roster.")
            else:
                services.person_update(membership=request.membership, person=person, **data)
                messages.success(request, f"{person.full_name} is saved.")
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("person_detail", org_slug=org_slug, pk=person.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "people/edit.html", {"form": form, "person": person}, status=status)


@require_POST
def person_end(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    person = selectors.person_get(request.organization, pk)
    form = EndForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the last day as a date (YYYY-MM-DD).")
    else:
        try:
            services.person_end(membership=request.membership, person=person, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{person.full_name} leaves on {person.end_date:%-d %b %Y}.")
    return redirect("person_detail", org_slug=org_slug, pk=person.pk)


@require_POST
def person_delete(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require(request)
    person = selectors.person_get(request.organization, pk)
    try:
        services.person_delete(membership=request.membership, person=person)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("person_detail", org_slug=org_slug, pk=person.pk)
    messages.success(request, f"{person.full_name} was deleted from the roster.")
    return redirect("people", org_slug=org_slug)
