from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soc2app.errors import DomainError
from tenants.activity import Actor
from tenants.apikeys import api_key_create_system
from tenants.models import ApiKeyRole, Organization


class Command(BaseCommand):
    help = (
        "Create an API key for an organization. The key is printed alone on the last line "
        "of stdout, once: store it now, only a hash is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Address (slug) of the organization.")
        parser.add_argument(
            "--role", required=True, help=f"One of: {', '.join(ApiKeyRole.values)}."
        )
        parser.add_argument("--name", default="cli", help="Where the key is used (default: cli).")
        parser.add_argument(
            "--expires-days", help="Days until the key stops working (default: never)."
        )

    def handle(
        self,
        *args: object,
        org: str,
        role: str,
        name: str,
        expires_days: str | None,
        **opts: object,
    ) -> None:
        organization = Organization.objects.filter(slug=org.strip().lower()).first()
        if organization is None:
            raise CommandError(f"--org: no organization with the address {org!r}")
        if role not in ApiKeyRole.values:
            raise CommandError(f"--role: {role!r} is not one of {', '.join(ApiKeyRole.values)}")
        days = None
        if expires_days is not None:
            if not expires_days.strip().isdigit():
                raise CommandError(
                    f"--expires-days: {expires_days!r} is not a whole number of days"
                )
            days = int(expires_days)
        try:
            key, plaintext = api_key_create_system(
                organization=organization,
                name=name,
                role=role,
                expires_days=days,
                actor=Actor.system("cli: create_api_key"),
            )
        except DomainError as exc:
            field = (exc.field or "error").replace("_", "-")
            raise CommandError(f"--{field}: {exc.message}" if exc.field else exc.message) from exc
        expiry = f", expires {key.expires_at:%Y-%m-%d %H:%M} UTC" if key.expires_at else ""
        self.stdout.write(
            f"Created API key {key.name!r} ({key.prefix}…) for {organization.slug} "
            f"as {key.role}{expiry}. It is shown once:"
        )
        self.stdout.write(plaintext)
