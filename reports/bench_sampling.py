"""The samples section of ``manage.py bench``: a population of 100,000 rows uploaded as CSV
(parsed, validated, hashed and stored; target < 10 s) and a seeded sample drawn from it
(target < 1 s), on a fresh organization each run."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from controls.models import Audit, AuditCategory, Control, ControlCriterion
from criteria.models import Category, Criterion
from criteria.selectors import framework_get
from reports import populations, samples
from soc2app.bench.common import Results, seconds, timed
from tenants.context import org_scope
from tenants.models import Membership, Organization, Role

START = dt.date(2025, 1, 1)


def population_csv(rows: int) -> bytes:
    lines = ["id,date,description"]
    lines += [
        f"CHG-{i:06d},{START + dt.timedelta(days=i % 365)},Change ticket {i}: deploy service {i % 97}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def _world(slug: str) -> tuple[Membership, Audit, Control]:
    org = Organization.objects.create(name="Bench Samples Inc.", slug=slug)
    user = get_user_model().objects.create_user(
        username=f"{slug}@example.com", email=f"{slug}@example.com"
    )
    manager = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
    manager.save()
    framework = framework_get()
    audit = Audit.objects.create(
        organization=org,
        name="Bench Type 2",
        audit_type="type2",
        framework=framework,
        window_start=START,
        window_end=dt.date(2025, 12, 31),
    )
    AuditCategory.objects.bulk_create(
        [
            AuditCategory(organization=org, audit=audit, category=c)
            for c in Category.objects.filter(framework=framework)
        ]
    )
    control = Control.objects.create(
        organization=org,
        code="CM-01",
        title="Changes are approved before deployment",
        control_type="process",
        frequency="continuous",
        status="implemented",
        owner=manager,
    )
    criterion = Criterion.objects.filter(framework=framework).order_by("position").first()
    ControlCriterion.objects.create(organization=org, control=control, criterion=criterion)
    return manager, audit, control


def run(results: Results, *, scale: float = 1.0) -> None:
    rows = max(100, min(100_000, int(100_000 * scale)))
    slug = f"bench-samples-{Organization.objects.filter(slug__startswith='bench-samples').count()}"
    manager, audit, control = _world(slug)
    data = population_csv(rows)
    with org_scope(audit.organization):
        elapsed, population = timed(
            lambda: populations.population_upload_csv(
                membership=manager, audit=audit, control=control, data=data, name="changes.csv"
            )
        )
        results.add(
            "samples",
            f"population of {rows:,} rows uploaded (target < 10 s)",
            seconds(elapsed),
            f"{len(data) / 1e6:.1f} MB parsed, validated, hashed, stored",
        )
        elapsed, sample = timed(
            lambda: samples.sample_draw(
                membership=manager, population=population, seed="bench-seed-0001"
            )
        )
        results.add(
            "samples",
            "seeded sample drawn (target < 1 s)",
            seconds(elapsed),
            f"{sample.size} items, each a request for information",
        )
