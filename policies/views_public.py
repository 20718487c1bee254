"""The public acceptance page behind a personal link (no account needed): it shows the
policy version and records the acceptance. It reveals nothing but that version's text, the
organization's name and the person's own name; rate-limited per client address."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from people.link_pages import link_page, refused
from policies import acceptance
from policies.markdown import render as render_markdown
from policies.markdown import substitute, text_sha256
from soc2app.errors import DomainError

REFUSED = "policies/accept_refused.html"


@require_http_methods(["GET", "POST"])
@link_page(bucket="policy-link", refused_template=REFUSED, resolve=acceptance.link_resolve)
def accept(request: HttpRequest, view, ip: str) -> HttpResponse:
    org, version = view.organization, view.version
    text = substitute(version.body, org.name)
    if request.method == "POST":
        if request.POST.get("agree") != "yes":
            error = "Tick the box to accept, or close the page."
        else:
            try:
                recorded = acceptance.acceptance_record(
                    view=view,
                    shown_sha256=request.POST.get("shown", ""),
                    ip_address=ip,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except DomainError as exc:
                return refused(request, REFUSED, exc.message, exc.status)
            context = {"organization_name": org.name, "version": version, "acceptance": recorded}
            return render(request, "policies/accept_done.html", context)
    else:
        error = ""
    context = {
        "organization_name": org.name,
        "person": view.person,
        "version": version,
        "html": render_markdown(version.body, org.name),
        "shown": text_sha256(text),
        "consent": acceptance.consent_sentence(version, org.name),
        "error": error,
    }
    return render(request, "policies/accept.html", context, status=400 if error else 200)
