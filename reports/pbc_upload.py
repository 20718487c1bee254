"""Answer a request for information with evidence added on the spot: a new file or link for
one of the audit's controls, stored through the evidence services (upload limits, names,
malware scan, the duplicate check, the activity entry) and attached to the answer with the
chosen versions and the note, in one step.

The answer is checked before anything is stored, so a refused answer stores no file. A file
the scanner holds (``pending``: clamd unreachable) is kept as evidence of its control, as any
upload is, but is not sent: its content must not reach an auditor before it is scanned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction

from evidence.models import EvidenceKind, EvidenceVersion
from evidence.services import evidence_add_link, evidence_submit_file
from reports.models import InfoRequest
from reports.pbc import _answer_checks, _attach, _chosen_versions
from reports.selectors import audit_scope_controls
from soc2app.errors import ValidationFailed
from tenants.models import Membership


def request_answer_with_new_evidence(
    *,
    membership: Membership,
    request: InfoRequest,
    control_id: int | None,
    effective_start: dt.date | None,
    effective_end: dt.date | None = None,
    upload: Any = None,
    url: str = "",
    title: str = "",
    version_ids: Iterable[int] = (),
    note: str = "",
) -> EvidenceVersion:
    """Store ``upload`` (or ``url``) as new evidence of the control ``control_id`` (one of the
    audit's) and send it with the chosen versions and the note. Returns the new version.

    Raises ValidationFailed with code ``held`` when the new file waits for its malware scan:
    it is stored, nothing is sent."""
    note = _answer_checks(membership, request, note)
    chosen = _chosen_versions(request, version_ids, adding=1)
    control = None
    if control_id is not None and 0 < control_id < 2**63:
        control = audit_scope_controls(request.audit).filter(pk=control_id).first()
    if control is None:
        raise ValidationFailed(
            "Choose a control of this audit for the new evidence.", field="control"
        )
    common = {
        "membership": membership,
        "control": control,
        "effective_start": effective_start,
        "effective_end": effective_end,
        "title": title,
    }
    with transaction.atomic():
        if upload is not None:
            version = evidence_submit_file(upload=upload, **common)
        else:
            version = evidence_add_link(url=url, **common)
        try:
            if version.is_deliverable:
                _attach(membership, request, [*chosen, version], note)
        except BaseException:
            # The version rolls back with the answer: leave no stored file behind either.
            if version.kind == EvidenceKind.FILE and version.file:
                default_storage.delete(version.file.name)
            raise
    if not version.is_deliverable:
        raise ValidationFailed(
            f"“{version.item.title}” was stored as version {version.number} of its evidence "
            "but is waiting for its malware scan, so nothing was sent. Send it (it will be in "
            "the list) once the scan clears, or send the other evidence now.",
            field="file",
            code="held",
        )
    return version
