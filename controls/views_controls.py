"""Browser views of an organization's controls: list with filters and bulk actions, create,
adopt from the library, detail, edit, criteria mapping and delete.

Each view validates input, calls a selector or service and renders; permissions are the
services' (a refused write raises NotPermitted, shown as a 403 page by the middleware).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from controls import selectors, services
from controls.deviations import deviations_list
from controls.forms import AdoptForm, BulkControlsForm, ControlFilter, ControlForm, OwnerControlForm
from controls.models import Control
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 25


def control_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    from evidence.todo import next_due, with_evidence_state

    org = request.organization
    owners = selectors.owner_choices(org)
    # Each row's next due date, by the home's to-do rules (annotated: no query per row).
    controls = with_evidence_state(selectors.controls_list(org), org.pk)
    filterset = ControlFilter(request.GET or None, queryset=controls, owners=owners)
    if filterset.is_bound:
        controls = filterset.qs if filterset.is_valid() else controls.none()
    page = Paginator(controls, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    today = timezone.localdate()
    context = {
        "filter": filterset,
        "page": page,
        "rows": [(control, next_due(control, today)) for control in page.object_list],
        "query": query.urlencode(),
        "bulk_form": BulkControlsForm(owners=owners),
        # Unfiltered, the page's own count is the total: no second COUNT.
        "total": Control.objects.for_org(org).count()
        if filterset.is_bound
        else page.paginator.count,
    }
    return render(request, "controls/control_list.html", context)


@require_POST
def control_bulk(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.CONTROL_MANAGE)
    org = request.organization
    ids = [int(v) for v in request.POST.getlist("controls") if v.isdigit()][:500]
    form = BulkControlsForm(request.POST, owners=selectors.owner_choices(org), ids=ids)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("control_list", org_slug=org_slug)
    controls = list(selectors.controls_list(org).filter(pk__in=form.cleaned_data["controls"]))
    try:
        changed = services.controls_bulk_update(
            membership=request.membership,
            controls=controls,
            owner=form.owner_value(),
            status=form.cleaned_data["status"] or None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{changed} control{'s' if changed != 1 else ''} updated.")
    # Back to the same filtered page: the query is parsed and re-encoded, never echoed raw.
    back = QueryDict(request.POST.get("next", "")[:1000]).urlencode()
    return redirect(f"{reverse('control_list', kwargs={'org_slug': org_slug})}?{back}")


@require_http_methods(["GET", "POST"])
def control_create(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.CONTROL_MANAGE)
    owners = selectors.owner_choices(request.organization)
    form = ControlForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            control = services.control_create(membership=request.membership, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{control.code} was created.")
            return redirect("control_detail", org_slug=org_slug, pk=control.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "controls/control_form.html", {"form": form}, status=status)


@require_POST
def control_adopt(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Adopt the templates ticked on the library page."""
    permissions.require(request.membership, Action.CONTROL_MANAGE)
    org = request.organization
    codes = [c[:20] for c in request.POST.getlist("templates")][:500]
    form = AdoptForm(request.POST, codes=codes, owners=selectors.owner_choices(org))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return redirect("library", org_slug=org_slug)
    templates = list(selectors.templates_list().filter(code__in=form.cleaned_data["templates"]))
    result = services.controls_adopt(
        membership=request.membership, templates=templates, owner=form.cleaned_data["owner"]
    )
    if result.adopted:
        count = len(result.adopted)
        messages.success(request, f"{count} control{'s' if count != 1 else ''} adopted.")
    if result.skipped:
        messages.warning(
            request, f"Already adopted, left as they are: {', '.join(sorted(result.skipped))}."
        )
    audit = request.POST.get("audit", "")
    if audit.isdigit():
        return redirect("audit_step", org_slug=org_slug, pk=int(audit), step="controls")
    return redirect("control_list", org_slug=org_slug)


def control_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    from evidence import selectors as evidence_selectors
    from evidence.todo import next_due_for
    from monitoring.selectors import control_tests_for
    from tenants import selectors as tenant_selectors
    from tenants.activity_display import present_entries

    org = request.organization
    control = selectors.control_get_for(org, pk)
    membership = request.membership
    context = {
        "control": control,
        "next_due": next_due_for(control, timezone.localdate()),
        "criteria": [m.criterion for m in control.mappings.all()],
        "can_edit": permissions.can_edit_control(membership, control),
        "can_manage": permissions.can(membership, Action.CONTROL_MANAGE),
        "can_add_evidence": permissions.can_submit_evidence(membership, control),
        "evidence_items": evidence_selectors.evidence_for_control(org, control, latest_only=True),
        "deviations": list(deviations_list(org, control)),
        "tests": control_tests_for(membership, control),
        "history": present_entries(
            tenant_selectors.activity_list(org).filter(
                object_type="controls.control", object_id=str(control.pk)
            )[:10],
            org,
        )
        if permissions.can(membership, Action.ACTIVITY_VIEW)
        else [],
    }
    return render(request, "controls/control_detail.html", context)


@require_http_methods(["GET", "POST"])
def control_edit(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    org = request.organization
    control = selectors.control_get_for(org, pk)
    membership = request.membership
    permissions.require_control_edit(membership, control)
    manager = permissions.can(membership, Action.CONTROL_MANAGE)
    refs = selectors.control_criteria_refs(control)
    if manager:
        initial = {
            **{f: getattr(control, f) for f in services.CONTROL_FIELDS if f != "owner"},
            "owner": control.owner_id,
            "criteria": ", ".join(refs),
        }
        form = ControlForm(
            request.POST or None, initial=initial, owners=selectors.owner_choices(org)
        )
    else:
        initial = {f: getattr(control, f) for f in services.OWNER_FIELDS}
        form = OwnerControlForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        criteria = changes.pop("criteria", None)
        try:
            services.control_update(membership=membership, control=control, **changes)
            if criteria is not None and sorted(criteria) != sorted(refs):
                services.control_set_criteria(membership=membership, control=control, refs=criteria)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{control.code} was saved.")
            return redirect("control_detail", org_slug=org_slug, pk=control.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "controls/control_form.html", {"form": form, "control": control}, status=status
    )


@require_POST
def control_delete(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    control = selectors.control_get_for(request.organization, pk)
    try:
        services.control_delete(membership=request.membership, control=control)
    except DomainError as exc:
        if exc.status != 400:
            raise
        messages.error(request, exc.message)
        return redirect("control_detail", org_slug=org_slug, pk=control.pk)
    messages.success(request, f"{control.code} was deleted.")
    return redirect("control_list", org_slug=org_slug)
