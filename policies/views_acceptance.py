"""Managers' pages of assignment and acceptance: who a policy is assigned to, who accepted its
current version (with time, address and text hash), and the CSV export."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from evidence.snapshots import recorded_message
from policies import acceptance, selectors
from policies import selectors_acceptance as sel
from policies.evidence import acceptance_snapshot_record
from policies.exports import acceptance_csv_response
from policies.forms import AssignForm
from policies.markdown import render as render_markdown
from policies.markdown import substitute, text_sha256
from policies.models import PolicyAssignment
from soc2app.client_ip import client_ip
from soc2app.errors import DomainError, NotFound
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 50


def acceptance_page(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    org = request.organization
    policy = selectors.get_policy(org, pk)
    version = selectors.current_version(policy)
    rows = sel.acceptance_rows(policy, version)
    if request.GET.get("format") == "csv":
        return _csv(policy, version, rows)
    covered, accepted = sel.acceptance_counts(policy, version)
    context = {
        "policy": policy,
        "version": version,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "covered": covered,
        "accepted": accepted,
        "assignments": [(a, acceptance.assignment_label(a)) for a in sel.assignments_of(policy)],
        "form": AssignForm(departments=sel.departments(org), organization=org),
    }
    return render(request, "policies/acceptance.html", context)


def _csv(policy, version, rows) -> HttpResponse:
    number = version.number if version else ""
    return acceptance_csv_response(
        (
            [
                p.full_name,
                p.email,
                p.department,
                policy.title,
                number,
                getattr(p, "accepted_at", None) or "",
                getattr(p, "accepted_channel", "") or "",
                getattr(p, "accepted_ip", "") or "",
                getattr(p, "accepted_sha256", "") or "",
            ]
            for p in rows.iterator(chunk_size=2000)
        ),
        f"acceptance-{policy.pk}.csv",
    )


@require_POST
def assign(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    org = request.organization
    policy = selectors.get_policy(org, pk)
    form = AssignForm(request.POST, departments=sel.departments(org), organization=org)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("policy_acceptance", org_slug=org_slug, pk=pk)
    data = form.cleaned_data
    try:
        acceptance.assignment_add(
            membership=request.membership,
            policy=policy,
            target=data["target"],
            department=data["department"] or "",
            person=data["person"],
        )
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Assigned. Everyone it covers gets a personal link by e-mail"
            if selectors.current_version(policy)
            else "Assigned. People are asked once a version is approved.",
        )
    return redirect("policy_acceptance", org_slug=org_slug, pk=pk)


@require_POST
def unassign(request: HttpRequest, org_slug: str, pk: int, assignment_pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    org = request.organization
    policy = selectors.get_policy(org, pk)
    assignment = get_object_or_404(
        PolicyAssignment.objects.for_org(org), pk=assignment_pk, policy=policy
    )
    acceptance.assignment_remove(membership=request.membership, assignment=assignment)
    messages.success(request, "No longer assigned; acceptances recorded stay.")
    return redirect("policy_acceptance", org_slug=org_slug, pk=pk)


@require_POST
def record_evidence(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """The month-to-date acceptance figures, recorded as evidence of the policy's controls."""
    permissions.require(request.membership, Action.POLICY_MANAGE)
    policy = selectors.get_policy(request.organization, pk)
    try:
        versions = acceptance_snapshot_record(membership=request.membership, policy=policy)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, recorded_message(versions))
    return redirect("policy_acceptance", org_slug=org_slug, pk=pk)


@require_http_methods(["GET", "POST"])
def accept_in_app(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    """A member reads and accepts a policy assigned to them, without the e-mailed link."""
    org = request.organization
    policy = selectors.get_policy(org, pk)
    version = selectors.current_version(policy)
    person = acceptance.member_person(request.membership)
    if version is None or person is None:
        messages.error(request, "There is nothing for you to accept here.")
        return redirect("policy_detail", org_slug=org_slug, pk=pk)
    error = ""
    if request.method == "POST":
        if request.POST.get("agree") != "yes":
            error = "Tick the box to accept."
        else:
            try:
                acceptance.acceptance_in_app(
                    membership=request.membership,
                    version=version,
                    shown_sha256=request.POST.get("shown", ""),
                    ip_address=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(request, f"You accepted the {policy.title}.")
                return redirect("policy_detail", org_slug=org_slug, pk=pk)
    context = {
        "organization_name": org.name,
        "person": person,
        "version": version,
        "html": render_markdown(version.body, org.name),
        "shown": text_sha256(substitute(version.body, org.name)),
        "consent": acceptance.consent_sentence(version, org.name),
        "error": error,
    }
    return render(request, "policies/accept.html", context, status=400 if error else 200)
