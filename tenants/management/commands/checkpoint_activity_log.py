from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tenants.activity_checkpoints import checkpoints_write


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of each organization's activity log chain head to the "
        "checkpoint storage (what Celery beat runs hourly); nothing for a chain that has not "
        "moved. Exits 1 when a chain does not verify (it is reported, not checkpointed)."
    )

    def handle(self, *args: object, **opts: object) -> None:
        refused = []
        try:
            results = checkpoints_write()
        except Exception as exc:  # noqa: BLE001 (S3 or disk errors: one line, not a traceback)
            raise CommandError(f"cannot write the activity log checkpoints: {exc}") from exc
        for result in results:
            slug = result.organization.slug
            if result.problem is not None:
                refused.append(slug)
                self.stdout.write(f"{slug}: NOT checkpointed, BROKEN at {result.problem}")
            elif result.checkpoint is not None:
                cp = result.checkpoint
                self.stdout.write(f"{slug}: checkpoint at entry {cp.entry_id} ({cp.name})")
            else:
                self.stdout.write(f"{slug}: unchanged")
        if refused:
            raise CommandError(
                f"activity log broken in {len(refused)} organization(s): {', '.join(refused)}",
                returncode=1,
            )
