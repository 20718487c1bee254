from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from soc2app.reencrypt import reencrypt_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (TOTP and recovery-code seeds, webhook signing "
        "secrets, integration credentials) under the newest key of FIELD_ENCRYPTION_KEYS, "
        "and encrypt any left in plaintext. Idempotent; prints counts, never a secret. Exits 1 "
        "when some secret opens with none of the keys."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args: object, dry_run: bool, **opts: object) -> None:
        tallies = reencrypt_secrets(dry_run=dry_run)
        verb = "would be " if dry_run else ""
        for t in tallies:
            line = (
                f"{t.label}: {t.total} secrets, {t.encrypted} plaintext {verb}encrypted, "
                f"{t.rotated} {verb}re-encrypted with the newest key, {t.current} already current"
            )
            if t.unreadable:
                line += f", {t.unreadable} UNREADABLE"
            if t.skipped:
                line += f", {len(t.skipped)} changed meanwhile (run again)"
            self.stdout.write(line)
        unreadable = sum(t.unreadable for t in tallies)
        if unreadable:
            raise CommandError(
                f"{unreadable} secret(s) open with none of FIELD_ENCRYPTION_KEYS: add the key "
                "they were encrypted with to the list (after the newest) and run again",
                returncode=1,
            )
