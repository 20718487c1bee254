"""Checks an uploaded evidence file before it is stored.

Pure functions: no database, no models. The content type comes from the bytes (libmagic plus a
look inside archives), never from the file name or the browser's Content-Type, because an
auditor will later open whatever we store.

Error codes: too_large, empty, type_not_allowed, html_not_allowed, svg_not_allowed,
xml_not_allowed, executable_not_allowed, name_not_allowed, macro_not_allowed, not_utf8,
zip_bomb, zip_nested, zip_corrupt, zip_traversal, zip_encrypted.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import magic
from django.conf import settings

from evidence.filenames import blocked_extension
from soc2app.errors import ValidationFailed

if TYPE_CHECKING:
    from evidence.archives import ArchiveWalk

MB = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODT = "application/vnd.oasis.opendocument.text"

ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": "PDF document",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "text/plain": "Text file",
    "text/csv": "CSV file",
    "application/json": "JSON file",
    XLSX: "Excel workbook",
    "application/vnd.ms-excel": "Excel 97-2003 workbook",
    ODS: "OpenDocument spreadsheet",
    DOCX: "Word document",
    ODT: "OpenDocument text document",
    "application/zip": "ZIP archive",
}

_CHUNK = 64 * 1024
_HEAD = 16 * 1024  # what libmagic sees; python-magic recommends at least 2 KB
_SPOOL_IN_MEMORY = 8 * MB  # nested archives larger than this are spooled to disk
# Tiny members of repetitive text (a CSV of commas) easily compress 100:1 and are harmless;
# the total-size budget is what stops a bomb, the ratio check only catches it early.
_RATIO_MIN_BYTES = 1 * MB

# Refused outright, before any other look at the content.
_EXECUTABLE_TYPES = frozenset(
    "application/x-executable application/x-sharedlib application/x-pie-executable "
    "application/x-dosexec application/x-msdownload application/x-mach-binary "
    "application/x-java-applet application/java-archive "
    "application/vnd.android.package-archive".split()
)
# ELF, MZ (Windows), Java class / Mach-O fat, Mach-O 32/64 in both byte orders.
_EXECUTABLE_MAGIC = tuple(
    bytes.fromhex(h) for h in "7f454c46 4d5a cafebabe feedfa cefaedfe cffaedfe".split()
)
_SCRIPT_TYPES = frozenset(
    "text/x-shellscript application/x-shellscript text/x-php text/javascript "
    "application/javascript text/x-perl text/x-ruby text/x-tcl text/x-lua "
    "text/x-msdos-batch text/x-awk".split()
)
_XML_TYPES = frozenset({"text/xml", "application/xml"})
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", XLSX, DOCX, ODS, ODT})
# What a hostile or damaged archive makes zipfile raise; RuntimeError (and its subclass
# NotImplementedError) comes from compression methods zipfile cannot read (Deflate64, AES).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError)
_RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"{dev}{i}" for dev in ("COM", "LPT") for i in range(1, 10)]
)

_ACCEPTED = (
    "Upload a PDF, an image (PNG, JPEG, GIF, WebP), a spreadsheet (Excel, OpenDocument, CSV), "
    "a Word or OpenDocument text file, JSON, plain text or a ZIP archive."
)
_EXECUTABLE_MESSAGE = (
    "Programs and scripts are not accepted as evidence: upload a PDF or a screenshot "
    "of what they show instead."
)
_MACRO_MESSAGE = (
    "Office files with macros are not accepted as evidence: save it without macros "
    "(as .xlsx or .docx) and upload it again."
)


class UploadRejected(ValidationFailed):
    """The upload cannot be stored as evidence; ``message`` tells the user what to do."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message, code=code)


@dataclass(frozen=True)
class CheckedFile:
    safe_name: str
    content_type: str
    size: int
    sha256: str


class BinaryFile(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def human_size(n: int) -> str:
    """A size in bytes as people read it: "1.5 MB", "200 bytes"."""
    for unit, size in (("GB", 1024 * MB), ("MB", MB), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def sanitize_filename(name: str, *, max_length: int = 150) -> str:
    """A display-safe base name: no directories, controls, hidden files or reserved names."""
    # NFKC first: it turns look-alikes such as the fullwidth solidus into "/" and ".".
    name = unicodedata.normalize("NFKC", name)
    # Line breaks and tabs become spaces so words don't fuse; other controls, bidi overrides
    # (U+202E makes "fdp.exe" read as "exe.pdf") and zero-width characters are dropped.
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Letters include combining marks (M*) so Devanagari or Thai names stay readable.
    name = "".join(
        ch if ch in " .-_()" or unicodedata.category(ch)[0] in "LM" or ch.isdecimal() else "_"
        for ch in name
    )
    name = re.sub(r"_{2,}", "_", re.sub(r"\s+", " ", name))
    # Leading dots hide files (and spell ".."); Windows drops trailing dots and spaces.
    name = name.strip(". ")
    stem, _, ext = name.rpartition(".")
    if not stem or not (ext.isascii() and ext.isalnum() and len(ext) <= 16):
        stem, ext = name, ""
    stem = stem.rstrip(". ")
    if not stem.strip("_-. ()"):
        stem = "file"
    suffix = f".{ext}" if ext else ""
    # Characters for the display limit, bytes for file systems (255 bytes per name).
    stem = stem[: max(1, max_length - len(suffix))]
    stem = stem.encode()[: 255 - len(suffix)].decode("utf-8", "ignore").rstrip(". ") or "file"
    # Windows refuses CON, NUL, COM1... whatever the extension: "CON.tar.gz" too.
    if stem.split(".")[0].strip().upper() in _RESERVED_NAMES:
        stem = "_" + stem
    return stem + suffix


def check_upload(fileobj: BinaryFile, *, name: str, max_bytes: int | None = None) -> CheckedFile:
    """Validate an upload and describe it; raise UploadRejected when it must not be stored.

    Reads the file once in chunks (size, SHA-256, head for libmagic, UTF-8 check), then only
    archives and JSON-looking text are read again. Leaves the file at position 0.
    """
    limit = max_bytes if max_bytes is not None else _setting("EVIDENCE_MAX_UPLOAD_BYTES", 25 * MB)
    safe_name = sanitize_filename(name)
    check_name(safe_name)
    try:
        size, sha256, head, is_text = _scan(fileobj, limit)
        content_type = _detect(fileobj, head, name=name, is_text=is_text)
    finally:
        fileobj.seek(0)
    return CheckedFile(safe_name=safe_name, content_type=content_type, size=size, sha256=sha256)


def check_name(name: str) -> None:
    """Refuse a (sanitized) name with a program or script extension anywhere in it."""
    ext = blocked_extension(name)
    if ext is not None:
        raise UploadRejected(
            f"The name \u201c{name[:100]}\u201d contains \u201c.{ext}\u201d, the extension of "
            "a program, script or web page, which computers may run when the file is opened. "
            "If it is a document, rename it with its real extension (such as .pdf) and "
            "upload it again.",
            code="name_not_allowed",
        )


def _scan(fileobj: BinaryFile, limit: int) -> tuple[int, str, bytes, bool]:
    try:  # cheap exact size for seekable files, so the message can say how big it is
        fileobj.seek(0, io.SEEK_END)
        end = fileobj.tell()
    except (OSError, ValueError):
        end = None
    if end is not None and end > limit:
        raise UploadRejected(
            f"This file is {human_size(end)}; the limit is {human_size(limit)}.", code="too_large"
        )
    fileobj.seek(0)
    digest, size, head = hashlib.sha256(), 0, b""
    decoder, is_text = codecs.getincrementaldecoder("utf-8")(), True
    while chunk := fileobj.read(_CHUNK):
        size += len(chunk)
        if size > limit:  # the size hint can be missing or wrong; the bytes read are not
            raise UploadRejected(
                f"This file is larger than the {human_size(limit)} limit; upload a smaller file "
                "or split it into parts.",
                code="too_large",
            )
        digest.update(chunk)
        if len(head) < _HEAD:
            head += chunk[: _HEAD - len(head)]
        if is_text:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_text = False
            is_text = is_text and b"\x00" not in chunk  # NUL: UTF-16 or binary data
    if size == 0:
        raise UploadRejected(
            "The file is empty: check that you chose the right file and upload it again.",
            code="empty",
        )
    try:
        decoder.decode(b"", final=True)  # a multi-byte character cut off at the end
    except UnicodeDecodeError:
        is_text = False
    return size, digest.hexdigest(), head, is_text


def _detect(
    fileobj: BinaryFile,
    head: bytes,
    *,
    name: str,
    is_text: bool,
    walk: ArchiveWalk | None = None,
) -> str:
    """The content type by content; ``walk`` is the enclosing archive's, for a member."""
    mime = magic.from_buffer(head, mime=True).lower()
    # Executable headers contain NUL bytes; requiring one keeps a CSV starting "MZ," allowed.
    if mime in _EXECUTABLE_TYPES or (head.startswith(_EXECUTABLE_MAGIC) and b"\0" in head[:64]):
        raise UploadRejected(_EXECUTABLE_MESSAGE, code="executable_not_allowed")
    if mime in _SCRIPT_TYPES or mime.startswith("text/x-script.") or _text_start(head, 2) == b"#!":
        raise UploadRejected(_EXECUTABLE_MESSAGE, code="executable_not_allowed")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or mime in _ZIP_TYPES:
        from evidence.archives import check_archive  # archives use this module's helpers

        return check_archive(fileobj, walk=walk)
    if mime == "image/svg+xml":
        raise _svg_rejected()
    # libmagic has no verdict on a few bytes of text ("x"); the text checks still apply.
    if mime == "application/octet-stream" and is_text and len(head) < 64:
        mime = "text/plain"
    if mime.startswith("text/") or mime == "application/json" or mime in _XML_TYPES:
        return _check_text(fileobj, head, mime=mime, name=name, is_text=is_text)
    if mime in ALLOWED_TYPES:
        return mime
    raise UploadRejected(
        f"This kind of file ({mime}) is not accepted. {_ACCEPTED}", code="type_not_allowed"
    )


def _text_start(head: bytes, length: int) -> bytes:
    return head.removeprefix(codecs.BOM_UTF8).lstrip()[:length].lower()


def _svg_rejected() -> UploadRejected:
    return UploadRejected(
        "SVG images are not accepted as evidence: upload a PNG or JPEG screenshot instead.",
        code="svg_not_allowed",
    )


def _check_text(fileobj: BinaryFile, head: bytes, *, mime: str, name: str, is_text: bool) -> str:
    start = _text_start(head, 1024)
    html = start.startswith((b"<!doctype html", b"<html")) or b"<script" in start
    if mime == "text/html" or html:
        raise UploadRejected(
            "HTML files are not accepted as evidence: upload a PDF or a screenshot instead.",
            code="html_not_allowed",
        )
    if start.startswith(b"<") and b"<svg" in head.lower():
        raise _svg_rejected()
    if mime in _XML_TYPES or start.startswith(b"<?xml"):
        raise UploadRejected(
            "XML files are not accepted as evidence: upload a PDF, or export the data as CSV "
            "or JSON.",
            code="xml_not_allowed",
        )
    if mime == "text/rtf":  # RTF can embed OLE objects; it is a document format, not text
        raise UploadRejected(
            f"RTF documents are not accepted. {_ACCEPTED}", code="type_not_allowed"
        )
    if not is_text:
        raise UploadRejected(
            "This text file is not UTF-8 encoded: save it as UTF-8 (in Excel, choose "
            "\u201cCSV UTF-8\u201d) and upload it again.",
            code="not_utf8",
        )
    if start.startswith((b"{", b"[")):
        fileobj.seek(0)
        try:  # json.loads detects the UTF-8 BOM itself when given bytes
            json.loads(fileobj.read())
            return "application/json"
        except (ValueError, RecursionError):
            pass  # "{ meeting notes }" is text, not JSON
    # libmagic also says text/x-c, text/x-asm... for logs and prose; stored and served as
    # text/plain (with nosniff) that is harmless, while scripts and markup were refused above.
    return "text/csv" if sanitize_filename(name).lower().endswith(".csv") else "text/plain"
