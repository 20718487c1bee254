"""Fixtures of the evidence tests: members in each role, a control, sample files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tenants.models import Membership, Role
from tests.factories import ControlFactory


def pdf_bytes(text: str = "evidence") -> bytes:
    """A small well-formed PDF; ``text`` varies the bytes (and so the hash)."""
    body = f"<< /Type /Catalog /Pages 2 0 R /Note ({text}) >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    objects = [body, b"<< /Type /Pages /Kids [] /Count 0 >>"]
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


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
