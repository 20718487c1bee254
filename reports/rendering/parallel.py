"""Render a large report in parts, in parallel worker processes, and merge them.

Steps (each timed by the benchmark through ``timings``):

1. cut the body into parts at section boundaries, the evidence index into chunks of
   ``REPORT_PDF_CHUNK_ROWS`` rows, and write each part's HTML to a temporary folder;
2. hand the parts to ``REPORT_PDF_WORKERS`` processes (``python -m reports.rendering.worker``;
   plain subprocesses, so this also works inside a daemonic Celery worker), the largest parts
   first; each process lays its parts out one after the other and reports each part's pages
   and anchors as it finishes;
3. render the cover and contents with the page numbers now known;
4. merge every part with pypdf and stamp "Page X of Y" and the running header.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from reports.content import ReportContent
from reports.rendering.fetcher import StaticOnlyFetcher
from reports.rendering.ledger import evidence_line
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
    weasy_render,
)
from reports.rendering.stamp import merge_and_stamp


@dataclass
class Part:
    index: int
    html: str
    cost: int
    pages: int = 0
    anchors: dict | None = None
    seconds: float = 0.0  # layout and writing in its worker


def _parts(content: ReportContent, context: dict, chunk_rows: int) -> list[Part]:
    sections = {s.key: s for s in body_sections(content)}
    parts: list[Part] = []

    def add(chosen: list[Section], cost: int, **extra: object) -> None:
        parts.append(Part(len(parts), html_document(context, chosen, **extra), cost))

    add(
        [sections[k] for k in ("scope", "summary", "criteria", "gaps")],
        200 + 4 * len(content.readiness.criteria),
    )
    add([sections["matrix"]], 6 * len(content.matrix))
    if "periods" in sections:
        add([sections["periods"]], 6 * len(content.periods))
    lines = [evidence_line(row) for row in content.evidence]
    chunks = [lines[i : i + chunk_rows] for i in range(0, len(lines), chunk_rows)] or [[]]
    for n, chunk in enumerate(chunks):
        add(
            [sections["evidence"]],
            len(chunk),
            evidence_lines=chunk,
            continued=n > 0,
            part_index=n,
        )
    return parts


def _assign(parts: list[Part], workers: int) -> list[list[Part]]:
    """Largest part first to the least loaded worker (LPT scheduling)."""
    loads = [[0, []] for _ in range(max(1, min(workers, len(parts))))]
    for part in sorted(parts, key=lambda p: -p.cost):
        slot = min(loads, key=lambda load: load[0])
        slot[0] += part.cost
        slot[1].append(part)
    return [jobs for _, jobs in loads]


def _start(jobs: list[Part], folder: Path, n: int) -> subprocess.Popen:
    spec = {
        "static_root": str(asset_dir()),
        "jobs": [
            {
                "html": str(folder / f"part-{p.index}.html"),
                "pdf": str(folder / f"part-{p.index}.pdf"),
            }
            for p in jobs
        ],
    }
    spec_path = folder / f"worker-{n}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
    return subprocess.Popen(  # noqa: S603 (our own interpreter and module, no user input)
        [sys.executable, "-m", "reports.rendering.worker", str(spec_path)],
        cwd=str(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _read(proc: subprocess.Popen, jobs: list[Part], events: queue.Queue) -> None:
    """Reader thread: one JSON line per finished part, then the exit status."""
    done, problem = 0, ""
    try:
        for line in proc.stdout or ():
            result = json.loads(line)
            part = jobs[done]
            part.pages, part.anchors = result["pages"], result["anchors"]
            part.seconds = result.get("seconds", 0.0)
            done += 1
            events.put(("part", result))
    except Exception as exc:  # a garbled line: report it rather than leave the parent waiting
        problem = f"unreadable worker output ({type(exc).__name__})"
    finally:
        stderr = proc.stderr.read() if proc.stderr else ""
        events.put(("exit", (proc.wait(), problem or stderr, done == len(jobs))))


def _run_workers(
    parts: list[Part], folder: Path, progress: Progress | None, peaks: list[int]
) -> list[str]:
    for part in parts:
        (folder / f"part-{part.index}.html").write_text(part.html, encoding="utf-8")
    groups = _assign(parts, settings.REPORT_PDF_WORKERS)
    events: queue.Queue = queue.Queue()
    procs = [_start(jobs, folder, n) for n, jobs in enumerate(groups)]
    threads = [
        threading.Thread(target=_read, args=(proc, jobs, events), daemon=True)
        for proc, jobs in zip(procs, groups, strict=True)
    ]
    for thread in threads:
        thread.start()
    finished, exited, refused, failure = 0, 0, [], ""
    try:
        while exited < len(procs):
            try:
                kind, payload = events.get(timeout=settings.REPORT_TASK_TIME_LIMIT)
            except queue.Empty:
                raise RenderFailed("the render workers stopped answering") from None
            if kind == "part":
                finished += 1
                refused.extend(payload["refused"])
                peaks.append(payload.get("max_rss_kb", 0))
                if progress:
                    progress(20 + 60 * finished // len(parts))
                continue
            exited += 1
            code, stderr, complete = payload
            if code != 0 or not complete:
                last = stderr.strip().splitlines()[-1:] or [f"exit status {code}"]
                failure = failure or f"a render worker failed: {last[0][:300]}"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for thread in threads:
            thread.join(timeout=5)
    if failure:
        raise RenderFailed(failure)
    return refused


def _front(content: ReportContent, context: dict, parts: list[Part], offset: int) -> bytes:
    """Cover and contents, with the page number of each section's first page."""
    first_page: dict[str, int] = {}
    page = offset
    for part in parts:
        for name, index in (part.anchors or {}).items():
            first_page.setdefault(name, page + index + 1)
        page += part.pages
    toc = [
        {"key": s.key, "title": s.title, "page": first_page.get(s.key, "")}
        for s in body_sections(content)
    ]
    fetcher = StaticOnlyFetcher(asset_dir())
    document = weasy_render(html_document(context, FRONT, toc=toc), fetcher)
    return document.write_pdf()


def render_parallel(
    content: ReportContent,
    out: Path,
    progress: Progress | None = None,
    *,
    timings: dict[str, float] | None = None,
) -> PdfResult:
    timings = timings if timings is not None else {}
    started = time.perf_counter()
    context = base_context(content, "parts")
    parts = _parts(content, context, settings.REPORT_PDF_CHUNK_ROWS)
    timings["html"] = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        folder = Path(tmp)
        step = time.perf_counter()
        peaks: list[int] = []
        refused = _run_workers(parts, folder, progress, peaks)
        timings["layout (workers)"] = time.perf_counter() - step
        timings["layout (sum of the parts' CPU time)"] = sum(p.seconds for p in parts)
        step = time.perf_counter()
        # The cover and contents never take more pages when real numbers replace the blanks.
        placeholder = [
            {"key": s.key, "title": s.title, "page": 999} for s in body_sections(content)
        ]
        fetcher = StaticOnlyFetcher(asset_dir())
        front_pages = len(
            weasy_render(html_document(context, FRONT, toc=placeholder), fetcher).pages
        )
        front = _front(content, context, parts, front_pages)
        timings["cover and contents"] = time.perf_counter() - step
        if progress:
            progress(85)
        step = time.perf_counter()
        header = f"{content.organization.name} · {content.audit.name}"
        pages = merge_and_stamp(
            front,
            [folder / f"part-{p.index}.pdf" for p in parts],
            out,
            header=header,
            first_numbered=2,
        )
        timings["merge and stamp"] = time.perf_counter() - step
    return PdfResult(
        pages=pages,
        parts=len(parts) + 1,
        refused=refused + fetcher.refused,
        workers=len(_assign(parts, settings.REPORT_PDF_WORKERS)),
        worker_peak_kb=max(peaks, default=0),
    )
