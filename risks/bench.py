"""The risks-and-vendors section of ``manage.py bench``: an organization with 2,000 risks (each
linked to two controls and a system) and 1,000 vendors with 5,000 documents and 1,000 reviews
(bulk inserts). Printed: the register page, the heat map, the vendor list and the register's
and vendors' exports (time and queries), the Risks and Vendors digest sections' build, and the daily freshness pass of the
organization (evidence, then the digests with the vendor documents' changes). Each is measured
on a small organization (20 risks, 10 vendors) too, and the query counts must be equal."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controls.models import Control, System
from evidence.freshness import freshness_check
from evidence.models import DigestMark
from risks import digest as risk_digest
from risks.matrix import matrix_for
from risks.models import Risk, RiskControl, RiskSystem
from soc2app.bench.common import Results, seconds, timed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role
from vendors import digest as vendor_digest
from vendors.models import Vendor, VendorDocument, VendorReview

SECTION = "risks"
KINDS = ("soc2_report", "bridge_letter", "dpa", "questionnaire", "certificate")


def _risks(org, owner, controls, systems, n: int, today: dt.date) -> None:
    rows = []
    for i in range(n):
        li, im = 1 + i % 5, 1 + (i * 7) % 5
        accepted = i % 9 == 4
        rows.append(
            Risk(
                organization=org,
                title=f"Bench risk {i:05d}",
                category="security",
                owner=owner,
                inherent_likelihood=li,
                inherent_impact=im,
                inherent_score=li * im,
                residual_likelihood=max(1, li - 1),
                residual_impact=im,
                residual_score=max(1, li - 1) * im,
                treatment="accept" if accepted else "mitigate",
                accepted_reason="bench" if accepted else "",
                accepted_until=today + dt.timedelta(days=i % 60 - 30) if accepted else None,
                next_review_date=today + dt.timedelta(days=i % 400 - 100),
            )
        )
    risks = Risk.objects.bulk_create(rows, batch_size=2000)
    RiskControl.objects.bulk_create(
        (
            RiskControl(organization=org, risk=r, control=controls[(i + k) % len(controls)])
            for i, r in enumerate(risks)
            for k in (0, 1)
        ),
        batch_size=5000,
    )
    RiskSystem.objects.bulk_create(
        (
            RiskSystem(organization=org, risk=r, system=systems[i % len(systems)])
            for i, r in enumerate(risks)
        ),
        batch_size=5000,
    )


def _vendors(org, owner, n: int, today: dt.date) -> int:
    vendors = Vendor.objects.bulk_create(
        (
            Vendor(
                organization=org,
                name=f"Bench vendor {i:05d}",
                owner=owner,
                criticality=["low", "medium", "high", "critical"][i % 4],
                is_subprocessor=i % 3 == 0,
                contract_end=today + dt.timedelta(days=i % 500 - 50),
                next_review_date=today + dt.timedelta(days=i % 700 - 100),
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    docs = []
    for i, vendor in enumerate(vendors):
        for k, kind in enumerate(KINDS):
            shift = dt.timedelta(days=(i * 13 + k * 29) % 500)
            docs.append(
                VendorDocument(
                    organization=org,
                    vendor=vendor,
                    kind=kind,
                    file=f"vendors/{org.pk}/bench-{i}-{k}",
                    file_name=f"{kind}.pdf",
                    content_type="application/pdf",
                    size=1,
                    sha256="c" * 64,
                    period_end=today - shift if kind in ("soc2_report", "bridge_letter") else None,
                    expires_on=today + shift - dt.timedelta(days=200)
                    if kind == "certificate"
                    else None,
                )
            )
    VendorDocument.objects.bulk_create(docs, batch_size=5000)
    VendorReview.objects.bulk_create(
        (
            VendorReview(
                organization=org,
                vendor=v,
                reviewed_on=today - dt.timedelta(days=100),
                residual_risk="low",
                decision="approve",
                next_review_date=today + dt.timedelta(days=265),
            )
            for v in vendors
        ),
        batch_size=5000,
    )
    return len(docs)


def seed(slug: str, *, risks: int, vendors: int) -> tuple[Organization, object, int]:
    today = timezone.localdate()
    org = Organization.objects.create(name=f"Bench {slug}", slug=slug)
    user = get_user_model().objects.create_user(
        username=f"{slug}@example.com", email=f"{slug}@example.com"
    )
    member = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
    member.save()
    with org_scope(org):
        matrix_for(org)
        controls = Control.objects.bulk_create(
            Control(organization=org, code=f"RB-{i:02d}", title=f"Bench control {i}")
            for i in range(20)
        )
        systems = System.objects.bulk_create(
            System(organization=org, name=f"Bench system {i}") for i in range(10)
        )
        _risks(org, member, controls, systems, risks, today)
        documents = _vendors(org, member, vendors, today)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in (
                "risks_risk",
                "risks_riskcontrol",
                "vendors_vendor",
                "vendors_vendordocument",
            ):
                cur.execute(f"ANALYZE {table}")  # noqa: S608 (fixed names)
    return org, user, documents


def _get(client: Client, path: str) -> HttpResponse:
    """The whole answer, a streamed export's lines included (they are read as it streams)."""
    response = client.get(path)
    if getattr(response, "streaming", False):
        for _line in response.streaming_content:
            pass
    return response


def _page(client: Client, org: Organization, name: str, query: str = "") -> tuple[float, int]:
    path = reverse(name, kwargs={"org_slug": org.slug}) + query
    client.get(path)  # the session's first request caches what it loads
    with CaptureQueriesContext(connection) as queries:
        response = _get(client, path)
    if response.status_code != 200:
        raise RuntimeError(f"{name}{query} answered {response.status_code}")
    count = len(queries)
    elapsed, _ = timed(lambda: _get(client, path), repeat=3)
    return elapsed, count


def _digest(org: Organization) -> tuple[float, int, int]:
    """Both sections' build from scratch (nothing told yet): seconds, queries, entries."""
    DigestMark.objects.for_org(org).delete()
    with org_scope(org), transaction.atomic(), CaptureQueriesContext(connection) as queries:
        started = timezone.now()
        today = timezone.localdate()
        token = uuid.uuid4()
        entries = risk_digest.claim(org, token, today) + vendor_digest.claim(org, token, today)
        elapsed = (timezone.now() - started).total_seconds()
        transaction.set_rollback(True)  # measured, not kept: the pass below tells them
    return elapsed, len(queries), len(entries)


def _freshness(org: Organization) -> tuple[float, int, str]:
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    try:
        with CaptureQueriesContext(connection) as queries:
            elapsed, run = timed(lambda: freshness_check(organization=org))
    finally:
        settings.EMAIL_BACKEND = backend
        mail.outbox = []
    return elapsed, len(queries), run.organizations[org.slug].line()


def _compare(results: Results, label: str, small: tuple, large: tuple, sizes: str) -> None:
    results.add(
        SECTION,
        label,
        seconds(large[0]),
        f"{large[1]} queries ({sizes}); small org {small[1]} queries, {seconds(small[0])}",
    )
    if small[1] != large[1]:
        raise RuntimeError(f"{label}: {small[1]} queries small, {large[1]} large")


def run(results: Results, *, scale: float = 1.0) -> None:
    n_risks, n_vendors = max(40, int(2000 * scale)), max(20, int(1000 * scale))
    elapsed, (org, user, docs) = timed(
        lambda: seed("bench-risks", risks=n_risks, vendors=n_vendors)
    )
    results.add(
        SECTION,
        f"seed {n_risks:,} risks, {n_vendors:,} vendors, {docs:,} documents",
        seconds(elapsed),
    )
    small_org, small_user, _ = seed("bench-risks-small", risks=20, vendors=10)
    sizes = f"{n_risks:,} risks, {n_vendors:,} vendors"
    clients = []
    for who in (small_user, user):
        client = Client()
        client.force_login(who)
        clients.append(client)
    for name, query, label in (
        ("risks", "", "risk register page"),
        ("risk_heatmap", "", "risk heat map"),
        ("vendors", "", "vendor list"),
        ("risks", "?format=xlsx", "risk register export (XLSX)"),
        ("vendors", "?format=csv", "vendor list export (CSV)"),
    ):
        small = _page(clients[0], small_org, name, query)
        large = _page(clients[1], org, name, query)
        _compare(results, label, small, large, sizes)
    small, large = _digest(small_org), _digest(org)
    _compare(
        results, f"digest: Risks + Vendors sections ({large[2]:,} entries)", small, large, sizes
    )
    small, large = _freshness(small_org), _freshness(org)
    _compare(results, "daily freshness pass of the organization", small, large, sizes)
    results.add(SECTION, "  what the pass told", "", large[2][:110])
