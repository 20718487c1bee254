"""What the trust center's tests share: an owner's organization with a published trust
center, an operating and an in-progress control in a Type 1 audit, a subprocessor, a public
and a private document (real PDFs rendered by WeasyPrint)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from policies.models import Policy, PolicyVersion
from tenants.models import ActivityEntry
from tests.api.conftest import api_for, key_for  # noqa: F401 (fixtures)
from tests.controls.conftest import make_audit  # noqa: F401 (fixture)
from tests.factories import ControlFactory, control_map, evidence_row
from trust import services
from trust.models import TrustRequest
from vendors.models import Vendor

LONG_AGO = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
_PDF: dict[str, bytes] = {}


def pdf_bytes(text: str = "Acme SOC 2 report", pages: int = 2) -> bytes:
    """A real PDF of ``pages`` pages (rendered once per text)."""
    key = f"{text}:{pages}"
    if key not in _PDF:
        from weasyprint import HTML

        body = "".join(
            f"<p{' class=b' if i else ''}>{text}, page {i + 1}</p>" for i in range(pages)
        )
        _PDF[key] = HTML(string=f"<style>.b{{break-before:page}}</style>{body}").write_pdf()
    return _PDF[key]


def pdf_upload(name: str = "soc2-report.pdf", text: str = "Acme SOC 2 report"):
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def approved_version(org, title: str = "Information Security Policy") -> PolicyVersion:
    policy = Policy(organization=org, title=title)
    policy.save()
    body = f"# {title}\n\nWe protect data."
    version = PolicyVersion(
        organization=org,
        policy=policy,
        number=1,
        state="approved",
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        approved_at=timezone.now(),
        approved_by_label="approver@example.com",
    )
    version.save()
    return version


def build_center(owner, make_audit, *, published: bool = True, slug: str | None = None):  # noqa: F811
    """A trust center of ``owner``'s organization: a Type 1 audit as of today, AC-1 operating
    (green), AC-2 implemented without evidence (amber), AC-3 not chosen; a subprocessor;
    a public policy and a private SOC 2 report."""
    org = owner.organization
    today = timezone.localdate()
    audit = make_audit(org, as_of=today, categories=("availability",))
    green = control_map(
        ControlFactory(organization=org, code="AC-1", title="Access reviews", created_at=LONG_AGO),
        "CC6.1",
    )
    evidence_row(green, today - dt.timedelta(days=30), today - dt.timedelta(days=1))
    amber = control_map(
        ControlFactory(
            organization=org, code="AC-2", title="Encryption at rest", created_at=LONG_AGO
        ),
        "CC6.7",
    )
    hidden = control_map(
        ControlFactory(
            organization=org, code="AC-3", title="Secret hiring rule", created_at=LONG_AGO
        ),
        "CC1.4",
    )
    Vendor(organization=org, name="Cloudy Hosting", service="Hosting", is_subprocessor=True).save()
    Vendor(organization=org, name="Private Lunch Co", service="Catering").save()
    center = services.center_save(
        membership=owner,
        published=published,
        slug=slug or f"{org.slug}-trust",
        headline=f"{org.name} security",
        intro="How we keep your data safe.",
        audit=audit,
        show_categories=True,
        show_subprocessors=True,
        nda_text="Keep it confidential.",
        allowed_domains="friendly.example.com",
    )
    services.controls_publish(membership=owner, control_ids=[green.pk, amber.pk])
    public = services.document_add(
        membership=owner,
        title="Security policy",
        visibility="public",
        policy_version=approved_version(org),
    )
    private = services.document_add(
        membership=owner, title="SOC 2 Type 1 report", visibility="private", upload=pdf_upload()
    )
    return {
        "owner": owner,
        "center": center,
        "audit": audit,
        "green": green,
        "amber": amber,
        "hidden": hidden,
        "public": public,
        "private": private,
    }


def base(org) -> str:
    """The organization's trust center API."""
    return f"/api/v1/orgs/{org.slug}/trust/"


def make_request(made, email: str = "ana@buyer.example.com") -> TrustRequest:
    """A pending request for the private document of ``build_center``."""
    row = TrustRequest(
        organization=made["center"].organization,
        document=made["private"],
        name="Ana",
        email=email,
        company="Buyer",
        nda_text="Keep it confidential.",
        nda_sha256="0" * 64,
        nda_accepted_at=made["center"].updated_at,
    )
    row.save()
    return row


def logged(org, object_type: str) -> list[str]:
    return list(
        ActivityEntry.objects.for_org(org)
        .filter(object_type=object_type)
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.fixture
def published(owner, make_audit):  # noqa: F811
    return build_center(owner, make_audit)
