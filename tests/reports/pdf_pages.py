"""A PDF's pages read back for layout tests: words with their boxes, font size and weight, and
the filled rectangles (table backgrounds, chart cells) with their colours.

Read with pypdfium2 (PDFium, Chromium's PDF engine): about 0.04 s a page where pdfplumber
(pure-Python pdfminer) took 0.5 s here, which keeps the layout tests at seconds. Coordinates
are in points from the top left, as pdfplumber gives them.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # as PDFium reports it: CSS pixels in WeasyPrint's PDFs (points x 4/3)
    bold: bool


@dataclass(frozen=True)
class Rect:
    x0: float
    x1: float
    top: float
    bottom: float
    fill: str  # "#rrggbb"

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class Page:
    number: int
    words: list[Word]
    rects: list[Rect]

    @property
    def lines(self) -> list[str]:
        """The words of each line (same top, within a point), left to right."""
        rows: list[list[Word]] = []
        for word in sorted(self.words, key=lambda w: (w.top, w.x0)):
            if rows and abs(rows[-1][0].top - word.top) < 1:
                rows[-1].append(word)
            else:
                rows.append([word])
        return [" ".join(w.text for w in sorted(row, key=lambda w: w.x0)) for row in rows]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _font_name(textpage, index: int) -> str:
    """The character's font, e.g. ``ABCDEF+DejaVuSans-Bold``."""
    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(textpage, index, buffer, len(buffer), ctypes.byref(flags))
    return buffer.value.decode("latin-1")


def _words(textpage, height: float) -> list[Word]:
    words: list[Word] = []
    current: list[tuple[str, tuple, float, bool]] = []

    def flush() -> None:
        if current:
            words.append(
                Word(
                    text="".join(c for c, *_ in current),
                    x0=min(b[0] for _, b, *_ in current),
                    x1=max(b[2] for _, b, *_ in current),
                    top=height - max(b[3] for _, b, *_ in current),
                    bottom=height - min(b[1] for _, b, *_ in current),
                    size=current[0][2],
                    bold=current[0][3],
                )
            )
            current.clear()

    for i in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage, i))
        if char.isspace() or not char.isprintable():
            flush()
            continue
        box = textpage.get_charbox(i, loose=True)  # the glyph's advance, not its ink
        size = round(pdfium_c.FPDFText_GetFontSize(textpage, i), 1)
        # A new word where the previous character is on another line, or ends well before
        # this one starts (PDFium usually inserts a space there itself).
        if current and (
            abs(current[-1][1][1] - box[1]) > 2 or box[0] - current[-1][1][2] > 0.2 * size
        ):
            flush()
        current.append((char, box, size, "Bold" in _font_name(textpage, i)))
    flush()
    return words


def _rects(page, height: float) -> list[Rect]:
    rects = []
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill_mode), ctypes.byref(stroke))
        if not fill_mode.value:
            continue
        r, g, b, a = (ctypes.c_uint() for _ in range(4))
        pdfium_c.FPDFPageObj_GetFillColor(obj, *(ctypes.byref(c) for c in (r, g, b, a)))
        left, bottom, right, top = obj.get_bounds()
        colour = f"#{r.value:02x}{g.value:02x}{b.value:02x}"
        rects.append(Rect(left, right, height - top, height - bottom, colour))
    return rects


def read_pages(data: bytes) -> list[Page]:
    pdf = pdfium.PdfDocument(data)
    try:
        pages = []
        for n, page in enumerate(pdf, start=1):
            height = page.get_height()
            textpage = page.get_textpage()
            pages.append(Page(n, _words(textpage, height), _rects(page, height)))
            textpage.close()
            page.close()
        return pages
    finally:
        pdf.close()
