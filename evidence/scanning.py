"""Malware scanning of uploads through ClamAV's daemon (clamd), before they become visible.

clamd's INSTREAM command over a unix or TCP socket: ``zINSTREAM\\0``, then chunks each
prefixed with their length as a 4-byte big-endian integer, then a zero-length chunk; the daemon
answers ``stream: OK`` or ``stream: <Signature> FOUND`` (or ``... ERROR``). No dependency.

Configured by ``CLAMAV_SOCKET`` (a unix socket path) or ``CLAMAV_HOST`` + ``CLAMAV_PORT``; off
when neither is set (versions are then stored as ``not_scanned``). When the daemon is configured
but cannot be reached, an upload is kept but held as ``pending``: not downloadable, not counted
by readiness, until ``rescan_pending`` (Celery beat, every few minutes) scans it.
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from celery import shared_task
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from soc2app.metrics import VIRUS_SCAN_SECONDS

logger = logging.getLogger(__name__)

_CHUNK = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd is configured but did not answer (down, refused, timed out, or said ERROR)."""


@dataclass(frozen=True)
class ScanResult:
    infected: bool
    signature: str = ""


def scanner_configured() -> bool:
    return bool(settings.CLAMAV_SOCKET or settings.CLAMAV_HOST)


def _connect() -> socket.socket:
    timeout = settings.CLAMAV_TIMEOUT_SECONDS
    if settings.CLAMAV_SOCKET:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(settings.CLAMAV_SOCKET)
        return sock
    return socket.create_connection((settings.CLAMAV_HOST, settings.CLAMAV_PORT), timeout=timeout)


def _read_reply(sock: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0"):
        data = sock.recv(4096)
        if not data:
            break
        reply += data
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def scan_stream(stream: BinaryIO) -> ScanResult:
    """Scan ``stream`` from its current position to its end (the position is left at the end).

    Raises ScannerUnavailable when clamd cannot give a verdict.
    """
    try:
        with _connect() as sock:
            sock.sendall(b"zINSTREAM\0")
            while chunk := stream.read(_CHUNK):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = _read_reply(sock)
    except OSError as exc:  # refused, reset, timeout (socket.timeout is an OSError)
        raise ScannerUnavailable(f"ClamAV did not answer: {exc}") from exc
    # "stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
    if reply.endswith("FOUND"):
        signature = reply.removeprefix("stream:").removesuffix("FOUND").strip()
        return ScanResult(infected=True, signature=signature or "unknown")
    if reply.endswith("OK"):
        return ScanResult(infected=False)
    raise ScannerUnavailable(f"ClamAV could not scan the file: {reply or 'no reply'}")


def scan_upload(upload: BinaryIO) -> ScanResult:
    """Scan a whole upload and rewind it, so it can be stored afterwards."""
    upload.seek(0)
    started, outcome = time.perf_counter(), "unavailable"
    try:
        result = scan_stream(upload)
        outcome = "infected" if result.infected else "clean"
        return result
    finally:
        VIRUS_SCAN_SECONDS.labels(outcome).observe(time.perf_counter() - started)
        upload.seek(0)


def ping() -> bool:
    """True when clamd answers PING with PONG (used by tests and diagnostics)."""
    try:
        with _connect() as sock:
            sock.sendall(b"zPING\0")
            return _read_reply(sock) == "PONG"
    except OSError:
        return False


INFECTED_MESSAGE = (
    "This file contains malware ({signature}) and was refused. Scan the computer it came from, "
    "then upload a clean copy."
)


def upload_scan(*, membership: Any, control: Any, upload: BinaryIO, checked: Any) -> str:
    """The scan state of an upload about to be stored (a ScanState value).

    Infected: the refusal is recorded in the activity log (in its own transaction, so it
    survives the refusal) and ValidationFailed is raised. Scanner configured but unreachable:
    ``pending`` (kept, hidden until rescanned), never accepted unscanned.
    """
    from evidence.models import ScanState
    from soc2app.errors import ValidationFailed
    from tenants.activity import Actor, activity_record

    if not scanner_configured():
        return ScanState.NOT_SCANNED
    try:
        result = scan_upload(upload)
    except ScannerUnavailable as exc:
        logger.warning("upload held as pending, %s", exc)
        return ScanState.PENDING
    if not result.infected:
        return ScanState.CLEAN
    with transaction.atomic():
        activity_record(
            organization=membership.organization,
            actor=Actor.for_principal(membership),
            action="upload.infected",
            object_type="evidence.evidenceversion",
            object_repr=f"{control.code}: {checked.safe_name}",
            changes={"signature": [None, result.signature], "sha256": [None, checked.sha256]},
        )
    raise ValidationFailed(
        INFECTED_MESSAGE.format(signature=result.signature), field="file", code="infected"
    )


def evidence_rescan_pending(limit: int = 200) -> dict[str, int]:
    """Scan versions held as pending; a clean one becomes visible, an infected one is
    quarantined (never downloadable) and recorded in its organization's activity log."""
    from evidence.models import EvidenceVersion, ScanState
    from tenants.activity import Actor, activity_record

    counts = {"clean": 0, "infected": 0, "still_pending": 0}
    if not scanner_configured():
        return counts
    # Finding them crosses organizations (the system connection); each one is then settled
    # in its own organization, on the application's connection.
    pending = list(
        EvidenceVersion.objects.dangerously_unscoped(
            reason="malware rescan: pending versions of every organization"
        )
        .filter(scan_state=ScanState.PENDING)
        .select_related("organization")
        .order_by("pk")[:limit]
    )
    for version in pending:
        try:
            with default_storage.open(version.file.name, "rb") as handle:
                result = scan_stream(handle)
        except ScannerUnavailable as exc:
            logger.warning("rescan stopped, scanner unavailable: %s", exc)
            counts["still_pending"] += len(pending) - counts["clean"] - counts["infected"]
            break
        state = ScanState.INFECTED if result.infected else ScanState.CLEAN
        with transaction.atomic():
            # Conditional: a concurrent run that got here first wins; nothing is done twice.
            rows = EvidenceVersion.objects.for_org(version.organization_id)
            changed = rows.filter(pk=version.pk, scan_state=ScanState.PENDING).update(
                scan_state=state
            )
            if changed and result.infected:
                activity_record(
                    organization=version.organization,
                    actor=Actor.system("malware scan"),
                    action="upload.infected",
                    target=version,
                    changes={
                        "scan_state": [ScanState.PENDING, state],
                        "signature": [None, result.signature],
                    },
                )
        if changed:
            counts["infected" if result.infected else "clean"] += 1
    return counts


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def rescan_pending() -> dict[str, int]:
    """Celery beat, every few minutes: scan uploads held while ClamAV was unreachable."""
    return evidence_rescan_pending()
