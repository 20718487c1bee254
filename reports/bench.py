"""The reports section of ``manage.py bench`` (and ``manage.py bench_reports``).

Seeds an organization with 300 controls and 10,000 evidence versions (bulk inserts), then
times the Type 2 PDF rendered in parallel parts (``reports.rendering.parallel``), step by
step, with its pages per second and peak memory, and the same content laid out naively in
one WeasyPrint pass (in a process of its own, so that its memory is measured apart) as the
baseline, printed as a ratio.

CPU: the seconds of this process and of its worker processes (user + system), printed next to
the wall time because the machine the benchmark runs on is often shared: wall time then
says more about the neighbours than about the code.

Memory: worker processes report their own peak resident set (``ru_maxrss``); the total is
this process's peak plus the largest worker's times the number of workers running at once,
an upper bound of what the render holds at any moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls.models import Audit, AuditCategory, Control, ControlCriterion, Frequency
from criteria.models import Category, Criterion
from criteria.selectors import framework_get
from evidence.models import EvidenceItem, EvidenceVersion
from reports.content import report_content
from reports.rendering.parallel import render_parallel
from reports.rendering.pdf import (
    FRONT,
    asset_dir,
    base_context,
    body_sections,
    html_document,
    single_bands,
)
from soc2app.bench.common import Results, seconds, timed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role

FREQUENCIES = [
    Frequency.QUARTERLY,
    Frequency.MONTHLY,
    Frequency.ANNUAL,
    Frequency.QUARTERLY,
    Frequency.WEEKLY,
    Frequency.SEMI_ANNUAL,
    Frequency.CONTINUOUS,
    Frequency.DAILY,
]
NAMES = ["access-review", "change-ticket-export", "backup-restore-test", "vuln-scan", "hr-roster"]


def seed(*, controls: int, versions: int, slug: str = "bench-reports") -> tuple[Audit, int]:
    from django.contrib.auth import get_user_model

    org = Organization.objects.create(name="Bench Reports Inc.", slug=slug)
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
                code=f"CTL-{i:04d}",
                title=f"Benchmark control {i}: review and approve the {NAMES[i % 5]} evidence",
                control_type="technical",
                frequency=FREQUENCIES[i % len(FREQUENCIES)],
                status="implemented" if i % 6 else "in_progress",
                owner=manager,
                due_date=dt.date(2026, 6, 30),
            )
            for i in range(controls)
        ]
    )
    cycle = itertools.cycle(criteria)
    ControlCriterion.objects.bulk_create(
        [
            ControlCriterion(organization=org, control=c, criterion=next(cycle))
            for c in rows
            for _ in range(2)
        ],
        ignore_conflicts=True,
    )
    start = dt.date(2025, 1, 1)
    items = EvidenceItem.objects.bulk_create(
        [EvidenceItem(organization=org, control=c, title=f"{c.code} evidence") for c in rows]
    )
    batch: list[EvidenceVersion] = []
    total = 0
    for index, item in enumerate(items):
        # Spread exactly ``versions`` over the items (the first ones get one more).
        per_item = max(1, versions // len(items) + (index < versions % len(items)))
        for n in range(per_item):
            day = start + dt.timedelta(days=(n * 365) // per_item)
            batch.append(
                EvidenceVersion(
                    organization=org,
                    item=item,
                    number=n + 1,
                    kind="file",
                    file=f"evidence/{org.pk}/{item.pk:08d}{n:04d}",
                    original_name=f"{NAMES[(item.pk + n) % 5]}-{day:%Y-%m-%d}.pdf",
                    sha256=hashlib.sha256(f"{item.pk}-{n}".encode()).hexdigest(),
                    size=10_000 + n,
                    effective_start=day,
                    effective_end=day + dt.timedelta(days=2),
                    valid_until=day + dt.timedelta(days=120),
                    uploaded_by_label="bench",
                    review_state="accepted" if n % 9 else "pending",
                    is_latest=n == per_item - 1,
                )
            )
            total += 1
            if len(batch) >= 5000:
                EvidenceVersion.objects.bulk_create(batch)
                batch = []
    EvidenceVersion.objects.bulk_create(batch)
    audit = Audit.objects.create(
        organization=org,
        name="Bench Type 2",
        audit_type="type2",
        framework=framework,
        window_start=start,
        window_end=dt.date(2025, 12, 31),
    )
    AuditCategory.objects.bulk_create(
        [
            AuditCategory(organization=org, audit=audit, category=c)
            for c in Category.objects.filter(framework=framework)
        ]
    )
    return audit, total


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _naive(content, folder: Path) -> tuple[float, float, int, int]:
    """The same content in one WeasyPrint pass (margin boxes, target-counter), in a process
    of its own: seconds, CPU seconds, pages, peak memory in KB."""
    started, cpu = time.perf_counter(), _cpu()
    context = base_context(content, "single")
    sections = body_sections(content)
    html = html_document(
        context,
        FRONT + sections,
        toc=[{"key": s.key, "title": s.title} for s in sections],
        evidence_bands=single_bands(content),
    )
    (folder / "naive.html").write_text(html, encoding="utf-8")
    job = {"html": str(folder / "naive.html"), "pdf": str(folder / "naive.pdf")}
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "reports.rendering.worker", str(asset_dir())],
        input=json.dumps(job) + "\n",
        cwd=str(settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    elapsed = time.perf_counter() - started
    return elapsed, _cpu() - cpu, result["pages"], result["max_rss_kb"]


def run(results: Results, *, scale: float = 1.0, naive: bool = True) -> None:
    controls = max(10, int(300 * scale))
    versions = max(100, int(10_000 * scale))
    # A fresh organization each run, so that ``bench --keepdb`` can run again on the same data.
    slug = f"bench-reports-{Organization.objects.filter(slug__startswith='bench-reports').count()}"
    elapsed, (audit, total) = timed(lambda: seed(controls=controls, versions=versions, slug=slug))
    results.add("reports", f"seed {controls} controls, {total:,} versions", seconds(elapsed))
    audit = (
        Audit.objects.for_org(audit.organization_id)
        .select_related("organization", "framework")
        .get(pk=audit.pk)
    )
    with org_scope(audit.organization), tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with CaptureQueriesContext(connection) as queries:
            elapsed, content = timed(lambda: report_content(audit))
        results.add(
            "reports", "read the report's data", seconds(elapsed), f"{len(queries)} queries"
        )
        steps: dict[str, float] = {}
        started, cpu = time.perf_counter(), _cpu()
        outcome = render_parallel(content, folder / "report.pdf", timings=steps)
        parallel, cpu = time.perf_counter() - started, _cpu() - cpu
        for name, value in steps.items():
            results.add("reports", f"  step: {name}", seconds(value))
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        worker = outcome.worker_peak_kb / 1024
        results.add(
            "reports",
            "Type 2 PDF, parallel parts (target < 15 s)",
            seconds(parallel),
            f"{outcome.pages} pages, {outcome.parts} parts, {outcome.workers} workers",
        )
        results.add(
            "reports",
            "  CPU time (this process + workers)",
            seconds(cpu),
            f"{cpu / parallel:.1f} cores busy on average",
        )
        results.add("reports", "  pages per second", f"{outcome.pages / parallel:.1f}")
        results.add(
            "reports",
            "  peak memory (target < 1 GB)",
            f"{own + worker * outcome.workers:.0f} MB",
            f"this process {own:.0f} MB + {outcome.workers} x worker {worker:.0f} MB",
        )
        if naive:
            elapsed, naive_cpu, pages, peak = _naive(content, folder)
            results.add(
                "reports",
                "baseline: the same content in one pass",
                seconds(elapsed),
                f"{pages} pages, {pages / elapsed:.1f} pages/s, peak {peak / 1024:.0f} MB, "
                f"CPU {naive_cpu:.1f} s",
            )
            results.add("reports", "  speed-up over the baseline", f"{elapsed / parallel:.1f}x")
