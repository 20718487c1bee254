"""Evidence file samples for the upload-check tests, built byte by byte."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib

import pytest

from evidence.tiny_pdf import pdf_from_objects
from evidence.validation import (
    CheckedFile,
    UploadRejected,
    check_upload,
)

# --- sample builders ------------------------------------------------------------------------


def _pdf() -> bytes:
    """A minimal but well-formed PDF: one empty page, with a correct xref table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    return pdf_from_objects(objects)


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
