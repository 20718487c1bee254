"""Every page of a document downloaded through a personal link carries who asked for it: a
watermark page rendered by WeasyPrint ("Provided to ana@example.com, Example Corp, on 7 Dec
2026 · Confidential", in a band at the top and bottom and across the middle) is merged onto
each page with pypdf, scaled to the page's size. Only PDFs can carry it, so only PDFs are
offered privately (``trust.services``)."""

from __future__ import annotations

import datetime as dt
import io

from django.conf import settings
from django.template.loader import render_to_string

from reports.rendering.fetcher import StaticOnlyFetcher
from reports.rendering.pdf import weasy_render
from soc2app.errors import ValidationFailed


class NotAPdf(ValidationFailed):
    status = 422
    code = "unreadable_pdf"


def watermark_line(email: str, company: str, day: dt.date) -> str:
    return f"Provided to {email}, {company}, on {day:%-d %b %Y} · Confidential"


def _stamp(email: str, company: str, day: dt.date) -> bytes:
    html = render_to_string(
        "trust/watermark.html",
        {"email": email, "company": company, "line": watermark_line(email, company, day)},
    )
    return weasy_render(html, StaticOnlyFetcher(settings.REPORT_ASSET_DIR)).write_pdf()


def watermarked(data: bytes, *, email: str, company: str, day: dt.date) -> bytes:
    """``data`` (a PDF) with the watermark on every page; NotAPdf when it cannot be read."""
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise NotAPdf("This document is encrypted and cannot be watermarked.")
        writer = PdfWriter(clone_from=reader)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise NotAPdf("This document cannot be prepared for download: tell its owner.") from exc
    stamp = PdfReader(io.BytesIO(_stamp(email, company, day))).pages[0]
    sw, sh = float(stamp.mediabox.width), float(stamp.mediabox.height)
    for page in writer.pages:
        box = page.mediabox
        scale = Transformation().scale(float(box.width) / sw, float(box.height) / sh)
        page.merge_transformed_page(
            stamp, scale.translate(float(box.left), float(box.bottom)), over=True
        )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
