"""ZIP checks of evidence uploads: bombs (by ratio and total size, nested archives sharing one
budget), too many members, hostile member names, encryption, nesting depth, macros; what a ZIP
really is (a workbook, a document or a plain archive); and, for a plain archive, each member
by the same rules as an upload of its own (so a ZIP cannot carry a program or a web page)."""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass

from evidence.validation import (
    _ACCEPTED,
    _CHUNK,
    _EXECUTABLE_MESSAGE,
    _MACRO_MESSAGE,
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
    _detect,
    _scan,
    _setting,
    check_name,
    human_size,
    sanitize_filename,
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
            f"The archive expands to more than {human_size(self.max_bytes)}; split it or upload "
            "the files one by one.",
            code="zip_bomb",
        )


@dataclass(frozen=True)
class ArchiveWalk:
    """One upload's way down through its archives: the budget they share and the depth."""

    budget: _Budget
    depth: int = 0

    def deeper(self) -> ArchiveWalk:
        return ArchiveWalk(self.budget, self.depth + 1)


# An archive may hold archives; those may not hold more.
MAX_NESTING = 1
_APPLEDOUBLE = b"\x00\x05\x16\x07"  # macOS resource forks, stored as __MACOSX/._name


def check_archive(fileobj: BinaryFile, *, walk: ArchiveWalk | None = None) -> str:
    """What the ZIP is (a workbook, a document or an archive); refuse a hostile one.

    Members of a plain archive pass the same checks as an upload of their own (by name and
    by content); the members of an Office or OpenDocument file are its XML parts and are only
    checked for bombs, nesting and macros.
    """
    if walk is None:
        walk = ArchiveWalk(
            _Budget(
                max_members=_setting("EVIDENCE_ZIP_MAX_MEMBERS", 10_000),
                max_bytes=_setting("EVIDENCE_ZIP_MAX_UNCOMPRESSED_BYTES", 500 * MB),
                max_ratio=_setting("EVIDENCE_ZIP_MAX_RATIO", 100),
            )
        )
    elif walk.depth > MAX_NESTING:
        raise UploadRejected(
            "The archive contains an archive that itself contains an archive: "
            "unpack the inner archives and upload them separately.",
            code="zip_nested",
        )
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as zf:
            infos = _check_entries(zf, walk.budget)
            kind = _classify_zip(zf)
            _check_members(zf, infos, walk, plain=kind == "application/zip")
            return kind
    except _ZIP_ERRORS as exc:
        raise UploadRejected(
            "The archive is damaged or uses an unsupported format: create it again and "
            "upload the new file.",
            code="zip_corrupt",
        ) from exc


def _check_entries(zf: zipfile.ZipFile, budget: _Budget) -> list[zipfile.ZipInfo]:
    """The central directory's promises: cheap, and refuses most bombs before inflating."""
    infos = zf.infolist()
    budget.members += len(infos)
    if budget.members > budget.max_members:
        raise UploadRejected(
            f"The archive holds more than {budget.max_members:,} files; split it or upload "
            "the files one by one.",
            code="zip_bomb",
        )
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
    return infos


def _check_members(
    zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], walk: ArchiveWalk, *, plain: bool
) -> None:
    """Inflate for real against the shared budget: zipfile stops at the declared size and
    checks the CRC, so a header that lies ends as BadZipFile."""
    budget = walk.budget
    for info in infos:
        if info.is_dir():
            continue
        # The spool stays a BytesIO until it passes 8 MB; an Office part is only kept when it
        # is an archive itself (an embedded workbook), found by content, not by name.
        with zf.open(info) as member, tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY) as spool:
            chunk = member.read(_CHUNK)
            keep = plain or chunk.startswith(b"PK\x03\x04")
            while chunk:
                budget.expanded += len(chunk)
                if budget.expanded > budget.max_bytes:
                    raise budget.too_big()
                if keep:
                    spool.write(chunk)
                chunk = member.read(_CHUNK)
            if plain:
                _check_member(spool, info.filename, walk)
            elif keep:
                check_archive(spool, walk=walk.deeper())


def _check_member(spool: BinaryFile, path: str, walk: ArchiveWalk) -> None:
    """A plain archive's member passes the checks of an upload; errors name the member."""
    if spool.tell() == 0:
        return  # an empty placeholder (.gitkeep) carries nothing to open
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    spool.seek(0)
    start = spool.read(8)
    if (path.startswith("__MACOSX/") and start.startswith(_APPLEDOUBLE)) or (
        name == ".DS_Store" and start[4:8] == b"Bud1"
    ):
        return  # what macOS adds to every archive it makes: metadata, never opened
    try:
        check_name(sanitize_filename(name))
        _, _, head, is_text = _scan(spool, walk.budget.max_bytes)
        _detect(spool, head, name=name, is_text=is_text, walk=walk.deeper())
    except UploadRejected as exc:
        if exc.code.startswith("zip_"):
            raise  # about the archive as a whole (size, nesting), not this member
        raise UploadRejected(
            f"\u201c{path[:100]}\u201d in the archive: {exc.message}", code=exc.code
        ) from exc


def _classify_zip(zf: zipfile.ZipFile) -> str:
    names = zf.namelist()
    if not names:
        raise UploadRejected(
            "The archive is empty: add the files to it and upload it again.", code="empty"
        )
    if "META-INF/MANIFEST.MF" in names or any(n.endswith(".class") for n in names):
        raise UploadRejected(_EXECUTABLE_MESSAGE, code="executable_not_allowed")  # a JAR
    # Office keeps VBA in vbaProject.bin (xlsm, docm, pptm, and renamed to .xlsx);
    # OpenDocument keeps Basic and scripts under Basic/ and Scripts/.
    lowered = [n.replace("\\", "/").lower() for n in names]
    if any(n.rsplit("/", 1)[-1] == "vbaproject.bin" for n in lowered) or (
        "mimetype" in names and any(n.startswith(("basic/", "scripts/")) for n in lowered)
    ):
        raise UploadRejected(_MACRO_MESSAGE, code="macro_not_allowed")
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
