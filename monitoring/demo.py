"""Demo monitoring for ``seed_demo``: a connection fed by the organization's own CI job, with
two weeks of daily runs: two tests that pass and one that fails on one bucket since five days
ago, so the Monitoring page, a control's Tests section and the contributor's home all have
something to show. Runs go through ``results_ingest`` like a push. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from monitoring.models import Connection, ConnectionKind, Schedule
from monitoring.services import CheckSpec, ResultSpec, connection_create, results_ingest
from tenants.activity import Actor
from tenants.models import Membership, Organization, Role

CONNECTION_NAME = "CI security checks (demo)"
DAYS = 14
FAILING_SINCE = 5  # days ago

CHECKS = (
    CheckSpec(
        key="s3-bucket-encryption",
        title="S3 buckets are encrypted at rest",
        severity="high",
        criteria=("CC6.1",),
    ),
    CheckSpec(
        key="admin-mfa",
        title="Administrator accounts use MFA",
        severity="critical",
        criteria=("CC6.1",),
    ),
    CheckSpec(
        key="db-backup-restored",
        title="Last night's database backup restores",
        severity="medium",
        criteria=("A1.2",),
    ),
)


def _results(key: str, days_ago: int) -> list[ResultSpec]:
    if key == "s3-bucket-encryption":
        failing = days_ago <= FAILING_SINCE
        return [
            ResultSpec(resource="arn:aws:s3:::acme-web-assets", status="pass"),
            ResultSpec(
                resource="arn:aws:s3:::acme-exports",
                status="fail" if failing else "pass",
                details={"sse": "none"} if failing else {"sse": "aws:kms"},
            ),
        ]
    if key == "admin-mfa":
        return [ResultSpec(resource="idp:admins", status="pass", details={"members": 4})]
    return [ResultSpec(resource="postgres-prod", status="pass", details={"minutes": 12})]


def demo_seed_monitoring(organization: Organization) -> None:
    if Connection.objects.for_org(organization).filter(name=CONNECTION_NAME).exists():
        return
    owner = (
        Membership.objects.for_org(organization)
        .filter(role=Role.OWNER)
        .select_related("user", "organization")
        .order_by("pk")
        .first()
    )
    if owner is None:
        return
    connection = connection_create(
        membership=owner, kind=ConnectionKind.CUSTOM, name=CONNECTION_NAME, schedule=Schedule.MANUAL
    )
    actor = Actor.system("CI job (demo)")
    now = timezone.now()
    for days_ago in range(DAYS, -1, -1):
        results_ingest(
            organization=organization,
            connection=connection,
            batch=[(spec, _results(spec.key, days_ago)) for spec in CHECKS],
            source="push",
            actor=actor,
            now=now - dt.timedelta(days=days_ago, hours=1),
        )
