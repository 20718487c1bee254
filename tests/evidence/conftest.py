"""Fixtures of the evidence tests: members in each role, a control, sample files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.tiny_pdf import pdf_from_objects
from tenants.models import Membership, Role
from tests.factories import ControlFactory


def pdf_bytes(text: str = "evidence") -> bytes:
    """A small well-formed PDF; ``text`` varies the bytes (and so the hash)."""
    body = f"<< /Type /Catalog /Pages 2 0 R /Note ({text}) >>".encode()
    objects = [body, b"<< /Type /Pages /Kids [] /Count 0 >>"]
    return pdf_from_objects(objects)


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", b"\0" * (8 * 1024 * 1024))
    return buffer.getvalue()


@pytest.fixture
def upload() -> Callable[..., SimpleUploadedFile]:
    def make(data: bytes | None = None, name: str = "access-review.pdf") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, pdf_bytes() if data is None else data, "application/pdf")

    return make


@pytest.fixture
def contributor(org, make_member) -> Membership:
    return make_member(org, Role.CONTRIBUTOR)


@pytest.fixture
def auditor(org, make_member) -> Membership:
    return make_member(org, Role.AUDITOR)


@pytest.fixture
def control(org, contributor):
    """A quarterly control owned by ``contributor``."""
    return ControlFactory(organization=org, owner=contributor, frequency="quarterly")


@pytest.fixture
def foreign_control(other_org, outsider):
    return ControlFactory(organization=other_org, owner=outsider)


@pytest.fixture
def media_files() -> Callable[[], list[Path]]:
    """Every file under this test's MEDIA_ROOT."""

    def files() -> list[Path]:
        root = Path(settings.MEDIA_ROOT)
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    return files
