"""Requests for information (PBC) in the browser: the auditor's side in the portal
(``portal_`` URL names, so ``TenantMiddleware`` lets auditors in) and the organization's side
under /o/<slug>/reports/. Each view validates input, calls ``reports.pbc`` and renders."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from controls.selectors import audit_get_for
from reports import pbc, selectors
from reports.models import InfoRequest, RequestStatus
from soc2app.errors import ValidationFailed
from soc2app.forms import add_domain_error
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 50


class RequestForm(forms.Form):
    title = forms.CharField(max_length=pbc.MAX_TITLE, label="What you need")
    details = forms.CharField(
        max_length=pbc.MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    control = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Control (optional)"
    )
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, controls: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.controls = {c.pk: c for c in controls}
        self.fields["control"].choices = [("", "—")] + [
            (c.pk, f"{c.code} {c.title}") for c in controls
        ]


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=pbc.MAX_TEXT, label="Comment", widget=forms.Textarea(attrs={"rows": 3})
    )


def _status_filter(request: HttpRequest) -> str | None:
    status = request.GET.get("status", "")
    return status if status in RequestStatus.values else None


def _list_context(request: HttpRequest, audit: object) -> dict:
    status = _status_filter(request)
    page = Paginator(selectors.requests_for_audit(audit, status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return {
        "audit": audit,
        "page": page,
        "status": status,
        "statuses": RequestStatus.choices,
        "query": f"status={status}" if status else "",
    }


def detail_context(info: InfoRequest) -> dict:
    return {
        "info": info,
        "attachments": selectors.request_attachments(info),
        "comments": selectors.request_comments(info),
    }


# --- The auditor portal ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def portal_requests(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    """The audit's request list, and (auditors) the form to raise one."""
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    can_raise = permissions.can(request.membership, Action.REQUEST_RAISE)
    if request.method == "POST":
        permissions.require(request.membership, Action.REQUEST_RAISE)
    controls = selectors.scope_control_choices(audit) if can_raise else []
    form = RequestForm(request.POST or None, controls=controls)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            info = pbc.request_raise(
                membership=request.membership,
                audit=audit,
                title=data["title"],
                details=data["details"],
                due_date=data["due_date"],
                control=form.controls.get(data["control"]),
            )
        except ValidationFailed as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"{info.reference} raised.")
            return redirect("portal_request", org_slug=org_slug, audit_pk=audit.pk, pk=info.pk)
    context = {**_list_context(request, audit), "form": form, "can_raise": can_raise}
    status = 400 if form.errors else 200
    return render(request, "reports/portal/requests.html", context, status=status)


@require_http_methods(["GET", "POST"])
def portal_request(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    """One request: its answer (the attached versions), the thread; comment, accept, reopen."""
    audit = selectors.portal_audit_get(request.membership, audit_pk)
    info = selectors.request_get(audit, pk)
    action = request.POST.get("action", "comment")
    # Accepting sends no text: the comment form stays unbound so it shows no "required" error.
    form = CommentForm(request.POST if request.method == "POST" and action != "accept" else None)
    refusal = None
    if request.method == "POST":
        try:
            if _portal_action(request, info, action, form):
                return redirect("portal_request", org_slug=org_slug, audit_pk=audit.pk, pk=info.pk)
        except ValidationFailed as exc:
            if action == "accept":
                refusal = exc.message
            else:
                add_domain_error(form, exc)
    context = {**detail_context(info), "audit": audit, "form": form, "refusal": refusal}
    status = 400 if form.errors or refusal else 200
    return render(request, "reports/portal/request.html", context, status=status)


def _portal_action(request: HttpRequest, info: InfoRequest, action: str, form: CommentForm) -> bool:
    """Run the posted action; False when the form needs correcting."""
    membership = request.membership
    if action == "accept":
        pbc.request_accept(membership=membership, request=info)
        messages.success(request, f"{info.reference} accepted.")
        return True
    if action not in ("comment", "reopen"):
        raise ValidationFailed("Unknown action: comment, accept or reopen.")
    if not form.is_valid():
        return False
    body = form.cleaned_data["body"]
    if action == "reopen":
        pbc.request_reopen(membership=membership, request=info, reason=body)
        messages.success(request, f"{info.reference} reopened.")
    else:
        pbc.comment_add(membership=membership, request=info, body=body)
        messages.success(request, "Comment added.")
    return True


# --- The organization's side ---------------------------------------------------------------


@require_GET
def request_list(request: HttpRequest, org_slug: str, audit_pk: str) -> HttpResponse:
    audit = audit_get_for(request.organization, audit_pk)
    return render(request, "reports/requests/list.html", _list_context(request, audit))
