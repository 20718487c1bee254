"""The public training page behind a personal link (no account needed): the built-in module
to read and acknowledge, or an external course's completion date and certificate. It reveals
nothing but the requirement, the organization's name and the person's own name;
rate-limited per client address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from people.link_pages import link_page, refused
from soc2app.errors import DomainError
from soc2app.uploads import accepts_uploads, upload_problem
from training import links
from training.forms import CompletionForm
from training.models import RequirementKind
from training.views import _complete_context

REFUSED = "training/link_refused.html"


@accepts_uploads
@require_http_methods(["GET", "POST"])
@link_page(bucket="training-link", refused_template=REFUSED, resolve=links.link_resolve)
def complete(request: HttpRequest, view, ip: str) -> HttpResponse:
    req = view.requirement
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
                done = links.completion_by_link(
                    view=view,
                    shown_sha256=request.POST.get("shown", ""),
                    completed_on=data.get("completed_on"),
                    provider=data.get("provider", ""),
                    certificate=data.get("certificate"),
                    ip_address=ip,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except links.LinkGone as exc:
                return refused(request, REFUSED, exc.message, exc.status)
            except DomainError as exc:
                error = exc.message
            else:
                context = {"organization_name": view.organization.name, "completion": done}
                return render(request, "training/complete_done.html", context)
    context = _complete_context(view.organization, req, view.person, form, error)
    context["public"] = True
    return render(request, "training/complete.html", context, status=400 if error else 200)
