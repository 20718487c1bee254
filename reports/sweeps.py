"""The leftovers sweep (Celery beat): what a render killed outright or a lost database
connection leaves behind.

- render folders (``reports.rendering.scratch``) whose owner process is gone;
- report files in storage that no report row references: stored just before the row update
  failed (a database restart, a worker killed between the two). Only files older than the
  grace period go: a render in progress stores its file a moment before its row says so.

Both wait ``REPORT_LEFTOVER_AFTER`` seconds, longer than any render may run.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from reports.models import Report
from reports.rendering.scratch import sweep_folders

logger = logging.getLogger(__name__)


def orphan_files_sweep(*, older_than: float) -> list[str]:
    """Delete files under ``reports/`` that no report row references, older than
    ``older_than`` seconds; returns their names. A system job across organizations."""
    storage = Report._meta.get_field("file").storage
    cutoff = timezone.now() - dt.timedelta(seconds=older_than)
    try:
        folders, _ = storage.listdir("reports")
    except FileNotFoundError:
        return []
    removed: list[str] = []
    for folder in folders:  # one per organization: reports/<organization id>/<random key>
        if not folder.isdigit():
            continue
        _, files = storage.listdir(f"reports/{folder}")
        if not files:
            continue
        # Read before looking at times: a file stored after this read is younger than the grace.
        referenced = set(
            Report.objects.dangerously_unscoped(reason="leftovers sweep: stored report files")
            .filter(organization_id=int(folder))
            .exclude(file="")
            .values_list("file", flat=True)
        )
        for name in (f"reports/{folder}/{file}" for file in files):
            if name in referenced or storage.get_modified_time(name) > cutoff:
                continue
            storage.delete(name)
            removed.append(name)
    return removed


def reports_sweep_leftovers(*, older_than: float | None = None) -> dict[str, list[str]]:
    """Remove both kinds of leftovers (see the module); idempotent. Returns what went."""
    age = settings.REPORT_LEFTOVER_AFTER if older_than is None else older_than
    removed = {
        "folders": sweep_folders(older_than=age),
        "files": orphan_files_sweep(older_than=age),
    }
    if removed["folders"] or removed["files"]:
        logger.info(
            "leftovers sweep removed %d render folders and %d orphan report files",
            len(removed["folders"]),
            len(removed["files"]),
        )
    return removed
