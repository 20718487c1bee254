"""Downloading evidence: only as an attachment, never rendered, always logged."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from evidence import services
from evidence.downloads import content_disposition
from tenants.models import ActivityEntry, Role
from tests.evidence.conftest import pdf_bytes

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _download(client, org, version):
    return client.get(reverse("evidence_download", args=[org.slug, version.pk]))


@pytest.fixture
def file_version(manager, control, upload):
    return services.evidence_submit_file(
        membership=manager,
        control=control,
        upload=upload(pdf_bytes("audit"), 'Zugriffsprüfung Q1 "final".pdf'),
        effective_start=TODAY,
    )


def test_a_file_is_sent_as_an_attachment_with_safe_headers(org, manager, file_version, client_for):
    response = _download(client_for(manager), org, file_version)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == file_version.sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Disposition"] == content_disposition(file_version.original_name)
    assert response["Content-Disposition"].startswith('attachment; filename="Zugriffspr_fung Q1')
    assert (
        f"filename*=UTF-8''{quote(file_version.original_name, safe='')}"
        in (response["Content-Disposition"])
    )
    assert "private" in response["Cache-Control"]


def test_content_disposition_escapes_what_could_break_the_header():
    header = content_disposition('a"b\\c;d\r\ne€.pdf')
    fallback = header.split("; filename*=")[0]
    assert fallback == 'attachment; filename="a_b_c_d__e_.pdf"'
    assert header.endswith("filename*=UTF-8''a%22b%5Cc%3Bd%0D%0Ae%E2%82%AC.pdf")


def test_each_download_is_recorded(org, make_member, file_version, client_for):
    # (Auditors download through the auditor portal: tests/reports/test_portal.py.)
    auditor = make_member(org, Role.CONTRIBUTOR)
    assert _download(client_for(auditor), org, file_version).status_code == 200
    entry = ActivityEntry.objects.for_org(org).get(action="download")
    assert entry.actor_id == auditor.user_id
    assert (entry.object_type, entry.object_id) == (
        "evidence.evidenceversion",
        str(file_version.pk),
    )


def test_a_data_record_downloads_as_json(org, manager, control, client_for):
    version = services.evidence_push_data(
        membership=manager,
        control=control,
        data={"users": 12, "mfa": True},
        effective_start=TODAY,
        title="MFA report",
    )
    response = _download(client_for(manager), org, version)
    assert json.loads(response.content) == {"users": 12, "mfa": True}
    assert hashlib.sha256(response.content).hexdigest() == version.sha256
    assert response["Content-Disposition"].startswith('attachment; filename="mfa-report-v1.json"')
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_link_is_shown_never_redirected_to(org, manager, control, client_for):
    version = services.evidence_add_link(
        membership=manager,
        control=control,
        url="https://drive.example.com/x?y=<b>",
        effective_start=TODAY,
    )
    response = _download(client_for(manager), org, version)
    assert response.status_code == 200 and not response.has_header("Location")
    html = response.content.decode()
    assert "https://drive.example.com/x?y=&lt;b&gt;" in html and "<b>" not in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_a_missing_file_is_a_404_not_a_500(org, manager, file_version, client_for):
    default_storage.delete(file_version.file.name)
    assert _download(client_for(manager), org, file_version).status_code == 404
    assert not ActivityEntry.objects.for_org(org).filter(action="download").exists()


def test_unknown_and_huge_ids_are_404(org, manager, client_for):
    client = client_for(manager)
    for pk in ("424242", "99999999999999999999999"):
        assert client.get(f"/o/{org.slug}/evidence/versions/{pk}/download/").status_code == 404


def test_a_download_is_logged_with_the_client_address_behind_the_proxy(
    settings, org, manager, file_version, client_for
):
    settings.TRUSTED_PROXY_COUNT = 1
    response = client_for(manager).get(
        reverse("evidence_download", args=[org.slug, file_version.pk]),
        REMOTE_ADDR="10.0.0.5",  # the proxy
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7",  # forged entry, then the proxy's
    )
    assert response.status_code == 200
    entry = ActivityEntry.objects.for_org(org).get(action="download")
    assert entry.changes["client_ip"] == [None, "198.51.100.7"]
