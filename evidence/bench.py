"""The ``evidence`` section of ``manage.py bench``: the freshness scan and 1 MB uploads.

At scale 1: 1,000 organizations, 10 controls each, 1,000,000 evidence versions (two per item,
so 500,000 latest versions), written with set-based SQL (PostgreSQL). Printed: the seed, the
freshness scan (a first run that moves about 57% of the latest versions, an idempotent rerun,
and the next day's run: what the daily job meets), a naive per-row ORM loop over a sample extrapolated to the same
rows (as a ratio), the ``is_latest`` backfill of migration 0003 on that populated table, and
the throughput of 1 MB file uploads through the service.

The bench command runs this in a throwaway database, so nothing is cleaned up here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import tempfile
from types import SimpleNamespace

from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from evidence.freshness import freshness_update
from evidence.models import EvidenceVersion
from evidence.selectors import live_versions
from evidence.services import evidence_submit_file, freshness_of
from soc2app.bench.common import Results, seconds, timed
from tenants import rls

SECTION = "evidence"
PREFIX = "bench-ev-"
CONTROLS_PER_ORG = 10
VERSIONS_PER_ITEM = 2


def seed(*, orgs: int, versions: int) -> int:
    """Organizations, controls, items and versions in four INSERT … SELECT statements, the
    newest version of each item flagged ``is_latest`` as the application writes it.
    Returns the number of versions written."""
    today = timezone.localdate()
    items_per_control = max(1, versions // (orgs * CONTROLS_PER_ORG * VERSIONS_PER_ITEM))
    like = PREFIX + "%"
    # Seeding a thousand organizations is a system job: on the system connection, logged.
    with rls.system("bench: seeding the evidence section") as system, system.cursor() as cur:
        cur.execute(
            "INSERT INTO tenants_organization (name, slug, created_at) "
            "SELECT 'Bench ' || g, %s || lpad(g::text, 4, '0'), now() "
            "FROM generate_series(1, %s) g",
            [PREFIX, orgs],
        )
        cur.execute(
            "INSERT INTO controls_control (organization_id, code, title, description, "
            "control_type, operation, frequency, status, na_justification, evidence_guidance, "
            "created_at, updated_at) SELECT o.id, 'B-' || c, 'Bench control ' || c, '', "
            "'procedural', 'manual', 'quarterly', 'implemented', '', '', now(), now() "
            "FROM tenants_organization o, generate_series(1, %s) c WHERE o.slug LIKE %s",
            [CONTROLS_PER_ORG, like],
        )
        cur.execute(
            "INSERT INTO evidence_evidenceitem (organization_id, control_id, title, description, "
            "created_at, removal_reason) SELECT c.organization_id, c.id, 'Bench item ' || i, '', "
            "now(), '' FROM controls_control c "
            "JOIN tenants_organization o ON o.id = c.organization_id, generate_series(1, %s) i "
            "WHERE o.slug LIKE %s",
            [items_per_control, like],
        )
        # valid_until spread over today ± 100 days: about half stale, some expiring.
        cur.execute(
            "INSERT INTO evidence_evidenceversion (organization_id, item_id, number, kind, file, "
            "original_name, content_type, size, sha256, url, effective_start, effective_end, "
            "valid_until, uploaded_by_label, uploaded_at, review_state, review_comment, "
            "freshness, freshness_changed_at, notified_freshness, is_latest) "
            "SELECT i.organization_id, i.id, n, 'link', '', '', '', 0, md5(i.id::text || n), "
            "'https://bench.example.com/' || i.id, %s::date - 100, %s::date - 100, "
            "%s::date + (((i.id * 7 + n * 13) %% 200) - 100)::int, 'bench', now(), 'accepted', "
            "'', 'fresh', now(), 'fresh', n = %s "
            "FROM evidence_evidenceitem i JOIN tenants_organization o ON o.id = i.organization_id,"
            " generate_series(1, %s) n WHERE o.slug LIKE %s",
            [today, today, today, VERSIONS_PER_ITEM, VERSIONS_PER_ITEM, like],
        )
        written = cur.rowcount
        cur.execute("ANALYZE evidence_evidenceversion")
        cur.execute("ANALYZE evidence_evidenceitem")
    return written


def backfill() -> None:
    """Migration 0003's backfill (one set-based UPDATE) on the seeded table, flags cleared."""
    migration = importlib.import_module("evidence.migrations.0003_is_latest")
    # As a migration runs: as a role that sees every organization (here the system role).
    with rls.system("bench: migration 0003's backfill") as system:
        migration.backfill(apps, SimpleNamespace(connection=system))
        with system.cursor() as cur:
            cur.execute("ANALYZE evidence_evidenceversion")


def _all_versions():
    return EvidenceVersion.objects.dangerously_unscoped(reason="bench: evidence section")


def _reset_states() -> None:
    """Every latest version back to 'fresh', so the next pass has the same work to do."""
    _all_versions().filter(is_latest=True).update(freshness="fresh", notified_freshness="fresh")


def naive_loop(sample: int, today: dt.date) -> tuple[float, int]:
    """The per-row ORM loop over the first ``sample`` latest versions: (seconds, rows)."""
    rows = live_versions(_all_versions()).order_by("pk")[:sample]

    def loop() -> int:
        seen = 0
        for version in rows.iterator(chunk_size=2000):
            seen += 1
            state = freshness_of(version.valid_until, today)
            if state != version.freshness:
                version.freshness = state
                version.freshness_changed_at = timezone.now()
                if state == "fresh":
                    version.notified_freshness = state
                version.save(
                    update_fields=["freshness", "freshness_changed_at", "notified_freshness"]
                )
        return seen

    return timed(loop)


def _scan(results: Results, scale: float) -> None:
    orgs = max(2, int(1000 * scale))
    versions = max(orgs * 40, int(1_000_000 * scale))
    elapsed, written = timed(lambda: seed(orgs=orgs, versions=versions))
    results.add(SECTION, f"seed {written:,} versions in {orgs:,} organizations", seconds(elapsed))
    latest = _all_versions().filter(is_latest=True).count()
    today = timezone.localdate()
    batch = settings.EVIDENCE_FRESHNESS_BATCH
    changed = lambda result: sum(sum(s.values()) for s in result.values())  # noqa: E731
    batches = -(-latest // batch)
    set_based, first = timed(lambda: freshness_update(today=today))
    results.add(
        SECTION,
        f"freshness scan over {written:,} versions",
        seconds(set_based),
        f"{changed(first):,} changed in {batches} batch{'es' * (batches != 1)} of {batch:,}; "
        "target < 10 s",
    )
    elapsed, second = timed(lambda: freshness_update(today=today))
    results.add(
        SECTION,
        "freshness scan again (idempotent)",
        seconds(elapsed),
        f"{changed(second):,} changed",
    )
    elapsed, tomorrow = timed(lambda: freshness_update(today=today + dt.timedelta(days=1)))
    results.add(
        SECTION,
        "freshness scan the next day (a daily run)",
        seconds(elapsed),
        f"{changed(tomorrow):,} changed",
    )
    _reset_states()
    sample = min(latest, max(200, int(20_000 * scale)))
    elapsed, seen = naive_loop(sample, today)
    naive = elapsed / max(seen, 1) * latest
    results.add(
        SECTION,
        "per-row ORM loop over the same rows (extrapolated)",
        seconds(naive),
        f"measured {seconds(elapsed)} on {seen:,} of {latest:,} rows",
    )
    results.add(
        SECTION,
        "set-based scan vs per-row loop",
        f"{naive / set_based:.0f}x faster",
    )
    # Last, as it leaves dead rows behind: the upgrade of a populated table.
    _all_versions().filter(is_latest=True).update(is_latest=False)
    elapsed, _ = timed(backfill)
    flagged = _all_versions().filter(is_latest=True).count()
    results.add(
        SECTION,
        "migration 0003: backfill is_latest (one UPDATE)",
        seconds(elapsed),
        f"{flagged:,} latest versions flagged",
    )


def _uploads(results: Results, scale: float) -> None:
    from django.contrib.auth import get_user_model

    from controls.models import Control
    from tenants.models import Membership, Organization, Role

    count = max(3, int(20 * scale))
    org = Organization.objects.create(name="Bench uploads", slug=f"{PREFIX}uploads")
    email = "bench-uploader@bench.invalid"
    user = get_user_model().objects.create_user(username=email, email=email)
    membership = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
    membership.save()
    control = Control.objects.create(
        organization=org,
        code="U-1",
        title="Uploads",
        control_type="procedural",
        frequency="quarterly",
    )
    line = "2025-01-01,alice@example.com,admin,approved\n"
    body = (line * (1024 * 1024 // len(line) + 1)).encode()[: 1024 * 1024]

    def upload_all() -> None:
        for n in range(count):
            evidence_submit_file(
                membership=membership,
                control=control,
                upload=SimpleUploadedFile(f"access-{n}.csv", body, "text/csv"),
                effective_start=timezone.localdate() - dt.timedelta(days=1),
                title="Bench upload",
            )

    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        elapsed, _ = timed(upload_all)
    results.add(
        SECTION,
        f"upload {count} files of 1 MB (validate, hash, store, version)",
        f"{count / elapsed:.0f} files/s",
        f"{seconds(elapsed / count)} per file, {count / elapsed:.0f} MB/s",
    )


def run(results: Results, *, scale: float = 1.0) -> None:
    if connection.vendor == "postgresql":
        _scan(results, scale)
    else:
        results.add(SECTION, "freshness scan", "skipped", "the generator needs PostgreSQL")
    _uploads(results, scale)
