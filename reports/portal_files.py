"""Files and exports the auditor portal hands out beside evidence and reports (a vendor's
document, a risk assessment's CSV or PDF, the register and vendor exports): served like
evidence files (``evidence.side_files.side_file_response``) and each one in the
organization's activity log, as the portal's other downloads are."""

from __future__ import annotations

from typing import Any

from reports.access import portal_personal_data_record
from tenants.models import Membership


def logged_file(
    response: Any,
    *,
    membership: Membership,
    target: object,
    object_repr: str,
    sha256: str,
    client_ip: str | None,
) -> Any:
    """``response`` (an open file) once its download is logged; closed again if logging
    fails, so a file never leaves unrecorded."""
    try:
        portal_personal_data_record(
            membership=membership,
            action="download",
            target=target,
            object_repr=object_repr,
            changes={"sha256": [None, sha256], "client_ip": [None, client_ip]},
        )
    except BaseException:
        response.close()  # releases the storage file handle
        raise
    return response


def log_export(
    *, membership: Membership, target: object, object_repr: str, client_ip: str | None, fmt: str
) -> None:
    portal_personal_data_record(
        membership=membership,
        action="export",
        target=target,
        object_repr=object_repr,
        changes={"format": [None, fmt], "client_ip": [None, client_ip]},
    )
