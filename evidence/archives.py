"""ZIP checks of evidence uploads: bombs (by ratio and total size, nested archives sharing one
budget), too many members, hostile member names, encryption; and what a ZIP really is
(a workbook, a document or a plain archive)."""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass

from evidence.validation import (
    _ACCEPTED,
    _CHUNK,
    _EXECUTABLE_MESSAGE,
    _RATIO_MIN_BYTES,
    _SPOOL_IN_MEMORY,
    _ZIP_ERRORS,
    DOCX,
    MB,
    ODS,
    ODT,
    XLSX,
    BinaryFile,
    UploadRejected,
    _human,
    _setting,
)


@dataclass
class _Budget:
    max_members: int
    max_bytes: int
    max_ratio: float
    members: int = 0
    expanded: int = 0

    def too_big(self) -> UploadRejected:
        return UploadRejected(
            f"The archive expands to more than {_human(self.max_bytes)}; split it or upload "
            "the files one by one.",
            code="zip_bomb",
        )


def check_archive(fileobj: BinaryFile) -> str:
    budget = _Budget(
        max_members=_setting("EVIDENCE_ZIP_MAX_MEMBERS", 10_000),
        max_bytes=_setting("EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES", 500 * MB),
        max_ratio=_setting("EVIDENCE_ZIP_MAX_RATIO", 100),
    )
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as zf:
            _inspect_zip(zf, budget, depth=0)
            return _classify_zip(zf)
    except _ZIP_ERRORS as exc:
        raise UploadRejected(
            "The archive is damaged or uses an unsupported format: create it again and "
            "upload the new file.",
            code="zip_corrupt",
        ) from exc


def _inspect_zip(zf: zipfile.ZipFile, budget: _Budget, *, depth: int) -> None:
    infos = zf.infolist()
    budget.members += len(infos)
    if budget.members > budget.max_members:
        raise UploadRejected(
            f"The archive holds more than {budget.max_members:,} files; split it or upload "
            "the files one by one.",
            code="zip_bomb",
        )
    # First the declared sizes: cheap, and refuses most bombs before inflating a byte.
    for info in infos:
        path = info.filename.replace("\\", "/")
        if path.startswith("/") or re.match(r"[A-Za-z]:", path) or ".." in path.split("/"):
            raise UploadRejected(
                f"The archive contains a path that points outside it ({info.filename[:100]}): "
                "create it again from a folder and upload the new file.",
                code="zip_traversal",
            )
        if info.flag_bits & 0x1:
            raise UploadRejected(
                "The archive is password-protected, so its contents cannot be checked: upload "
                "it without a password.",
                code="zip_encrypted",
            )
        ratio = info.file_size / info.compress_size if info.compress_size else float("inf")
        if info.file_size > _RATIO_MIN_BYTES and ratio > budget.max_ratio:
            raise UploadRejected(
                f"A file in the archive ({info.filename[:100]}) expands more than "
                f"{budget.max_ratio:g}-fold; upload that file on its own instead.",
                code="zip_bomb",
            )
    if sum(info.file_size for info in infos) > budget.max_bytes:
        raise budget.too_big()
    # Then inflate for real against a budget shared with nested archives: zipfile stops at
    # the declared size and checks the CRC, so a header that lies ends as BadZipFile.
    for info in infos:
        if info.is_dir():
            continue
        # The spool stays a BytesIO until it passes 8 MB; only nested archives write to it.
        with zf.open(info) as member, tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY) as spool:
            chunk = member.read(_CHUNK)
            nested = chunk.startswith(b"PK\x03\x04")  # by content: renaming does not hide it
            if nested and depth >= 1:
                raise UploadRejected(
                    "The archive contains an archive that itself contains an archive: "
                    "unpack the inner archives and upload them separately.",
                    code="zip_nested",
                )
            while chunk:
                budget.expanded += len(chunk)
                if budget.expanded > budget.max_bytes:
                    raise budget.too_big()
                if nested:
                    spool.write(chunk)
                chunk = member.read(_CHUNK)
            if nested:
                with zipfile.ZipFile(spool) as inner:
                    _inspect_zip(inner, budget, depth=depth + 1)


def _classify_zip(zf: zipfile.ZipFile) -> str:
    names = zf.namelist()
    if not names:
        raise UploadRejected(
            "The archive is empty: add the files to it and upload it again.", code="empty"
        )
    if "META-INF/MANIFEST.MF" in names or any(n.endswith(".class") for n in names):
        raise UploadRejected(_EXECUTABLE_MESSAGE, code="executable_not_allowed")  # a JAR
    # libmagic only recognises Office files whose first member is [Content_Types].xml.
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("word/") for n in names):
            return DOCX
        raise UploadRejected(
            f"Only Excel and Word files are accepted from Microsoft Office. {_ACCEPTED}",
            code="type_not_allowed",
        )
    if "mimetype" in names:
        with zf.open("mimetype") as fh:
            declared = fh.read(100).decode("ascii", "replace").strip()
        if declared in (ODS, ODT):
            return declared
        if declared.startswith("application/vnd.oasis.opendocument"):
            raise UploadRejected(
                f"Only OpenDocument spreadsheets and text documents are accepted. {_ACCEPTED}",
                code="type_not_allowed",
            )
    return "application/zip"
