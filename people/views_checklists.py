"""Checklist pages under /o/<org_slug>/checklists/: the organization's "Joiners &
leavers" list and the templates (managers: personal data), a member's own open items (any
member who can complete items: contributors see only theirs), and marking an item done or
reopening it (htmx: the item's row comes back; without htmx, a redirect)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from controls.selectors import owner_choices
from people import selectors_checklists as selectors
from people.checklist_items import checklist_item_done, checklist_item_reopen
from people.checklists import checklist_template_update, template_for
from people.forms_checklists import (
    ChecklistFilterForm,
    ItemDoneForm,
    TemplateItemFormSet,
    formset_items,
)
from people.models_checklists import ChecklistItem, ChecklistKind
from soc2app.errors import DomainError
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.activity import Actor
from tenants.permissions import Action

PAGE_SIZE = 50


def _require_manager(request: HttpRequest) -> None:
    permissions.require(request.membership, Action.PEOPLE_MANAGE)


def checklist_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    _require_manager(request)
    org = request.organization
    today = timezone.localdate()
    form = ChecklistFilterForm(request.GET or None)
    rows = selectors.checklist_list(org, form.filters(), today=today)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
        "today": today,
        "templates": selectors.templates_of(org),
    }
    return render(request, "people/checklists.html", context)


@require_http_methods(["GET", "POST"])
def checklist_template(request: HttpRequest, org_slug: str, kind: str) -> HttpResponse:
    _require_manager(request)
    if kind not in ChecklistKind.values:
        raise Http404("No such checklist.")
    org = request.organization
    template, items = template_for(org, kind, actor=Actor.for_principal(request.membership))
    choices = {"owners": owner_choices(org), "controls": selectors.control_choices(org)}
    initial = [
        {
            "title": i.title,
            "description": i.description,
            "owner": i.owner_id,
            "due_days": i.due_days,
            "business_days": i.business_days,
            "control": i.control_id,
            "evidence_required": i.evidence_required,
            "ORDER": n + 1,
        }
        for n, i in enumerate(items)
    ]
    formset = TemplateItemFormSet(
        request.POST or None, initial=initial, form_kwargs=choices, prefix="items"
    )
    if request.method == "POST" and formset.is_valid():
        try:
            checklist_template_update(
                membership=request.membership, kind=kind, items=formset_items(formset)
            )
        except DomainError as exc:
            formset._non_form_errors = formset.error_class([exc.message])
        else:
            messages.success(
                request, f"{template.title} saved: checklists opened from now on use it."
            )
            return redirect("checklist_template", org_slug=org_slug, kind=kind)
    status = 400 if formset.is_bound and not formset.is_valid() else 200
    if formset.is_bound and formset.non_form_errors():
        status = 400
    context = {"template": template, "formset": formset, "kind": kind}
    return render(request, "people/checklist_template.html", context, status=status)


def my_items(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The open items the member owns (their to-do), each with its done form."""
    permissions.require(request.membership, Action.CHECKLIST_ITEM_DONE)
    items = selectors.open_items_of(request.membership)
    context = {"items": items, "today": timezone.localdate(), "can_reopen": False}
    return render(request, "people/checklist_mine.html", context)


def _back(request: HttpRequest, item: ChecklistItem) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        target = ""
    slug = request.organization.slug
    if not target:
        if permissions.can(request.membership, Action.PEOPLE_MANAGE):
            target = reverse(
                "person_detail", kwargs={"org_slug": slug, "pk": item.checklist.person_id}
            )
        else:
            target = reverse("checklist_mine", kwargs={"org_slug": slug})
    return redirect(target)


def _item_row(request: HttpRequest, item: ChecklistItem, error: str | None = None) -> HttpResponse:
    context = {
        "error": error,
        "item": item,
        "today": timezone.localdate(),
        "can_reopen": permissions.can(request.membership, Action.PEOPLE_MANAGE),
        "show_person": request.POST.get("show_person") == "1",
    }
    return render(request, "people/_checklist_item.html", context)


def _visible_item(request: HttpRequest, pk: str) -> ChecklistItem:
    """The item, if this member may see it: managers any, others the ones they own (a
    contributor asking for another's item gets "not found", like another organization's)."""
    item = selectors.item_get(request.organization, pk)
    if not permissions.can(request.membership, Action.PEOPLE_MANAGE) and (
        item.owner_id != request.membership.pk
    ):
        raise Http404("No such checklist item.")
    return item


@accepts_uploads
@require_POST
def item_done(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    permissions.require(request.membership, Action.CHECKLIST_ITEM_DONE)
    item = _visible_item(request, pk)
    htmx = request.headers.get("HX-Request") == "true"
    form = ItemDoneForm(request.POST, request.FILES)
    error = None
    if (problem := upload_problem(request)) is not None:
        error = problem.message
    elif not form.is_valid():
        error = "; ".join(e for errors in form.errors.values() for e in errors)
    else:
        data = form.cleaned_data
        try:
            checklist_item_done(
                membership=request.membership,
                item=item,
                done_on=data["done_on"],
                note=data["note"],
                evidence_file=data["evidence_file"],
                evidence_version_id=data["evidence_version"],
            )
        except DomainError as exc:
            error = exc.message
    if htmx:  # the row again, with the refusal in it (htmx swaps 200 answers only)
        if error:
            item = selectors.item_get(request.organization, item.pk)
        return _item_row(request, item, error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{item.title}” is done.")
    return _back(request, item)


@require_POST
def item_reopen(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    _require_manager(request)
    item = selectors.item_get(request.organization, pk)
    error = None
    try:
        checklist_item_reopen(membership=request.membership, item=item)
    except DomainError as exc:
        error = exc.message
    if request.headers.get("HX-Request") == "true":
        return _item_row(request, selectors.item_get(request.organization, item.pk), error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{item.title}” is open again.")
    return _back(request, item)
