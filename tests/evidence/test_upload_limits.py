"""The upload handler through the test clients: a file over EVIDENCE_MAX_UPLOAD_MB is stopped
while it is read (413, as a form error or JSON), and a multipart body without its closing
boundary is an incomplete upload, not a missing file. The wire itself: test_upload_wire.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceVersion
from tests.evidence.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

DAY = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
BIG = pdf_bytes() + bytes(10 * 1024)


@pytest.fixture
def small_limit(settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 4096


def _api_url(org, control) -> str:
    return f"/api/v1/orgs/{org.slug}/controls/{control.pk}/evidence/"


def test_browser_upload_over_the_limit_is_a_413_form_error(
    org, manager, control, client_for, upload, small_limit, media_files
):
    response = client_for(manager).post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "file", "effective_start": DAY, "file": upload(BIG, "big.pdf")},
    )
    assert response.status_code == 413
    assert response.context["form"].errors == {
        "file": [
            "The file is larger than the 4 KB limit per file. Upload a smaller file or split "
            "it into parts."
        ]
    }
    assert not EvidenceVersion.objects.for_org(org).exists() and media_files() == []


def test_api_upload_over_the_limit_is_a_json_413(
    org, manager, control, client_for, upload, small_limit
):
    response = client_for(manager).post(
        _api_url(org, control),
        {"effective_start": DAY, "file": upload(BIG, "big.pdf")},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert response.json()["errors"] == {"file": [response.json()["detail"]]}


@pytest.mark.parametrize("surface", ["browser", "api"])
def test_multipart_without_its_closing_boundary_is_incomplete(
    org, manager, control, client_for, surface
):
    body = (
        b'--B\r\nContent-Disposition: form-data; name="kind"\r\n\r\nfile\r\n'
        b'--B\r\nContent-Disposition: form-data; name="effective_start"\r\n\r\n'
        + DAY.encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + pdf_bytes()[:200]
    )
    path = (
        reverse("evidence_add", args=[org.slug, control.pk])
        if surface == "browser"
        else _api_url(org, control)
    )
    response = client_for(manager).generic(
        "POST", path, body, content_type="multipart/form-data; boundary=B"
    )
    assert response.status_code == 400
    message = "The upload was incomplete: send the file again."
    if surface == "api":
        assert response.json()["code"] == "upload_incomplete"
        assert response.json()["detail"] == message
    else:
        assert response.context["form"].errors == {"file": [message]}
    assert not EvidenceVersion.objects.for_org(org).exists()
