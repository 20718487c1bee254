"""Benchmark of the freshness scan (PostgreSQL): batched set-based UPDATEs against a per-row
ORM loop over the same data, and the upload throughput of 1 MB files.

Generated rows live in organizations named ``bench-NNNN`` and are deleted at the end.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from controls.models import Control
from evidence.freshness import freshness_update
from evidence.models import EvidenceVersion
from evidence.selectors import live_versions
from evidence.services import evidence_submit_file, freshness_of

PREFIX = "bench-"
BENCH_EMAIL = "bench-uploader@bench.invalid"
_TABLES = [  # children first
    "evidence_evidenceversion",
    "evidence_evidenceitem",
    "tenants_activityentry",
    "tenants_membership",
    "controls_control",
]


class Command(BaseCommand):
    help = "Time the freshness scan over generated evidence, and 1 MB uploads (PostgreSQL only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orgs", type=int, default=1000)
        parser.add_argument("--versions", type=int, default=1_000_000)
        parser.add_argument("--sample", type=int, default=20_000, help="rows of the naive loop")
        parser.add_argument("--uploads", type=int, default=20, help="1 MB files to upload")

    def handle(
        self, *args: object, orgs: int, versions: int, sample: int, uploads: int, **o: object
    ) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("bench_freshness needs PostgreSQL: set DATABASE_URL=postgres://...")
        if orgs < 1 or versions < orgs * 2:
            raise CommandError("--versions must be at least twice --orgs")
        self._cleanup()
        try:
            start = time.perf_counter()
            self._generate(orgs, versions)
            self.stdout.write(
                f"generated {versions:,} versions in {orgs:,} organizations "
                f"({time.perf_counter() - start:.1f} s)"
            )
            self._bench_scan(versions, sample)
            self._bench_uploads(uploads)
        finally:
            self._cleanup()

    def _generate(self, orgs: int, versions: int) -> None:
        per_org = versions // orgs
        today = timezone.localdate()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "INSERT INTO tenants_organization (name, slug, created_at) "
                "SELECT 'Bench ' || g, %s || lpad(g::text, 4, '0'), now() FROM generate_series(1, %s) g",
                [PREFIX, orgs],
            )
            cur.execute(
                "INSERT INTO controls_control (organization_id, code, title, description, control_type, "
                "frequency, status, na_justification, evidence_guidance, created_at, updated_at) "
                "SELECT o.id, 'B-' || c, 'Bench control ' || c, '', 'procedural', 'quarterly', "
                "'implemented', '', '', now(), now() FROM tenants_organization o, generate_series(1, 10) c "
                "WHERE o.slug LIKE %s",
                [PREFIX + "%"],
            )
            # Two versions per item; each control gets per_org / 20 items.
            cur.execute(
                "INSERT INTO evidence_evidenceitem (organization_id, control_id, title, description, "
                "created_at, removal_reason) SELECT c.organization_id, c.id, 'Bench item ' || i, '', now(), '' "
                "FROM controls_control c JOIN tenants_organization o ON o.id = c.organization_id, "
                "generate_series(1, %s) i WHERE o.slug LIKE %s",
                [max(1, per_org // 20), PREFIX + "%"],
            )
            cur.execute(
                "INSERT INTO evidence_evidenceversion (organization_id, item_id, number, kind, file, "
                "original_name, content_type, size, sha256, url, effective_start, effective_end, "
                "valid_until, uploaded_by_label, uploaded_at, review_state, review_comment, freshness, "
                "freshness_changed_at, notified_freshness) "
                "SELECT i.organization_id, i.id, n, 'link', '', '', '', 0, md5(i.id::text || n), "
                "'https://bench.example.com/' || i.id, %s::date - 100, %s::date - 100, "
                "%s::date + (((i.id * 7 + n * 13) %% 200) - 100)::int, 'bench', now(), 'accepted', '', "
                "'fresh', now(), 'fresh' "
                "FROM evidence_evidenceitem i JOIN tenants_organization o ON o.id = i.organization_id, "
                "generate_series(1, 2) n WHERE o.slug LIKE %s",
                [today, today, today, PREFIX + "%"],
            )
        with connection.cursor() as cur:
            cur.execute("ANALYZE evidence_evidenceversion; ANALYZE evidence_evidenceitem")

    def _reset(self) -> None:
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE evidence_evidenceversion v SET freshness = 'fresh', notified_freshness = 'fresh' "
                "FROM tenants_organization o WHERE o.id = v.organization_id AND o.slug LIKE %s",
                [PREFIX + "%"],
            )

    def _bench_scan(self, versions: int, sample: int) -> None:
        today = timezone.localdate()
        start = time.perf_counter()
        changes = freshness_update(today=today)
        set_based = time.perf_counter() - start
        changed = sum(sum(states.values()) for states in changes.values())
        self.stdout.write(
            f"set-based scan: {set_based:.2f} s for {versions:,} versions "
            f"({changed:,} changed, batches of {settings.EVIDENCE_FRESHNESS_BATCH:,})"
        )
        self._reset()
        rows = (
            live_versions(EvidenceVersion.objects.dangerously_unscoped(reason="bench: naive loop"))
            .filter(organization__slug__startswith=PREFIX)
            .order_by("pk")[:sample]
        )
        start = time.perf_counter()
        seen = 0
        for version in rows.iterator(chunk_size=2000):
            seen += 1
            state = freshness_of(version.valid_until, today)
            if state != version.freshness:
                version.freshness = state
                version.save(update_fields=["freshness"])
        naive = (time.perf_counter() - start) / max(seen, 1) * (versions / 2)  # latest only
        self.stdout.write(
            f"per-row ORM loop: {naive:.1f} s estimated for all "
            f"(measured on {seen:,} rows); set-based is {naive / set_based:.0f}x faster"
        )

    def _bench_uploads(self, count: int) -> None:
        if count < 1:
            return
        from django.contrib.auth import get_user_model

        from tenants.models import Membership, Organization, Role

        org = Organization.objects.filter(slug__startswith=PREFIX).order_by("pk").first()
        user = get_user_model().objects.create_user(username=BENCH_EMAIL, email=BENCH_EMAIL)
        membership = Membership(organization=org, user=user, role=Role.COMPLIANCE_MANAGER)
        membership.save()
        control = Control.objects.for_org(org).first()
        line = "2025-01-01,alice@example.com,admin,approved\n"
        body = (line * (1024 * 1024 // len(line) + 1)).encode()[: 1024 * 1024]
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            start = time.perf_counter()
            for n in range(count):
                evidence_submit_file(
                    membership=membership,
                    control=control,
                    upload=SimpleUploadedFile(f"access-{n}.csv", body, "text/csv"),
                    effective_start=timezone.localdate() - dt.timedelta(days=1),
                    title="Bench upload",
                )
            elapsed = time.perf_counter() - start
        self.stdout.write(
            f"uploads: {count} x 1 MB in {elapsed:.2f} s = "
            f"{count / elapsed:.1f} files/s ({count / elapsed:.1f} MB/s)"
        )

    def _cleanup(self) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT id FROM tenants_organization WHERE slug LIKE %s", [PREFIX + "%"])
            ids = [row[0] for row in cur.fetchall()]
            for table in _TABLES:
                cur.execute(f"DELETE FROM {table} WHERE organization_id = ANY(%s)", [ids])  # noqa: S608
            cur.execute("DELETE FROM tenants_organization WHERE id = ANY(%s)", [ids])
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(email=BENCH_EMAIL).delete()
