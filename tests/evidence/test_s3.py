"""Evidence files on S3-compatible storage, against a real S3 API server (moto's server mode).

The storage settings are the ones ``STORAGE=s3`` produces (``settings.s3_storage_options``),
pointed at a ``moto_server`` started for the session on a free loopback port.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from evidence import services
from evidence.models import EvidenceVersion
from soc2app.errors import ValidationFailed
from tests.evidence.conftest import HTML, pdf_bytes

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
BUCKET = "soc2-evidence-test"


def _moto_server() -> str | None:
    beside_python = Path(sys.executable).with_name("moto_server")
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API on loopback, for the whole session."""
    pytest.importorskip("boto3", reason="boto3 is not installed (pip install -e '.[dev]')")
    pytest.importorskip("storages", reason="django-storages is not installed")
    binary = _moto_server()
    if binary is None:
        pytest.skip("moto's server is not installed (pip install 'moto[server]')")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our own venv's binary, fixed arguments)
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):  # it imports a lot before it listens
            if process.poll() is not None:
                pytest.fail(f"moto_server exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start listening within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint, monkeypatch) -> Iterator:
    """STORAGES["default"] on the moto server, with an empty bucket; yields the bucket."""
    import boto3

    from soc2app.settings import s3_storage_options

    monkeypatch.setenv("S3_BUCKET", BUCKET)
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("S3_REGION", "us-east-1")
    monkeypatch.setenv("S3_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "testing")
    options = s3_storage_options()
    resource = boto3.resource(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = resource.Bucket(BUCKET)
    bucket.create()
    storages = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    try:
        with override_settings(STORAGES=storages):
            yield bucket
    finally:
        bucket.objects.all().delete()
        bucket.delete()


def _keys(bucket) -> list[str]:
    return sorted(obj.key for obj in bucket.objects.all())


def _download(client, org, version):
    return client.get(reverse("evidence_download", args=[org.slug, version.pk]))


def test_the_settings_describe_a_private_bucket_reached_through_our_view(s3):
    from django.core.files.storage import storages
    from storages.backends.s3 import S3Storage

    backend = storages["default"]
    assert isinstance(backend, S3Storage)
    assert backend.default_acl == "private"
    assert backend.querystring_auth is False
    assert backend.file_overwrite is False
    assert backend.addressing_style == "path"


def test_upload_and_download_through_s3(s3, org, manager, outsider, control, client_for, upload):
    content = pdf_bytes("stored on s3")
    version = services.evidence_submit_file(
        membership=manager,
        control=control,
        upload=upload(content, "Q1 access review.pdf"),
        effective_start=TODAY,
    )
    # One object, under a random key inside the organization's prefix, never the file name.
    (key,) = _keys(s3)
    assert key == version.file.name
    assert key.startswith(f"evidence/{org.pk}/") and len(key.rsplit("/", 1)[-1]) == 32
    assert "access" not in key.lower()
    stored = s3.Object(key).get()["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == version.sha256

    response = _download(client_for(manager), org, version)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == content and hashlib.sha256(body).hexdigest() == version.sha256

    # Someone of another organization learns nothing, not even that the version exists.
    assert _download(client_for(outsider), outsider.organization, version).status_code == 404
    assert _download(client_for(outsider), org, version).status_code == 404


def test_upload_through_the_page_lands_in_the_bucket(s3, org, contributor, control, client_for):
    content = pdf_bytes("via the form")
    client = client_for(contributor)
    response = client.post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "file", "effective_start": TODAY.isoformat(), "file": _file(content)},
    )
    assert response.status_code == 302, response.content
    version = EvidenceVersion.objects.for_org(org).get()
    assert _keys(s3) == [version.file.name]
    body = b"".join(_download(client, org, version).streaming_content)
    assert hashlib.sha256(body).hexdigest() == version.sha256 == hashlib.sha256(content).hexdigest()


def _file(content: bytes, name: str = "evidence.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, "application/pdf")


def test_a_refused_upload_leaves_no_object(s3, org, manager, control, client_for):
    response = client_for(manager).post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "file", "effective_start": TODAY.isoformat(), "file": _file(HTML, "r.pdf")},
    )
    assert response.status_code == 400
    assert _keys(s3) == []
    assert not EvidenceVersion.objects.for_org(org).exists()


def test_a_version_that_fails_to_commit_leaves_no_object(s3, org, manager, control, monkeypatch):
    def fail(**kwargs):
        raise ValidationFailed("The database refused the version.")

    monkeypatch.setattr(services, "_add_version", fail)
    with pytest.raises(ValidationFailed):
        services.evidence_submit_file(
            membership=manager, control=control, upload=_file(pdf_bytes()), effective_start=TODAY
        )
    assert _keys(s3) == []
