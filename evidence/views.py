"""Evidence pages under /o/<org_slug>/evidence/.

Nothing from an upload is ever rendered inline: files are only sent as attachments, with
``nosniff`` and a sandboxing Content-Security-Policy, and a link is shown as text with its
address, never followed by a redirect of ours.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from controls.operation import span_warnings
from evidence import selectors, services
from evidence.downloads import version_file_response
from evidence.forms import AttentionFilter, EvidenceAddForm, RemoveForm, ReviewForm
from evidence.models import EvidenceItem, EvidenceKind, EvidenceVersion
from soc2app.client_ip import client_ip
from soc2app.errors import NotFound, NotPermitted, ValidationFailed
from soc2app.forms import add_domain_error
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.permissions import Action

PAGE_SIZE = 25


@require_GET
def overview(request: HttpRequest, org_slug: str) -> HttpResponse:
    org = request.organization
    filters = AttentionFilter(request.GET or None, owners=selectors.owner_choices(org))
    if filters.is_bound and not filters.is_valid():
        # An invalid filter lists nothing (its error shows beside the field).
        versions = EvidenceVersion.objects.for_org(org).none()
    else:
        chosen = filters.cleaned_data if filters.is_bound else {}
        versions = selectors.attention_list(
            org, state=chosen.get("state", ""), owner=chosen.get("owner") or None
        )
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filters,
        "page": page,
        "query": query.urlencode(),
        "summary": selectors.freshness_summary(org),
        "filtered": any(request.GET.get(k) for k in ("state", "owner")),
    }
    return render(request, "evidence/overview.html", context)


@accepts_uploads
@require_http_methods(["GET", "POST"])
def evidence_add(request: HttpRequest, org_slug: str, control_pk: str) -> HttpResponse:
    org, membership = request.organization, request.membership
    control = selectors.control_get_for(org, control_pk)
    permissions.require_evidence_submit(membership, control)
    items = selectors.evidence_for_control(org, control)
    posted = request.method == "POST"
    form = EvidenceAddForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        items=items,
        initial={"item": request.GET.get("item", "")},
    )
    # Read after the form took request.FILES: the upload handler has seen the whole body.
    problem = upload_problem(request) if posted else None
    if problem is not None:
        # The body stopped at the file: fields after it are missing, and saying so would
        # hide the one thing to do (send the file again, or a smaller one).
        form.is_valid()
        form.errors.clear()
        add_domain_error(form, problem)
    elif posted and form.is_valid():
        data = form.cleaned_data
        common = {
            "membership": membership,
            "control": control,
            "item": form.chosen_item,
            "title": data["title"],
            "description": data["description"],
            "effective_start": data["effective_start"],
            "effective_end": data["effective_end"],
        }
        try:
            if data["kind"] == EvidenceKind.FILE:
                version = services.evidence_submit_file(upload=data["file"], **common)
            else:
                version = services.evidence_add_link(url=data["url"], **common)
        except ValidationFailed as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, f"Saved as version {version.number} of “{version.item.title}”."
            )
            same = getattr(version, "same_as", None)
            if same is not None:
                messages.info(
                    request,
                    f"This file is identical (same SHA-256) to version {same.number}: it is "
                    "kept as a separate version for its own period, nothing was replaced.",
                )
            # Kept as uploaded, but a manual control counts it for one period only: say so.
            for warning in span_warnings(control, version.effective_start, version.effective_end):
                messages.warning(request, warning)
            return redirect("evidence_item", org_slug=org.slug, pk=version.item_id)
    context = {
        "control": control,
        "form": form,
        "items": items,
        "max_upload_mb": settings.EVIDENCE_MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    status = problem.status if problem is not None else 400 if posted else 200
    return render(request, "evidence/add.html", context, status=status)


def _render_item(
    request: HttpRequest,
    item: EvidenceItem,
    *,
    review_error: tuple[int, str] | None = None,
    remove_form: RemoveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    membership = request.membership
    live = not item.is_removed
    # A page of versions: an automated source adds one a run (hundreds a year).
    page = Paginator(selectors.item_versions(request.organization, item), PAGE_SIZE).get_page(
        request.GET.get("page") or request.POST.get("page")
    )
    context = {
        "item": item,
        "control": item.control,
        "versions": page.object_list,
        "page": page,
        "can_review": live and permissions.can(membership, Action.EVIDENCE_REVIEW),
        "can_change": live and permissions.can_submit_evidence(membership, item.control),
        "review_error": review_error,
        "remove_form": remove_form or RemoveForm(),
    }
    return render(request, "evidence/item_detail.html", context, status=status)


@require_GET
def item_detail(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    return _render_item(request, selectors.item_get_for(request.organization, pk, versions=False))


@require_POST
def version_review(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    org, membership = request.organization, request.membership
    version = selectors.version_get_for(org, pk)
    permissions.require(membership, Action.EVIDENCE_REVIEW)
    form = ReviewForm(request.POST)
    status = 400
    if not form.is_valid():
        error = "Choose accept or reject (and keep the comment under 5,000 characters)."
    else:
        try:
            services.evidence_review(
                membership=membership,
                version=version,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
            )
        except (ValidationFailed, NotPermitted) as exc:
            # Shown beside the version (a held or quarantined file, one's own upload).
            error, status = exc.message, exc.status
        else:
            verb = "accepted" if version.review_state == "accepted" else "rejected"
            messages.success(request, f"Version {version.number} {verb}.")
            response = redirect("evidence_item", org_slug=org.slug, pk=version.item_id)
            page = request.POST.get("page", "")
            if page.isdigit() and page != "1":  # back to the page the version was on
                response["Location"] += f"?page={int(page)}"
            return response
    item = selectors.item_get_for(org, version.item_id, versions=False)
    return _render_item(request, item, review_error=(version.pk, error), status=status)


@require_POST
def item_remove(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    org, membership = request.organization, request.membership
    item = selectors.item_get_for(org, pk)
    permissions.require_evidence_submit(membership, item.control)
    form = RemoveForm(request.POST)
    if form.is_valid():
        try:
            services.evidence_item_remove(
                membership=membership, item=item, reason=form.cleaned_data["reason"]
            )
        except ValidationFailed as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"“{item.title}” was removed; its versions are kept.")
            return redirect("evidence_item", org_slug=org.slug, pk=item.pk)
    item = selectors.item_get_for(org, pk, versions=False)
    return _render_item(request, item, remove_form=form, status=400)


@require_GET
def version_download(request: HttpRequest, org_slug: str, pk: str) -> HttpResponse:
    version = selectors.version_get_for(request.organization, pk)
    if version.kind == EvidenceKind.LINK:
        # Shown, not followed: the page says where the evidence lives.
        return render(request, "evidence/link.html", {"version": version, "item": version.item})
    try:
        return version_file_response(
            version, membership=request.membership, client_ip=client_ip(request)
        )
    except NotFound as exc:
        raise Http404(exc.message) from None
