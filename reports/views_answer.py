"""A request for information on the organization's side: the thread, and the answer with
evidence picked from a server-side search (``reports.answer_evidence``) or added on the spot
(``reports.pbc_upload``).

Without JavaScript the answer is one form: "Search" and the page buttons post it back and the
page is rendered again with the filters, the chosen versions and the typed note (a GET search
would lose the note, and a CSRF token must not travel in a URL). With htmx the same search runs
as a GET of ``request_answer_evidence`` and swaps the list in place; the GET parameters (``q``,
``control``, ``state``, ``start``, ``end``, ``older``, ``page``, ``versions``) also work on the
detail page itself.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from controls.models import Audit
from controls.selectors import audit_get_for
from reports import pbc, selectors
from reports.answer_evidence import (
    EvidenceFilter,
    answer_page,
    chosen_versions,
    upload_controls,
)
from reports.forms_answer import AnswerForm, EvidenceSearchForm, NewEvidenceForm
from reports.models import InfoRequest, RequestStatus
from reports.pbc_upload import request_answer_with_new_evidence
from reports.views_requests import CommentForm, detail_context
from soc2app.errors import ValidationFailed
from soc2app.forms import add_domain_error
from soc2app.uploads import accepts_uploads, upload_problem
from tenants import permissions
from tenants.permissions import Action


def _picker(request: HttpRequest, audit: Audit, info: InfoRequest, data: QueryDict) -> dict:
    """The evidence list: the search form, the chosen versions, one page of the others."""
    controls = selectors.scope_control_choices(audit)
    wanted = EvidenceFilter.parse(data, control_ids=[c.pk for c in controls])
    return {
        "search": EvidenceSearchForm(wanted, controls=controls),
        "wanted": wanted,
        "results": answer_page(audit, wanted, first_control_id=info.control_id),
        "chosen": chosen_versions(audit, wanted.chosen),
        "controls": upload_controls(controls, info.control_id),
        "picker_url": reverse(
            "request_answer_evidence",
            kwargs={"org_slug": request.organization.slug, "audit_pk": audit.pk, "pk": info.pk},
        ),
    }


@require_GET
def request_answer_evidence(
    request: HttpRequest, org_slug: str, audit_pk: str, pk: str
) -> HttpResponse:
    """The evidence list alone (for htmx): same parameters as the detail page."""
    permissions.require(request.membership, Action.REQUEST_ANSWER)
    audit = audit_get_for(request.organization, audit_pk)
    info = selectors.request_get(audit, pk)
    context = {"audit": audit, "info": info, **_picker(request, audit, info, request.GET)}
    return render(request, "reports/requests/_evidence_lists.html", context)


@accepts_uploads
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, org_slug: str, audit_pk: str, pk: str) -> HttpResponse:
    """A request with the form to answer it with evidence, and the thread."""
    audit = audit_get_for(request.organization, audit_pk)
    info = selectors.request_get(audit, pk)
    can_answer = permissions.can(request.membership, Action.REQUEST_ANSWER)
    posted = request.method == "POST"
    action = request.POST.get("action", "search") if posted else None
    comment = CommentForm(request.POST if action == "comment" else None)
    answering = posted and action != "comment"
    if answering:
        permissions.require(request.membership, Action.REQUEST_ANSWER)
    context = {**detail_context(info), "audit": audit, "form": comment, "can_answer": can_answer}
    if can_answer and info.status != RequestStatus.ACCEPTED:
        context.update(_picker(request, audit, info, request.POST if answering else request.GET))
        data = request.POST if answering else None
        context["answer"] = AnswerForm(data)
        filled = answering and NewEvidenceForm.filled(request.POST, request.FILES)
        # Read after request.FILES: the upload handler has seen the whole body by then.
        problem = upload_problem(request) if answering else None
        context["new"] = NewEvidenceForm(
            request.POST if filled or problem else None,
            request.FILES if filled or problem else None,
            controls=context["controls"],
            initial={"control": info.control_id},
        )
    failed = False
    problem = upload_problem(request) if answering else None
    if problem is not None and "new" in context:
        # The body stopped at the file: say so (the note, sent before the file, is kept).
        context["new"].is_valid()
        context["new"].errors.clear()
        add_domain_error(context["new"], problem)
        status = problem.status
        return render(request, "reports/requests/detail.html", context, status=status)
    if answering and "answer" not in context:
        # Accepted meanwhile: there is no form to correct, the page says why.
        context["refusal"] = "This request is accepted already: nothing more is needed."
        failed = True
    elif action == "answer":
        if _answer(request, info, context["answer"], context["new"]):
            return redirect("request_detail", org_slug=org_slug, audit_pk=audit.pk, pk=info.pk)
        failed = True
    elif action == "comment":
        if _comment(request, info, comment):
            return redirect("request_detail", org_slug=org_slug, audit_pk=audit.pk, pk=info.pk)
        failed = True
    elif answering and action != "search":
        context["answer"].add_error(None, "Unknown action: search, answer or comment.")
        failed = True
    return render(request, "reports/requests/detail.html", context, status=400 if failed else 200)


def _answer(
    request: HttpRequest, info: InfoRequest, answer: AnswerForm, new: NewEvidenceForm
) -> bool:
    versions = request.POST.getlist("versions")
    answer_ok = answer.is_valid()
    new_ok = new.is_valid() if new.is_bound else True
    if not (answer_ok and new_ok):
        return False
    note = answer.cleaned_data["note"]
    try:
        if new.is_bound:
            data = new.cleaned_data
            version = request_answer_with_new_evidence(
                membership=request.membership,
                request=info,
                control_id=data["control"],
                upload=data["file"] or None,
                url=data["url"],
                title=data["title"],
                effective_start=data["effective_start"],
                effective_end=data["effective_end"],
                version_ids=versions,
                note=note,
            )
            messages.success(
                request, f"{info.reference} answered, with “{version.item.title}” added."
            )
        else:
            pbc.request_answer(
                membership=request.membership, request=info, version_ids=versions, note=note
            )
            messages.success(request, f"{info.reference} answered.")
    except ValidationFailed as exc:
        add_domain_error(new if exc.field in _NEW_FIELDS else answer, exc)
        return False
    return True


_NEW_FIELDS = {"control", "file", "url", "title", "effective_start", "effective_end"}


def _comment(request: HttpRequest, info: InfoRequest, comment: CommentForm) -> bool:
    permissions.require(request.membership, Action.COMMENT)
    if not comment.is_valid():
        return False
    try:
        pbc.comment_add(
            membership=request.membership, request=info, body=comment.cleaned_data["body"]
        )
    except ValidationFailed as exc:
        add_domain_error(comment, exc)
        return False
    messages.success(request, "Comment added.")
    return True
