"""Ingesting what a collector returned, as a scheduled run does (``monitoring.runs``)."""

from __future__ import annotations

from django.utils import timezone

from monitoring.collectors import Collected
from monitoring.models import Connection, RunSource
from monitoring.services import IngestSummary, results_ingest
from tenants.activity import Actor
from tenants.models import Organization


def ingest(org: Organization, connection: Connection, collected: Collected) -> IngestSummary:
    return results_ingest(
        organization=org,
        connection=connection,
        batch=collected.batch,
        source=RunSource.SCHEDULED,
        actor=Actor.system("test"),
        output=collected.output,
        now=timezone.now(),
    )
