"""Browser pages of policies: the list, the library, a policy with its versions, writing a
draft (with a preview), sending it for approval, approving or returning it. Views validate,
call a selector or service and render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from controls.selectors import owner_choices
from policies import pdf, selectors, services
from policies.forms import NewPolicyForm, PolicySettingsForm, PolicyTextForm, ReturnForm
from policies.markdown import render as render_markdown
from policies.models import VersionState
from soc2app.errors import DomainError, NotFound, NotPermitted
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action


def policy_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    context = {
        "policies": list(selectors.policies_overview(request.organization)),
        "today": timezone.localdate(),
        "can_manage": permissions.can(request.membership, Action.POLICY_MANAGE),
    }
    return render(request, "policies/list.html", context)


def library(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    rows = selectors.library_rows(request.organization)
    return render(request, "policies/library.html", {"rows": rows})


@require_POST
def adopt(request: HttpRequest, org_slug: str, key: str) -> HttpResponse:
    try:
        policy = services.policy_adopt(membership=request.membership, key=key)
    except (NotPermitted, NotFound):
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("policy_library", org_slug=org_slug)
    messages.success(
        request, f"{policy.title} is adopted as a draft: read it, adapt it, send it for approval."
    )
    return redirect("policy_detail", org_slug=org_slug, pk=policy.pk)


@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest, org_slug: str) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    form = NewPolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.policy_create(membership=request.membership, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{policy.title} is saved as a draft.")
            return redirect("policy_detail", org_slug=org_slug, pk=policy.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "policies/new.html", {"form": form}, status=status)


@require_POST
def preview(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The htmx preview of the text being edited (nothing is stored)."""
    permissions.require(request.membership, Action.POLICY_MANAGE)
    body = request.POST.get("body", "")[:200_000]
    html = render_markdown(body, request.organization.name)
    return render(request, "policies/_preview.html", {"html": html})


def policy_detail(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    membership, org = request.membership, request.organization
    policy = selectors.get_policy(org, pk)
    current = selectors.current_version(policy)
    sees_drafts = selectors.sees_drafts(membership, policy)
    opened = selectors.open_version(policy) if sees_drafts else None
    shown = current or opened
    context = {
        "policy": policy,
        "current": current,
        "open": opened,
        "shown": shown,
        "html": render_markdown(shown.body, org.name) if shown else "",
        "versions": list(selectors.versions_for(membership, policy)),
        "controls": list(selectors.policy_controls(policy)),
        "can_manage": permissions.can(membership, Action.POLICY_MANAGE),
        "is_approver": policy.approver_id == membership.pk,
        "return_form": ReturnForm(),
        "settings_form": PolicySettingsForm(
            initial={
                "owner": policy.owner_id,
                "approver": policy.approver_id,
                "review_cadence_months": policy.review_cadence_months,
            },
            members=owner_choices(org),
        ),
    }
    return render(request, "policies/detail.html", context)


def version_detail(request: HttpRequest, org_slug: str, pk: int, number: int) -> HttpResponse:
    policy = selectors.get_policy(request.organization, pk)
    version = selectors.get_version_for(request.membership, policy, number)
    context = {
        "policy": policy,
        "version": version,
        "html": render_markdown(version.body, request.organization.name),
    }
    return render(request, "policies/version.html", context)


@require_POST
def policy_settings(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    org = request.organization
    policy = selectors.get_policy(org, pk)
    form = PolicySettingsForm(request.POST, members=owner_choices(org))
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label or field}: {' '.join(errors)}")
        return redirect("policy_detail", org_slug=org_slug, pk=pk)
    chosen = [form.cleaned_data["owner"], form.cleaned_data["approver"]]
    members = {m.pk: m for m in selectors.members_by_id(org, chosen)}
    try:
        services.policy_settings(
            membership=request.membership,
            policy=policy,
            owner=members.get(form.cleaned_data["owner"]),
            approver=members.get(form.cleaned_data["approver"]),
            review_cadence_months=form.cleaned_data["review_cadence_months"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Settings saved.")
    return redirect("policy_detail", org_slug=org_slug, pk=pk)


@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    permissions.require(request.membership, Action.POLICY_MANAGE)
    policy = selectors.get_policy(request.organization, pk)
    version = selectors.open_version(policy)
    if version is None or version.state != "draft":
        messages.error(
            request,
            "There is no draft to edit: start a new version"
            if version is None
            else "This version awaits approval: the approver can return it for changes.",
        )
        return redirect("policy_detail", org_slug=org_slug, pk=pk)
    form = PolicyTextForm(request.POST or None, initial={"body": version.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.version_edit(
                membership=request.membership, version=version, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Draft v{version.number} saved.")
            return redirect("policy_detail", org_slug=org_slug, pk=pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"policy": policy, "version": version, "form": form}
    return render(request, "policies/edit.html", context, status=status)


def _act(request: HttpRequest, org_slug: str, pk: int, action, success: str, **kwargs):
    policy = selectors.get_policy(request.organization, pk)
    version = selectors.open_version(policy)
    if version is None:
        messages.error(request, "There is no version being written or reviewed.")
        return redirect("policy_detail", org_slug=org_slug, pk=pk)
    try:
        action(membership=request.membership, version=version, **kwargs)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success.format(number=version.number))
    return redirect("policy_detail", org_slug=org_slug, pk=pk)


@require_POST
def version_submit(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    return _act(request, org_slug, pk, services.version_submit, "v{number} is sent for approval.")


@require_POST
def version_approve(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    return _act(request, org_slug, pk, services.version_approve, "v{number} is approved.")


@require_POST
def version_return(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    form = ReturnForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request, org_slug, pk, services.version_return, "v{number} is back in draft.", note=note
    )


@require_POST
def version_start(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    policy = selectors.get_policy(request.organization, pk)
    try:
        version = services.version_start(membership=request.membership, policy=policy)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("policy_detail", org_slug=org_slug, pk=pk)
    messages.success(request, f"v{version.number} started from the current text.")
    return redirect("policy_edit", org_slug=org_slug, pk=pk)


@require_POST
def policy_delete(request: HttpRequest, org_slug: str, pk: int) -> HttpResponse:
    policy = selectors.get_policy(request.organization, pk)
    try:
        services.policy_delete(membership=request.membership, policy=policy)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("policy_detail", org_slug=org_slug, pk=pk)
    messages.success(request, f"{policy.title} was deleted.")
    return redirect("policies", org_slug=org_slug)


def version_pdf(request: HttpRequest, org_slug: str, pk: int, number: int) -> HttpResponse:
    """An approved version as a PDF (drafts have none)."""
    policy = selectors.get_policy(request.organization, pk)
    version = selectors.get_version_for(request.membership, policy, number)
    if version.state != VersionState.APPROVED:
        raise Http404("Only approved versions have a PDF.")
    response = HttpResponse(
        pdf.version_pdf(version, request.organization.name), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{pdf.pdf_filename(version)}"'
    return response
