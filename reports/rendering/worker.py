"""A render worker: ``python -m reports.rendering.worker JOBS.json``.

Renders each job's HTML file to a PDF file with WeasyPrint and prints, one JSON line per part, its
page count and the page index of every anchor (for the table of contents). It runs in
its own process so that parts of a large report render in parallel, and so that WeasyPrint's
memory is returned when it exits. It needs no Django (and no database): the parent process
prepared the HTML; this process only lays it out.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from reports.rendering.fetcher import StaticOnlyFetcher


def render_file(html_path: str, pdf_path: str, static_root: str) -> dict:
    from weasyprint import HTML

    started = time.perf_counter()
    fetcher = StaticOnlyFetcher(static_root)
    document = HTML(
        string=Path(html_path).read_text(encoding="utf-8"),
        base_url=fetcher.base_url,
        url_fetcher=fetcher,
    ).render()
    anchors: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    document.write_pdf(pdf_path)
    return {
        "pages": len(document.pages),
        "anchors": anchors,
        "refused": fetcher.refused,
        "seconds": round(time.perf_counter() - started, 3),
        # Peak resident memory of this process so far (KB on Linux), for the benchmark.
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    for job in spec["jobs"]:
        result = render_file(job["html"], job["pdf"], spec["static_root"])
        # One line per part as it finishes: the parent shows progress from these.
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
