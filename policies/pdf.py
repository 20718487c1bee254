"""An approved policy version as a PDF: the organization's name, the policy, its version,
approver, approval date and SHA-256 on the first page, the text after, "Page X of Y" below.

Rendered on request (a policy is a few pages, about a second) and cached by the version and
the organization's name: an approved version never changes. WeasyPrint loads only our own
static files (``StaticOnlyFetcher``); the text went through the safe Markdown renderer.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string

from policies.markdown import render as render_markdown
from policies.models import PolicyVersion, VersionState
from reports.rendering.fetcher import StaticOnlyFetcher
from reports.rendering.pdf import weasy_render

CACHE_SECONDS = 24 * 3600


def _key(version: PolicyVersion, organization_name: str) -> str:
    name = hashlib.sha256(organization_name.encode()).hexdigest()[:16]
    return f"policy-pdf:{version.organization_id}:{version.pk}:{version.sha256}:{name}"


def version_pdf(version: PolicyVersion, organization_name: str) -> bytes:
    if version.state != VersionState.APPROVED:
        raise ValueError("only approved versions are rendered as PDFs")
    key = _key(version, organization_name)
    cached = cache.get(key)
    if cached is not None:
        return cached
    html = render_to_string(
        "policies/pdf.html",
        {
            "organization_name": organization_name,
            "policy": version.policy,
            "version": version,
            "text": render_markdown(version.body, organization_name),
        },
    )
    fetcher = StaticOnlyFetcher(settings.REPORT_ASSET_DIR)
    pdf = weasy_render(html, fetcher).write_pdf()
    cache.set(key, pdf, CACHE_SECONDS)
    return pdf


def pdf_filename(version: PolicyVersion) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in version.policy.title.lower()).strip("-")
    return f"{slug[:60] or 'policy'}-v{version.number}.pdf"
