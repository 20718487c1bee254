"""Upload checks for archives (ZIP bombs, nesting, hostile members) and file names."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from evidence.validation import (
    MB,
    XLSX,
    sanitize_filename,
)
from tests.evidence.samples import (
    CONTENT_TYPES,
    _patch_u16_or,
    _patch_u32,
    _pdf,
    _rejected,
    _upload,
    _xlsx,
    _zip,
)

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
    data = _zip([(f"part{i}.pdf", _pdf() + os.urandom(400 * 1024)) for i in range(3)])

    error = _rejected(data, "export.zip", "zip_bomb")
    assert (
        error.message
        == "The archive expands to more than 1 MB; split it or upload the files one by one."
    )


def test_byte_budget_is_shared_with_nested_archives(settings):
    # Every declared size passes on its own level; only the running total catches it.
    inner = _zip([("big.pdf", _pdf() + os.urandom(600 * 1024))], zipfile.ZIP_STORED)
    outer = _zip(
        [("inner.zip", inner), ("other.pdf", _pdf() + os.urandom(300 * 1024))], zipfile.ZIP_STORED
    )
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
