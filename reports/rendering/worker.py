"""A render worker: ``python -m reports.rendering.worker STATIC_ROOT``.

Reads jobs from stdin, one JSON line each (``{"html": path, "pdf": path}``), lays each HTML
file out with WeasyPrint, writes its PDF and answers on stdout with one JSON line: the page
count and the page index of every anchor (for the table of contents). It exits at the end
of stdin. The parent hands out one job at a time, so a worker that finishes early takes the
next job (see ``reports.rendering.parallel``), and the same processes lay out the parts, then
the cover and the page stamps, without paying WeasyPrint's start-up twice.

It needs no Django (and no database): the parent prepared the HTML; this process only lays
it out, in a process of its own so that parts render in parallel and WeasyPrint's memory is
returned when it exits.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import zlib
from pathlib import Path

from reports.rendering.fetcher import StaticOnlyFetcher

# pydyf (WeasyPrint's PDF writer) compresses every stream at zlib level 9. On a report's
# text, level 6 (zlib's default) writes the PDF about a fifth faster for 5 % more bytes.
ZLIB_LEVEL = 6


class _Zlib:
    """Stands in for the ``zlib`` module inside pydyf: the same, at our compression level."""

    def __getattr__(self, name: str) -> object:
        return getattr(zlib, name)

    def compress(self, data: bytes, level: int = ZLIB_LEVEL) -> bytes:
        return zlib.compress(data, ZLIB_LEVEL)

    def compressobj(self, level: int = ZLIB_LEVEL, *args: object, **kwargs: object):
        return zlib.compressobj(ZLIB_LEVEL)


def _faster_compression() -> None:
    import pydyf

    pydyf.zlib = _Zlib()


def render_file(html_path: str, pdf_path: str, static_root: str) -> dict:
    from weasyprint import HTML

    started = time.process_time()
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
        # CPU seconds of layout and writing (less sensitive to a busy machine than wall time).
        "seconds": round(time.process_time() - started, 3),
        # Peak resident memory of this process so far (KB on Linux), for the benchmark.
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def main(argv: list[str]) -> int:
    static_root = argv[1]
    # Import WeasyPrint (a second of CPU) now, while the parent is still writing the HTML.
    import weasyprint  # noqa: F401

    _faster_compression()
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        result = render_file(job["html"], job["pdf"], static_root)
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
