"""Members of a ZIP pass the same type rules as an upload of their own: by content (an ELF
without an extension, HTML renamed .txt) and by name (an .exe), with the member named in the
message; Office files' own parts are not members to check; nesting stays limited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import EvidenceVersion
from tests.evidence.conftest import HTML
from tests.evidence.samples import ELF, GIF, PE, _pdf, _png, _rejected, _upload, _xlsx, _zip

DAY = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
EXPORT = [("report.pdf", _pdf()), ("screens/login.png", _png())]


@pytest.mark.parametrize(
    ("member", "data", "code"),
    [
        ("setup.exe", PE, "name_not_allowed"),
        ("tools/collector", ELF, "executable_not_allowed"),  # no extension: found by content
        ("invoice.pdf", PE, "executable_not_allowed"),  # a program named as a document
        ("page.html", HTML, "name_not_allowed"),
        ("notes.txt", HTML, "html_not_allowed"),  # renamed web page: found by content
        ("run.sh", b"echo hi\n", "name_not_allowed"),
        ("cleanup", b"#!/bin/sh\nrm -rf /\n", "executable_not_allowed"),
        ("logo.svg.txt", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "name_not_allowed"),
        ("data.bin", bytes(range(256)) * 4, "type_not_allowed"),
        ("latin1.csv", "caf\xe9;1\n".encode("latin-1"), "not_utf8"),
    ],
)
def test_a_member_that_would_be_refused_on_its_own_is_refused(member, data, code):
    error = _rejected(_zip([*EXPORT, (member, data)]), "export.zip", code)
    assert error.message.startswith(f"\u201c{member}\u201d in the archive: ")


def test_the_finding_exe_elf_and_html_together_are_refused():
    data = _zip([("setup.exe", PE), ("collector", ELF), ("index.html", HTML)])
    _rejected(data, "export.zip", "name_not_allowed")
    _rejected(_zip([("collector", ELF), ("a.pdf", _pdf())]), "export.zip", "executable_not_allowed")


def test_a_member_of_a_nested_archive_is_checked_too():
    inner = _zip([("ok.pdf", _pdf()), ("page.txt", HTML)])
    error = _rejected(_zip([*EXPORT, ("inner.zip", inner)]), "export.zip", "html_not_allowed")
    assert error.message.startswith(
        "\u201cinner.zip\u201d in the archive: \u201cpage.txt\u201d in the archive: "
    )


def test_ordinary_evidence_archives_are_accepted():
    data = _zip(
        [
            *EXPORT,
            ("screens/", b""),
            ("screens/.gitkeep", b""),
            ("users.csv", "email,role\nana@example.com,admin\n"),
            ("users.json", '{"users": []}'),
            ("spinner.gif", GIF),
            ("book.xlsx", _xlsx()),  # its XML parts are the workbook's, not members to check
            ("more.zip", _zip([("a.txt", b"x")])),
            ("__MACOSX/._report.pdf", b"\x00\x05\x16\x07" + bytes(60)),  # macOS metadata
        ]
    )
    assert _upload(data, "export.zip").content_type == "application/zip"


def test_nesting_is_limited_whatever_the_names():
    level2 = _zip([("inner.zip", _zip([("a.txt", b"x")]))])
    _rejected(_zip([("middle.pdf", level2)]), "export.zip", "zip_nested")


@pytest.mark.django_db
def test_the_upload_page_names_the_member(org, manager, control, client_for, upload, media_files):
    data = _zip([*EXPORT, ("tools/collector", ELF)])
    response = client_for(manager).post(
        reverse("evidence_add", args=[org.slug, control.pk]),
        {"kind": "file", "effective_start": DAY, "file": upload(data, "export.zip")},
    )
    assert response.status_code == 400
    assert "\u201ctools/collector\u201d in the archive: Programs and scripts" in (
        response.content.decode()
    )
    assert not EvidenceVersion.objects.for_org(org).exists() and media_files() == []
