from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evidence.freshness import freshness_check
from tenants.models import Organization


class Command(BaseCommand):
    help = (
        "Mark evidence as current, expiring or stale from its validity date and e-mail each "
        "owner one digest of what changed. The same job Celery beat runs daily; running it "
        "again changes nothing and sends nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="Only this organization.")

    def handle(self, *args: object, org: str | None, **opts: object) -> None:
        organization = None
        if org is not None:
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                raise CommandError(f"--org: no organization with the address {org!r}")
        run = freshness_check(organization=organization)
        for result in run.organizations.values():
            self.stdout.write(result.line())
        if not run.organizations:
            self.stdout.write("Nothing changed.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Checked evidence on {run.today:%Y-%m-%d}: {run.changed} changed, "
                f"{run.digests} digests sent."
            )
        )
