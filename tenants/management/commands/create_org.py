from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from soc2app.errors import DomainError
from tenants.accounts import user_ensure
from tenants.activity import Actor
from tenants.services import organization_create


class Command(BaseCommand):
    help = "Create an organization, and its owner when --owner-email is given."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Address of the organization, used in /o/<slug>/.")
        parser.add_argument("--name", required=True, help="Display name.")
        parser.add_argument(
            "--owner-email",
            help="Owner's e-mail; the account is created if missing (it then needs a password reset).",
        )

    def handle(
        self, *args: object, slug: str, name: str, owner_email: str | None, **opts: object
    ) -> None:
        user = None
        if owner_email:
            try:
                validate_email(owner_email)
            except ValidationError as exc:
                raise CommandError(
                    f"--owner-email: {owner_email!r} is not a valid e-mail address"
                ) from exc
            user, created = user_ensure(email=owner_email)
            if created:
                self.stdout.write(
                    f"Created user {user.email}; they set a password through 'Forgot password'."
                )
        try:
            org = organization_create(
                name=name, slug=slug, user=user, actor=Actor.system("cli: create_org")
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"Created organization {org.slug} ({org.name})"))
