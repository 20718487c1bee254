"""The readiness PDF: HTML templates + print CSS, laid out by WeasyPrint.

Two ways to the same pages:

- ``render_single``: one WeasyPrint pass over the whole document, page numbers and running
  header from CSS margin boxes, the table of contents from ``target-counter``. Used for small
  reports, and as the benchmark's baseline.
- ``render_parallel``: the body is cut into parts of about equal work (the long sections into
  several), laid out at the same time by worker processes that each take the next part as
  they finish one (``reports.rendering.pool``, ``reports.rendering.worker``), then merged with
  pypdf. The cover and contents are laid out once every part's page count and anchors are
  known; "Page X of Y" and the running header are laid out by the same workers and stamped
  on the merged pages (``reports.rendering.stamp``).

Where the time goes (the benchmark's Type 2 report, 300 controls and 10,000 evidence
versions, about 290 pages): WeasyPrint's layout and its drawing of every glyph into the PDF
take nearly all of it, about 100 ms of CPU per page of the evidence index and 170-330 ms per
page of the matrix and period tables (many cells). So the evidence index is a ledger of
preformatted text, a few versions per table row (``reports.rendering.ledger``), and the
stylesheet stays small (fixed table layouts, no floats).

WeasyPrint may only load our own static files (``StaticOnlyFetcher``); every user-supplied
text goes through Django's autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from controls.periods import window_length_label
from reports.content import ReportContent
from reports.rendering import period_grid
from reports.rendering.errors import RenderFailed
from reports.rendering.fetcher import StaticOnlyFetcher
from reports.rendering.ledger import EVIDENCE_HEADER, evidence_bands, evidence_line, period_rows

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    template: str


@dataclass
class PdfResult:
    pages: int
    parts: int = 1
    refused: list[str] = field(default_factory=list)  # URLs the fetcher refused
    workers: int = 0  # worker processes used (0: rendered in this process)
    worker_peak_kb: int = 0  # the largest peak resident memory among them


FRONT = [Section("cover", "Cover", "reports/pdf/_cover.html")]


def body_sections(content: ReportContent) -> list[Section]:
    sections = [
        Section("scope", "Scope", "reports/pdf/_scope.html"),
        Section("summary", "Executive summary", "reports/pdf/_summary.html"),
        Section("criteria", "Criteria", "reports/pdf/_criteria.html"),
        Section("gaps", "Gaps and partly met criteria", "reports/pdf/_gaps.html"),
    ]
    if content.audit.is_type2:
        sections.append(Section("exceptions", "Exceptions", "reports/pdf/_exceptions.html"))
    sections.append(Section("matrix", "Control matrix", "reports/pdf/_matrix.html"))
    if content.audit.is_type2:
        sections.append(
            Section("periods", "Type 2: evidence per sub-period", "reports/pdf/_periods.html")
        )
    sections.append(Section("evidence", "Evidence index", "reports/pdf/_evidence.html"))
    # The appendices, only for what the organization has (``reports.appendix``).
    if content.risks is not None:
        sections.append(Section("risks", "Appendix: Risk register", "reports/pdf/_risks.html"))
    if content.vendors is not None:
        sections.append(Section("vendors", "Appendix: Vendors", "reports/pdf/_vendors.html"))
    return sections


def asset_dir() -> Path:
    return Path(settings.REPORT_ASSET_DIR)


def document_title(content: ReportContent) -> str:
    kind = "Type 2" if content.audit.is_type2 else "Type 1"
    return f"SOC 2 {kind} readiness report: {content.audit.name}"


def base_context(content: ReportContent, mode: str) -> dict:
    audit = content.audit
    return {
        "content": content,
        "mode": mode,
        "title": document_title(content),
        "window_length": (
            window_length_label(audit.window_start, audit.window_end) if audit.is_type2 else ""
        ),
        "matrix_rows": content.matrix,
        "period_rows": period_rows(content.periods),
        "evidence_header": EVIDENCE_HEADER,
        "legend": period_grid.LEGEND,
        "vendor_lines": content.vendors.lines if content.vendors else [],
    }


def html_document(context: dict, sections: list[Section], **extra: object) -> str:
    return render_to_string("reports/pdf/document.html", {**context, "sections": sections, **extra})


def weasy_render(html: str, fetcher: StaticOnlyFetcher):
    from weasyprint import HTML  # imported late: a second of start-up the web process skips

    return HTML(string=html, base_url=fetcher.base_url, url_fetcher=fetcher).render()


def single_bands(content: ReportContent) -> list[str]:
    return evidence_bands([evidence_line(row) for row in content.evidence])


def render_single(content: ReportContent, out: Path, progress: Progress | None = None) -> PdfResult:
    """The whole report in one WeasyPrint pass (small reports; the benchmark's baseline)."""
    context = base_context(content, "single")
    sections = body_sections(content)
    toc = [{"key": s.key, "title": s.title} for s in sections]
    html = html_document(context, FRONT + sections, toc=toc, evidence_bands=single_bands(content))
    if progress:
        progress(30)
    fetcher = StaticOnlyFetcher(asset_dir())
    document = weasy_render(html, fetcher)
    if progress:
        progress(80)
    document.write_pdf(out)
    return PdfResult(pages=len(document.pages), refused=fetcher.refused)


def render_pdf(content: ReportContent, out: Path, progress: Progress | None = None) -> PdfResult:
    """The report, split across processes when it is big enough for that to pay off."""
    size = len(content.evidence) + 3 * len(content.matrix)
    size += 2 * len(content.vendors.lines) if content.vendors else 0
    if size < settings.REPORT_PDF_PARALLEL_MIN_ROWS:
        return render_single(content, out, progress)
    from reports.rendering.parallel import render_parallel

    return render_parallel(content, out, progress)


def render_pdf_bytes(content: ReportContent) -> bytes:
    """For tests and small callers: the PDF in memory."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        render_pdf(content, path)
        return path.read_bytes()


__all__ = ["PdfResult", "RenderFailed", "render_pdf", "render_pdf_bytes", "render_single"]
