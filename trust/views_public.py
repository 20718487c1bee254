"""The public trust center under /trust/<slug>/ (no account; its own minimal layout). Every
page is rate-limited per client address and finds the trust center by its slug among the
*published* ones (``trust.lookups``): an unpublished or unknown one is a 404. It shows only
what the organization chose (``trust.selectors.page_content``).

* the page: rendered once per version of the settings and cached (``TRUST_CACHE_SECONDS``);
  a cached page costs one query (the route lookup).
* a public document downloads at once; a private one's URL is a 404 here: it is requested
  (name, e-mail, company, the NDA accepted) and downloaded through the personal link e-mailed
  once approved, watermarked with the requester on every page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from evidence.downloads import DOWNLOAD_CSP, content_disposition
from evidence.side_files import side_file_response
from soc2app.client_ip import client_ip
from soc2app.errors import DomainError
from soc2app.ratelimit import ip_bucket, window_consume
from trust import selectors
from trust.forms import RequestForm
from trust.lookups import published_center
from trust.models import TrustCenter, TrustDocument, Visibility
from trust.requests import link_count, link_resolve, request_create, text_sha256
from trust.watermark import watermarked

REFUSED = "trust/refused.html"


def _refused(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, REFUSED, {"message": message}, status=status)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view(request, center, ip, **kwargs)`` once the client is under its rate limit and a
    published trust center is at ``slug`` (the kwarg is not ``org_slug``: TenantMiddleware
    would ask for a sign-in)."""

    @wraps(view)
    def page(request: HttpRequest, slug: str, **kwargs) -> HttpResponse:  # noqa: ANN003
        ip = client_ip(request)
        if window_consume("trust-page", ip_bucket(ip), window=60) > settings.TRUST_RATE_PER_IP:
            return _refused(request, "Too many requests from your address: wait a minute.", 429)
        center = published_center(slug=slug)
        if center is None:
            raise Http404("No such trust center.")
        try:
            return view(request, center, ip, **kwargs)
        except DomainError as exc:
            return _refused(request, exc.message, exc.status)

    return page


def page_key(center: TrustCenter) -> str:
    return f"trust-page:{center.organization_id}:{center.version}"


@require_GET
@public_page
def trust_page(request: HttpRequest, center: TrustCenter, ip: str) -> HttpResponse:
    key = page_key(center)
    html = cache.get(key)
    if html is None:
        full = (
            TrustCenter.objects.for_org(center.organization)
            .select_related("audit", "organization")
            .get()
        )
        html = render_to_string("trust/public_page.html", selectors.page_content(full))
        cache.set(key, html, settings.TRUST_CACHE_SECONDS)
    return HttpResponse(html)


def _pdf_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cache-Control"] = "private, no-store"
    return response


def _bytes_of(doc: TrustDocument, organization_name: str) -> bytes:
    from policies.pdf import version_pdf

    if doc.policy_version_id is not None:
        return version_pdf(doc.policy_version, organization_name)
    with doc.file.open("rb") as handle:
        return handle.read()


def _pdf_name(doc: TrustDocument) -> str:
    if doc.policy_version_id is not None:
        from policies.pdf import pdf_filename

        return pdf_filename(doc.policy_version)
    return doc.file_name or "document.pdf"


@require_GET
@public_page
def trust_document(request: HttpRequest, center: TrustCenter, ip: str, pk: int) -> HttpResponse:
    """A public document, at once. A private one is not here (404), whoever asks."""
    doc = selectors.public_document(center.organization, pk)
    if doc.visibility != Visibility.PUBLIC:
        raise Http404("No such document.")
    if doc.policy_version_id is None:
        return side_file_response(doc.file.name, doc.file_name, doc.content_type, "The document")
    return _pdf_response(_bytes_of(doc, center.organization.name), _pdf_name(doc))


@require_http_methods(["GET", "POST"])
@public_page
def trust_request(request: HttpRequest, center: TrustCenter, ip: str, pk: int) -> HttpResponse:
    """Ask for a private document: name, e-mail, company and the NDA accepted."""
    org = center.organization
    doc = selectors.public_document(org, pk)
    if doc.visibility != Visibility.PRIVATE:
        raise Http404("No such document.")
    full = TrustCenter.objects.for_org(org).get()
    form = RequestForm(request.POST or None)
    if request.method == "POST":
        if (
            window_consume("trust-request", ip_bucket(ip), window=600)
            > settings.TRUST_REQUEST_RATE_PER_IP
        ):
            return _refused(request, "Too many requests from your address: wait ten minutes.", 429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = request_create(
                    center=full,
                    document=doc,
                    name=data["name"],
                    email=data["email"],
                    company=data["company"],
                    nda_accepted=data["nda"],
                    shown_sha256=request.POST.get("shown", ""),
                    ip_address=ip,
                    user_agent=request.META.get("HTTP_USER_AGENT", ""),
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                context = {"organization_name": org.name, "document": doc, "made": made}
                return render(request, "trust/request_done.html", context)
    context = {
        "organization_name": org.name,
        "center": full,
        "document": doc,
        "form": form,
        "shown": text_sha256(full.nda_text),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "trust/request.html", context, status=status)


@require_GET
@public_page
def trust_download(request: HttpRequest, center: TrustCenter, ip: str, token: str) -> HttpResponse:
    """A private document through the personal link: watermarked with the requester's e-mail,
    company and the date on every page, counted and logged."""
    org = center.organization
    found = link_resolve(org=org, token=token)
    data = watermarked(
        _bytes_of(found.document, org.name),
        email=found.email,
        company=found.company,
        day=timezone.localdate(),
    )
    link_count(org=org, request=found, ip_address=ip)
    return _pdf_response(data, _pdf_name(found.document))
