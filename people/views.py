"""Roster pages under /o/<org_slug>/people/: the list (search, filters, 50 a page), a person,
adding and editing, ending (a leaver), deleting an entry added by mistake, and the CSV import
with its preview. Managers only: the roster is personal data. Views validate, call a selector
or service and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from controls.selectors import owner_choices
from people import anonymise, imports, selectors, services
from people.checklist_rules import OPEN_LOOKBACK_DAYS
from people.forms import AnonymiseForm, EndForm, ImportForm, PersonForm, RosterFilterForm
from people.models import Person
from people.selectors_checklists import checklists_of
from soc2app import csv_pending as pending
from soc2app.errors import DomainError, NotFound, ValidationFailed
from soc2app.forms import add_domain_error
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.models import Membership
from tenants.permissions import Action

PAGE_SIZE = 50
PREVIEW_ROWS = 200  # rows of each kind listed on the preview; the counts are complete
IMPORT_KIND = "people"  # its previews in soc2app.csv_pending


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


def _related(request: HttpRequest, data: dict) -> dict:
    """The chosen manager and member as objects of this organization (or a field error)."""
    org = request.organization
    out = {}
    manager_id = data.pop("manager", None)
    out["manager"] = (
        selectors.people_by_id(org, [manager_id]).get(manager_id) if manager_id else None
    )
    if manager_id and out["manager"] is None:
        raise ValidationFailed("Choose a manager from this organization's roster.", field="manager")
    member_id = data.pop("member", None)
    out["member"] = (
        Membership.objects.for_org(org).select_related("user").filter(pk=member_id).first()
        if member_id
        else None
    )
    if member_id and out["member"] is None:
        raise ValidationFailed("Link a member of this organization.", field="member")
    return out


def _person_form(request: HttpRequest, person: Person | None) -> PersonForm:
    org = request.organization
    initial = None
    if person is not None:
        initial = {
            "full_name": person.full_name,
            "email": person.email,
            "title": person.title,
            "department": person.department,
            "manager": person.manager_id,
            "employment_type": person.employment_type,
            "start_date": person.start_date,
            "end_date": person.end_date,
            "member": person.membership_id,
        }
    return PersonForm(
        request.POST or None,
        initial=initial,
        managers=selectors.manager_choices(org, exclude=person.pk if person else None),
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
            related = _related(request, data)
            if person is None:
                person = services.person_create(membership=request.membership, **data, **related)
                messages.success(request, f"{person.full_name} is on the roster.")
            else:
                services.person_update(
                    membership=request.membership, person=person, **data, **related
                )
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


@accepts_uploads
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Upload a file and see what it would do; nothing is written here."""
    _require(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if (problem := upload_problem(request)) is not None:
            add_domain_error(form, problem)
        else:
            upload = form.cleaned_data["file"]
            data = upload.read(imports.MAX_BYTES + 1)
            plan = imports.plan_import(request.organization, data)
            token = None
            if plan.ok:
                token = pending.pending_put(
                    kind=IMPORT_KIND,
                    org_id=request.organization.pk,
                    user_id=request.user.pk,
                    data=data,
                    name=upload.name or "",
                )
            return _preview(request, plan, token, upload.name or "")
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "columns": imports.COLUMNS, "max_rows": imports.MAX_ROWS}
    return render(request, "people/import.html", context, status=status)


def _preview(request: HttpRequest, plan: imports.Plan, token: str | None, name: str):
    context = {
        "plan": plan,
        "token": token,
        "name": name,
        "creates": plan.to_create[:PREVIEW_ROWS],
        "updates": plan.to_update[:PREVIEW_ROWS],
        "create_count": len(plan.to_create),
        "update_count": len(plan.to_update),
        "more_errors": plan.error_count - len(plan.errors),
        "preview_rows": PREVIEW_ROWS,
    }
    return render(request, "people/import_preview.html", context, status=200 if plan.ok else 400)


@require_POST
def import_confirm(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    scope = {"kind": IMPORT_KIND, "org_id": request.organization.pk, "user_id": request.user.pk}
    token = request.POST.get("token", "")
    held = pending.pending_get(**scope, token=token)
    if held is None or held.sha256 != request.POST.get("sha256", ""):
        messages.error(request, "This preview has expired: upload the file again.")
        return redirect("people_import", org_slug=org_slug)
    try:
        plan = imports.import_apply(membership=request.membership, data=held.data, name=held.name)
    except imports.ImportRejected as exc:  # the roster changed since the preview
        return _preview(request, exc.plan, None, held.name)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("people_import", org_slug=org_slug)
    pending.pending_drop(**scope, token=token)
    messages.success(
        request,
        f"Imported {held.name or 'the file'}: {len(plan.to_create)} added, "
        f"{len(plan.to_update)} updated, {plan.unchanged} unchanged.",
    )
    return redirect("people", org_slug=org_slug)


def import_example(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require(request)
    response = HttpResponse(imports.example_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="roster-example.csv"'
    return response
