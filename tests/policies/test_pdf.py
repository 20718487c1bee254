"""An approved version's PDF: the organization's name, version, approver, date and SHA-256,
the text; drafts have none; another organization gets a 404."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from policies import services
from policies.library import library_get
from tests.policies.conftest import approve

pytestmark = pytest.mark.django_db


def _url(org, policy, number: int) -> str:
    return reverse(
        "policy_version_pdf", kwargs={"org_slug": org.slug, "pk": policy.pk, "number": number}
    )


def test_the_pdf_names_the_organization_version_approver_and_hash(
    org, manager, approver, adopted, client_for, contributor
):
    assert client_for(manager).get(_url(org, adopted, 1)).status_code == 404  # a draft
    version = approve(manager, approver, adopted)
    response = client_for(contributor).get(_url(org, adopted, 1))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="access-control-policy-v1.pdf"' in response["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    assert org.name in flat and "Access Control Policy" in flat
    assert approver.user.email in flat and version.sha256 in flat.replace(" ", "")
    assert "least privilege" in flat and "{{" not in flat


def test_another_organization_gets_no_pdf(org, manager, approver, adopted, outsider, client_for):
    approve(manager, approver, adopted)
    other = outsider.organization
    assert client_for(outsider).get(_url(other, adopted, 1)).status_code == 404


def test_a_shipped_policy_renders_to_numbered_pages(org, manager, approver, client_for):
    """The shipped access control policy (numbered lists under headings) over several pages,
    each with its running header and "Page X of Y"."""
    entry = library_get("access-control")
    policy = services.policy_create(membership=manager, title="Shipped text", body=entry.body)
    services.policy_settings(
        membership=manager,
        policy=policy,
        owner=manager,
        approver=approver,
        review_cadence_months=12,
    )
    approve(manager, approver, policy)
    pdf = client_for(manager).get(_url(org, policy, 1)).content
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"Page {number} of {len(pages)}" in text and "Shipped text" in text
