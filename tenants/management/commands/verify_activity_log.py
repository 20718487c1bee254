from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.activity import chain_verify
from tenants.models import Organization


class Command(BaseCommand):
    help = (
        "Verify the activity log's hash chain of each organization (or one): reports the "
        "first broken link and exits 1 when a chain is broken, 0 when all are intact."
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
            checked, link = chain_verify(organization)
            if link is None:
                self.stdout.write(f"{organization.slug}: intact ({checked} entries)")
            else:
                broken.append(organization.slug)
                self.stdout.write(f"{organization.slug}: BROKEN at {link}")
        if broken:
            raise CommandError(
                f"activity log chain broken in {len(broken)} organization(s): {', '.join(broken)}",
                returncode=1,
            )
