"""The home page (the to-do list per role) on a large organization: 300 controls, 50,000
evidence versions, two audits with four weeks of readiness snapshots, 50 open requests for
information. Prints the render time and the query count of a compliance manager's and a
contributor's home (the count must not depend on the size: see tests/soc2app/test_home.py).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from controls.models import Control, ReadinessSnapshot
from reports.models import InfoRequest
from soc2app.bench import readiness
from soc2app.bench.common import Results, seconds, timed
from tenants.models import Membership, Role


def seed(*, controls: int, versions: int):
    from django.contrib.auth import get_user_model

    org, manager, audits = readiness.seed(controls=controls, versions=versions, slug="bench-home")
    user = get_user_model().objects.create_user(
        username="contributor@bench-home.example.com", email="contributor@bench-home.example.com"
    )
    contributor = Membership(organization=org, user=user, role=Role.CONTRIBUTOR)
    contributor.save()
    today = dt.date.today()  # noqa: DTZ011 (benchmark data, any local date will do)
    mine = list(Control.objects.for_org(org).values_list("pk", flat=True)[::2])
    Control.objects.for_org(org).filter(pk__in=mine).update(
        owner=contributor, due_date=today - dt.timedelta(days=3)
    )
    ReadinessSnapshot.objects.bulk_create(
        [
            ReadinessSnapshot(
                organization=org,
                audit=audit,
                taken_on=today - dt.timedelta(days=day),
                score=60 + day % 7,
                met=10,
                partial=5,
                gap=3,
            )
            for audit in audits.values()
            for day in range(28)
        ]
    )
    InfoRequest.objects.bulk_create(
        [
            InfoRequest(
                organization=org,
                audit=audits["type2"],
                number=n + 1,
                title=f"Population {n}",
                due_date=today + dt.timedelta(days=n % 20 - 5),
                raised_by_label="bench auditor",
            )
            for n in range(50)
        ]
    )
    return org, {"manager": manager, "contributor": contributor}


def run(results: Results, *, scale: float = 1.0) -> None:
    controls = max(10, int(300 * scale))
    versions = max(100, int(50_000 * scale))
    elapsed, (org, members) = timed(lambda: seed(controls=controls, versions=versions))
    results.add("home", f"seed {controls} controls, {versions:,} versions", seconds(elapsed))
    path = reverse("org_home", kwargs={"org_slug": org.slug})
    for role, membership in members.items():
        client = Client()
        client.force_login(membership.user)
        client.get(path)  # the session's first request caches what it loads
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        # Counted now: the next requests reset the log the context reads from.
        count = len(queries)
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        elapsed, response = timed(lambda c=client: c.get(path), repeat=5)
        if response.status_code != 200:
            raise RuntimeError(f"the {role}'s home answered {response.status_code}")
        results.add(
            "home",
            f"{role}: render the home page",
            seconds(elapsed),
            f"{count} queries, {len(response.content) // 1024} KB; slowest "
            f"{float(slowest['time']) * 1000:.0f} ms: {slowest['sql'][:60]}",
        )
