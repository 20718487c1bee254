"""Browser views of audits: the list, the five-step wizard (basics, scope, self-assessment,
controls, CPA firm) and the readiness dashboard; and systems, which audits put in scope."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from controls import audits as audit_services
from controls import charts, dashboard, selectors, systems
from controls.forms import (
    ANSWER_CHOICES,
    AuditBasicsForm,
    AuditFirmForm,
    AuditScopeForm,
    SystemForm,
    answers_from_post,
)
from controls.models import Answer, Audit
from controls.readiness import Status, audit_readiness
from soc2app.errors import DomainError
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action

STEPS = [
    ("basics", "Type and dates"),
    ("scope", "Categories and systems"),
    ("assessment", "Self-assessment"),
    ("controls", "Controls"),
    ("firm", "CPA firm"),
]
BASICS = ("name", "audit_type", "as_of_date", "window_start", "window_end")


def audit_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    audits = list(selectors.audits_with_readiness(request.organization))
    return render(request, "controls/audit_list.html", {"audits": audits})


def _save(request: HttpRequest, audit: Audit | None, form, **values) -> Audit | None:
    """Call the service keeping the parts of the audit this step does not change."""
    categories, systems = selectors.audit_scope(audit) if audit is not None else ([], [])
    values.setdefault("categories", categories)
    values.setdefault("systems", [s.pk for s in systems])
    try:
        return audit_services.audit_save(membership=request.membership, audit=audit, **values)
    except DomainError as exc:
        add_domain_error(form, exc)
        return None


@require_http_methods(["GET", "POST"])
def audit_create(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.AUDIT_MANAGE)
    form = AuditBasicsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        audit = _save(request, None, form, **form.cleaned_data)
        if audit is not None:
            messages.success(request, f"{audit.name} was created. Choose its scope next.")
            return redirect("audit_step", org_slug=org_slug, pk=audit.pk, step="scope")
    context = {"form": form, "steps": STEPS, "step": "basics", "audit": None}
    return render(request, "controls/audit_step.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def audit_step(request: HttpRequest, org_slug: str, pk: int, step: str) -> HttpResponse:
    org = request.organization
    audit = selectors.audit_get_for(org, pk)
    handler = _STEP_HANDLERS.get(step)
    if handler is None:
        raise Http404("No such step.")
    if request.method == "POST":
        permissions.require(request.membership, Action.AUDIT_MANAGE)
    context = {
        "audit": audit,
        "steps": STEPS,
        "step": step,
        "can_manage": permissions.can(request.membership, Action.AUDIT_MANAGE),
    }
    return handler(request, audit, context)


def _next(audit: Audit, step: str):
    names = [s for s, _ in STEPS]
    following = names[names.index(step) + 1] if step != names[-1] else None
    if following is None:
        return redirect("audit_detail", org_slug=audit.organization.slug, pk=audit.pk)
    return redirect("audit_step", org_slug=audit.organization.slug, pk=audit.pk, step=following)


def _render(request, context, form=None):
    context["form"] = form
    status = 400 if form is not None and form.is_bound and form.errors else 200
    return render(request, "controls/audit_step.html", context, status=status)


def _basics(request, audit, context):
    initial = {name: getattr(audit, name) for name in BASICS}
    form = AuditBasicsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if _save(request, audit, form, **form.cleaned_data) is not None:
            messages.success(request, "Saved.")
            return _next(audit, "basics")
    return _render(request, context, form)


def _scope(request, audit, context):
    keys, systems = selectors.audit_scope(audit)
    org_systems = list(selectors.systems_list(request.organization))
    form = AuditScopeForm(
        request.POST or None,
        framework=audit.framework,
        systems=org_systems,
        initial={"categories": keys, "systems": [s.pk for s in systems]},
    )
    if request.method == "POST" and form.is_valid():
        saved = _save(
            request,
            audit,
            form,
            categories=form.cleaned_data["categories"],
            systems=form.cleaned_data["systems"],
        )
        if saved is not None:
            messages.success(request, "Scope saved.")
            return _next(audit, "scope")
    context["has_systems"] = bool(org_systems)
    return _render(request, context, form)


def _assessment(request, audit, context):
    rows = selectors.self_assessment_rows(audit)
    refs = [c.ref for c, _ in rows]
    errors: dict[str, str] = {}
    if request.method == "POST":
        answers, errors = answers_from_post(request.POST, refs)
        if not errors:
            try:
                changed = audit_services.self_assessment_save(
                    membership=request.membership, audit=audit, answers=answers
                )
            except DomainError as exc:
                errors[exc.field or ""] = exc.message
            else:
                messages.success(request, f"{changed} answer{'s' if changed != 1 else ''} saved.")
                if "continue" in request.POST:
                    return _next(audit, "assessment")
                return redirect(request.path)
    posted = request.POST if request.method == "POST" else None
    context["rows"] = [
        {
            "criterion": c,
            "answer": posted.get(f"answer-{c.ref}", "") if posted else (a.answer if a else ""),
            "notes": posted.get(f"notes-{c.ref}", "") if posted else (a.notes if a else ""),
            "error": errors.get(c.ref, ""),
        }
        for c, a in rows
    ]
    context["general_error"] = errors.get("", "")
    context["choices"] = ANSWER_CHOICES
    context["gaps"] = [
        r for r in context["rows"] if r["answer"] in ("", Answer.NOT_IN_PLACE, Answer.PARTLY)
    ]
    return (
        _render(request, context, None)
        if not errors
        else render(request, "controls/audit_step.html", context, status=400)
    )


def _controls(request, audit, context):
    readiness = audit_readiness(audit)
    open_criteria = [r for r in readiness.criteria if r.status in (Status.GAP, Status.PARTIAL)]
    gap_ids = [r.criterion.pk for r in open_criteria]
    context["readiness"] = readiness
    context["open_criteria"] = open_criteria
    context["suggested"] = list(selectors.suggested_templates(audit, gap_ids)[:60])
    context["owners"] = selectors.owner_choices(request.organization)
    context["can_adopt"] = permissions.can(request.membership, Action.CONTROL_MANAGE)
    if request.method == "POST":
        return _next(audit, "controls")
    return _render(request, context, None)


def _firm(request, audit, context):
    fields = ("cpa_firm", "fieldwork_start", "fieldwork_end", "status")
    form = AuditFirmForm(
        request.POST or None, initial={name: getattr(audit, name) for name in fields}
    )
    if request.method == "POST" and form.is_valid():
        if _save(request, audit, form, **form.cleaned_data) is not None:
            messages.success(request, "Audit details saved.")
            return _next(audit, "firm")
    return _render(request, context, form)


_STEP_HANDLERS = {
    "basics": _basics,
    "scope": _scope,
    "assessment": _assessment,
    "controls": _controls,
    "firm": _firm,
}


EXCEPTIONS_SHOWN = 50  # the rest: each control's coverage detail, and the Type 2 report


def audit_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """The readiness dashboard of one audit: score, plain figures and next actions first,
    then the criteria grouped by status (``controls.dashboard``)."""
    audit = selectors.audit_get_for(request.organization, pk)
    today = timezone.localdate()
    readiness = audit_readiness(audit, today=today)
    _keys, systems = selectors.audit_scope(audit)
    exceptions = charts.exception_rows(readiness) if audit.is_type2 else []
    context = {
        "audit": audit,
        "readiness": readiness,
        "systems": systems,
        "chart": charts.category_bars(readiness),
        "coverage": dashboard.coverage_rows(readiness) if audit.is_type2 else [],
        "changes": _changes(audit, readiness),
        "can_manage": permissions.can(request.membership, Action.AUDIT_MANAGE),
        "can_record_deviation": permissions.can(request.membership, Action.CONTROL_MANAGE),
        "exceptions": exceptions[:EXCEPTIONS_SHOWN],
        "exceptions_more": max(len(exceptions) - EXCEPTIONS_SHOWN, 0),
        "steps": STEPS,
        **dashboard.dashboard(readiness, request.GET, slug=org_slug, today=today),
    }
    return render(request, "controls/audit_detail.html", context)


@require_GET
def audit_coverage(request: HttpRequest, org_slug: str, pk: int, control_pk: int) -> HttpResponse:
    """One control's sub-periods and exceptions in a Type 2 audit: the HTML fragment the
    dashboard loads when the control's row is opened (the same readers as the dashboard)."""
    audit = selectors.audit_get_for(request.organization, pk)
    if not audit.is_type2:
        raise Http404("Only a Type 2 audit has periods.")
    control_pk = selectors.pk_or_404(control_pk, "No such control.")  # ids past bigint too
    readiness = audit_readiness(audit, only_controls=[control_pk])
    control = readiness.controls.get(control_pk)
    if control is None or not control.control.is_applicable:
        raise Http404("No such control in this audit's scope.")
    context = {
        "audit": audit,
        "row": charts.period_rows(readiness)[0],
        "exceptions": charts.exception_rows(readiness),
        "can_record_deviation": permissions.can(request.membership, Action.CONTROL_MANAGE),
    }
    return render(request, "controls/_coverage_detail.html", context)


def _changes(audit: Audit, readiness):
    try:
        from controls import history
    except ImportError:  # pragma: no cover - the history module lands with the snapshots
        return None
    return history.readiness_changes(audit=audit, readiness=readiness)


# --- Systems ----------------------------------------------------------------------------------


def system_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    systems = list(selectors.systems_list(request.organization))
    return render(request, "controls/system_list.html", {"systems": systems})


@require_http_methods(["GET", "POST"])
def system_form(request: HttpRequest, org_slug: str, pk: int | None = None) -> HttpResponse:
    org = request.organization
    permissions.require(request.membership, Action.AUDIT_MANAGE)
    system = selectors.system_get_for(org, pk) if pk is not None else None
    initial = (
        {
            "name": system.name,
            "description": system.description,
            "owner": system.owner_id,
            "components": "\n".join(system.components),
        }
        if system
        else {}
    )
    form = SystemForm(request.POST or None, initial=initial, owners=selectors.owner_choices(org))
    if request.method == "POST" and form.is_valid():
        try:
            saved = systems.system_save(
                membership=request.membership, system=system, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{saved.name} was saved.")
            return redirect("system_list", org_slug=org_slug)
    return render(
        request,
        "controls/system_form.html",
        {"form": form, "system": system},
        status=400 if form.errors else 200,
    )
