"""The ``monitoring`` section of ``manage.py bench``: a Prowler JSON-OCSF file of 50,000
findings (at scale 1), written in Prowler's own shape (a JSON array of Detection Findings,
indented by 4 as Prowler writes it), read by ``monitoring.collectors.ocsf`` with a SOC 2 mapping
file in Prowler's shape, and ingested by ``results_ingest`` as one run of an AWS connection.

Printed: the file's size, the parse, the first ingest (every check and result new, the failing
fifth opening findings) and a second run (a tenth of the failures fixed, as many new ones:
findings closed and opened), each with its query count; and the queries per run at a tenth of
the size, to show the count does not follow the number of results beyond the bulk inserts.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls.models import Control, ControlCriterion
from criteria.models import Criterion
from monitoring.collectors import ocsf
from monitoring.models import Connection, ConnectionKind, RunSource
from monitoring.services import results_ingest
from monitoring.specs import clean_check, clean_results
from soc2app.bench.common import Results, seconds
from tenants.activity import Actor
from tenants.models import Membership, Organization, Role

SECTION = "monitoring"
FINDINGS = 50_000
CHECKS = 250
SEVERITIES = ((2, "Low"), (3, "Medium"), (4, "High"), (5, "Critical"))
REFS = ("CC6.1", "CC6.6", "CC6.7", "CC7.2", "CC7.3", "CC8.1", "A1.2", "C1.2")


def ocsf_finding(
    check: str,
    resource: str,
    status: str,
    *,
    severity: tuple[int, str] = (3, "Medium"),
    region: str = "us-east-1",
    title: str = "",
    muted: bool = False,
    detail: str = "",
) -> dict[str, Any]:
    """One finding as Prowler 5 writes it (``prowler/lib/outputs/ocsf/ocsf.py``)."""
    detail = detail or f"{resource} is {'compliant' if status == 'PASS' else 'not compliant'}."
    service = check.split("_", 1)[0]
    return {
        "message": detail,
        "metadata": {
            "event_code": check,
            "product": {"name": "Prowler", "uid": "prowler", "vendor_name": "Prowler"},
            "profiles": ["cloud", "datetime"],
            "tenant_uid": "",
            "version": "1.4.0",
        },
        "severity_id": severity[0],
        "severity": severity[1],
        "status": "Suppressed" if muted else "New",
        "status_code": status,
        "status_detail": detail,
        "status_id": 3 if muted else 1,
        "unmapped": {"related_url": "", "categories": [], "compliance": {}, "provider": "aws"},
        "activity_name": "Create",
        "activity_id": 1,
        "finding_info": {
            "created_time": 1765000000,
            "desc": title or check,
            "title": title or check.replace("_", " ").capitalize(),
            "types": [service],
            "uid": f"prowler-aws-{check}-123456789012-{region}-{resource}",
        },
        "resources": [
            {
                "cloud_partition": "aws",
                "region": region,
                "data": {"details": "", "metadata": {"arn": resource}},
                "group": {"name": service},
                "labels": [],
                "name": resource.rsplit(":", 1)[-1].rsplit("/", 1)[-1],
                "type": "Other",
                "uid": resource,
            }
        ],
        "category_name": "Findings",
        "class_name": "Detection Finding",
        "class_uid": 2004,
        "cloud": {
            "account": {"type": "AWS Account", "type_id": 10, "uid": "123456789012"},
            "provider": "aws",
            "region": region,
        },
        "remediation": {"desc": "Fix it.", "references": []},
        "risk_details": "An attacker could use this.",
        "time": 1765000000,
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
    }


def write_ocsf(out: IO[str], findings: Iterable[dict[str, Any]]) -> None:
    """As Prowler writes it: ``[``, each finding indented by 4 and followed by ``,``, and the
    last comma replaced by ``]``."""
    out.write("[")
    first = True
    for finding in findings:
        out.write("" if first else ",")
        out.write(json.dumps(finding, indent=4))
        first = False
    out.write("]")


def soc2_file(checks: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """A mapping file in the shape of Prowler's ``compliance/aws/soc2_aws.json``."""
    by_ref: dict[str, list[str]] = {}
    for check, refs in checks.items():
        for ref in refs:
            by_ref.setdefault(ref, []).append(check)
    return {
        "Framework": "SOC2",
        "Provider": "AWS",
        "Requirements": [
            {"Id": ref.lower().replace(".", "_"), "Name": f"{ref} ...", "Checks": names}
            for ref, names in by_ref.items()
        ],
    }


def _findings(total: int, round_: int) -> Iterator[dict[str, Any]]:
    per_check = total // CHECKS
    for c in range(CHECKS):
        check = f"ec2_bench_check_{c:03d}"
        for r in range(per_check):
            # A fifth fails; the second round fixes a tenth of them and breaks as many others.
            failing = (r % 5 == 0) != (round_ == 2 and r % 50 in (0, 1))
            yield ocsf_finding(
                check,
                f"arn:aws:ec2:us-east-1:123456789012:instance/i-{c:03d}{r:06d}",
                "FAIL" if failing else "PASS",
                severity=SEVERITIES[c % 4],
                title=f"Bench check {c}",
            )


def _seed() -> tuple[Organization, Connection, Membership]:
    from django.contrib.auth import get_user_model

    org = Organization.objects.create(name="Bench monitoring", slug="bench-monitoring")
    user = get_user_model().objects.create_user(username="mon@bench.invalid")
    admin = Membership.objects.create(organization=org, user=user, role=Role.ADMIN)
    controls = Control.objects.bulk_create(
        Control(
            organization=org,
            code=f"MON-{i:02d}",
            title=f"Control {i}",
            control_type="technical",
            frequency="monthly",
            status="implemented",
            owner=admin,
        )
        for i in range(len(REFS))
    )
    criteria = {c.ref: c for c in Criterion.objects.filter(ref__in=REFS)}
    ControlCriterion.objects.bulk_create(
        ControlCriterion(organization=org, control=control, criterion=criteria[ref])
        for control, ref in zip(controls, REFS, strict=True)
    )
    aws = Connection.objects.create(organization=org, kind=ConnectionKind.AWS, name="AWS")
    return org, aws, admin


def _ingest(org, aws, path: Path, mapping) -> tuple[float, float, int, int, float]:
    """Wall seconds of the parse and of the ingest, queries, checks, and the CPU seconds this
    process spent on both (the rest is waiting: on PostgreSQL, or on a busy machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as f:
        batch = [(clean_check(c), clean_results(r, limit=None)) for c, r in ocsf.parse(f, mapping)]
    parsed = time.perf_counter() - started
    with CaptureQueriesContext(connection) as queries:
        results_ingest(
            organization=org,
            connection=aws,
            batch=batch,
            source=RunSource.SCHEDULED,
            actor=Actor.system("bench"),
        )
    ingested = time.perf_counter() - started - parsed
    return parsed, ingested, len(queries), len(batch), time.process_time() - cpu


def run(results: Results, *, scale: float = 1.0) -> None:
    total = max(CHECKS, int(FINDINGS * scale))
    org, aws, _admin = _seed()
    mapping_file = soc2_file(
        {f"ec2_bench_check_{c:03d}": (REFS[c % len(REFS)],) for c in range(CHECKS)}
    )
    with tempfile.TemporaryDirectory(prefix="bench-prowler-") as work:
        soc2 = Path(work) / "soc2_aws.json"
        soc2.write_text(json.dumps(mapping_file))
        mapping = ocsf.soc2_mapping(soc2)
        for round_ in (1, 2):
            path = Path(work) / f"round{round_}.ocsf.json"
            with path.open("w") as out:
                write_ocsf(out, _findings(total, round_))
            if round_ == 1:
                size = path.stat().st_size / 2**20
                results.add(SECTION, f"OCSF file of {total:,} findings", f"{size:.0f} MB")
            parsed, ingested, queries, checks, cpu = _ingest(org, aws, path, mapping)
            what = "first run (all new)" if round_ == 1 else "second run (fixes and new failures)"
            results.add(SECTION, f"parse {total:,} findings ({checks} checks)", seconds(parsed))
            results.add(
                SECTION,
                f"ingest, {what}",
                seconds(ingested),
                f"{queries} queries; parse + ingest {seconds(parsed + ingested)} "
                f"(CPU of this process {seconds(cpu)})",
            )
        small = Path(work) / "small.ocsf.json"
        fewer = max(CHECKS, total // 10)
        with small.open("w") as out:
            write_ocsf(out, _findings(fewer, 1))
        small_queries = _ingest(org, aws, small, mapping)[2]
        results.add(
            SECTION,
            f"queries per run: {fewer:,} vs {total:,} findings",
            f"{small_queries} vs {queries}",
            "the difference: one INSERT per 10,000 rows",
        )
