"""Merge the parts of a report and stamp each page with the running header and
"Page X of Y" (the parts were laid out separately, so only the merged file knows Y).

The stamps are laid out by WeasyPrint (a page of two short lines each, the same fonts as the
report; ``stamps_html``), split among the render workers, and drawn over the report's pages as
form XObjects: a page's own content stream is wrapped in q/Q and never parsed, so stamping
costs the same for a page of text as for an empty one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
)

from reports.rendering.errors import RenderFailed


def stamps_html(header: str, numbers: Sequence[int], total: int) -> str:
    """One stamp page per number (its own small stylesheet: hundreds of pages to lay out)."""
    return render_to_string(
        "reports/pdf/stamp.html", {"header": header, "numbers": numbers, "total": total}
    )


def _stream(writer: PdfWriter, data: bytes):
    stream = DecodedStreamObject()
    stream.set_data(data)
    return writer._add_object(stream)


def overlay(writer: PdfWriter, page, stamp, name: str) -> None:
    """Draw ``stamp`` (a page of another file) over ``page`` (of ``writer``) as a form
    XObject; the stamp's fonts are copied into ``writer`` once, however many pages use them."""
    form = stamp.get_contents()
    xobject = DecodedStreamObject()
    xobject.set_data(form.get_data() if form is not None else b"")
    xobject.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(stamp.mediabox),
            NameObject("/Resources"): stamp[NameObject("/Resources")].clone(writer),
        }
    )
    ref = writer._add_object(xobject)
    # Pages of one part may share a resource dictionary: give this page its own (shallow)
    # copies, so that each page names its own stamp.
    resources = DictionaryObject(page[NameObject("/Resources")].get_object())
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    xobjects[NameObject(name)] = ref
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    contents = page.get("/Contents")
    existing = contents.get_object() if contents is not None else ArrayObject()
    if not isinstance(existing, ArrayObject):
        existing = ArrayObject([contents])
    page[NameObject("/Contents")] = ArrayObject(
        [
            _stream(writer, b"q\n"),
            *existing,
            _stream(writer, f"\nQ\nq {name} Do Q\n".encode()),
        ]
    )


def merge_and_stamp(
    front: Path,
    parts: Sequence[Path],
    stamps: Sequence[Path],
    out: Path,
    *,
    first_numbered: int,
) -> int:
    """Write ``front`` + ``parts`` to ``out``, the pages from ``first_numbered`` (1-based) on
    covered by the pages of ``stamps`` in order. Returns the number of pages."""
    writer = PdfWriter()
    for path in (front, *parts):
        writer.append(str(path))
    total = len(writer.pages)
    number = first_numbered
    for path in stamps:
        for stamp in PdfReader(str(path)).pages:
            if number > total:
                raise RenderFailed(f"more page stamps than the {total} pages")
            overlay(writer, writer.pages[number - 1], stamp, "/ReportStamp")
            number += 1
    if total >= first_numbered and number != total + 1:
        raise RenderFailed(f"{number - first_numbered} page stamps for {total} pages")
    with open(out, "wb") as handle:
        writer.write(handle)
    return total
