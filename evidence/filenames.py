"""What evidence files are called on the way in and on the way out.

On the way in, a name carrying the extension of a program, script or active web content
anywhere in it (``evidence.bat``, ``q1.pdf.exe``, ``invoice.exe.pdf``) is refused: Windows and
mail clients act on such names, whatever the bytes are. On the way out (downloads, the
evidence package), a file is named with the extension of its detected type, so that a PDF
stored as ``evidence.bat`` before this rule existed downloads as ``evidence.pdf``.

Pure functions over data: no database, no Django.
"""

from __future__ import annotations

import mimetypes

# The extension a download gets for each type ``check_upload`` can detect.
EXTENSION_FOR_TYPE: dict[str, str] = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "text/plain": "txt",
    "text/csv": "csv",
    "application/json": "json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/zip": "zip",
}
# Extensions Windows, macOS, Linux desktops, browsers or Office run, install or render as
# active content. Kept as data: add to it, never special-case a name in code.
BLOCKED_EXTENSIONS: frozenset[str] = frozenset(
    # Windows programs, installers, libraries and shortcuts
    "exe com scr pif cpl dll sys drv ocx msi msp mst msc msix msixbundle appx appxbundle "
    "application appref-ms gadget hta inf ins isp lnk url reg scf settingcontent-ms "
    # Windows scripts
    "bat cmd vb vbs vbe js jse ws wsf wsc wsh ps1 ps1xml ps2 ps2xml psc1 psc2 psd1 psm1 "
    # other systems' programs, packages and scripts
    "sh bash zsh csh ksh command run elf so dylib app pkg dmg deb rpm apk ipa "
    "jar class war ear jnlp py pyc pyw pl rb php phtml php3 php4 php5 phar cgi lua tcl "
    # active web content and Office files that carry macros
    "htm html xhtml shtml mht mhtml svg svgz xml xsl xslt swf "
    "xlsm xltm xlam docm dotm pptm potm ppam ppsm sldm".split()
)
_FALLBACK_EXTENSION = "bin"


def blocked_extension(name: str) -> str | None:
    """The first program or script extension anywhere after the first dot of ``name``."""
    for part in name.split(".")[1:]:
        ext = part.strip().lower()
        if ext in BLOCKED_EXTENSIONS:
            return ext
    return None


def extension_for(content_type: str) -> str:
    content_type = content_type.split(";", 1)[0].strip().lower()
    if content_type in EXTENSION_FOR_TYPE:
        return EXTENSION_FOR_TYPE[content_type]
    guessed = mimetypes.guess_extension(content_type) if content_type else None
    ext = (guessed or "").lstrip(".")
    return ext if ext and ext not in BLOCKED_EXTENSIONS else _FALLBACK_EXTENSION


_KNOWN_EXTENSIONS = frozenset(EXTENSION_FOR_TYPE.values()) | {"jpeg", "jpe", "tif", "tiff"}


def download_name(name: str, content_type: str) -> str:
    """``name`` with the extension of ``content_type`` and no program extension anywhere.

    Trailing extensions that are a type's or a program's are dropped (``q1.pdf.exe`` as a PDF
    is ``q1.pdf``, not ``q1.pdf.pdf``); one left in the middle loses its dot (``a.exe.v2``
    becomes ``a_exe.v2.pdf``), so no program extension survives anywhere in the name.
    """
    stem = name.strip()
    while "." in stem:
        head, _, tail = stem.rpartition(".")
        if tail.strip().lower() not in _KNOWN_EXTENSIONS | BLOCKED_EXTENSIONS:
            break
        stem = head.rstrip(". ")
    parts = stem.split(".")
    stem = parts[0] + "".join(
        ("_" if part.strip().lower() in BLOCKED_EXTENSIONS else ".") + part for part in parts[1:]
    )
    return f"{stem.strip() or 'evidence'}.{extension_for(content_type)}"
