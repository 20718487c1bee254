"""The people section of ``manage.py bench``: a CSV roster of 5,000 rows (managers inside the
file) previewed, then imported all or nothing (target < 10 s), then the same file with every
department changed (5,000 updates); on a fresh organization each run. Then 5,000 recent
joiners (one in nine also a leaver) imported, which opens their onboarding and offboarding
checklists in the same transaction (set-based)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from people import imports
from soc2app.bench.common import Results, seconds, timed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role

START = dt.date(2020, 1, 6)


def roster_csv(
    rows: int, *, department: str = "Department", start: dt.date = START, spread: int = 1500
) -> bytes:
    lines = ["full_name,email,title,department,manager_email,employment_type,start_date,end_date"]
    first = start
    for i in range(rows):
        manager = f"person{i // 8:05d}@example.com" if i else ""
        start = first + dt.timedelta(days=i % spread)
        end = (start + dt.timedelta(days=200 + i % 700)).isoformat() if i % 9 == 0 and i else ""
        lines.append(
            f"Person {i:05d},person{i:05d}@example.com,Engineer {i % 30},{department} {i % 12},"
            f"{manager},{('employee', 'contractor', 'intern')[i % 3]},"
            f"{start.isoformat()},{end}"
        )
    return ("\n".join(lines) + "\n").encode()


def _organization() -> tuple[Organization, Membership]:
    slug = f"bench-people-{Organization.objects.filter(slug__startswith='bench-people').count()}"
    org = Organization.objects.create(name="Bench People Inc.", slug=slug)
    user = get_user_model().objects.create_user(
        username=f"{slug}@example.com", email=f"{slug}@example.com"
    )
    manager = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
    manager.save()
    return org, Membership.objects.for_org(org).select_related("user", "organization").get()


def run(results: Results, *, scale: float = 1.0) -> None:
    rows = max(100, int(5000 * scale))
    org, manager = _organization()
    data = roster_csv(rows)
    with org_scope(org):
        elapsed, plan = timed(lambda: imports.plan_import(org, data))
        results.add("people", f"preview a {rows:,}-row CSV roster", seconds(elapsed))
        with CaptureQueriesContext(connection) as queries:
            elapsed, plan = timed(lambda: imports.import_apply(membership=manager, data=data))
        assert plan.ok and len(plan.to_create) == rows, plan.summary()
        results.add(
            "people",
            f"import {rows:,} new people (target < 10 s)",
            seconds(elapsed),
            f"{len(queries)} queries",
        )
        changed = roster_csv(rows, department="Team")
        with CaptureQueriesContext(connection) as queries:
            elapsed, plan = timed(lambda: imports.import_apply(membership=manager, data=changed))
        results.add(
            "people",
            f"import the same {rows:,} with every department changed",
            seconds(elapsed),
            f"{len(queries)} queries, {len(plan.to_update):,} updated",
        )
    _checklists(results, rows)


def _checklists(results: Results, rows: int) -> None:
    from people.models_checklists import ChecklistItem

    org, manager = _organization()
    start = timezone.localdate() - dt.timedelta(days=30)
    data = roster_csv(rows, start=start, spread=60)
    with org_scope(org):
        with CaptureQueriesContext(connection) as queries:
            elapsed, plan = timed(lambda: imports.import_apply(membership=manager, data=data))
        assert plan.ok, plan.summary()
        items = ChecklistItem.objects.for_org(org).count()
        results.add(
            "people",
            f"import {rows:,} recent joiners, opening their checklists (target < 10 s)",
            seconds(elapsed),
            f"{len(queries)} queries, {items:,} checklist items",
        )
