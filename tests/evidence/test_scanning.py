"""Malware scanning of uploads through a real clamd (INSTREAM over TCP or a unix socket).

CI starts clamd with a one-line signature database: the EICAR test file's MD5 (``.ci/run``).
Point the tests at it with CLAMAV_HOST + CLAMAV_PORT (or CLAMAV_SOCKET).
"""

from __future__ import annotations

import os
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from evidence import scanning, services
from evidence.models import EvidenceVersion, ScanState
from soc2app.errors import ValidationFailed
from tenants.models import ActivityEntry

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# The EICAR anti-virus test file: harmless, detected by every scanner (68 bytes).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# clamd marks signatures of an unsigned database (the CI's one-line .hdb) as UNOFFICIAL.
SIGNATURE = "Eicar-Test-Signature.UNOFFICIAL"
CLEAN = b"Quarterly access review: 42 accounts checked, 3 removed.\n"


def _txt(content: bytes, name: str = "review.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "text/plain")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on return: nothing listens there


@pytest.fixture
def clamd(settings):
    """Settings pointing at the clamd named by the environment; skipped when none answers."""
    settings.CLAMAV_SOCKET = os.environ.get("CLAMAV_SOCKET", "")
    settings.CLAMAV_HOST = os.environ.get("CLAMAV_HOST", "")
    settings.CLAMAV_PORT = int(os.environ.get("CLAMAV_PORT", "3310"))
    settings.CLAMAV_TIMEOUT_SECONDS = 10
    if not scanning.scanner_configured() or not scanning.ping():
        reason = "needs a reachable clamd (set CLAMAV_HOST and CLAMAV_PORT, or CLAMAV_SOCKET)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return settings


@pytest.fixture
def clamd_down(settings):
    settings.CLAMAV_SOCKET = ""
    settings.CLAMAV_HOST = "127.0.0.1"
    settings.CLAMAV_PORT = _closed_port()
    settings.CLAMAV_TIMEOUT_SECONDS = 2
    return settings


def _submit(manager, control, content: bytes, name: str = "review.txt") -> EvidenceVersion:
    return services.evidence_submit_file(
        membership=manager, control=control, upload=_txt(content, name), effective_start=TODAY
    )


def _download(client, org, version):
    return client.get(reverse("evidence_download", args=[org.slug, version.pk]))


# --- with a real clamd ------------------------------------------------------------------------


@pytest.mark.clamav
def test_eicar_is_refused_recorded_and_not_stored(clamd, org, manager, control, media_files):
    with pytest.raises(ValidationFailed) as refused:
        _submit(manager, control, EICAR, "eicar.txt")
    assert refused.value.code == "infected" and refused.value.field == "file"
    assert refused.value.message.startswith(f"This file contains malware ({SIGNATURE})")
    assert not EvidenceVersion.objects.for_org(org).exists()
    assert media_files() == []
    (entry,) = ActivityEntry.objects.for_org(org).filter(action="upload.infected")
    assert entry.object_repr == f"{control.code}: eicar.txt"
    assert entry.changes["signature"] == [None, SIGNATURE]


@pytest.mark.clamav
def test_eicar_through_the_page_shows_the_refusal(clamd, org, manager, control, client_for):
    response = client_for(manager).post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "file", "effective_start": TODAY.isoformat(), "file": _txt(EICAR, "x.txt")},
    )
    assert response.status_code == 400
    assert f"This file contains malware ({SIGNATURE}) and was refused." in (
        response.content.decode()
    )


@pytest.mark.clamav
def test_a_clean_file_is_stored_as_clean_and_downloadable(clamd, org, manager, control, client_for):
    version = _submit(manager, control, CLEAN)
    assert version.scan_state == ScanState.CLEAN
    response = _download(client_for(manager), org, version)
    assert response.status_code == 200 and b"".join(response.streaming_content) == CLEAN


@pytest.mark.clamav
def test_held_uploads_are_rescanned_when_clamd_is_back(clamd, org, manager, control, client_for):
    reachable = (clamd.CLAMAV_HOST, clamd.CLAMAV_PORT, clamd.CLAMAV_SOCKET)
    clamd.CLAMAV_HOST, clamd.CLAMAV_PORT, clamd.CLAMAV_SOCKET = "127.0.0.1", _closed_port(), ""
    clean = _submit(manager, control, CLEAN)
    infected = _submit(manager, control, EICAR, "later.txt")
    assert {clean.scan_state, infected.scan_state} == {ScanState.PENDING}

    clamd.CLAMAV_HOST, clamd.CLAMAV_PORT, clamd.CLAMAV_SOCKET = reachable
    assert scanning.evidence_rescan_pending() == {"clean": 1, "infected": 1, "still_pending": 0}
    # Running it again changes nothing.
    assert scanning.evidence_rescan_pending() == {"clean": 0, "infected": 0, "still_pending": 0}

    clean.refresh_from_db()
    infected.refresh_from_db()
    assert (clean.scan_state, infected.scan_state) == (ScanState.CLEAN, ScanState.INFECTED)
    client = client_for(manager)
    assert _download(client, org, clean).status_code == 200
    quarantined = _download(client, org, infected)
    assert quarantined.status_code == 409
    assert "quarantined" in quarantined.content.decode()
    (entry,) = ActivityEntry.objects.for_org(org).filter(action="upload.infected")
    assert entry.object_id == str(infected.pk)


# --- without clamd ----------------------------------------------------------------------------


def test_an_unreachable_scanner_holds_the_upload_as_pending(
    clamd_down, org, manager, outsider, control, client_for
):
    version = _submit(manager, control, CLEAN)
    assert version.scan_state == ScanState.PENDING
    # Kept (nothing is lost) but not visible until scanned.
    response = _download(client_for(manager), org, version)
    assert response.status_code == 409
    assert "waiting for its malware scan" in response.content.decode()
    assert _download(client_for(outsider), org, version).status_code == 404
    # The rescan keeps it pending while the scanner is still down.
    assert scanning.evidence_rescan_pending() == {"clean": 0, "infected": 0, "still_pending": 1}
    version.refresh_from_db()
    assert version.scan_state == ScanState.PENDING


def test_without_a_scanner_uploads_are_marked_not_scanned(settings, manager, control):
    settings.CLAMAV_SOCKET = settings.CLAMAV_HOST = ""
    assert _submit(manager, control, CLEAN).scan_state == ScanState.NOT_SCANNED
    assert scanning.evidence_rescan_pending() == {"clean": 0, "infected": 0, "still_pending": 0}
