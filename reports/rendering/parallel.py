"""Render a large report in parts, in parallel worker processes, and merge them.

Steps (each timed by the benchmark through ``timings``):

1. cut the body into parts of about the same work: the opening sections together, the
   control matrix, the Type 2 periods and the evidence index each in as many parts as keep
   the workers evenly busy, and write each part's HTML to a temporary folder;
2. lay the parts out in ``REPORT_PDF_WORKERS`` processes (``reports.rendering.pool``), the
   costliest first, each worker taking the next part when it finishes one; meanwhile one of
   them lays out the cover and contents with blank page numbers, to count their pages;
3. with every part's pages and anchors known, the same workers lay out the cover and
   contents with the real page numbers and the "Page X of Y" stamps, split among them;
4. merge every part with pypdf and draw the stamps over the pages (``stamp.merge_and_stamp``).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from django.conf import settings

from reports.content import ReportContent
from reports.rendering.ledger import BAND, evidence_bands, evidence_line
from reports.rendering.pdf import (
    FRONT,
    PdfResult,
    Progress,
    RenderFailed,
    Section,
    asset_dir,
    base_context,
    body_sections,
    html_document,
)
from reports.rendering.pool import Job, Pool
from reports.rendering.scratch import scratch_folder
from reports.rendering.stamp import merge_and_stamp, stamps_html

# Estimated CPU milliseconds to lay out and write each thing, measured on the benchmark's
# report. Only their ratios matter: they decide where to cut and which part goes first.
MS_PER_CRITERION = 25
MS_PER_MATRIX_ROW = 13
MS_PER_PERIOD_ROW = 13
MS_PER_EVIDENCE = 2.5
MS_PER_VENDOR_ROW = 10
MS_RISKS = 600  # the risk appendix: two heat maps and at most ``TOP_RISKS`` rows
MS_PER_STAMP = 8
MS_FRONT = 300
# Parts per worker: enough small ones that the workers finish close together, few enough that
# the partly filled last page of each part adds little.
PARTS_PER_WORKER = 4
MIN_PART_MS = 1500


def _split(rows: list, per_row_ms: float, target_ms: float, limit: int) -> list[list]:
    """``rows`` in consecutive, even pieces of about ``target_ms`` (at most ``limit`` rows)."""
    if not rows:
        return [rows]
    pieces = max(math.ceil(len(rows) * per_row_ms / target_ms), math.ceil(len(rows) / limit))
    size = math.ceil(len(rows) / pieces)
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _parts(content: ReportContent, context: dict, workers: int, chunk_rows: int) -> list[dict]:
    """The body's parts, in order: ``{"name", "html", "cost"}``."""
    sections = {s.key: s for s in body_sections(content)}
    keys = ("scope", "summary", "criteria", "gaps", "exceptions")
    opening = [sections[k] for k in keys if k in sections]
    opening_ms = (
        400
        + MS_PER_CRITERION * len(content.readiness.criteria)
        + MS_PER_PERIOD_ROW * len(content.exceptions)
    )
    periods = context["period_rows"] if "periods" in sections else []
    total_ms = (
        opening_ms
        + MS_PER_MATRIX_ROW * len(content.matrix)
        + MS_PER_PERIOD_ROW * len(periods)
        + MS_PER_EVIDENCE * len(content.evidence)
        + MS_PER_VENDOR_ROW * len(context["vendor_lines"])
    )
    target = max(MIN_PART_MS, total_ms / (max(1, workers) * PARTS_PER_WORKER))
    parts: list[dict] = []

    def add(name: str, chosen: list[Section], cost: float, **extra: object) -> None:
        html = html_document(context, chosen, **extra)
        parts.append({"name": f"{len(parts):03d}-{name}", "html": html, "cost": cost})

    add("opening", opening, opening_ms)
    # (section, its rows, cost per row, the template's name for them)
    tables = [("matrix", content.matrix, MS_PER_MATRIX_ROW, "matrix_rows")]
    if "periods" in sections:
        tables.append(("periods", periods, MS_PER_PERIOD_ROW, "period_rows"))
    for key, table, per_row_ms, name in tables:
        for n, rows in enumerate(_split(table, per_row_ms, target, chunk_rows)):
            extra = {name: rows, "continued": n > 0, "part_index": n}
            add(key, [sections[key]], per_row_ms * len(rows), **extra)
    # Evidence parts hold whole bands, so that every row of the ledger but the last is full.
    lines = [evidence_line(row) for row in content.evidence]
    limit = chunk_rows if chunk_rows < BAND else chunk_rows - chunk_rows % BAND
    size = len(_split(lines, MS_PER_EVIDENCE, target, limit)[0])
    if size > BAND:
        size -= size % BAND
    for n, start in enumerate(range(0, max(len(lines), 1), max(size, 1))):
        chunk = lines[start : start + size]
        add(
            "evidence",
            [sections["evidence"]],
            MS_PER_EVIDENCE * len(chunk),
            evidence_bands=evidence_bands(chunk),
            continued=n > 0,
            part_index=n,
        )
    # The appendices after the evidence index: the risk register in one part (its size is
    # bounded), the vendor list cut like the matrix.
    if "risks" in sections:
        add("risks", [sections["risks"]], MS_RISKS)
    if "vendors" in sections:
        vendors = context["vendor_lines"]
        for n, rows in enumerate(_split(vendors, MS_PER_VENDOR_ROW, target, chunk_rows)):
            extra = {"vendor_lines": rows, "continued": n > 0, "part_index": n}
            add("vendors", [sections["vendors"]], MS_PER_VENDOR_ROW * len(rows), **extra)
    return parts


def _first_pages(parts: list[Job], offset: int) -> dict[str, int]:
    """The page number (1-based) where each anchor of the body lands."""
    first_page: dict[str, int] = {}
    page = offset
    for part in parts:
        for name, index in part.result.get("anchors", {}).items():
            first_page.setdefault(name, page + index + 1)
        page += part.pages
    return first_page


def _front_html(content: ReportContent, context: dict, pages: dict[str, int] | None) -> str:
    toc = [
        # Blank numbers are 999: real ones are never wider, so never take more pages.
        {"key": s.key, "title": s.title, "page": 999 if pages is None else pages.get(s.key, "")}
        for s in body_sections(content)
    ]
    return html_document(context, FRONT, toc=toc)


def _stamp_jobs(
    content: ReportContent, folder: Path, total: int, first: int, pieces: int
) -> list[Job]:
    header = f"{content.organization.name} · {content.audit.name}"
    numbers = list(range(first, total + 1))
    size = max(1, math.ceil(len(numbers) / max(1, pieces)))
    jobs = []
    for n, start in enumerate(range(0, len(numbers), size)):
        chosen = numbers[start : start + size]
        html = folder / f"stamps-{n}.html"
        html.write_text(stamps_html(header, chosen, total), encoding="utf-8")
        jobs.append(
            Job(f"stamps-{n}", html, folder / f"stamps-{n}.pdf", MS_PER_STAMP * len(chosen))
        )
    return jobs


def _job(folder: Path, name: str, html: str, cost: float) -> Job:
    path = folder / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return Job(name, path, folder / f"{name}.pdf", cost)


def _layout(
    content: ReportContent,
    folder: Path,
    pool: Pool,
    progress: Progress | None,
    timings: dict[str, float],
) -> tuple[Job, list[Job], list[Job]]:
    """Steps 1 to 3: the cover and contents, the parts and the stamps, as PDF files."""
    started = time.perf_counter()
    context = base_context(content, "parts")
    cut = _parts(content, context, len(pool.procs), settings.REPORT_PDF_CHUNK_ROWS)
    parts = [_job(folder, p["name"], p["html"], p["cost"]) for p in cut]
    blank_front = _job(folder, "front-blank", _front_html(content, context, None), MS_FRONT)
    timings["html"] = time.perf_counter() - started

    step = time.perf_counter()
    finished = [0]

    def done(job: Job) -> None:
        finished[0] += 1
        if progress:
            progress(20 + 60 * finished[0] // (len(parts) + 1))

    pool.run([*parts, blank_front], done)
    timings["layout of the parts (workers)"] = time.perf_counter() - step
    timings["  CPU time of the parts"] = sum(p.result["seconds"] for p in parts)

    step = time.perf_counter()
    offset = blank_front.pages
    total = offset + sum(p.pages for p in parts)
    first_pages = _first_pages(parts, offset)
    front = _job(folder, "front", _front_html(content, context, first_pages), MS_FRONT)
    stamps = _stamp_jobs(content, folder, total, 2, len(pool.procs))
    pool.run([front, *stamps])
    if front.pages != offset:
        raise RenderFailed("the contents took more pages than planned")
    timings["cover, contents and page stamps (workers)"] = time.perf_counter() - step
    return front, parts, stamps


def render_parallel(
    content: ReportContent,
    out: Path,
    progress: Progress | None = None,
    *,
    timings: dict[str, float] | None = None,
) -> PdfResult:
    timings = timings if timings is not None else {}
    with scratch_folder() as tmp:
        folder = Path(tmp)
        # Started first: the workers load WeasyPrint while this process writes the HTML.
        with Pool(settings.REPORT_PDF_WORKERS, asset_dir()) as pool:
            front, parts, stamps = _layout(content, folder, pool, progress, timings)
        if progress:
            progress(85)
        step = time.perf_counter()
        pages = merge_and_stamp(
            front.pdf, [p.pdf for p in parts], [s.pdf for s in stamps], out, first_numbered=2
        )
        timings["merge and stamp"] = time.perf_counter() - step
    return PdfResult(
        pages=pages,
        parts=len(parts) + 1,
        refused=pool.refused,
        workers=len(pool.procs),
        worker_peak_kb=pool.peak_kb,
    )
