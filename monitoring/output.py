"""A run's raw output, stored once like an evidence file: random storage key, SHA-256, size."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile

from monitoring.collectors import RawOutput
from monitoring.models import CheckRun

MAX_OUTPUT_BYTES = 512 * 1024 * 1024  # what a run may store (a Prowler run of a big account)


def run_output_store(run: CheckRun, output: RawOutput) -> None:
    """Write ``output`` to the run's storage and record its hash and size (the caller saves
    the run). A file written by a transaction that rolls back is left unreferenced."""
    content = output.content
    run.output_sha256 = hashlib.sha256(content).hexdigest()
    run.output_size = len(content)
    run.output_name = output.name[:120]
    run.output.save(output.name, ContentFile(content), save=False)
