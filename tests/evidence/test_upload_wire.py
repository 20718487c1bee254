"""Request bodies on the wire (raw HTTP against the live server): a body over the limit is
refused before it is read, a file stops at the limit, a cut-off or chunked upload says it was
incomplete; no temporary file stays behind and nothing is logged as a server error."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import struct
import threading
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceVersion
from tenants.activity import Actor
from tenants.apikeys import api_key_create_system
from tenants.models import Role
from tests.evidence.conftest import pdf_bytes
from tests.evidence.wire import BOUNDARY, CSRF, multipart, send, temp_files

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024
DAY = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
INCOMPLETE = "The upload was incomplete: send the file again."


@pytest.fixture
def spool_dir(settings, tmp_path):
    """Where Django writes uploads over FILE_UPLOAD_MAX_MEMORY_SIZE (tiny here: always)."""
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    return folder


@pytest.fixture
def errors_logged(caplog):
    """Records at ERROR or above (a 500 is logged as ERROR by django.request)."""
    caplog.set_level(logging.WARNING)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def browser_headers(client_for, manager):
    session = client_for(manager).cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={CSRF}"}


@pytest.fixture
def key_headers(org, catalog):
    _, plaintext = api_key_create_system(
        organization=org,
        name="wire",
        role=Role.COMPLIANCE_MANAGER,
        expires_days=None,
        actor=Actor.system("test"),
    )
    return {"Authorization": f"Bearer {plaintext}", "Accept": "application/json"}


def _form_fields() -> list[tuple[str, str]]:
    return [("csrfmiddlewaretoken", CSRF), ("kind", "file"), ("effective_start", DAY)]


def _browser_path(org, control) -> str:
    return reverse("evidence_add", args=[org.slug, control.pk])


def _api_path(org, control) -> str:
    return f"/api/v1/orgs/{org.slug}/controls/{control.pk}/evidence/"


# --- finding 18: stop reading at the limit ------------------------------------------------------


def test_oversized_upload_is_refused_before_its_body_is_sent(
    live_server, org, control, browser_headers, spool_dir, errors_logged
):
    """200 MB announced, 64 KB sent, the socket left open: the 413 arrives anyway, so the
    server neither waited for nor stored the rest."""
    body = multipart(_form_fields(), ("big.pdf", pdf_bytes() + bytes(64 * 1024)))[:-40]
    reply = send(
        live_server.url,
        _browser_path(org, control),
        body=body,
        headers={**browser_headers, "Content-Type": MULTIPART},
        content_length=200 * MB,
        close_after_body=False,
    )
    assert reply.status == 413
    assert "This upload is 200 MB; the limit is 25 MB per file." in reply.text
    assert temp_files(spool_dir) == []
    assert not EvidenceVersion.objects.for_org(org).exists()
    assert errors_logged() == []


def test_oversized_api_upload_gets_a_json_413(
    live_server, org, control, key_headers, spool_dir, errors_logged
):
    reply = send(
        live_server.url,
        _api_path(org, control),
        body=multipart([("effective_start", DAY)], ("big.pdf", pdf_bytes()))[:-40],
        headers={**key_headers, "Content-Type": MULTIPART},
        content_length=200 * MB,
        close_after_body=False,
    )
    assert reply.status == 413
    assert reply.json() == {
        "detail": "This upload is 200 MB; the limit is 25 MB per file. Upload a smaller file "
        "or split it into parts.",
        "code": "too_large",
    }
    assert temp_files(spool_dir) == [] and errors_logged() == []


def test_anonymous_huge_post_to_the_login_page_is_refused_unread(
    live_server, spool_dir, errors_logged
):
    fields = [("csrfmiddlewaretoken", CSRF), ("login", "a@example.com")]
    reply = send(
        live_server.url,
        reverse("account_login"),
        body=multipart(fields, ("junk.pdf", bytes(64 * 1024)))[:-40],
        headers={"Cookie": f"csrftoken={CSRF}", "Content-Type": MULTIPART},
        content_length=100 * MB,
        close_after_body=False,
    )
    assert reply.status == 413  # not the 403 of CSRF, which came after reading 90 MB
    assert "this address accepts at most" in reply.text
    assert temp_files(spool_dir) == [] and errors_logged() == []


@pytest.mark.parametrize("surface", ["browser", "api"])
def test_a_file_over_the_limit_stops_there(
    live_server, org, control, settings, spool_dir, errors_logged, request, surface
):
    """The Content-Length passes the first check (file limit plus form fields), the file
    itself is over: reading stops at the limit, before the rest of the file was even sent."""
    settings.EVIDENCE_MAX_UPLOAD_BYTES = MB
    file = ("scan.pdf", pdf_bytes() + bytes(MB + 512 * 1024))  # 1.5 MB
    fields = _form_fields() if surface == "browser" else [("effective_start", DAY)]
    body = multipart(fields, file)
    headers = request.getfixturevalue(f"{'browser' if surface == 'browser' else 'key'}_headers")
    path = _browser_path(org, control) if surface == "browser" else _api_path(org, control)
    reply = send(
        live_server.url,
        path,
        body=body[: len(body) - 256 * 1024],  # the last 256 KB are never sent
        headers={**headers, "Content-Type": MULTIPART},
        content_length=len(body),
        close_after_body=False,
    )
    assert reply.status == 413
    message = "The file is larger than the 1 MB limit per file. Upload a smaller file"
    if surface == "api":
        assert reply.json()["code"] == "too_large"
        assert reply.json()["detail"].startswith(message)
    else:
        assert message in reply.text
        assert "Give the date" not in reply.text  # fields after the file are not the problem
    assert temp_files(spool_dir) == [] and errors_logged() == []
    assert not EvidenceVersion.objects.for_org(org).exists()


# --- finding 20: say the upload was incomplete ----------------------------------------------


@pytest.mark.parametrize("surface", ["browser", "api"])
def test_a_cut_off_upload_says_it_was_incomplete(
    live_server, org, control, spool_dir, errors_logged, request, surface
):
    fields = _form_fields() if surface == "browser" else [("effective_start", DAY)]
    body = multipart(fields, ("scan.pdf", pdf_bytes() + bytes(300 * 1024)))
    headers = request.getfixturevalue(f"{'browser' if surface == 'browser' else 'key'}_headers")
    path = _browser_path(org, control) if surface == "browser" else _api_path(org, control)
    reply = send(
        live_server.url,
        path,
        body=body[: len(body) // 2],  # the connection drops half-way through the file
        headers={**headers, "Content-Type": MULTIPART},
        content_length=len(body),
    )
    assert reply.status == 400
    if surface == "api":
        assert reply.json() == {
            "detail": INCOMPLETE,
            "code": "upload_incomplete",
            "errors": {"file": [INCOMPLETE]},
        }
    else:
        assert INCOMPLETE in reply.text
        assert "No file was submitted" not in reply.text
        assert "Choose the file to upload" not in reply.text
    assert temp_files(spool_dir) == [] and errors_logged() == []
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_a_body_shorter_than_its_content_length_is_incomplete(
    live_server, org, control, key_headers, spool_dir
):
    """Cut off before the file part even began: still "incomplete", not "field required"."""
    body = multipart([("effective_start", DAY)], ("scan.pdf", pdf_bytes()))
    reply = send(
        live_server.url,
        _api_path(org, control),
        body=body[:60],
        headers={**key_headers, "Content-Type": MULTIPART},
        content_length=len(body),
    )
    assert reply.status == 400
    assert reply.json()["code"] == "upload_incomplete"


@pytest.mark.parametrize("surface", ["browser", "api"])
def test_a_chunked_upload_says_it_was_incomplete(
    live_server, org, control, errors_logged, request, surface
):
    fields = _form_fields() if surface == "browser" else [("effective_start", DAY)]
    body = multipart(fields, ("scan.pdf", pdf_bytes()))
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    headers = request.getfixturevalue(f"{'browser' if surface == 'browser' else 'key'}_headers")
    path = _browser_path(org, control) if surface == "browser" else _api_path(org, control)
    reply = send(
        live_server.url,
        path,
        body=chunked,
        headers={**headers, "Content-Type": MULTIPART, "Transfer-Encoding": "chunked"},
    )
    assert reply.status == 400
    assert "effective_start" not in reply.text and "required" not in reply.text
    if surface == "api":
        assert reply.json()["code"] == "upload_incomplete"
        assert reply.json()["detail"].startswith(INCOMPLETE)
    else:
        assert INCOMPLETE in reply.text
    assert errors_logged() == []
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_a_whole_upload_still_goes_through(live_server, org, control, key_headers, spool_dir):
    """The same wire, nothing missing: stored (the handler passes the bytes on)."""
    content = pdf_bytes("wire") + bytes(200 * 1024)
    body = multipart([("effective_start", DAY)], ("scan.pdf", content))
    reply = send(
        live_server.url,
        _api_path(org, control),
        body=body,
        headers={**key_headers, "Content-Type": MULTIPART},
        content_length=len(body),
    )
    assert reply.status == 201, reply.text
    assert reply.json()["size"] == len(content)
    assert temp_files(spool_dir) == []


def test_a_client_that_resets_mid_upload_is_not_a_server_error(
    live_server, org, control, key_headers, spool_dir, errors_logged, caplog
):
    """The connection is reset (RST) half-way through the file: the server's read fails with
    an OSError, which must end as a 4xx in the log (nobody is left to read it), not a 500,
    and leave no temporary file."""
    body = multipart([("effective_start", DAY)], ("scan.pdf", pdf_bytes() + bytes(512 * 1024)))
    url = urlsplit(live_server.url)
    head = (
        f"POST {_api_path(org, control)} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
        f"Authorization: {key_headers['Authorization']}\r\nContent-Type: {MULTIPART}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection((url.hostname, url.port))
    sock.sendall(head.encode() + body[: len(body) // 2])
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # linger 0: the kernel sends RST, not FIN
    # Wait (up to 20 s) for the server to log how the request ended.
    for _ in range(200):
        if any(r.name == "django.request" for r in caplog.records):
            break
        threading.Event().wait(0.1)
    assert [r.getMessage() for r in caplog.records if r.name == "django.request"] == [
        f"Bad Request: {_api_path(org, control)}"
    ]
    assert errors_logged() == []
    assert temp_files(spool_dir) == []
