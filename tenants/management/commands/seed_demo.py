from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from tenants.accounts import user_ensure
from tenants.activity import Actor
from tenants.models import Organization, Role, slug_validator
from tenants.services import membership_add, organization_create

DEMO_PASSWORD = "demo-readiness-2026"  # noqa: S105 (printed demo login)
DEMO_USERS = [
    # The owner reviews the compliance manager's own evidence (independent review).
    ("owner", Role.OWNER),
    ("manager", Role.COMPLIANCE_MANAGER),
    ("contributor", Role.CONTRIBUTOR),
    ("auditor", Role.AUDITOR),
]


class Command(BaseCommand):
    help = (
        "Create (or complete) a demo organization with demo users. Idempotent: running it "
        "again adds only what is missing and prints the logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--org", default="acme", help="Slug of the demo organization (default: acme)."
        )

    def handle(self, *args: object, org: str, **opts: object) -> None:
        try:
            slug_validator(org)
        except Exception as exc:
            raise CommandError(f"--org: {org!r} is not a valid organization address") from exc
        actor = Actor.system("cli: seed_demo")
        domain = f"{org}.example.com"
        with transaction.atomic():
            organization = Organization.objects.filter(slug=org).first()
            if organization is None:
                organization = organization_create(
                    name=f"{org.capitalize()} Cloud (demo)", slug=org, actor=actor
                )
            logins = []
            for local, role in DEMO_USERS:
                user, _ = user_ensure(email=f"{local}@{domain}", password=DEMO_PASSWORD)
                expires = timezone.now() + dt.timedelta(days=365) if role == Role.AUDITOR else None
                membership_add(
                    organization=organization, user=user, role=role, actor=actor, expires_at=expires
                )
                logins.append((Role(role).label, user.email))
            self._extend(organization)
        self.stdout.write(
            self.style.SUCCESS(f"Demo organization: {organization.name} (/o/{organization.slug}/)")
        )
        for label, email in logins:
            self.stdout.write(f"  {label:<20} {email:<32} password: {DEMO_PASSWORD}")

    def _extend(self, organization: Organization) -> None:
        """Demo data of the other apps: controls, evidence and audits."""
        from controls.demo import demo_seed
        from tenants.context import org_scope

        # Under the organization's scope, as a request or task would be: with row-level
        # security on (the application role), reads outside a scope see no tenant rows, and
        # the demo audits' self-assessment came out empty (their scope read as nothing).
        with org_scope(organization):
            demo_seed(organization)
