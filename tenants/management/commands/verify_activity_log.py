from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.activity_checkpoints import log_verify
from tenants.models import Organization


class Command(BaseCommand):
    help = (
        "Verify the activity log of each organization (or one): its keyed hash chain "
        "(ACTIVITY_LOG_KEYS) and its signed checkpoints in the checkpoint storage. Reports "
        "the first problem and exits 1 when a log is broken, 0 when all are intact."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="Only this organization.")

    def handle(self, *args: object, org: str | None, **opts: object) -> None:
        orgs = Organization.objects.order_by("slug")
        if org is not None:
            orgs = orgs.filter(slug=org)
            if not orgs.exists():
                raise CommandError(f"--org: no organization with slug {org!r}")
        broken = []
        for organization in orgs:
            try:
                result = log_verify(organization)
            except Exception as exc:  # noqa: BLE001 (S3 or disk errors: one line, not a traceback)
                raise CommandError(f"cannot read the activity log checkpoints: {exc}") from exc
            if result.problem is None:
                self.stdout.write(
                    f"{organization.slug}: intact ({result.checked} entries, "
                    f"{result.checkpoints} checkpoints)"
                )
                if result.warning:
                    self.stdout.write(f"{organization.slug}: WARNING {result.warning}")
            else:
                broken.append(organization.slug)
                self.stdout.write(f"{organization.slug}: BROKEN at {result.problem}")
        if broken:
            raise CommandError(
                f"activity log broken in {len(broken)} organization(s): {', '.join(broken)}",
                returncode=1,
            )
