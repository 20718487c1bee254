"""Readiness of a large audit: 300 controls over all 61 criteria and 50,000 evidence versions.

Prints the time to compute readiness (and its query count, which must not depend on the
size) and to render the dashboard page (time, queries, KB: issue 15 wants a fixed number of
queries and under 300 KB), for Type 1 and Type 2; then one Type 2 control's coverage detail
(the fragment the dashboard loads when a row is opened) and the audits list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from controls.models import (
    Audit,
    AuditCategory,
    Control,
    ControlCriterion,
    Frequency,
)
from controls.readiness import audit_readiness
from criteria.models import Category, Criterion
from criteria.selectors import framework_get
from evidence.models import EvidenceItem, EvidenceVersion
from soc2app.bench.common import Results, seconds, timed
from tenants.models import Membership, Organization, Role

FREQUENCIES = [
    Frequency.ANNUAL,
    Frequency.QUARTERLY,
    Frequency.MONTHLY,
    Frequency.QUARTERLY,
    Frequency.WEEKLY,
    Frequency.DAILY,
    Frequency.CONTINUOUS,
    Frequency.ON_EVENT,
]


def seed(*, controls: int, versions: int, slug: str = "bench-readiness"):
    from django.contrib.auth import get_user_model

    org = Organization.objects.create(name="Bench readiness", slug=slug)
    user = get_user_model().objects.create_user(
        username=f"{slug}@example.com", email=f"{slug}@example.com"
    )
    manager = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
    manager.save()
    framework = framework_get()
    criteria = list(Criterion.objects.filter(framework=framework).order_by("position"))
    rows = Control.objects.bulk_create(
        [
            Control(
                organization=org,
                code=f"B-{i:04d}",
                title=f"Benchmark control {i}",
                control_type="technical",
                frequency=FREQUENCIES[i % len(FREQUENCIES)],
                status="implemented" if i % 5 else "in_progress",
                owner=manager,
            )
            for i in range(controls)
        ]
    )
    # Each criterion gets controls; each control maps to three criteria.
    cycle = itertools.cycle(criteria)
    ControlCriterion.objects.bulk_create(
        [
            ControlCriterion(organization=org, control=c, criterion=next(cycle))
            for c in rows
            for _ in range(3)
        ],
        ignore_conflicts=True,
    )
    today = dt.date.today()  # noqa: DTZ011 (benchmark data, any local date will do)
    window_start = today.replace(day=1) - dt.timedelta(days=365)
    items = EvidenceItem.objects.bulk_create(
        [EvidenceItem(organization=org, control=c, title=f"{c.code} evidence") for c in rows]
    )
    per_item = max(1, versions // len(items))
    batch = []
    for item in items:
        for n in range(per_item):
            day = window_start + dt.timedelta(days=(n * 365) // per_item)
            digest = hashlib.sha256(f"{item.pk}-{n}".encode()).hexdigest()
            batch.append(
                EvidenceVersion(
                    organization=org,
                    item=item,
                    number=n + 1,
                    kind="link",
                    url=f"https://evidence.example.com/{item.pk}/{n}",
                    sha256=digest,
                    effective_start=day,
                    effective_end=day + dt.timedelta(days=2),
                    valid_until=day + dt.timedelta(days=90),
                    uploaded_by_label="bench",
                    review_state="accepted" if n % 7 else "pending",
                )
            )
            if len(batch) >= 5000:
                EvidenceVersion.objects.bulk_create(batch)
                batch = []
    EvidenceVersion.objects.bulk_create(batch)
    categories = list(Category.objects.filter(framework=framework))
    audits = {}
    for kind, values in (
        ("type1", {"as_of_date": today - dt.timedelta(days=1)}),
        (
            "type2",
            {
                "window_start": window_start,
                "window_end": window_start + dt.timedelta(days=364),
            },
        ),
    ):
        audit = Audit.objects.create(
            organization=org, name=f"Bench {kind}", audit_type=kind, framework=framework, **values
        )
        AuditCategory.objects.bulk_create(
            [AuditCategory(organization=org, audit=audit, category=c) for c in categories]
        )
        audits[kind] = audit
    return org, manager, audits


def run(results: Results, *, scale: float = 1.0) -> None:
    controls = max(10, int(300 * scale))
    versions = max(100, int(50_000 * scale))
    seconds_seed, (org, manager, audits) = timed(lambda: seed(controls=controls, versions=versions))
    results.add(
        "readiness", f"seed {controls} controls, {versions:,} versions", seconds(seconds_seed)
    )
    client = Client()
    client.force_login(manager.user)
    for kind, audit in audits.items():
        with CaptureQueriesContext(connection) as queries:
            audit_readiness(audit)
        elapsed, readiness = timed(lambda a=audit: audit_readiness(a), repeat=5)
        results.add(
            "readiness",
            f"{kind}: compute readiness (61 criteria)",
            seconds(elapsed),
            f"{len(queries)} queries; score {readiness.score}%",
        )
        path = reverse("audit_detail", kwargs={"org_slug": org.slug, "pk": audit.pk})
        _page(results, client, path, f"{kind}: render the dashboard page")
        if audit.is_type2:
            # A control's periods load when its row is opened: the busiest control's.
            control = max(readiness.controls.values(), key=lambda c: len(c.periods)).control
            path = reverse(
                "audit_coverage",
                kwargs={"org_slug": org.slug, "pk": audit.pk, "control_pk": control.pk},
            )
            _page(results, client, path, f"{kind}: one control's coverage ({control.frequency})")
    _page(results, client, reverse("audit_list", kwargs={"org_slug": org.slug}), "audits list")


def _page(results: Results, client: Client, path: str, name: str) -> None:
    """Render time (median of 3), query count and size of one page (the dashboard must stay
    under 300 KB and at a fixed number of queries: tests/controls/test_dashboard.py)."""
    client.get(path)  # the session's first request caches what it loads
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    count = len(queries)  # read now: the next requests reset the log the context reads
    elapsed, response = timed(lambda: client.get(path), repeat=3)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    results.add(
        "readiness",
        name,
        seconds(elapsed),
        f"{count} queries, {len(response.content) // 1024} KB, HTTP {response.status_code}",
    )
