"""The people section of ``manage.py bench``: a CSV roster of 5,000 rows (managers inside the
file) previewed, then imported all or nothing (target < 10 s), then the same file with every
department changed (5,000 updates); on a fresh organization each run."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people import imports
from soc2app.bench.common import Results, seconds, timed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role

START = dt.date(2020, 1, 6)


def roster_csv(rows: int, *, department: str = "Department") -> bytes:
    lines = ["full_name,email,title,department,manager_email,employment_type,start_date,end_date"]
    for i in range(rows):
        manager = f"person{i // 8:05d}@example.com" if i else ""
        start = START + dt.timedelta(days=i % 1500)
        end = (start + dt.timedelta(days=200 + i % 700)).isoformat() if i % 9 == 0 and i else ""
        lines.append(
            f"Person {i:05d},person{i:05d}@example.com,Engineer {i % 30},{department} {i % 12},"
            f"{manager},{('employee', 'contractor', 'intern')[i % 3]},"
            f"{start.isoformat()},{end}"
        )
    return ("\n".join(lines) + "\n").encode()


def run(results: Results, *, scale: float = 1.0) -> None:
    rows = max(100, int(5000 * scale))
    slug = f"bench-people-{Organization.objects.filter(slug__startswith='bench-people').count()}"
    org = Organization.objects.create(name="Bench People Inc.", slug=slug)
    user = get_user_model().objects.create_user(
        username=f"{slug}@example.com", email=f"{slug}@example.com"
    )
    manager = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
    manager.save()
    manager = Membership.objects.for_org(org).select_related("user", "organization").get()
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
