"""Training pages under /o/<org_slug>/training/: managers' list, requirement page (with the
people it covers and the CSV export), adopting the built-in module, defining an external
course, assigning, importing completions; and a member's own completion in the app."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from evidence.snapshots import recorded_message
from policies import selectors_acceptance as people_sel
from policies.acceptance import assignment_label, member_person
from policies.forms import AssignForm
from policies.markdown import render as render_markdown
from policies.markdown import text_sha256
from reports.rendering.exports import csv_bytes
from soc2app.client_ip import client_ip
from soc2app.csv_import import decode
from soc2app.errors import DomainError
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from training import importing, selectors, services
from training.downloads import certificate_response
from training.evidence import completion_snapshot_record
from training.forms import CompletionForm, ExternalCourseForm, ImportForm
from training.library import library_entries
from training.models import RequirementKind, TrainingAssignment, TrainingCompletion

PAGE_SIZE = 50
CSV_HEADER = ["Name", "E-mail", "Department", "Training", "Last completed", "Next due", "Overdue"]


def _manager(request: HttpRequest) -> None:
    permissions.require(request.membership, services.MANAGE)


def training_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    org = request.organization
    rows = selectors.summaries(org, timezone.localdate())
    adopted = {s.requirement.library_key for s in rows}
    context = {
        "rows": rows,
        "library": [e for e in library_entries() if e.key not in adopted],
    }
    return render(request, "training/list.html", context)


@require_POST
def adopt(request: HttpRequest, org_slug: str, key: str) -> HttpResponse:
    _manager(request)
    try:
        req = services.requirement_adopt(membership=request.membership, key=key)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("training", org_slug=org_slug)
    messages.success(request, f"Adopted \u201c{req.title}\u201d: assign it to people below.")
    return redirect("training_detail", org_slug=org_slug, pk=req.pk)


@require_http_methods(["GET", "POST"])
def new_course(request: HttpRequest, org_slug: str) -> HttpResponse:
    _manager(request)
    form = ExternalCourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            req = services.requirement_create(membership=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"\u201c{req.title}\u201d defined: assign it below.")
            return redirect("training_detail", org_slug=org_slug, pk=req.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "training/new.html", {"form": form}, status=status)


def detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    org = request.organization
    req = selectors.get_requirement(org, pk)
    rows = selectors.statuses(org, timezone.localdate(), [req])[req.pk]
    if request.GET.get("format") == "csv":
        return _csv(req, rows)
    context = {
        "requirement": req,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "covered": len(rows),
        "current": sum(1 for r in rows if r.current),
        "overdue": sum(1 for r in rows if r.overdue),
        "assignments": [(a, assignment_label(a)) for a in selectors.assignments_of(req)],
        "form": AssignForm(departments=people_sel.departments(org), organization=org),
        "controls": req.controls.all(),
        "recent": selectors.recent_completions(req),
    }
    return render(request, "training/detail.html", context)


def certificate(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """A completion's certificate as an attachment (managers), served like evidence files."""
    _manager(request)
    completion = get_object_or_404(
        TrainingCompletion.objects.for_org(request.organization).exclude(certificate=""), pk=pk
    )
    return certificate_response(completion)


def _csv(req, rows) -> HttpResponse:
    body = csv_bytes(
        CSV_HEADER,
        (
            [
                r.full_name,
                r.email,
                r.department,
                req.title,
                r.last_completed or "",
                r.due_on or "",
                "yes" if r.overdue else "no",
            ]
            for r in rows
        ),
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="training-{req.pk}.csv"'
    return response


@require_POST
def assign(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    _manager(request)
    org = request.organization
    req = selectors.get_requirement(org, pk)
    form = AssignForm(request.POST, departments=people_sel.departments(org), organization=org)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("training_detail", org_slug=org_slug, pk=pk)
    data = form.cleaned_data
    try:
        services.assignment_add(
            membership=request.membership,
            requirement=req,
            target=data["target"],
            department=data["department"] or "",
            person=data["person"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Assigned. Whoever is due gets a personal link by e-mail.")
    return redirect("training_detail", org_slug=org_slug, pk=pk)


@require_POST
def record_evidence(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """The month-to-date completion figures, recorded as evidence of the training's controls."""
    _manager(request)
    req = selectors.get_requirement(request.organization, pk)
    try:
        versions = completion_snapshot_record(membership=request.membership, requirement=req)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, recorded_message(versions))
    return redirect("training_detail", org_slug=org_slug, pk=pk)


@require_POST
def unassign(request: HttpRequest, org_slug: str, pk: int, assignment_pk: int) -> HttpResponse:
    _manager(request)
    org = request.organization
    req = selectors.get_requirement(org, pk)
    assignment = get_object_or_404(
        TrainingAssignment.objects.for_org(org), pk=assignment_pk, requirement=req
    )
    services.assignment_remove(membership=request.membership, assignment=assignment)
    messages.success(request, "No longer assigned; completions recorded stay.")
    return redirect("training_detail", org_slug=org_slug, pk=pk)


@accepts_uploads
@require_http_methods(["GET", "POST"])
def import_completions(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Upload shows a preview (per-row errors); confirming sends the same text back and
    imports all rows or none."""
    _manager(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict = {"form": form, "columns": importing.COLUMNS}
    status = 200
    if request.method == "POST":
        data = None
        if (problem := upload_problem(request)) is not None:
            context["error"] = problem.message
        elif request.POST.get("confirm") == "yes":
            data = request.POST.get("csv_text", "").encode()
        elif form.is_valid():
            data = form.cleaned_data["file"].read(importing.MAX_BYTES + 1)
        if data is None:
            status = 400
        else:
            try:
                if request.POST.get("confirm") == "yes":
                    added = importing.commit(request.membership, data)
                    messages.success(request, f"{added} completion(s) imported.")
                    return redirect("training", org_slug=org_slug)
                context["preview"] = importing.preview(request.membership, data)
                # Sent back with the confirmation as UTF-8, whatever the upload's encoding.
                context["csv_text"] = decode(data, max_bytes=importing.MAX_BYTES)
            except DomainError as exc:
                context["error"], status = exc.message, 400
    return render(request, "training/import.html", context, status=status)


@accepts_uploads
@require_http_methods(["GET", "POST"])
def complete_in_app(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """A member completes their own training (the person of the roster linked to them)."""
    org = request.organization
    req = selectors.get_requirement(org, pk)
    person = member_person(request.membership)
    today = timezone.localdate()
    if person is None or not selectors.statuses(org, today, [req], person_id=person.pk)[req.pk]:
        raise Http404("This training is not assigned to you.")
    form = CompletionForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST":
        module = req.kind == RequirementKind.MODULE
        if (problem := upload_problem(request)) is not None:
            error = problem.message
        elif module and request.POST.get("agree") != "yes":
            error = "Tick the box to confirm you read the module."
        elif not module and not form.is_valid():
            error = "Give the date you completed the course."
        else:
            data = form.cleaned_data if not module else {}
            try:
                services.completion_in_app(
                    membership=request.membership,
                    requirement=req,
                    person=person,
                    completed_on=data.get("completed_on"),
                    provider=data.get("provider", ""),
                    certificate=data.get("certificate"),
                    shown_sha256=request.POST.get("shown", ""),
                    ip_address=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, f"Recorded: \u201c{req.title}\u201d.")
                return redirect("home")
    return render(
        request,
        "training/complete.html",
        _complete_context(org, req, person, form, error),
        status=400 if error else 200,
    )


def _complete_context(org, req, person, form, error) -> dict:
    module = req.kind == RequirementKind.MODULE
    return {
        "organization_name": org.name,
        "requirement": req,
        "person": person,
        "form": form,
        "error": error,
        "html": render_markdown(req.module_body, org.name) if module else "",
        "shown": text_sha256(services.module_text(req, org)) if module else "",
    }
