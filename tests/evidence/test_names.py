"""File names: program and script extensions and macro-enabled Office files are refused on
upload; every download and every file of the evidence package is named for its detected type,
versions stored before these rules included."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from evidence.filenames import BLOCKED_EXTENSIONS, blocked_extension, download_name
from evidence.models import EvidenceVersion
from evidence.validation import XLSX
from reports.rendering import exports
from tests.evidence.samples import (
    CONTENT_TYPES,
    _odf,
    _pdf,
    _png,
    _rejected,
    _upload,
    _xlsx,
    _zip,
)
from tests.factories import EvidenceItemFactory

TODAY = timezone.localdate()
POLYGLOT = _pdf() + b"<html><body><script>alert(1)</script></body></html>"  # a PDF to libmagic


def _xlsm() -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("xl/workbook.xml", "<workbook/>"),
            ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
        ]
    )


# --- refused on upload --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "ext"),
    [
        (_pdf(), "evidence.bat", "bat"),
        (_png(), "scan.hta", "hta"),
        (_pdf(), "q1.pdf.exe", "exe"),
        (_pdf(), "invoice.exe.pdf", "exe"),  # anywhere in the name, not only at its end
        (POLYGLOT, "report.html", "html"),
        (_pdf(), "evil\u202efdp.exe", "exe"),  # reads "evilexe.pdf" on screen
        (_pdf(), "setup.MSI", "msi"),
        (_pdf(), "deploy.ps1 ", "ps1"),
    ],
)
def test_names_with_program_extensions_are_refused(data, name, ext):
    error = _rejected(data, name, "name_not_allowed")
    assert f"\u201c.{ext}\u201d, the extension of a program, script or web page" in error.message
    assert "rename it with its real extension" in error.message


@pytest.mark.parametrize(
    "name", ["Q1 review.v2.pdf", "exec summary.pdf", "notes.jsonl.pdf", "com1-report.pdf"]
)
def test_ordinary_names_pass(name):
    assert _upload(_pdf(), name).content_type == "application/pdf"


def test_a_macro_enabled_workbook_renamed_xlsx_is_refused_by_content():
    error = _rejected(_xlsm(), "budget.xlsx", "macro_not_allowed")
    assert error.message == (
        "Office files with macros are not accepted as evidence: save it without macros "
        "(as .xlsx or .docx) and upload it again."
    )


def test_xlsm_name_is_refused_before_its_content_is_read():
    _rejected(_xlsx(), "budget.xlsm", "name_not_allowed")


def test_opendocument_with_basic_macros_is_refused():
    buffer = io.BytesIO(_odf("application/vnd.oasis.opendocument.spreadsheet"))
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.writestr("Basic/Standard/Module1.xml", "<script:module/>")
    _rejected(buffer.getvalue(), "sheet.ods", "macro_not_allowed")


def test_a_plain_workbook_is_still_accepted():
    assert _upload(_xlsx(), "budget.xlsx").content_type == XLSX


@pytest.mark.django_db
def test_the_upload_page_names_the_problem(org, manager, control, client_for, media_files):
    response = client_for(manager).post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {
            "kind": "file",
            "effective_start": TODAY.isoformat(),
            "file": ContentFile(_pdf(), name="q1.pdf.exe"),
        },
    )
    assert response.status_code == 400
    assert "contains \u201c.exe\u201d" in response.content.decode()
    assert not EvidenceVersion.objects.for_org(org).exists() and media_files() == []


# --- named for the detected type on the way out -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("evidence.bat", "application/pdf", "evidence.pdf"),
        ("scan.hta", "image/png", "scan.png"),
        ("q1.pdf.exe", "application/pdf", "q1.pdf"),
        ("report.html", "application/pdf", "report.pdf"),
        ("budget.xlsm", XLSX, "budget.xlsx"),
        ("photo.PNG", "image/jpeg", "photo.jpg"),
        ("a.exe.notes", "text/plain", "a_exe.notes.txt"),
        ("Q1 review.v2.pdf", "application/pdf", "Q1 review.v2.pdf"),
        ("export", "text/csv", "export.csv"),
        ("legacy", "", "legacy.bin"),
    ],
)
def test_download_name(name, content_type, expected):
    result = download_name(name, content_type)
    assert result == expected
    assert blocked_extension(result) is None


def test_the_blocked_list_covers_the_usual_suspects():
    usual = "exe bat cmd com scr hta js vbs ps1 sh jar msi dll lnk html svg xlsm docm"
    assert set(usual.split()) <= BLOCKED_EXTENSIONS


def _stored(control, name: str, content_type: str, payload: bytes) -> EvidenceVersion:
    """A version as an older release stored it: the name was never checked."""
    item = EvidenceItemFactory(control=control, title=name)
    version = EvidenceVersion(
        organization_id=control.organization_id,
        item=item,
        number=1,
        kind="file",
        original_name=name,
        content_type=content_type,
        size=len(payload),
        sha256=hashlib.sha256(payload).hexdigest(),
        effective_start=TODAY - dt.timedelta(days=3),
        effective_end=TODAY - dt.timedelta(days=3),
        valid_until=TODAY + dt.timedelta(days=300),
        uploaded_by_label="test",
        review_state="accepted",
    )
    version.file.save("ignored", ContentFile(payload), save=False)
    version.save()
    return version


STORED = [
    ("evidence.bat", "application/pdf", "evidence.pdf"),
    ("scan.hta", "image/png", "scan.png"),
    ("q1.pdf.exe", "application/pdf", "q1.pdf"),
    ("report.html", "application/pdf", "report.pdf"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "content_type", "expected"), STORED)
def test_stored_versions_download_under_their_type_name(
    org, manager, control, client_for, name, content_type, expected
):
    version = _stored(control, name, content_type, _pdf())
    response = client_for(manager).get(reverse("evidence_download", args=[org.slug, version.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert f'filename="{expected}"' in disposition
    assert f"filename*=UTF-8''{expected}" in disposition
    assert name not in disposition


@pytest.mark.django_db
def test_api_download_url_serves_the_type_name(org, control, catalog):
    from rest_framework.test import APIClient

    from tenants.activity import Actor
    from tenants.apikeys import api_key_create_system

    version = _stored(control, "evidence.bat", "application/pdf", _pdf())
    _, key = api_key_create_system(
        organization=org, name="k", role="read_only", expires_days=None, actor=Actor.system("t")
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    detail = api.get(f"/api/v1/orgs/{org.slug}/evidence/versions/{version.pk}/")
    assert detail.status_code == 200, detail.content
    response = api.get(f"/api/v1/orgs/{org.slug}/evidence/versions/{version.pk}/download/")
    assert response.status_code == 200
    assert 'filename="evidence.pdf"' in response["Content-Disposition"]


@pytest.mark.django_db
def test_the_evidence_package_names_files_for_their_type(org, control, tmp_path):
    from reports.content import EvidenceRow

    rows = []
    for name, content_type, _ in STORED:
        version = _stored(control, name, content_type, _pdf())
        rows.append(
            EvidenceRow(
                control.code,
                version.item.title,
                name,
                "file",
                1,
                version.effective_start,
                version.effective_end,
                version.valid_until,
                version.sha256,
                "accepted",
                version.size,
                version.file.name,
                version.pk,
                content_type=content_type,
            )
        )

    class Content:  # the slice of ReportContent the package reads
        organization, audit = org, type("A", (), {"name": "A", "audit_type": "type1"})()
        catalog_version, evidence, withheld = "TSC 2017", rows, []
        generated_at = data_as_of = timezone.now()

    exports.package(Content(), tmp_path / "p.zip")
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        files = [n for n in archive.namelist() if n.startswith("evidence/")]
    assert [n.rsplit("-", 1)[-1] for n in files] == [e for _, _, e in STORED]
    assert all(blocked_extension(n.rsplit("/", 1)[-1]) is None for n in files)
